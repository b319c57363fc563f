//! Records written by an earlier dmlft (main at 229ae76, fake executor: `dmlft run` of the
//! committed `out/grid.toml`, then `dmlft report out --format md,json`) load back byte for byte
//! and report exactly as they did then: the typed mode keys and metrics read and write the
//! same strings.

use crate::common::{stderr, Fixture};
use dmlft::store::CellRecord;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/main_records")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn old_records_round_trip_byte_for_byte() {
    let cells = fixture_dir().join("out/cells");
    let mut n = 0;
    for entry in std::fs::read_dir(&cells).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let record: CellRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&record).unwrap(),
            text,
            "{}",
            entry.path().display()
        );
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn old_records_report_as_they_did() {
    let fx = Fixture::new();
    copy_dir(&fixture_dir().join("out"), &fx.path().join("out"));
    let out = fx.run(&["report", "out", "--format", "md,json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["report.md", "report.json", "runs.json"] {
        let mut now = std::fs::read_to_string(fx.path().join("out/report").join(file)).unwrap();
        // sections added to report.md since then (the paper tables and comparisons over tasks
        // that lead it, what the study cost) are not compared
        if let Some(at) = now.find("## Compute\n") {
            now.truncate(at);
        }
        let lead_end = "## All statistics\n\n";
        if let Some(at) = now.find(lead_end) {
            now.replace_range(..at + lead_end.len(), "");
        }
        let then = std::fs::read_to_string(fixture_dir().join("expected").join(file)).unwrap();
        assert_eq!(now, then, "{file}");
    }
}
