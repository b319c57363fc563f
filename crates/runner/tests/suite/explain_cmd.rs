//! `dmlft explain` on the tiny saved model of `predict_cmd`: by default it truncates as the
//! model was trained (its folder's max_length, 16 tokens), `--max-length` overrides it, and a
//! length past the model's position table (32) is one clear error, not a panic inside the
//! backend.

use crate::predict_cmd::{dmlft, saved_model};

fn tokens_of_first_sentence(json: &std::path::Path) -> usize {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    v["sentences"][0]["models"][0]["tokens"]
        .as_array()
        .unwrap_or_else(|| panic!("no tokens in {v}"))
        .len()
}

#[test]
fn explain_truncates_as_the_model_was_trained_and_refuses_lengths_past_its_positions() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let saved = saved_model(r);
    let model = saved.to_str().unwrap();
    let long = "the film was good and the plot was fun but the movie was very long ".repeat(4);
    let run = |extra: &[&str]| {
        let mut args = vec!["explain", "--model", model, "--steps", "4", "--out", "out"];
        args.extend(extra);
        args.push(long.as_str());
        dmlft(r, &args, None)
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tokens_of_first_sentence(&r.join("out/explain.json")), 16);
    let out = run(&["--max-length", "24"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(tokens_of_first_sentence(&r.join("out/explain.json")), 24);

    let out = run(&["--max-length", "100"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`--max-length` = 100") && err.contains("2..=32"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
