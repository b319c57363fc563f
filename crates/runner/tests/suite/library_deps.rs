//! The `dmlft` library stands without its command line: built with `--no-default-features` it
//! depends on no argument parser, logger set-up, allocator, signal handler or HTTP client
//! (`cli`, `mlflow` and `hub` are features). Read from `cargo tree`'s resolution, so no build.

use std::process::Command;

/// Runs the cargo that runs this test in the workspace root; its stdout.
pub(crate) fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .args(["--offline", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The names of the packages `cargo tree` lists for `features` (normal dependencies only).
fn normal_dependencies(features: &[&str]) -> Vec<String> {
    let mut args = vec!["tree", "-p", "dmlft", "-e", "normal", "--prefix", "none"];
    args.extend_from_slice(features);
    let mut names: Vec<String> = cargo(&args)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    names
}

const CLI_ONLY: [&str; 6] = [
    "clap",
    "ctrlc",
    "mimalloc",
    "tracing-subscriber",
    "ureq",
    "dmlft-hub",
];

#[test]
fn the_library_without_default_features_has_no_cli_dependencies() {
    let lib = normal_dependencies(&["--no-default-features"]);
    assert!(lib.iter().any(|n| n == "dmlft-train"), "{lib:?}");
    let found: Vec<&str> = CLI_ONLY
        .into_iter()
        .filter(|c| lib.iter().any(|n| n == c))
        .collect();
    assert!(
        found.is_empty(),
        "`dmlft --no-default-features` depends on {found:?}: put them behind the `cli`, \
         `mlflow` or `hub` feature (crates/runner/Cargo.toml)"
    );
    // the check sees them when they are there: the default build has every one
    let full = normal_dependencies(&[]);
    for c in CLI_ONLY {
        assert!(full.iter().any(|n| n == c), "{c} not in {full:?}");
    }
}
