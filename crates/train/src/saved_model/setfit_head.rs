//! A saved SetFit model: the body as a transformers encoder checkpoint (`BertModel` /
//! `RobertaModel`: `config.json`, `model.safetensors`), sentence-transformers' module files
//! (so that `SentenceTransformer(PATH)` loads the same body: mean pooling, then `Normalize` when
//! the head reads normalised embeddings), and the logistic-regression head in
//! `setfit_head.json` ([`SetFitHeadFile`]: scikit-learn's `classes_`, `coef_`, `intercept_`).
//! SetFit itself pickles the head (`model_head.pkl`); JSON is readable without Python and safe to
//! load.

use std::path::Path;

use dmlft_fs::write_atomic;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::TrainError;
use crate::setfit::head::LogisticHead;

/// The head of a saved SetFit model.
pub const SETFIT_HEAD_FILE: &str = "setfit_head.json";
/// Version of the head file's layout; a reader refuses a newer one.
pub const SETFIT_HEAD_VERSION: u32 = 1;

/// What `setfit_head.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFitHeadFile {
    pub format_version: u32,
    /// The loss variant's name in the grid.
    pub loss_name: String,
    /// The task's class names in class order; `classes` index them.
    pub label_names: Vec<String>,
    /// The class ids the head knows (those of the training sample), ascending.
    pub classes: Vec<usize>,
    /// One row (two classes: the score of `classes[1]`) or one row per class, each of the
    /// embedding's size.
    pub coef: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
    /// Whether the head reads L2-normalised embeddings.
    pub normalize: bool,
    /// Truncation length in tokens.
    pub max_length: usize,
}

impl SetFitHeadFile {
    pub fn new(
        head: &LogisticHead,
        loss_name: &str,
        label_names: &[String],
        normalize: bool,
        max_length: usize,
    ) -> Self {
        Self {
            format_version: SETFIT_HEAD_VERSION,
            loss_name: loss_name.to_string(),
            label_names: label_names.to_vec(),
            classes: head.classes.clone(),
            coef: head.coef.rows().into_iter().map(|r| r.to_vec()).collect(),
            intercept: head.intercept.to_vec(),
            normalize,
            max_length,
        }
    }

    /// The head, for embeddings of `dim` values.
    pub fn head(&self, dim: usize) -> Result<LogisticHead, String> {
        let rows = self.coef.len();
        let flat: Vec<f64> = self.coef.iter().flatten().copied().collect();
        if self.coef.iter().any(|r| r.len() != dim) {
            return Err(format!(
                "coef: every row must have {dim} values (the encoder's hidden size)"
            ));
        }
        let coef = Array2::from_shape_vec((rows, dim), flat).map_err(|e| format!("coef: {e}"))?;
        Ok(LogisticHead {
            classes: self.classes.clone(),
            coef,
            intercept: Array1::from(self.intercept.clone()),
        })
    }

    /// The layout rules a reader relies on (the embedding size is checked by [`Self::head`]).
    fn check(&self) -> Result<(), String> {
        if self.format_version > SETFIT_HEAD_VERSION {
            return Err(format!(
                "format_version {} is newer than this dmlft reads ({SETFIT_HEAD_VERSION})",
                self.format_version
            ));
        }
        let n = self.classes.len();
        if n < 2 || !self.classes.windows(2).all(|w| w[0] < w[1]) {
            return Err("classes: at least 2 class ids, ascending, without repeats".into());
        }
        if let Some(c) = self.classes.iter().find(|&&c| c >= self.label_names.len()) {
            return Err(format!(
                "classes: {c} is not a class of label_names ({} classes)",
                self.label_names.len()
            ));
        }
        let rows = if n == 2 { 1 } else { n };
        if self.coef.len() != rows || self.intercept.len() != rows {
            return Err(format!(
                "coef and intercept must have {rows} row(s) for {n} classes (got {} and {})",
                self.coef.len(),
                self.intercept.len()
            ));
        }
        if self.coef.first().is_none_or(Vec::is_empty) {
            return Err("coef: empty rows".into());
        }
        if self.max_length == 0 {
            return Err("max_length must be at least 1".into());
        }
        Ok(())
    }
}

/// Reads and checks `dir/setfit_head.json`; `None` when the folder has none.
pub fn read_head_file(dir: &Path) -> Result<Option<SetFitHeadFile>, TrainError> {
    let path = dir.join(SETFIT_HEAD_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let bad = |message: String| TrainError::SavedModel {
        file: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let file: SetFitHeadFile =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a SetFit head: {e}")))?;
    file.check().map_err(bad)?;
    Ok(Some(file))
}

/// Writes the head file and sentence-transformers' module files into `dir` (the body's
/// checkpoint is written by `dmlft_model::save_encoder`).
pub fn write_head_files(dir: &Path, file: &SetFitHeadFile, dim: usize) -> Result<(), TrainError> {
    let write = |name: &str, value: serde_json::Value| {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| TrainError::Io(format!("cannot create {}: {e}", parent.display())))?;
        }
        let text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
        write_atomic(&path, text.as_bytes())
            .map_err(|e| TrainError::Io(format!("cannot write {}: {e}", path.display())))
    };
    let mut modules = vec![
        json!({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}),
        json!({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}),
    ];
    if file.normalize {
        modules.push(json!({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}));
        std::fs::create_dir_all(dir.join("2_Normalize"))
            .map_err(|e| TrainError::Io(format!("cannot create 2_Normalize: {e}")))?;
    }
    write("modules.json", json!(modules))?;
    write(
        "sentence_bert_config.json",
        json!({"max_seq_length": file.max_length, "do_lower_case": false}),
    )?;
    write(
        "1_Pooling/config.json",
        json!({
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": false,
            "pooling_mode_mean_tokens": true,
            "pooling_mode_max_tokens": false,
            "pooling_mode_mean_sqrt_len_tokens": false,
        }),
    )?;
    write(
        SETFIT_HEAD_FILE,
        serde_json::to_value(file).expect("a head file serialises"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> SetFitHeadFile {
        SetFitHeadFile {
            format_version: 1,
            loss_name: "setfit".into(),
            label_names: vec!["a".into(), "b".into(), "c".into()],
            classes: vec![0, 2],
            coef: vec![vec![0.5, -1.0]],
            intercept: vec![0.25],
            normalize: true,
            max_length: 64,
        }
    }

    #[test]
    fn a_written_head_reads_back_and_predicts_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let f = file();
        write_head_files(dir.path(), &f, 2).unwrap();
        let back = read_head_file(dir.path()).unwrap().unwrap();
        assert_eq!(back, f);
        let head = back.head(2).unwrap();
        let x = vec![vec![1.0f32, 0.0], vec![0.0, 1.0]];
        // decision of classes[1] = 0.5 * x0 - x1 + 0.25
        assert_eq!(head.task_scores(&x, 3).unwrap()[0][2], 0.75);
        assert_eq!(head.task_scores(&x, 3).unwrap()[1][2], -0.75);
        let modules = std::fs::read_to_string(dir.path().join("modules.json")).unwrap();
        assert!(modules.contains("2_Normalize"), "{modules}");
        assert!(dir.path().join("1_Pooling/config.json").is_file());
    }

    #[test]
    fn malformed_heads_are_refused_with_the_rule_they_break() {
        type Break = fn(&mut SetFitHeadFile);
        let cases: Vec<(Break, &str)> = vec![
            (|f| f.format_version = 9, "newer than this dmlft reads"),
            (|f| f.classes = vec![2, 0], "ascending"),
            (|f| f.classes = vec![0], "at least 2 class ids"),
            (
                |f| f.classes = vec![0, 3],
                "3 is not a class of label_names",
            ),
            (
                |f| f.coef.push(vec![1.0, 1.0]),
                "must have 1 row(s) for 2 classes",
            ),
            (|f| f.max_length = 0, "max_length"),
        ];
        for (break_it, want) in cases {
            let dir = tempfile::tempdir().unwrap();
            let mut f = file();
            break_it(&mut f);
            let text = serde_json::to_string(&f).unwrap();
            std::fs::write(dir.path().join(SETFIT_HEAD_FILE), text).unwrap();
            let err = read_head_file(dir.path()).unwrap_err().to_string();
            assert!(err.contains(want), "{want}: {err}");
            assert!(err.contains(SETFIT_HEAD_FILE), "{err}");
        }
        // a row of the wrong size for the encoder
        let err = file().head(3).unwrap_err();
        assert!(err.contains("3 values"), "{err}");
    }
}
