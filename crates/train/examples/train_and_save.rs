//! Trains one cell from a CellSpec JSON file on the CPU and saves the fine-tuned model into
//! SAVE_DIR (`dmlft_train::saved_model`'s folder: HF layout, tokenizer files, `cell.json`), the
//! folder `dmlft analyze` / `dmlft explain` read. Prints the `CellResult` as JSON on stdout.
//!
//!   cargo run -p dmlft-train --example train_and_save -- cell.json SAVE_DIR

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use dmlft_train::{run_cell, CellOptions, CellSpec, DeviceChoice};

const USAGE: &str = "usage: train_and_save CELL.json SAVE_DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cell, save] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(Path::new(cell), &PathBuf::from(save)) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("train_and_save: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cell_path: &Path, save_dir: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(cell_path)
        .map_err(|e| format!("cannot read {}: {e}", cell_path.display()))?;
    let cell: CellSpec = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a CellSpec: {e}", cell_path.display()))?;
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        device: DeviceChoice::Cpu,
        cancel: &cancel,
        save_dir: Some(save_dir.to_path_buf()),
        progress: None,
    };
    let result = run_cell(&cell, &options).map_err(|e| e.to_string())?;
    eprintln!(
        "{} {} seed {}: head accuracy {:.4} on {} examples, {} steps, train {:.1}s; saved to {}",
        cell.dataset_name,
        cell.loss_name,
        cell.split.seed,
        result
            .metrics
            .get(&dmlft_eval::InferenceMode::Head)
            .map(|m| m.accuracy)
            .unwrap_or(f64::NAN),
        result.eval_size,
        result.steps,
        result.timings.train_s,
        save_dir.display()
    );
    serde_json::to_string_pretty(&result).map_err(|e| e.to_string())
}
