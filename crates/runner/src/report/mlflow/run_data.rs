//! What one cell record becomes in MLflow: the run's name, status, times, params, tags and
//! metrics (final values at step 0, the training curve at its optimizer steps).

use super::client::Metric;
use crate::store::{CellRecord, CellStatus};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The tag that ties a run to its cell; the exporter finds earlier exports by it.
pub const CELL_ID_TAG: &str = "dmlft.cell_id";
/// Digest of the exported record: an existing run with the same one is the same record.
pub const RECORD_TAG: &str = "dmlft.record_sha256";
/// MLflow's longest tag value (`MAX_TAG_VAL_LENGTH`); longer errors are cut.
const MAX_TAG_VALUE: usize = 8000;

#[derive(Debug, Clone)]
pub struct RunData {
    pub name: String,
    pub cell_id: String,
    /// `FINISHED` (done cells) or `FAILED`.
    pub status: &'static str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
}

impl RunData {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The run of one record; `Err` names what cannot be read (a time stamp that is not RFC 3339).
pub fn run_data(record: &CellRecord) -> Result<RunData, String> {
    let ms = |field: &str, text: &str| {
        crate::host::parse_rfc3339(text)
            .map(|s| s as i64 * 1000)
            .ok_or_else(|| {
                format!("{field} {text:?} is not a UTC RFC 3339 time (2026-01-31T12:34:56Z)")
            })
    };
    let start_ms = ms("started_at", &record.started_at)?;
    let end_ms = ms("finished_at", &record.finished_at)?;
    let digest = serde_json::to_vec(record).map_err(|e| e.to_string())?;
    Ok(RunData {
        name: record.cell_id.clone(),
        cell_id: record.cell_id.clone(),
        status: match record.status {
            CellStatus::Done => "FINISHED",
            CellStatus::Failed => "FAILED",
        },
        start_ms,
        end_ms,
        params: params(record)?,
        tags: tags(record, &hex::encode(Sha256::digest(&digest))),
        metrics: metrics(record, end_ms),
    })
}

/// The resolved cell (every setting, flattened to dotted keys such as `train.optimizer.lr` and
/// `objective.dml.0.loss.margin`), then the grid's axes (`dataset`, `loss`, `shots`, `seed`,
/// `fold` and swept settings), whose value wins where both name the same key.
fn params(record: &CellRecord) -> Result<Vec<(String, String)>, String> {
    let cell = serde_json::to_value(&record.cell).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    flatten("", &cell, &mut out);
    for (k, v) in &record.axes {
        out.insert(k.clone(), v.clone());
    }
    Ok(out.into_iter().collect())
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Null => {}
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten(&key(k), v, out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten(&key(&i.to_string()), v, out)),
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        // Rust's own float formatting: serde_json's depends on features other crates turn on.
        Value::Number(n) if n.is_f64() => {
            out.insert(
                prefix.to_string(),
                n.as_f64().unwrap_or(f64::NAN).to_string(),
            );
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn tags(record: &CellRecord, digest: &str) -> Vec<(String, String)> {
    let mut tags = vec![
        (CELL_ID_TAG.to_string(), record.cell_id.clone()),
        (RECORD_TAG.to_string(), digest.to_string()),
        ("dmlft.grid".into(), record.grid.clone()),
        ("dmlft.version".into(), record.dmlft_version.clone()),
        (
            "dmlft.data_fingerprint".into(),
            record.data_fingerprint.clone(),
        ),
        ("dataset".into(), record.cell.dataset_name.clone()),
        ("loss".into(), record.cell.loss_name.clone()),
        (
            "status".into(),
            match record.status {
                CellStatus::Done => "done".into(),
                CellStatus::Failed => "failed".into(),
            },
        ),
        ("host".into(), record.host.clone()),
        ("device".into(), record.device.clone()),
    ];
    if let Some(error) = &record.error {
        let cut = match error.char_indices().nth(MAX_TAG_VALUE - 20) {
            Some((i, _)) => format!("{} [cut]", &error[..i]),
            None => error.clone(),
        };
        tags.push(("error".into(), cut));
    }
    if let Some(step) = record.failed_step {
        tags.push(("failed_step".into(), step.to_string()));
    }
    tags
}

/// Final values at step 0: `<mode>.<metric>` per inference mode (`dev.<mode>.<metric>` on the
/// dev examples), `final_loss[.<term>]`, sizes,
/// `time.<phase>_s`, SetFit's pair counts; then the curve at its steps: `loss`, `loss.<term>`,
/// `lr.<group>`, `grad_norm`.
fn metrics(record: &CellRecord, timestamp: i64) -> Vec<Metric> {
    let Some(result) = &record.result else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |key: String, value: f64, step: i64| {
        out.push(Metric {
            key,
            value,
            timestamp,
            step,
        })
    };
    for (mode, m) in &result.metrics {
        for (name, v) in m.scalars() {
            push(format!("{mode}.{name}"), v, 0);
        }
        push(format!("{mode}.n"), m.n as f64, 0);
    }
    // Dev examples (`dev_shots`), scored like the eval set; the model selection reads these.
    for (mode, m) in &result.dev_metrics {
        for (name, v) in m.scalars() {
            push(format!("dev.{mode}.{name}"), v, 0);
        }
        push(format!("dev.{mode}.n"), m.n as f64, 0);
    }
    push("final_loss".into(), result.final_loss, 0);
    for (term, v) in &result.final_loss_terms {
        push(format!("final_loss.{term}"), *v, 0);
    }
    push("train_size".into(), result.train_size as f64, 0);
    push("eval_size".into(), result.eval_size as f64, 0);
    push("steps".into(), result.steps as f64, 0);
    let t = &result.timings;
    for (phase, v) in [
        ("load", t.load_s),
        ("train", t.train_s),
        ("eval", t.eval_s),
        ("total", t.total_s),
    ] {
        push(format!("time.{phase}_s"), v, 0);
    }
    if let Some(setfit) = &result.setfit {
        let mut flat = BTreeMap::new();
        flatten(
            "setfit",
            &serde_json::to_value(setfit).unwrap_or_default(),
            &mut flat,
        );
        for (k, v) in flat {
            if let Ok(v) = v.parse::<f64>() {
                push(k, v, 0);
            }
        }
    }
    for p in result.curve.iter().flat_map(|c| &c.points) {
        let step = p.step as i64;
        push("loss".into(), p.loss, step);
        for (term, v) in &p.terms {
            push(format!("loss.{term}"), *v, step);
        }
        for (group, v) in &p.lr {
            push(format!("lr.{group}"), *v, step);
        }
        push("grad_norm".into(), p.grad_norm, step);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_settings_flatten_to_dotted_keys() {
        let mut out = BTreeMap::new();
        let v = json!({ "train": { "optimizer": { "lr": 1e-5, "head_lr": null } },
                        "objective": { "dml": [{ "loss": { "kind": "proxy-anchor", "margin": 0.1 } }] },
                        "inference": [{ "mode": "head" }], "flag": true, "name": "x" });
        flatten("", &v, &mut out);
        let want: BTreeMap<String, String> = [
            ("flag", "true"),
            ("inference.0.mode", "head"),
            ("name", "x"),
            ("objective.dml.0.loss.kind", "proxy-anchor"),
            ("objective.dml.0.loss.margin", "0.1"),
            ("train.optimizer.lr", "0.00001"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(out, want);
    }
}
