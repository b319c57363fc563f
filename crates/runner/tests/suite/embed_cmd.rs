//! `dmlft embed` through the real binary: the reference numbers of all-MiniLM-L6-v2 (a NumPy
//! BERT forward checked against onnxruntime) and clear errors for bad input.

use std::process::Command;

fn dmlft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dmlft"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn mean_pooled_minilm_vector_matches_the_reference() {
    let Some(model) = dmlft_testing::model_dir() else {
        return;
    };
    let model = model.display().to_string();
    let out = dmlft(&[
        "embed",
        "--model",
        &model,
        "--json",
        "a gripping, funny film.",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vectors: Vec<Vec<f32>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(vectors.len(), 1);
    assert_eq!(vectors[0].len(), 384);
    let want = [-0.24367, -0.06833, -0.16680, 0.18701, -0.25983, 0.26599];
    for (got, want) in vectors[0].iter().zip(want) {
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }
    // --normalize gives the sentence-transformers embedding.
    let out = dmlft(&[
        "embed",
        "--model",
        &model,
        "--normalize",
        "--json",
        "a gripping, funny film.",
    ]);
    let vectors: Vec<Vec<f32>> = serde_json::from_slice(&out.stdout).unwrap();
    assert!((vectors[0][0] - -0.04270).abs() < 1e-4, "{}", vectors[0][0]);
    // Plain output: one line of 384 numbers per text.
    let out = dmlft(&[
        "embed",
        "--model",
        &model,
        "--pooling",
        "first",
        "one",
        "two",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert_eq!(text.lines().next().unwrap().split(' ').count(), 384);
}

#[test]
fn bad_input_gets_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    // 32 positions: a longer --max-length would index past the table
    let tiny = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../model/tests/fixtures/tiny-bert")
        .display()
        .to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "embed".into(),
                "--model".into(),
                missing.display().to_string(),
                "x".into(),
            ],
            "nope",
        ),
        (
            vec![
                "embed".into(),
                "--model".into(),
                dir.path().display().to_string(),
            ],
            "no text to embed",
        ),
        (
            vec![
                "embed".into(),
                "--model".into(),
                "m".into(),
                "--pooling".into(),
                "max".into(),
                "x".into(),
            ],
            "possible values",
        ),
        (
            vec![
                "embed".into(),
                "--model".into(),
                tiny,
                "--max-length".into(),
                "100".into(),
                "x".into(),
            ],
            "max_length 100 is longer than the 32 tokens",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = dmlft(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
