//! The `README.md` model card of a saved model, as Hugging Face model folders have: YAML front
//! matter (library, pipeline tag, base model, metrics in the `model-index` layout) and a short
//! description of how the model was trained, how well it did and how to load it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use dmlft_eval::{InferenceMode, Metrics};

use crate::spec::CellSpec;

/// The model card file of a saved model.
pub const MODEL_CARD_FILE: &str = "README.md";

/// Where the dmlft that trained the model came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    pub version: String,
    /// The git commit the binary was built from, when known.
    pub commit: Option<String>,
}

impl Provenance {
    /// This build: the crate version, and the commit the build environment gave in
    /// `DMLFT_GIT_COMMIT` (unknown otherwise).
    pub fn current() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: option_env!("DMLFT_GIT_COMMIT").map(str::to_string),
        }
    }
}

/// How to use a SetFit cell's model: the body is a sentence-transformers model; the head is
/// `setfit_head.json`.
const SETFIT_USAGE: &str = "## How to use\n\nA SetFit model: the body is a sentence-transformers \
model (this folder), the head a logistic regression on its embeddings (`setfit_head.json`: \
scikit-learn's `classes_`, `coef_`, `intercept_`).\n\n```sh\ndmlft predict --model PATH \"a text to classify\"\n```\n\n\
```python\nimport json, numpy as np\nfrom sentence_transformers import SentenceTransformer\n\
body = SentenceTransformer(\"PATH\")\nhead = json.load(open(\"PATH/setfit_head.json\"))\n\
z = body.encode([\"a text to classify\"]) @ np.array(head[\"coef\"]).T + head[\"intercept\"]\n\
# two classes: classes[1] where z > 0; more: classes[argmax(z)]\n```\n";

/// YAML double-quoted scalar (JSON strings are valid YAML).
fn yaml(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The card of the model `cell` trained, with the metrics it reached per inference mode.
pub fn render_model_card(
    cell: &CellSpec,
    metrics: &BTreeMap<InferenceMode, Metrics>,
    label_names: &[String],
    provenance: &Provenance,
) -> String {
    let protocol = serde_json::to_string(&cell.split.protocol).unwrap_or_default();
    let commit = provenance.commit.as_deref().unwrap_or("unknown");
    let mut s = String::from("---\n");
    let library = if cell.setfit.is_some() || cell.probe.is_some() {
        "sentence-transformers"
    } else {
        "transformers"
    };
    let _ = writeln!(
        s,
        "library_name: {library}\npipeline_tag: text-classification"
    );
    let _ = writeln!(s, "base_model: {}", yaml(&cell.model.source));
    s += "tags:\n- dmlft\n- few-shot\n- text-classification\n";
    let _ = writeln!(s, "- {}", yaml(&cell.loss_name));
    s += "model-index:\n";
    let _ = writeln!(
        s,
        "- name: {}",
        yaml(&format!("{}-{}", cell.dataset_name, cell.loss_name))
    );
    s += "  results:\n";
    for (mode, m) in metrics {
        s += "  - task:\n      type: text-classification\n";
        let _ = writeln!(
            s,
            "    dataset:\n      name: {}\n      type: {}",
            yaml(&cell.dataset_name),
            yaml(&cell.dataset_name)
        );
        s += "    metrics:\n";
        for (name, value) in m.scalars() {
            let _ = writeln!(
                s,
                "    - type: {name}\n      value: {value}\n      name: {}",
                yaml(&format!("{name} ({mode} inference)"))
            );
        }
    }
    s += "---\n\n";
    let _ = writeln!(
        s,
        "# {} fine-tuned on {} with `{}`\n",
        cell.model.source, cell.dataset_name, cell.loss_name
    );
    s += "A few-shot text classifier trained by dmlft (fine-tuning with distance metric learning losses).\n\n";
    s += "## Training\n\n| setting | value |\n|---|---|\n";
    let rows = [
        ("base model", cell.model.source.clone()),
        ("data set", cell.dataset_name.clone()),
        ("protocol", protocol),
        ("shots", cell.split.shots.to_string()),
        (
            "fold",
            cell.split.fold.map_or("-".into(), |f| f.to_string()),
        ),
        ("seed", cell.split.seed.to_string()),
        ("loss", cell.loss_name.clone()),
        (
            "objective",
            serde_json::to_string(&cell.objective).unwrap_or_default(),
        ),
        ("classes", label_names.join(", ")),
        ("max_length", cell.model.max_length.to_string()),
        (
            "head pooling",
            format!("{:?}", cell.model.head_pooling).to_lowercase(),
        ),
        ("dmlft", format!("{} (commit {commit})", provenance.version)),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {} |", v.replace('|', "\\|"));
    }
    s += "\n## Results\n\nOn the cell's evaluation set";
    if let Some(limit) = cell.eval_limit {
        let _ = write!(s, " (a seeded subset of at most {limit} examples)");
    }
    s += ":\n\n| inference | n | accuracy | macro F1 | weighted F1 |\n|---|---|---|---|---|\n";
    for (mode, m) in metrics {
        let _ = writeln!(
            s,
            "| {mode} | {} | {:.4} | {:.4} | {:.4} |",
            m.n, m.accuracy, m.macro_f1, m.weighted_f1
        );
    }
    s += "\n## Intended use\n\nResearch on few-shot fine-tuning: comparing losses and inference modes on the data set \
          above. Trained on a handful of examples; not evaluated for any other domain or for deployment.\n\n";
    if cell.setfit.is_some() || cell.probe.is_some() {
        s += SETFIT_USAGE;
        return s;
    }
    s += "## How to use\n\nWith transformers (the classification head; `head` inference):\n\n```python\n\
          from transformers import AutoTokenizer, AutoModelForSequenceClassification\n\
          tok = AutoTokenizer.from_pretrained(\"PATH\")\n\
          model = AutoModelForSequenceClassification.from_pretrained(\"PATH\")\n```\n\n";
    if cell.model.head_pooling != dmlft_pooling::Pooling::First {
        s += "Note: this head reads the mean of the token states, not the first token as transformers' \
              head does; transformers' logits differ. Use `dmlft predict` for the trained behaviour.\n\n";
    }
    s += "With dmlft (every inference mode the loss supports: `head`, and `proxy` / `mix:BETA` when \
          `loss.safetensors` is present):\n\n```sh\ndmlft predict --model PATH \"a text to classify\"\n\
          dmlft predict --model PATH --mode proxy --input texts.csv --text-column sentence --format csv\n```\n";
    s
}
