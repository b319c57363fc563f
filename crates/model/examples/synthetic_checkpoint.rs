//! Writes a random-weight checkpoint of a well-known architecture (dmlft-model's table of Hub
//! configs) with another model's tokenizer files, for timing full-size cells without the real
//! weights (scripts/bench/full-size-cell.sh):
//!
//!   cargo run -p dmlft-model --example synthetic_checkpoint -- roberta-large TOKENIZER_DIR OUT_DIR
//!
//! The weights are random (seeded); only the shapes, hence the time and memory, are the model's.

use std::path::PathBuf;
use std::process::ExitCode;

use burn::backend::Flex;
use dmlft_model::known::known_ids;
use dmlft_model::{known_architecture, save_classifier, SequenceClassifier};

const TOKENIZER_FILES: &[&str] = &["tokenizer.json", "vocab.txt", "vocab.json", "merges.txt"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [id, tokenizer, out] = args.as_slice() else {
        eprintln!("usage: synthetic_checkpoint MODEL_ID TOKENIZER_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    let Some(config) = known_architecture(id) else {
        eprintln!(
            "synthetic_checkpoint: `{id}` is not a known architecture; valid: {}",
            known_ids().join(", ")
        );
        return ExitCode::from(1);
    };
    let (tokenizer, out) = (PathBuf::from(tokenizer), PathBuf::from(out));
    let copied: Vec<&str> = TOKENIZER_FILES
        .iter()
        .copied()
        .filter(|f| tokenizer.join(f).is_file())
        .collect();
    if copied.is_empty() {
        eprintln!(
            "synthetic_checkpoint: no tokenizer file ({}) in {}",
            TOKENIZER_FILES.join(", "),
            tokenizer.display()
        );
        return ExitCode::from(1);
    }
    let model = SequenceClassifier::<Flex>::random(&config, 2, 0, &Default::default());
    if let Err(e) = save_classifier(&model, &out, None) {
        eprintln!("synthetic_checkpoint: {e}");
        return ExitCode::from(1);
    }
    for file in copied {
        if let Err(e) = std::fs::copy(tokenizer.join(file), out.join(file)) {
            eprintln!("synthetic_checkpoint: copying {file}: {e}");
            return ExitCode::from(1);
        }
    }
    eprintln!(
        "{}: random {id} ({} parameters)",
        out.display(),
        config.parameter_count()
    );
    ExitCode::SUCCESS
}
