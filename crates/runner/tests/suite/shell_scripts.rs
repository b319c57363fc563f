//! The repository's shell scripts: under `set -o pipefail`, `cmd | grep -q` fails at random
//! (grep -q exits at the first match, `cmd` may then die of SIGPIPE, and pipefail reports that);
//! it made `scripts/install-lavapipe.sh --check` fail 5 times in 200 and CI stop at once.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shell_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            shell_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sh") {
            out.push(path);
        }
    }
}

/// Whether one pipeline stage is `grep` with a quiet flag (`-q`, `-Eq`, `--quiet`, `--silent`).
fn is_quiet_grep(stage: &str) -> bool {
    let mut words = stage.split_whitespace();
    words.next() == Some("grep")
        && words.any(|w| {
            w == "--quiet"
                || w == "--silent"
                || (w.starts_with('-') && !w.starts_with("--") && w.contains('q'))
        })
}

/// `file:line` of every quiet grep after a pipe in a script that sets pipefail.
fn quiet_greps_in_pipes(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    if !text.contains("pipefail") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with('#'))
        .filter(|(_, line)| {
            line.split("||")
                .flat_map(|part| part.split('|').skip(1))
                .any(is_quiet_grep)
        })
        .map(|(i, line)| format!("{}:{}: {}", path.display(), i + 1, line.trim()))
        .collect()
}

#[test]
fn no_script_ends_a_pipe_in_a_quiet_grep_under_pipefail() {
    let mut files = vec![root().join(".ci/run")];
    shell_files(&root().join("scripts"), &mut files);
    assert!(files.len() > 10, "{files:?}");
    let found: Vec<String> = files.iter().flat_map(|f| quiet_greps_in_pipes(f)).collect();
    assert!(
        found.is_empty(),
        "`| grep -q` under pipefail fails at random (SIGPIPE); use `| grep ... >/dev/null`:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_quiet_greps_and_leaves_the_rest() {
    assert!(is_quiet_grep("grep -q x"));
    assert!(is_quiet_grep(" grep -Eq 'a|b'"));
    assert!(is_quiet_grep("grep --quiet x"));
    assert!(!is_quiet_grep("grep x >/dev/null"));
    assert!(!is_quiet_grep("grep -E --count x"));
    assert!(!is_quiet_grep("sort -u"));
}
