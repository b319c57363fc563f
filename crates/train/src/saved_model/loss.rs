//! The trained loss parameters of a saved model and its inference manifest.
//!
//! - `loss.safetensors`: each proxy-based term's parameter (f32), named `dml.{i}.{parameter}`
//!   after the term index in the objective (`dml.0.centers`, `dml.1.proxies`, ...); written
//!   only when the objective has parameters.
//! - `loss.json` ([`LossManifest`]): the objective (loss kinds and hyperparameters), the class
//!   names, and the inference settings (head pooling, max_length, the modes the cell evaluated,
//!   the default mix beta), so that `proxy` and `mix` predictions can be made from the folder.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use dmlft_fs::write_atomic;
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_losses::Objective;
use dmlft_pooling::Pooling;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::spec::InferenceMode;

/// The manifest file of the loss parameters.
pub const LOSS_MANIFEST_FILE: &str = "loss.json";
/// The loss parameters (absent when the objective has none, e.g. plain CE or SupCon).
pub const LOSS_WEIGHTS_FILE: &str = "loss.safetensors";
/// Version of the manifest layout; a reader refuses a newer one.
pub const LOSS_MANIFEST_VERSION: u32 = 1;

/// What `loss.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossManifest {
    pub format_version: u32,
    /// The loss variant's name in the grid (e.g. `ce+softtriple`).
    pub loss_name: String,
    /// Loss kinds and hyperparameters, exactly as the cell trained them.
    pub objective: ObjectiveSpec,
    pub num_classes: usize,
    /// Size of the sentence vector the proxies live in (the encoder's hidden size).
    pub embedding_dim: usize,
    /// Class names in class order (as `id2label`).
    pub label_names: Vec<String>,
    /// Tensor names in `loss.safetensors`, in term order; empty when there is no such file.
    pub tensors: Vec<String>,
    pub inference: InferenceSettings,
}

/// How the cell turned the model's outputs into predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceSettings {
    /// Input of the head and of the proxy scores.
    pub head_pooling: Pooling,
    /// Truncation length in tokens.
    pub max_length: usize,
    /// The modes the cell evaluated, as tables (`{"mode": "head"}`) like the cell's.
    #[serde(with = "dmlft_eval::inference_mode::table")]
    pub modes: Vec<InferenceMode>,
    /// `beta` of the first `mix` mode the cell evaluated, for `--mode mix` without a value.
    pub mix_beta: Option<f64>,
}

impl LossManifest {
    /// Whether the folder holds parameters for `proxy` and `mix` inference.
    pub fn has_proxies(&self) -> bool {
        self.objective.has_proxies() && !self.tensors.is_empty()
    }
}

/// Writes `loss.safetensors` (when `objective` has parameters) and `loss.json` into `dir`.
pub(crate) fn write_loss_files<B: Backend>(
    dir: &Path,
    objective: &Objective<B>,
    mut manifest: LossManifest,
) -> Result<(), TrainError> {
    let params: Vec<(String, Vec<usize>, Vec<u8>)> = objective
        .named_parameters()
        .into_iter()
        .map(|(name, t)| {
            let shape = t.dims().to_vec();
            let bytes = t
                .into_data()
                .iter::<f32>()
                .flat_map(f32::to_le_bytes)
                .collect();
            (name, shape, bytes)
        })
        .collect();
    manifest.tensors = params.iter().map(|(n, _, _)| n.clone()).collect();
    let weights = dir.join(LOSS_WEIGHTS_FILE);
    if !params.is_empty() {
        let st_error = |e: safetensors::SafeTensorError| TrainError::SavedModel {
            file: weights.clone(),
            message: e.to_string(),
        };
        let views = params
            .iter()
            .map(|(n, shape, b)| TensorView::new(Dtype::F32, shape.clone(), b).map(|v| (n, v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(st_error)?;
        let metadata = HashMap::from([("format".to_string(), "dmlft-loss".to_string())]);
        let bytes = safetensors::serialize(views, Some(metadata)).map_err(st_error)?;
        write_atomic(&weights, &bytes)
            .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", weights.display())))?;
    }
    let json =
        serde_json::to_string_pretty(&manifest).map_err(|e| TrainError::Io(e.to_string()))?;
    let path = dir.join(LOSS_MANIFEST_FILE);
    write_atomic(&path, json.as_bytes())
        .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", path.display())))
}

/// Reads `dir/loss.json`; `None` when the folder has none (saved before it existed, or not by
/// dmlft).
pub(crate) fn read_manifest(dir: &Path) -> Result<Option<LossManifest>, TrainError> {
    let path = dir.join(LOSS_MANIFEST_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| TrainError::Io(format!("{}: {e}", path.display())))?;
    let manifest: LossManifest =
        serde_json::from_str(&text).map_err(|e| TrainError::SavedModel {
            file: path.clone(),
            message: format!("not a dmlft loss manifest: {e}"),
        })?;
    if manifest.format_version > LOSS_MANIFEST_VERSION {
        return Err(TrainError::SavedModel {
            file: path,
            message: format!(
                "format_version {} is newer than this dmlft reads ({LOSS_MANIFEST_VERSION}): update dmlft",
                manifest.format_version
            ),
        });
    }
    Ok(Some(manifest))
}

/// Rebuilds the trained objective of `manifest` from `dir/loss.safetensors`.
pub(crate) fn load_objective<B: Backend>(
    dir: &Path,
    manifest: &LossManifest,
    device: &B::Device,
) -> Result<Objective<B>, TrainError> {
    let path = dir.join(LOSS_WEIGHTS_FILE);
    let bad = |message: String| TrainError::SavedModel {
        file: path.clone(),
        message,
    };
    // The seed does not matter: every parameter is replaced by the saved one below.
    let objective = Objective::<B>::new(
        &manifest.objective,
        manifest.num_classes,
        manifest.embedding_dim,
        0,
        device,
    )?;
    if objective.named_parameters().is_empty() {
        return Ok(objective);
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        bad(format!(
            "cannot read the loss parameters ({e}); {LOSS_MANIFEST_FILE} lists {}",
            manifest.tensors.join(", ")
        ))
    })?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut error = None;
    let objective = objective.with_named_parameters(|name| match file.tensor(name) {
        Ok(view) if view.dtype() == Dtype::F32 && view.shape().len() == 2 => {
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Some(Tensor::from_data(
                TensorData::new(values, view.shape().to_vec()),
                device,
            ))
        }
        Ok(view) => {
            error = Some(format!(
                "tensor `{name}` is {:?} {:?}: expected a 2-D F32 tensor",
                view.dtype(),
                view.shape()
            ));
            None
        }
        Err(_) => None,
    });
    match (objective, error) {
        (_, Some(message)) => Err(bad(message)),
        (Ok(o), None) => Ok(o),
        (Err(e), None) => Err(bad(e.to_string())),
    }
}
