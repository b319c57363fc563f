//! Build facts for `dmlft env` and `--version`: the git commit this binary was built from
//! (`DMLFT_GIT_COMMIT` overrides it, e.g. for a build from a source archive; "unknown" outside a
//! git checkout). The burn version is `dmlft_train::result::BURN_VERSION`.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=DMLFT_GIT_COMMIT");
    let commit = std::env::var("DMLFT_GIT_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    // Rebuild when HEAD moves (a commit, a checkout); paths as git reports them, so worktrees work.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            if Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    println!("cargo:rustc-env=DMLFT_GIT_COMMIT={commit}");
}
