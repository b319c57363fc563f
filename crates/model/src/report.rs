//! What a load did: which files, which tensors were used or ignored, where the head came from.

use std::fmt;
use std::path::PathBuf;

use crate::config::ModelFamily;

/// Where one part of the classification head came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartSource {
    /// Loaded from the checkpoint tensor(s) `<name>.weight` / `<name>.bias`.
    Checkpoint { name: String },
    /// Freshly initialised from the seed; `reason` says why the checkpoint's was not used.
    Initialized { reason: String },
}

impl PartSource {
    pub fn is_loaded(&self) -> bool {
        matches!(self, PartSource::Checkpoint { .. })
    }
}

impl fmt::Display for PartSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartSource::Checkpoint { name } => write!(f, "loaded from `{name}`"),
            PartSource::Initialized { reason } => write!(f, "newly initialised ({reason})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadReport {
    /// The H->H layer (`classifier.dense`, or BERT's `pooler.dense`).
    pub dense: PartSource,
    /// The H->labels layer (`classifier.out_proj`, or BERT's `classifier`).
    pub out_proj: PartSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    pub files: Vec<PathBuf>,
    pub family: ModelFamily,
    /// The prefix the encoder's tensors had: "", "bert." or "roberta.".
    pub prefix: String,
    /// Number of tensors read from the checkpoint.
    pub loaded: usize,
    /// Stored float types other than F32 that were converted (e.g. "F16").
    pub converted_from: Vec<String>,
    /// Tensors present in the checkpoint and deliberately not used (pooler, LM head, buffers).
    pub ignored: Vec<String>,
    /// `None` for an encoder-only load.
    pub head: Option<HeadReport>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        write!(
            f,
            "{} encoder: {} tensors from {}",
            self.family.model_type(),
            self.loaded,
            files.join(", ")
        )?;
        if !self.converted_from.is_empty() {
            write!(
                f,
                " (converted from {} to f32)",
                self.converted_from.join(", ")
            )?;
        }
        if !self.ignored.is_empty() {
            write!(
                f,
                "; ignored {} tensor(s): {}",
                self.ignored.len(),
                self.ignored.join(", ")
            )?;
        }
        if let Some(head) = &self.head {
            write!(f, "; head dense {}, out_proj {}", head.dense, head.out_proj)?;
        }
        Ok(())
    }
}
