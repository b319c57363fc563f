//! Build facts for `dmlft env` and `--version`: the git commit this binary was built from
//! (`DMLFT_GIT_COMMIT` overrides it, e.g. for a build from a source archive; "unknown" outside a
//! git checkout) and the burn version in Cargo.lock.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The version of package `name` in a Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            let version = lines.next()?.trim();
            return Some(
                version
                    .strip_prefix("version = \"")?
                    .strip_suffix('"')?
                    .to_string(),
            );
        }
    }
    None
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

    let lock_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let burn = std::fs::read_to_string(&lock_path)
        .ok()
        .and_then(|lock| locked_version(&lock, "burn"))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DMLFT_BURN_VERSION={burn}");
}
