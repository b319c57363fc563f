//! Prints the checkpoint folder a model source resolves to (downloading it into the Hugging Face
//! cache when the `hub` feature is on and the machine is online), and what loading it reports.
//! Usage: cargo run -p dmlft-model --example resolve_source -- SOURCE [NUM_LABELS]

use burn::backend::NdArray;
use dmlft_model::{load_classifier, resolve_source};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(source) = args.next() else {
        eprintln!("usage: resolve_source SOURCE [NUM_LABELS]");
        std::process::exit(2);
    };
    let num_labels = args.next().and_then(|n| n.parse().ok()).unwrap_or(2);
    let result = resolve_source(&source).and_then(|dir| {
        println!("{source} -> {}", dir.display());
        load_classifier::<NdArray>(&dir, num_labels, 0, None, &Default::default())
            .map(|(_, report)| report)
    });
    match result {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
