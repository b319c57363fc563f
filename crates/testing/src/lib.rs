//! dmlft-testing: where tests and examples find real data and the real model, for every crate of
//! the workspace (a dev-dependency only; not part of any library's API).
//!
//! - SentEval: env `DMLFT_SENTEVAL_DIR`, else `<workspace>/../shared/datasets/senteval`.
//! - The authors' files: env `DMLFT_AUTHORS_DIR`, else `authors` beside the SentEval folder.
//! - Model: env `DMLFT_MODEL_DIR`, else `<workspace>/models/all-MiniLM-L6-v2` (fetched by
//!   `scripts/fetch-model.sh`).
//!
//! When they are absent, a test is skipped (a reason on stderr, `None` returned) unless
//! `DMLFT_REQUIRE_DATA=1` (data) or `DMLFT_REQUIRE_MODEL=1` (model) is set, in which case it panics
//! with a message saying what is missing and how to provide it.
#![forbid(unsafe_code)]

pub mod html_table;

use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The SentEval data root for tests, or `None` (skip) when absent and not required.
pub fn senteval_dir() -> Option<PathBuf> {
    let default = workspace_root().join("../shared/datasets/senteval");
    resolve(
        "DMLFT_SENTEVAL_DIR",
        default,
        "DMLFT_REQUIRE_DATA",
        "SentEval data",
    )
}

/// The papers' authors' files for tests (`TREC/trec.tsv`, `MRPC/dev_ids.tsv`): env
/// `DMLFT_AUTHORS_DIR`, else `authors` beside the SentEval folder (where dmlft-data's loader looks
/// too); `None` (skip) when absent, unless `DMLFT_REQUIRE_DATA=1`.
pub fn authors_dir() -> Option<PathBuf> {
    let senteval = std::env::var_os("DMLFT_SENTEVAL_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/datasets/senteval"));
    resolve(
        "DMLFT_AUTHORS_DIR",
        senteval.join("../authors"),
        "DMLFT_REQUIRE_DATA",
        "the authors' TREC and MRPC files",
    )
}

/// The real model folder for tests (one with `model.safetensors`), or `None` (skip) when absent
/// and not required.
pub fn model_dir() -> Option<PathBuf> {
    let default = workspace_root().join("models/all-MiniLM-L6-v2");
    let dir = resolve(
        "DMLFT_MODEL_DIR",
        default,
        "DMLFT_REQUIRE_MODEL",
        "all-MiniLM-L6-v2 model (scripts/fetch-model.sh)",
    )?;
    require_or_skip_if(
        dir.join("model.safetensors").is_file(),
        dir,
        "DMLFT_REQUIRE_MODEL",
        "all-MiniLM-L6-v2 weights (model.safetensors; scripts/fetch-model.sh)",
    )
}

/// `path` if it is a folder; otherwise panics when `require_var` is `1`, else prints why the
/// test is skipped and returns `None`.
pub fn require_or_skip(path: PathBuf, require_var: &str, what: &str) -> Option<PathBuf> {
    require_or_skip_if(path.is_dir(), path, require_var, what)
}

fn require_or_skip_if(
    present: bool,
    path: PathBuf,
    require_var: &str,
    what: &str,
) -> Option<PathBuf> {
    if present {
        return Some(path);
    }
    if std::env::var(require_var).is_ok_and(|v| v == "1") {
        panic!(
            "{what} is required ({require_var}=1) but {} does not exist",
            path.display()
        );
    }
    eprintln!(
        "skipping: {what} not found at {} (set {require_var}=1 to make this a failure)",
        path.display()
    );
    None
}

fn resolve(dir_var: &str, default: PathBuf, require_var: &str, what: &str) -> Option<PathBuf> {
    let path = std::env::var_os(dir_var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or(default);
    require_or_skip(path, require_var, &format!("{what} ({dir_var})"))
}

/// A trainable stand-in model for tests that need no real weights: dmlft-model's tiny random
/// BERT fixture (hidden size 64, 32 positions) copied to `root/tiny-bert` with a WordPiece vocab
/// of BERT's special tokens, `extra_tokens` (e.g. punctuation) and `words`. Returns its folder.
pub fn tiny_bert(root: &Path, extra_tokens: &[&str], words: &[&str]) -> PathBuf {
    let fixture = workspace_root().join("crates/model/tests/fixtures/tiny-bert");
    let dir = root.join("tiny-bert");
    std::fs::create_dir_all(&dir).expect("create the tiny model folder");
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(fixture.join(file), dir.join(file))
            .unwrap_or_else(|e| panic!("copy {file} of {}: {e}", fixture.display()));
    }
    let mut vocab = vec!["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    vocab.extend(extra_tokens);
    vocab.extend(words);
    std::fs::write(dir.join("vocab.txt"), vocab.join("\n") + "\n").expect("write vocab.txt");
    dir
}
