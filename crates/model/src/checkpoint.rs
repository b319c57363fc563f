//! Reading the tensors of a Hugging Face checkpoint folder: `model.safetensors`, or shards
//! listed in `model.safetensors.index.json`. Values come out as f32 whatever the stored float type.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use burn::tensor::{bf16, f16};
use safetensors::{Dtype, SafeTensors};

use crate::error::ModelError;

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const INDEX_FILE: &str = "model.safetensors.index.json";
pub const CONFIG_FILE: &str = "config.json";

struct Shard {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Where one tensor's bytes are.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    shard: usize,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    bytes: Range<usize>,
}

pub struct Checkpoint {
    /// The file errors should name: `model.safetensors` or the shard index.
    pub main_file: PathBuf,
    shards: Vec<Shard>,
    tensors: BTreeMap<String, TensorEntry>,
}

impl Checkpoint {
    /// Opens the weights of the checkpoint folder `dir`.
    pub fn open(dir: &Path) -> Result<Self, ModelError> {
        let single = dir.join(WEIGHTS_FILE);
        let index = dir.join(INDEX_FILE);
        let (main_file, files) = if single.is_file() {
            (single.clone(), vec![single])
        } else if index.is_file() {
            (index.clone(), shard_files(&index, dir)?)
        } else {
            let hint = if dir.join("pytorch_model.bin").is_file() {
                " (only pytorch_model.bin is there: convert it to safetensors, e.g. load it with \
                 transformers and call save_pretrained(dir, safe_serialization=True))"
            } else {
                ""
            };
            return Err(ModelError::Source {
                source_name: dir.display().to_string(),
                message: format!("neither {WEIGHTS_FILE} nor {INDEX_FILE} found{hint}"),
            });
        };
        let mut checkpoint = Checkpoint {
            main_file,
            shards: Vec::new(),
            tensors: BTreeMap::new(),
        };
        for path in files {
            checkpoint.add_shard(path)?;
        }
        Ok(checkpoint)
    }

    fn add_shard(&mut self, path: PathBuf) -> Result<(), ModelError> {
        let bytes = std::fs::read(&path).map_err(|e| ModelError::io(&path, e))?;
        let parsed = SafeTensors::deserialize(&bytes).map_err(|e| ModelError::Safetensors {
            file: path.clone(),
            message: e.to_string(),
        })?;
        let base = bytes.as_ptr() as usize;
        let shard = self.shards.len();
        for (name, view) in parsed.iter() {
            let start = view.data().as_ptr() as usize - base;
            let entry = TensorEntry {
                shard,
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                bytes: start..start + view.data().len(),
            };
            self.tensors.insert(name.to_string(), entry);
        }
        drop(parsed);
        self.shards.push(Shard { path, bytes });
        Ok(())
    }

    pub fn files(&self) -> Vec<PathBuf> {
        self.shards.iter().map(|s| s.path.clone()).collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    pub fn entry(&self, name: &str) -> Option<&TensorEntry> {
        self.tensors.get(name)
    }

    /// The file that holds `name` (for error messages).
    pub fn file_of(&self, name: &str) -> PathBuf {
        match self.tensors.get(name) {
            Some(e) => self.shards[e.shard].path.clone(),
            None => self.main_file.clone(),
        }
    }

    /// The values of `name` as f32, converted from F16 / BF16 / F64 when stored so.
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let entry = self
            .tensors
            .get(name)
            .ok_or_else(|| ModelError::MissingTensors {
                file: self.main_file.clone(),
                names: vec![name.to_string()],
                example: name.to_string(),
            })?;
        let raw = &self.shards[entry.shard].bytes[entry.bytes.clone()];
        let values = match entry.dtype {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(2)
                .map(|b| f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|b| bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunks of 8 bytes")) as f32)
                .collect(),
            other => {
                return Err(ModelError::UnsupportedDtype {
                    file: self.file_of(name),
                    name: name.to_string(),
                    dtype: format!("{other:?}"),
                })
            }
        };
        Ok(values)
    }
}

/// The distinct shard files named by an index's `weight_map`, in first-seen order.
pub(crate) fn shard_files(index: &Path, dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let text = std::fs::read_to_string(index).map_err(|e| ModelError::io(index, e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| ModelError::Config {
        file: index.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })?;
    let map = value
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| ModelError::ConfigKey {
            file: index.to_path_buf(),
            key: "weight_map".into(),
            message: "missing or not an object of tensor name -> shard file".into(),
        })?;
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for (tensor, file) in map {
        let file = file.as_str().ok_or_else(|| ModelError::ConfigKey {
            file: index.to_path_buf(),
            key: format!("weight_map.{tensor}"),
            message: format!("expected a file name, found {file}"),
        })?;
        if !stays_inside(file) {
            return Err(ModelError::ConfigKey {
                file: index.to_path_buf(),
                key: format!("weight_map.{tensor}"),
                message: format!(
                    "shard {file:?} is not a plain relative file name inside the checkpoint \
                     folder (no absolute path, '..', '.', empty part or backslash)"
                ),
            });
        }
        if seen.insert(file.to_string()) {
            files.push(dir.join(file));
        }
    }
    Ok(files)
}

/// A relative, '/'-separated path of plain names: joined to the checkpoint folder it stays in
/// it (the index may come from anyone's repository).
fn stays_inside(name: &str) -> bool {
    !name.starts_with('/')
        && name.split('/').all(|part| {
            !part.is_empty() && part != "." && part != ".." && !part.contains(['\\', '\0', ':'])
        })
}
