//! A model folder made by someone else: absurd sizes in its config.json are refused with the key
//! named, before anything of that size is allocated (they used to abort the process with
//! "memory allocation failed").

use crate::common::*;
use burn::backend::NdArray;
use dmlft_model::load_classifier;

#[test]
fn absurd_sizes_in_config_json_are_named_not_allocated() {
    let huge = 4_000_000_000_000_000usize;
    for key in [
        "num_hidden_layers",
        "vocab_size",
        "max_position_embeddings",
        "hidden_size",
        "intermediate_size",
    ] {
        let dir = copy_fixture("tiny-roberta");
        let path = dir.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config[key] = huge.into();
        std::fs::write(&path, config.to_string()).unwrap();
        let err = match load_classifier::<NdArray>(dir.path(), 3, 0, None, &Default::default()) {
            Ok(_) => panic!("{key} = {huge} loaded"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&format!("key `{key}`"))
                && err.contains(&huge.to_string())
                && err.contains(&path.display().to_string())
                && err.contains("does not match the weights"),
            "{key}: {err}"
        );
    }
}

#[test]
fn a_config_that_implies_far_more_than_the_weights_is_refused() {
    // More attention heads than the weights can tell: sizes no tensor names, caught by the count.
    let dir = copy_fixture("tiny-roberta");
    let path = dir.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // With an intermediate tensor the key is named; without it the total count still catches it.
    config["intermediate_size"] = 1_000_000_000_000usize.into();
    std::fs::write(&path, config.to_string()).unwrap();
    let weights = dir.path().join("model.safetensors");
    rewrite_safetensors(
        &fixture("tiny-roberta").join("model.safetensors"),
        &weights,
        |e| e.retain(|t| !t.0.contains("intermediate.dense")),
    );
    let err = match load_classifier::<NdArray>(dir.path(), 3, 0, None, &Default::default()) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("parameters but the weights hold") && err.contains("intermediate_size"),
        "{err}"
    );
}
