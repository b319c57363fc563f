//! Saves classifiers with new heads the way a fine-tuned model is saved, plus the logits this
//! crate computes for them, for scripts/make_model_fixtures.py --check-saved to compare with
//! transformers. Usage: cargo run -p dmlft-model --example save_for_parity -- OUT_DIR

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::backend::NdArray;
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_model::{load_classifier, save_classifier};
use dmlft_testing::model_dir;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

type B = NdArray;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// input_ids, attention_mask, token_type_ids of a reference file, as (shape, i64 values).
fn inputs(reference: &Path) -> Vec<(String, [usize; 2], Vec<i64>)> {
    let bytes = std::fs::read(reference).expect("fixture reference file");
    let st = SafeTensors::deserialize(&bytes).expect("valid safetensors");
    ["input_ids", "attention_mask", "token_type_ids"]
        .iter()
        .map(|name| {
            let view = st.tensor(name).expect("fixture input");
            let values = view
                .data()
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (name.to_string(), [view.shape()[0], view.shape()[1]], values)
        })
        .collect()
}

fn save(
    model_dir: &Path,
    reference: &Path,
    num_labels: usize,
    out: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let device = Default::default();
    let (model, report) = load_classifier::<B>(model_dir, num_labels, 2024, None, &device)?;
    println!("{}: {report}", model_dir.display());
    let arrays = inputs(reference);
    let tensor = |i: usize| -> Tensor<B, 2, Int> {
        Tensor::from_data(TensorData::new(arrays[i].2.clone(), arrays[i].1), &device)
    };
    let logits = model.forward(tensor(0), tensor(1), tensor(2)).logits;
    let shape = logits.dims().to_vec();
    let logits: Vec<f32> = logits.into_data().convert::<f32>().to_vec()?;
    save_classifier(&model, out, None)?;

    let mut blobs: HashMap<String, (Dtype, Vec<usize>, Vec<u8>)> = HashMap::new();
    for (name, dims, values) in &arrays {
        blobs.insert(
            name.clone(),
            (
                Dtype::I64,
                dims.to_vec(),
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        );
    }
    blobs.insert(
        "logits".into(),
        (
            Dtype::F32,
            shape,
            logits.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
    );
    let views = blobs
        .iter()
        .map(|(n, (d, s, b))| Ok((n.clone(), TensorView::new(*d, s.clone(), b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    safetensors::serialize_to_file(views, None, &out.join("dmlft_logits.safetensors"))?;
    println!("saved {}", out.display());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: save_for_parity OUT_DIR")?,
    );
    let f = fixtures();
    save(
        &f.join("tiny-roberta"),
        &f.join("tiny-roberta/reference.safetensors"),
        5,
        &out.join("tiny-roberta"),
    )?;
    save(
        &f.join("tiny-bert"),
        &f.join("tiny-bert/reference.safetensors"),
        2,
        &out.join("tiny-bert"),
    )?;
    for (name, num_labels) in [("tiny-electra", 4), ("tiny-mpnet", 2)] {
        save(
            &f.join(name),
            &f.join(name).join("reference.safetensors"),
            num_labels,
            &out.join(name),
        )?;
    }
    if let Some(minilm) = model_dir() {
        save(
            &minilm,
            &f.join("minilm/reference.safetensors"),
            4,
            &out.join("minilm"),
        )?;
    }
    Ok(())
}
