//! Where tests find the real model: `$DMLFT_MODEL_DIR`, else `<workspace>/models/all-MiniLM-L6-v2`
//! (fetched by `scripts/fetch-model.sh`). Absent model: a skip, or a failure when
//! `DMLFT_REQUIRE_MODEL=1`.

use std::path::PathBuf;

/// The real-model folder if it exists. Panics (failing the test) when it is absent and
/// `DMLFT_REQUIRE_MODEL=1`; otherwise prints why the caller should skip and returns `None`.
pub fn real_model_dir_or_skip() -> Option<PathBuf> {
    let dir = match std::env::var_os("DMLFT_MODEL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2"),
    };
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    let reason = format!(
        "real model not found at {} (run scripts/fetch-model.sh or set DMLFT_MODEL_DIR)",
        dir.display()
    );
    if std::env::var("DMLFT_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!("DMLFT_REQUIRE_MODEL=1 but {reason}");
    }
    eprintln!("skipping: {reason}");
    None
}
