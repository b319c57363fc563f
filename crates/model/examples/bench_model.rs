//! Forward throughput (batch 64 x length 64, no autodiff) and one training step (forward + CE +
//! backward + AdamW, batch 16 x length 64, dropout 0.1) for all-MiniLM-L6-v2 and a
//! RoBERTa-base-shaped random model, on burn's Flex and NdArray CPU backends.
//! The PyTorch counterpart is scripts/bench/model_torch.py; scripts/bench/model.sh runs both.
//!
//! cargo run -p dmlft-model --example bench_model -- [--backend flex|ndarray|all]
//!     [--model minilm|base|all] [--iters N] [--json FILE]

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_model::testing::real_model_dir_or_skip;
use dmlft_model::{load_classifier, EncoderConfig, ModelFamily, SequenceClassifier};
use rand::{Rng, SeedableRng};

const SEQ: usize = 64;
const INFER_BATCH: usize = 64;
const TRAIN_BATCH: usize = 16;
const LABELS: usize = 2;

struct Args {
    backends: Vec<String>,
    models: Vec<String>,
    iters: usize,
    json: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backends: vec!["flex".into(), "ndarray".into()],
        models: vec!["minilm".into(), "base".into()],
        iters: 3,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let list = |v: &str, all: &[&str]| -> Vec<String> {
            if v == "all" {
                all.iter().map(|s| s.to_string()).collect()
            } else {
                vec![v.to_string()]
            }
        };
        match flag.as_str() {
            "--backend" => args.backends = list(&value, &["flex", "ndarray"]),
            "--model" => args.models = list(&value, &["minilm", "base"]),
            "--iters" => args.iters = value.parse().map_err(|e| format!("--iters: {e}"))?,
            "--json" => args.json = Some(PathBuf::from(value)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn base_config() -> EncoderConfig {
    EncoderConfig::synthetic(ModelFamily::Roberta, 768, 12, 12, 3072, 50265, 514)
        .expect("valid synthetic config")
}

fn model<B: Backend>(name: &str, device: &B::Device) -> SequenceClassifier<B> {
    if name == "minilm" {
        if let Some(dir) = real_model_dir_or_skip() {
            return load_classifier(&dir, LABELS, 0, None, device)
                .expect("all-MiniLM-L6-v2 loads")
                .0;
        }
        let c = EncoderConfig::synthetic(ModelFamily::Bert, 384, 6, 12, 1536, 30522, 512).unwrap();
        return SequenceClassifier::random(&c, LABELS, 0, device);
    }
    SequenceClassifier::random(&base_config(), LABELS, 0, device)
}

fn batch<B: Backend>(rows: usize, vocab: usize, device: &B::Device) -> [Tensor<B, 2, Int>; 3] {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
    // Ids from 3 up so that no token is RoBERTa's pad (1); first and last are <s>/[CLS]-like.
    let ids: Vec<i64> = (0..rows * SEQ)
        .map(|_| rng.random_range(3..vocab as i64))
        .collect();
    let ids = Tensor::from_data(TensorData::new(ids, [rows, SEQ]), device);
    let mask = Tensor::<B, 2, Int>::ones([rows, SEQ], device);
    let types = Tensor::<B, 2, Int>::zeros([rows, SEQ], device);
    [ids, mask, types]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn bench_infer<B: Backend>(name: &str, iters: usize) -> f64 {
    let device = B::Device::default();
    let model = model::<B>(name, &device);
    let [ids, mask, types] = batch::<B>(INFER_BATCH, model.config().vocab_size, &device);
    let mut times = Vec::new();
    for i in 0..=iters {
        let start = Instant::now();
        let logits = model
            .forward(ids.clone(), mask.clone(), types.clone())
            .logits;
        let _ = logits.into_data(); // forces the computation
        if i > 0 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(times)
}

fn bench_train<B: AutodiffBackend>(name: &str, iters: usize) -> f64 {
    let device = B::Device::default();
    let mut model = model::<B>(name, &device);
    let [ids, mask, types] = batch::<B>(TRAIN_BATCH, model.config().vocab_size, &device);
    let labels: Tensor<B, 1, Int> = Tensor::from_data(
        TensorData::new(
            (0..TRAIN_BATCH as i64).map(|i| i % 2).collect::<Vec<_>>(),
            [TRAIN_BATCH],
        ),
        &device,
    );
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(0.01)
        .init::<B, SequenceClassifier<B>>();
    let mut times = Vec::new();
    for i in 0..=iters {
        let start = Instant::now();
        let logits = model
            .forward(ids.clone(), mask.clone(), types.clone())
            .logits;
        let loss = loss_fn.forward(logits, labels.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-5, model, grads);
        // Read one parameter back so that lazy backends finish the step inside the timing.
        let _ = model
            .head
            .out_proj
            .bias
            .as_ref()
            .map(|b| b.val().into_data());
        if i > 0 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(times)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_model: {e}");
            std::process::exit(2);
        }
    };
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!("burn CPU benchmark, seq {SEQ}, {} measured iterations after 1 warm-up, RAYON_NUM_THREADS={threads}", args.iters);
    let mut rows = Vec::new();
    for model in &args.models {
        for backend in &args.backends {
            let (infer, train) = match backend.as_str() {
                "flex" => (
                    bench_infer::<Flex>(model, args.iters),
                    bench_train::<Autodiff<Flex>>(model, args.iters),
                ),
                "ndarray" => (
                    bench_infer::<NdArray>(model, args.iters),
                    bench_train::<Autodiff<NdArray>>(model, args.iters),
                ),
                other => {
                    eprintln!("unknown backend {other}: valid flex, ndarray");
                    std::process::exit(2);
                }
            };
            let infer_sps = INFER_BATCH as f64 / infer * 1e3;
            let train_sps = TRAIN_BATCH as f64 / train * 1e3;
            println!(
                "{model:6} {backend:8} infer b{INFER_BATCH}: {infer:8.0} ms ({infer_sps:6.1} sent/s)   train b{TRAIN_BATCH}: {train:8.0} ms/step ({train_sps:5.1} sent/s)"
            );
            rows.push(serde_json::json!({
                "impl": backend, "model": model, "infer_ms": infer, "infer_sent_per_s": infer_sps,
                "train_ms": train, "train_sent_per_s": train_sps,
            }));
        }
    }
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&rows).unwrap())
            .expect("write --json file");
    }
}
