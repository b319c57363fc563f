//! `dmlft env`: the text and JSON reports carry this build's version, commit and backends, the
//! CPU facts the kernels decide on, and where data and models are looked for.

use std::process::Command;

fn env_cmd(json: bool, data_dir: &str, hf_cache: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmlft"));
    cmd.arg("env")
        .env("DMLFT_DATA_DIR", data_dir)
        .env("HF_HUB_CACHE", hf_cache)
        .env("RAYON_NUM_THREADS", "3")
        .env_remove("HF_HUB_OFFLINE")
        // as on a machine without a desktop session: the wgpu probe must stay quiet
        .env_remove("XDG_RUNTIME_DIR");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run dmlft env");
    assert!(
        out.status.success(),
        "dmlft env failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// The commit `git` reports for this checkout, if it is one.
fn git_head() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn json_report_holds_the_build_and_machine_facts() {
    let data = tempfile::tempdir().unwrap();
    let text = env_cmd(
        true,
        &data.path().display().to_string(),
        "/nonexistent/hf-cache",
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["dmlft_version"], env!("CARGO_PKG_VERSION"));
    if let Some(head) = git_head() {
        if std::env::var_os("DMLFT_GIT_COMMIT").is_none() {
            assert_eq!(v["git_commit"], head.as_str());
        }
    }
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    let burn = v["burn_version"].as_str().unwrap();
    assert!(
        lock.contains(&format!("name = \"burn\"\nversion = \"{burn}\"")),
        "burn {burn} is not the locked version"
    );
    let backends: Vec<&str> = v["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(backends.contains(&"cpu (burn-flex)"), "{backends:?}");
    assert_eq!(
        backends.iter().any(|b| b.starts_with("cuda")),
        cfg!(feature = "cuda")
    );
    let cpu = &v["cpu"];
    assert_eq!(cpu["threads"], 3, "RAYON_NUM_THREADS sets the pool");
    assert_eq!(cpu["rayon_num_threads"], "3");
    assert_eq!(
        cpu["kernels_simd"],
        dmlft_model::kernels::simd_level().as_str()
    );
    assert!(cpu["logical_cpus"].as_u64().unwrap() >= 1);
    if !cfg!(feature = "cuda") {
        assert_eq!(v["cuda"]["status"], "not-compiled");
    }
    if !cfg!(feature = "wgpu") {
        assert_eq!(v["wgpu"]["status"], "not-compiled");
    }
    assert_eq!(v["data_root"]["path"], data.path().display().to_string());
    assert_eq!(v["data_root"]["source"], "DMLFT_DATA_DIR");
    assert_eq!(v["data_root"]["exists"], true);
    assert_eq!(v["model_cache"]["hf_cache"], "/nonexistent/hf-cache");
    assert_eq!(v["model_cache"]["exists"], false);
}

#[test]
fn text_report_has_one_line_per_fact() {
    let text = env_cmd(false, "/nonexistent/senteval", "/nonexistent/hf-cache");
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"))
            .to_string()
    };
    assert!(line("dmlft ").contains(env!("CARGO_PKG_VERSION")));
    assert!(line("burn ").starts_with("burn 0."));
    assert!(line("backends: ").contains("cpu (burn-flex)"));
    let cpu = line("cpu: ");
    assert!(cpu.contains("3 threads (RAYON_NUM_THREADS=3)"), "{cpu}");
    assert!(
        cpu.contains(dmlft_model::kernels::simd_level().as_str()),
        "{cpu}"
    );
    assert!(line("cuda: ").contains(if cfg!(feature = "cuda") {
        ""
    } else {
        "not in this build"
    }));
    assert!(line("wgpu: ").contains(if cfg!(feature = "wgpu") {
        ""
    } else {
        "not in this build"
    }));
    assert_eq!(
        line("data root: "),
        "data root: /nonexistent/senteval (DMLFT_DATA_DIR; missing)"
    );
    assert_eq!(
        line("model cache: "),
        "model cache: /nonexistent/hf-cache (missing; downloads on)"
    );
}
