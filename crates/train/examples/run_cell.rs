//! Runs one cell from a CellSpec JSON file on the CPU and prints its `CellResult` as JSON on
//! stdout (timings included); a one-line summary goes to stderr.
//!
//!   cargo run -p dmlft-train --example run_cell -- cell.json
//!   cargo run -p dmlft-train --example run_cell -- cell.json --init-check DIR
//!
//! `--init-check DIR` trains nothing: it builds the model and the objective exactly as `run_cell`
//! does for this cell (same head and loss seeds), saves the untrained classifier to `DIR` (HF
//! layout) and the loss parameters to `DIR/loss_params.json`, and prints, as JSON, the objective
//! of the cell's first training batch with dropout off (a non-autodiff backend). A reference
//! implementation that loads `DIR` must reproduce those numbers to float precision; this is how
//! `scripts/reference/torch_cell.py --init-check` tells implementation differences from noise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use burn::backend::Flex;
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_data::epoch_order;
use dmlft_data::Example;
use dmlft_losses::DmlLoss;
use dmlft_model::save_classifier;
use dmlft_train::forward::classify;
use dmlft_train::tensors::BatchTensors;
use dmlft_train::{run_cell, CellOptions, CellSetup, CellSpec, DeviceChoice};
use serde_json::json;

/// The `dmlft` binary's allocator, so that this example times cells as the runner runs them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: run_cell CELL.json [--init-check DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cell_path, init_dir) = match args.as_slice() {
        [cell] => (PathBuf::from(cell), None),
        [cell, flag, dir] if flag == "--init-check" => {
            (PathBuf::from(cell), Some(PathBuf::from(dir)))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&cell_path, init_dir.as_deref()) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("run_cell: {message}");
            ExitCode::FAILURE
        }
    }
}

fn read_cell(path: &Path) -> Result<CellSpec, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a CellSpec: {e}", path.display()))
}

fn run(cell_path: &Path, init_dir: Option<&Path>) -> Result<String, String> {
    let cell = read_cell(cell_path)?;
    if let Some(dir) = init_dir {
        return init_check(&cell, dir).map_err(|e| e.to_string());
    }
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        device: DeviceChoice::Cpu,
        cancel: &cancel,
        save_dir: None,
        progress: None,
    };
    let result = run_cell(&cell, &options).map_err(|e| e.to_string())?;
    let t = &result.timings;
    eprintln!(
        "{} {} seed {}: head accuracy {:.4}, {} steps, load {:.1}s train {:.1}s eval {:.1}s",
        cell.dataset_name,
        cell.loss_name,
        cell.split.seed,
        result
            .metrics
            .get(&dmlft_eval::InferenceMode::Head)
            .map(|m| m.accuracy)
            .unwrap_or(f64::NAN),
        result.steps,
        t.load_s,
        t.train_s,
        t.eval_s
    );
    serde_json::to_string(&result).map_err(|e| e.to_string())
}

/// The first training batch of the cell: epoch 0 of the seeded order, `batch_size` examples.
fn first_batch(train: &[Example], batch_size: usize, seed: u64) -> Vec<Example> {
    epoch_order(train.len(), seed, 0)
        .iter()
        .take(batch_size)
        .map(|&i| train[i].clone())
        .collect()
}

fn host(t: Tensor<Flex, 1>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

fn init_check(cell: &CellSpec, dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
    type B = Flex;
    let device = Default::default();
    let setup = CellSetup::new(cell)?;
    let (model, objective) = setup.classifier::<B>(cell, &device)?;
    let CellSetup {
        task,
        split,
        tokenizer,
        ..
    } = setup;
    save_classifier(&model, dir, Some(&task.label_names))?;

    // Loss parameters, row-major, per term (only SoftTriple's centers are needed so far).
    let mut params = Vec::new();
    for term in &objective.terms {
        if let DmlLoss::SoftTriple(l) = &term.loss {
            let centers = l.centers.val();
            let shape = centers.dims();
            let values: Vec<f32> = centers.into_data().iter::<f32>().collect();
            params.push(json!({"term": term.name, "centers_shape": shape, "centers": values}));
        }
    }
    std::fs::write(
        dir.join("loss_params.json"),
        serde_json::to_string(&params)?,
    )?;

    let batch = first_batch(&split.train, cell.train.batch_size, cell.split.seed);
    let encoded = tokenizer.encode(&batch, cell.model.max_length)?;
    let labels: Vec<i64> = batch.iter().map(|e| e.label as i64).collect();
    let label_tensor =
        Tensor::<B, 1, Int>::from_data(TensorData::new(labels.clone(), [labels.len()]), &device);
    let out = classify(
        &model,
        BatchTensors::<B>::new(&encoded, &device),
        cell.model.head_pooling,
    );
    let logits: Vec<f32> = out.logits.clone().into_data().iter::<f32>().collect();
    let obj = objective.forward(
        out.logits,
        out.token_states,
        out.attention_mask,
        label_tensor,
    )?;
    let terms: serde_json::Map<String, serde_json::Value> = obj
        .dml_terms
        .into_iter()
        .map(|(name, v)| (name, json!(host(v)[0])))
        .collect();
    Ok(json!({
        "first_batch_texts": batch.iter().map(|e| e.text.clone()).collect::<Vec<_>>(),
        "first_batch_labels": labels,
        "seq_len": encoded.seq_len,
        "total": host(obj.total)[0],
        "ce": host(obj.ce)[0],
        "dml_terms": terms,
        "logits": logits,
        "train_indices": split.train_indices,
    })
    .to_string())
}
