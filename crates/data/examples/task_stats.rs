//! Prints a task's counts per split and label (and token lengths with a model folder) as JSON.
//!
//! `cargo run -p dmlft-data --example task_stats -- <data root> <task> [model dir]`

use dmlft_data::{load_task, task_stats, DatasetSpec, TaskName, TextTokenizer};
use std::path::PathBuf;

fn main() {
    if let Err(error) = run() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(root), Some(task)) = (args.first(), args.get(1)) else {
        eprintln!("usage: task_stats <data root> <task> [model dir]");
        std::process::exit(2);
    };
    let name: TaskName = task.parse()?;
    let task = load_task(&DatasetSpec::SentEval(name), &PathBuf::from(root))?;
    let tokenizer = args
        .get(2)
        .map(|dir| TextTokenizer::from_dir(&PathBuf::from(dir)))
        .transpose()?;
    let stats = task_stats(&task, tokenizer.as_ref())?;
    println!("{}", serde_json::to_string_pretty(&stats)?);
    Ok(())
}
