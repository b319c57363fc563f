//! Broken checkpoints give one clear error naming the file and the tensor or key.

use crate::common::*;
use burn::backend::NdArray;
use dmlft_model::{load_classifier, load_encoder, ModelError};
use safetensors::Dtype;

fn load_err(dir: &std::path::Path) -> ModelError {
    match load_classifier::<NdArray>(dir, 3, 0, None, &Default::default()) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e,
    }
}

fn edit_weights(name: &str, edit: impl FnOnce(&mut Vec<Entry>)) -> tempfile::TempDir {
    let dir = copy_fixture(name);
    let path = dir.path().join("model.safetensors");
    rewrite_safetensors(&fixture(name).join("model.safetensors"), &path, edit);
    dir
}

fn edit_config(
    name: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> tempfile::TempDir {
    let dir = copy_fixture(name);
    let path = dir.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(config.as_object_mut().unwrap());
    std::fs::write(&path, config.to_string()).unwrap();
    dir
}

#[test]
fn missing_tensor_is_named_with_its_file() {
    let gone = "roberta.encoder.layer.1.attention.self.key.weight";
    let dir = edit_weights("tiny-roberta", |e| e.retain(|t| t.0 != gone));
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains("missing tensor(s)") && msg.contains(gone),
        "{msg}"
    );
    assert!(
        msg.contains(&dir.path().join("model.safetensors").display().to_string()),
        "{msg}"
    );
}

#[test]
fn unexpected_tensor_is_named() {
    let dir = edit_weights("tiny-roberta", |e| {
        let mut extra = e[0].clone();
        extra.0 = "roberta.encoder.layer.7.attention.self.query.weight".into();
        e.push(extra);
    });
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains("unexpected tensor(s)") && msg.contains("layer.7.attention.self.query.weight"),
        "{msg}"
    );
}

#[test]
fn shape_mismatch_names_tensor_and_both_shapes() {
    let name = "bert.encoder.layer.0.intermediate.dense.bias";
    let dir = edit_weights("tiny-bert", |e| {
        let t = e.iter_mut().find(|t| t.0 == name).unwrap();
        t.2 = vec![64];
        t.3.truncate(64 * 4);
    });
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains(name) && msg.contains("[64]") && msg.contains("expected [128]"),
        "{msg}"
    );
}

#[test]
fn unsupported_dtype_is_named() {
    let name = "roberta.embeddings.LayerNorm.bias";
    let dir = edit_weights("tiny-roberta", |e| {
        let t = e.iter_mut().find(|t| t.0 == name).unwrap();
        t.1 = Dtype::I32;
    });
    let msg = load_err(dir.path()).to_string();
    assert!(msg.contains(name) && msg.contains("I32"), "{msg}");
}

#[test]
fn missing_config_key_is_named() {
    let dir = edit_config("tiny-bert", |c| {
        c.remove("num_attention_heads");
    });
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains("config.json")
            && msg.contains("`num_attention_heads`")
            && msg.contains("missing"),
        "{msg}"
    );
}

#[test]
fn bad_hidden_act_is_rejected() {
    let dir = edit_config("tiny-roberta", |c| {
        c.insert("hidden_act".into(), "gelu_new".into());
    });
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains("`hidden_act`") && msg.contains("gelu_new") && msg.contains("valid: gelu"),
        "{msg}"
    );
}

#[test]
fn missing_weights_file_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("tiny-bert/config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let msg = load_err(dir.path()).to_string();
    assert!(
        msg.contains("model.safetensors") && msg.contains("model.safetensors.index.json"),
        "{msg}"
    );
}

#[test]
fn bare_names_f16_weights_and_shards_load_like_the_original() {
    let device = Default::default();
    let reference = read_arrays(&fixture("tiny-roberta/reference.safetensors"));
    let run = |dir: &std::path::Path| {
        let (encoder, report) = load_encoder::<NdArray>(dir, None, &device).unwrap();
        let states = encoder.forward(
            ints(&reference["input_ids"], &device),
            ints(&reference["attention_mask"], &device),
            ints(&reference["token_type_ids"], &device),
        );
        (values(states), report)
    };
    let (original, _) = run(&fixture("tiny-roberta"));

    // Shards + index, with the `roberta.` prefix stripped (as a RobertaModel save).
    let dir = copy_fixture("tiny-roberta");
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let (first, second): (Vec<Entry>, Vec<Entry>) =
        read_entries(&fixture("tiny-roberta/model.safetensors"))
            .into_iter()
            .map(|mut t| {
                t.0 = t.0.trim_start_matches("roberta.").to_string();
                t
            })
            .partition(|t| t.0.starts_with("embeddings") || t.0.contains("layer.0."));
    write_safetensors(&dir.path().join("model-00001-of-00002.safetensors"), &first);
    write_safetensors(
        &dir.path().join("model-00002-of-00002.safetensors"),
        &second,
    );
    let map: serde_json::Map<String, serde_json::Value> = first
        .iter()
        .map(|t| (t.0.clone(), "model-00001-of-00002.safetensors".into()))
        .chain(
            second
                .iter()
                .map(|t| (t.0.clone(), "model-00002-of-00002.safetensors".into())),
        )
        .collect();
    std::fs::write(
        dir.path().join("model.safetensors.index.json"),
        serde_json::json!({"metadata": {}, "weight_map": map}).to_string(),
    )
    .unwrap();
    let (sharded, report) = run(dir.path());
    assert_eq!(report.prefix, "");
    assert_eq!(report.files.len(), 2);
    assert_eq!(max_abs_diff(&sharded, &original), 0.0);

    // F16 weights are converted to f32; only rounding differs.
    let dir = edit_weights("tiny-roberta", |e| {
        for t in e.iter_mut() {
            let halves: Vec<u8> =
                t.3.chunks_exact(4)
                    .flat_map(|b| {
                        burn::tensor::f16::from_f32(f32::from_le_bytes(b.try_into().unwrap()))
                            .to_le_bytes()
                    })
                    .collect();
            *t = (t.0.clone(), Dtype::F16, t.2.clone(), halves);
        }
    });
    let (half, report) = run(dir.path());
    assert_eq!(report.converted_from, vec!["F16".to_string()]);
    let d = max_abs_diff(&half, &original);
    assert!(d > 0.0 && d < 5e-2, "f16 copy differs by {d}");
}
