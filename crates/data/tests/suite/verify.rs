//! Checksum verification against SHA256SUMS.

use dmlft_data::verify::{verify_checksums, FileStatus};
use dmlft_data::DataError;

#[test]
fn reports_ok_mismatch_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("MR")).unwrap();
    std::fs::write(dir.path().join("MR/a.txt"), "abc").unwrap();
    std::fs::write(dir.path().join("b.txt"), "changed").unwrap();
    // sha256("abc") is the FIPS 180-2 test vector.
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let sums = format!("{abc}  MR/a.txt\n{abc} *b.txt\n{abc}  gone.txt\n");
    std::fs::write(dir.path().join("SHA256SUMS"), sums).unwrap();
    let report = verify_checksums(dir.path()).unwrap();
    let statuses: Vec<(&str, &FileStatus)> = report
        .files
        .iter()
        .map(|f| (f.path.as_str(), &f.status))
        .collect();
    assert_eq!(statuses[0], ("MR/a.txt", &FileStatus::Ok));
    assert!(
        matches!(statuses[1], ("b.txt", FileStatus::Mismatch { expected, .. }) if expected == abc)
    );
    assert_eq!(statuses[2], ("gone.txt", &FileStatus::Missing));
    assert!(!report.all_ok());
    let json = serde_json::to_value(&report.files[2]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"path": "gone.txt", "status": "missing"})
    );
}

#[test]
fn no_sums_file_and_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let report = verify_checksums(dir.path()).unwrap();
    assert!(report.sums_file.is_none() && !report.all_ok());
    std::fs::write(dir.path().join("SHA256SUMS"), "ba7816bf  short.txt\n").unwrap();
    let err = verify_checksums(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::Malformed { line: 1, .. }), "{err}");
    assert!(verify_checksums(&dir.path().join("absent")).is_err());
}

#[test]
fn real_senteval_copy_verifies() {
    let Some(root) = dmlft_testing::senteval_dir() else {
        return;
    };
    let report = verify_checksums(&root).unwrap();
    assert_eq!(report.files.len(), 21);
    assert!(report.all_ok(), "{report:?}");
}
