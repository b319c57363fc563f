//! scripts/gpu-check.sh without a GPU: its argument handling, and `--dry-run`, which does every
//! CPU part of the GPU run (the paper-shaped cell grids planned with this dmlft, `--device cuda`
//! refused with one clear error, the table built from sample inputs) and prints the plan.

use std::path::PathBuf;
use std::process::{Command, Output};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gpu-check.sh")
}

fn gpu_check(args: &[&str], senteval: Option<&std::path::Path>) -> Output {
    let bundle = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .args(["--bundle", &bundle.path().display().to_string()])
        .args(args)
        .env("DMLFT_BIN", env!("CARGO_BIN_EXE_dmlft"))
        .env_remove("OUT");
    if let Some(dir) = senteval {
        cmd.env("DMLFT_SENTEVAL_DIR", dir);
    }
    cmd.output().expect("run scripts/gpu-check.sh")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn bad_arguments_exit_2_with_the_usage() {
    for (args, says) in [
        (&["--bogus"][..], "unknown argument '--bogus'"),
        (&["--out"][..], "--out needs a value"),
        (&["--iters", "0"][..], "--iters must be a positive integer"),
        (
            &["--deadline", "ten"][..],
            "--deadline must be a positive integer",
        ),
    ] {
        let out = gpu_check(args, None);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(says), "{args:?}: {all}");
    }
    let help = gpu_check(&["--help"], None);
    assert!(text(&help).contains("--dry-run"));
}

#[test]
fn dry_run_does_the_cpu_parts_and_prints_the_plan() {
    let Some(data) = dmlft_testing::senteval_dir() else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = gpu_check(
        &["--dry-run", "--out", &out_dir.path().display().to_string()],
        Some(&data),
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    // The plan, with the papers' shapes.
    for step in [
        "1. environment",
        "3. parity tests",
        "--train-batch 20 --infer-batch 64",
        "dmlft run cell-f32.toml / cell-bf16.toml --device cuda --limit 1",
    ] {
        assert!(all.contains(step), "plan lacks `{step}`:\n{all}");
    }
    // Without the bundle it says what to build.
    assert!(
        all.contains("bin/cuda-tests: missing (scripts/gpu-check.sh --build)"),
        "{all}"
    );
    // The cell grids expand to the paper's folds: 20 examples, batch 64, 120 steps.
    for p in ["f32", "bf16"] {
        assert!(
            all.contains(&format!("cell grid ({p}): 4 cells planned")),
            "{all}"
        );
    }
    assert!(all.contains("steps 120, batch 20"), "{all}");
    // This machine has no NVIDIA driver (or this dmlft no CUDA): one clear error, exit 1.
    let refused = all
        .lines()
        .find(|l| l.contains("dmlft run --device cuda here"))
        .unwrap_or_else(|| panic!("{all}"));
    if !std::path::Path::new("/dev/nvidiactl").exists() {
        assert!(
            refused.contains("exit 1: error: device `cuda:0` is not available"),
            "{refused}"
        );
        assert!(!all.contains("panicked"), "{all}");
    }
    // The table code ran on sample inputs.
    assert!(
        all.contains("| check | precision | dmlft (burn-cuda) | PyTorch |"),
        "{all}"
    );
    assert!(
        all.contains("RoBERTa-large shape train step b20x64"),
        "{all}"
    );
    assert!(all.contains("dry run ok"), "{all}");
}

#[test]
fn the_archive_that_build_writes_is_unpacked_when_the_bundle_is_not_there() {
    let Some(data) = dmlft_testing::senteval_dir() else {
        return;
    };
    // An archive as --build writes it (here with stand-in programs; dmlft is this build's).
    let src = tempfile::tempdir().unwrap();
    let bin = src.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for (name, body) in [
        ("dmlft", "exec \"$DMLFT_REAL\" \"$@\""),
        ("bench_model", "exit 0"),
        ("cuda-tests", "exit 0"),
    ] {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&path, mode).unwrap();
    }
    let parent = tempfile::tempdir().unwrap();
    let bundle = parent.path().join("bundle");
    let pack = parent.path().join("bundle.tar.xz");
    let tar = Command::new("tar")
        .args(["-cJf", &pack.display().to_string(), "-C"])
        .arg(src.path())
        .arg("bin")
        .status()
        .unwrap();
    assert!(tar.success());
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(script())
        .args(["--bundle", &bundle.display().to_string(), "--dry-run"])
        .args(["--out", &out_dir.path().display().to_string()])
        .env("DMLFT_REAL", env!("CARGO_BIN_EXE_dmlft"))
        .env("DMLFT_SENTEVAL_DIR", &data)
        .env_remove("OUT")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("unpacking"), "{all}");
    assert!(bundle.join("bin/cuda-tests").exists(), "{all}");
    assert!(
        !all.contains("missing (scripts/gpu-check.sh --build)"),
        "{all}"
    );
    assert!(all.contains("cell grid (f32): 4 cells planned"), "{all}");
}

#[test]
fn crafted_or_broken_archives_are_refused_and_leave_no_binary() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    // Archives whose first member is bin/dmlft and whose next one escapes the bundle (`..`, an
    // absolute name, a link out), and a truncated one (as an interrupted copy leaves it).
    let craft = Command::new("python3")
        .arg("-c")
        .arg(
            r##"
import io, sys, tarfile
d = sys.argv[1]
def add(t, name, data=b"x", link=None):
    ti = tarfile.TarInfo(name)
    if link:
        ti.type, ti.linkname = tarfile.SYMTYPE, link
        t.addfile(ti)
    else:
        ti.size, ti.mode = len(data), 0o755
        t.addfile(ti, io.BytesIO(data))
for case, extra in [("dotdot", ("../escaped.txt",)), ("abs", (d + "/abs-escaped.txt",)),
                    ("link", ("bin/link", b"", d + "/victim.txt"))]:
    with tarfile.open(f"{d}/b-{case}.tar.xz", "w:xz") as t:
        add(t, "bin/dmlft", b"#!/bin/sh\necho hi\n")
        add(t, *extra)
with tarfile.open(f"{d}/whole.tar.xz", "w:xz") as t:
    add(t, "bin/dmlft", b"#!/bin/sh\necho hi\n")
    add(t, "MANIFEST", bytes(range(256)) * 400)
data = open(f"{d}/whole.tar.xz", "rb").read()
open(f"{d}/b-truncated.tar.xz", "wb").write(data[: len(data) // 2])
"##,
        )
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(craft.success());
    for case in ["dotdot", "abs", "link", "truncated"] {
        let bundle = dir.path().join(format!("b-{case}"));
        let out = Command::new("bash")
            .arg(script())
            .args(["--bundle", &bundle.display().to_string(), "--dry-run"])
            .args(["--out", &dir.path().join("out").display().to_string()])
            .env_remove("OUT")
            .output()
            .unwrap();
        let all = text(&out);
        assert!(!out.status.success(), "{case}: {all}");
        assert!(all.contains("nothing was unpacked"), "{case}: {all}");
        assert!(!bundle.join("bin/dmlft").exists(), "{case}: a half unpack");
        assert!(!dir.path().join("escaped.txt").exists(), "{case}");
        assert!(!dir.path().join("abs-escaped.txt").exists(), "{case}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    }
}
