//! The workspace's `rust-version` is true: no dependency that a build of the workspace compiles
//! (any feature, any kind: normal, build, dev) declares a newer one, and the installed rustc is
//! not older. Read from `cargo tree` (what is compiled) and `cargo metadata` (each package's
//! `rust-version`), so no build.

use super::library_deps::cargo;
use std::collections::BTreeMap;

/// The stdout of the rustc that cargo uses.
fn rustc(args: &[&str]) -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
        .args(args)
        .output()
        .expect("run rustc");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `1.92` or `1.92.1` as comparable numbers.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.trim().split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|_| panic!("not a version: {text}"))
    });
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

#[test]
fn no_dependency_needs_a_newer_rust_than_the_workspace_declares() {
    let rustc_v = rustc(&["-vV"]);
    let host = rustc_v
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("rustc -vV names no host: {rustc_v}"));
    let metadata: serde_json::Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--filter-platform",
        host,
    ]))
    .expect("cargo metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let mut declared = BTreeMap::new();
    let mut needs = BTreeMap::new();
    for p in packages {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let at = format!("{name} v{}", p["version"].as_str().unwrap_or_default());
        let rust = p["rust_version"].as_str().map(String::from);
        if members.contains(&p["id"].as_str().unwrap_or_default()) {
            declared.insert(name, rust);
        } else if let Some(rust) = rust {
            needs.insert(at, rust);
        }
    }
    // every crate takes `rust-version.workspace = true`
    let workspace: Vec<&Option<String>> = declared.values().collect();
    assert!(
        workspace.iter().all(|r| r.is_some() && *r == workspace[0]),
        "every crate declares the workspace's rust-version: {declared:?}"
    );
    let workspace = version(workspace[0].as_deref().unwrap_or_default());

    // `cargo metadata` lists every package of the lock file's resolution; what is compiled is
    // `cargo tree`'s (optional dependencies of dependencies only when their feature is on).
    let compiled = cargo(&[
        "tree",
        "--workspace",
        "--all-features",
        "-e",
        "normal,build,dev",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    let mut checked = 0;
    let mut newer = Vec::new();
    for line in compiled.lines() {
        let at: String = line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(rust) = needs.get(&at) {
            checked += 1;
            if version(rust) > workspace {
                newer.push(format!("{at} needs Rust {rust}"));
            }
        }
    }
    newer.sort();
    newer.dedup();
    assert!(
        checked > 10,
        "few dependencies declare a rust-version: {checked}"
    );
    assert!(
        newer.is_empty(),
        "the workspace declares rust-version {workspace:?}, but: {}",
        newer.join(", ")
    );

    // "release: 1.95.0" (or "1.96.0-nightly")
    let installed = version(
        rustc_v
            .lines()
            .find_map(|l| l.strip_prefix("release: "))
            .and_then(|v| v.split('-').next())
            .unwrap_or_else(|| panic!("rustc -vV names no release: {rustc_v}")),
    );
    assert!(
        installed >= workspace,
        "rustc {installed:?} is older than the workspace's rust-version {workspace:?}"
    );
}
