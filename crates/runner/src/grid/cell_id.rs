//! A cell's identity: the first 16 hex digits of the SHA-256 of the canonical JSON (keys sorted at
//! every level, no whitespace) of its resolved `CellSpec`. Any change of configuration gives a new
//! id, so results of an old configuration never mix with new ones. Where the data lives
//! (`data_root`) is left out: the same cell run on a laptop and on a cluster node, with the data in
//! different folders, is the same cell.

use dmlft_train::spec::CellSpec;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Canonical JSON of a cell: sorted keys whatever serde_json's map type is.
pub fn canonical_json(spec: &CellSpec) -> String {
    let mut value = serde_json::to_value(spec).expect("a CellSpec always serializes");
    if let Some(fields) = value.as_object_mut() {
        fields.remove("data_root");
    }
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The 16-hex-digit id of a cell.
pub fn cell_id(spec: &CellSpec) -> String {
    let digest = Sha256::digest(canonical_json(spec).as_bytes());
    hex::encode(&digest[..8])
}
