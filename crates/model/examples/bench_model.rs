//! Forward throughput (batch 64 x length 64 by default, no autodiff) and one training step (forward + CE +
//! backward + AdamW, batch 16 x length 64 by default, dropout 0.1) for all-MiniLM-L6-v2 and RoBERTa-base /
//! RoBERTa-large-shaped random models, on burn's Flex and NdArray CPU backends (and CUDA, f32 and
//! bf16, with `--features cuda`; wgpu, f32 and f16, with `--features wgpu`).
//! The PyTorch counterpart is scripts/bench/model_torch.py; scripts/bench/model.sh runs both.
//!
//! cargo run -p dmlft-model --example bench_model -- [--backend flex|ndarray|cuda|cuda-bf16|wgpu|wgpu-f16|all]
//!     [--model minilm|base|large|all] [--mode infer|train|all] [--optim burn|none] [--seq N]
//!     [--infer-batch N] [--train-batch N] [--iters N] [--json FILE]
//! cargo run -p dmlft-model --example bench_model -- --model large --save DIR
//!
//! `--save DIR` writes the model's synthetic (random) checkpoint to DIR in transformers' layout
//! instead of timing anything (scripts/gpu-check.sh trains a RoBERTa-large-shaped cell on it).
//!
//! The training step is timed by phase (forward + loss, backward + gradient collection,
//! optimizer). `--optim none` leaves the optimizer out: the trainer's own AdamW lives in
//! dmlft-train (which this crate cannot depend on) and is timed by its `adamw_step_timing` test;
//! scripts/bench/run-all.sh adds the two. `--mode` lets one process hold only one workload, so
//! `/usr/bin/time -v` gives that workload's peak memory.

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_model::{load_classifier, EncoderConfig, SequenceClassifier};
use dmlft_testing::model_dir;
use rand::{Rng, SeedableRng};

/// mimalloc keeps freed tensor buffers mapped; glibc's malloc returns every large tensor to the
/// kernel and takes page faults on the next. Build with `--features bench-system-alloc` to
/// measure with the system allocator.
#[cfg(not(feature = "bench-system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LABELS: usize = 2;

struct Args {
    backends: Vec<String>,
    models: Vec<String>,
    modes: Vec<String>,
    optim: String,
    seq: usize,
    infer_batch: usize,
    train_batch: usize,
    iters: usize,
    json: Option<PathBuf>,
    save: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backends: vec!["flex".into(), "ndarray".into()],
        models: vec!["minilm".into(), "base".into()],
        modes: vec!["infer".into(), "train".into()],
        optim: "burn".into(),
        seq: 64,
        infer_batch: 64,
        train_batch: 16,
        iters: 3,
        json: None,
        save: None,
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
        let known = |v: &str, valid: &[&str]| -> Result<(), String> {
            if v == "all" || valid.contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{flag} {v}: valid values are {} or all",
                    valid.join(", ")
                ))
            }
        };
        match flag.as_str() {
            "--backend" => args.backends = list(&value, &["flex", "ndarray"]),
            "--model" => {
                known(&value, &["minilm", "base", "large"])?;
                args.models = list(&value, &["minilm", "base", "large"]);
            }
            "--mode" => args.modes = list(&value, &["infer", "train"]),
            "--optim" if value == "burn" || value == "none" => args.optim = value,
            "--seq" => args.seq = value.parse().map_err(|e| format!("--seq: {e}"))?,
            "--infer-batch" => {
                args.infer_batch = value.parse().map_err(|e| format!("--infer-batch: {e}"))?
            }
            "--train-batch" => {
                args.train_batch = value.parse().map_err(|e| format!("--train-batch: {e}"))?
            }
            "--save" => args.save = Some(PathBuf::from(value)),
            "--iters" => args.iters = value.parse().map_err(|e| format!("--iters: {e}"))?,
            "--json" => args.json = Some(PathBuf::from(value)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn roberta_config(name: &str) -> EncoderConfig {
    let id = if name == "large" {
        "roberta-large"
    } else {
        "roberta-base"
    };
    dmlft_model::known_architecture(id).expect("a known architecture")
}

/// The synthetic shape of a model name (all-MiniLM-L6-v2's when the real one is absent).
fn synthetic_config(name: &str) -> EncoderConfig {
    if name == "minilm" {
        return dmlft_model::known_architecture("sentence-transformers/all-MiniLM-L6-v2")
            .expect("a known architecture");
    }
    roberta_config(name)
}

fn model<B: Backend>(name: &str, device: &B::Device) -> SequenceClassifier<B> {
    if name == "minilm" {
        if let Some(dir) = model_dir() {
            return load_classifier(&dir, LABELS, 0, None, device)
                .expect("all-MiniLM-L6-v2 loads")
                .0;
        }
        let c = dmlft_model::known_architecture("sentence-transformers/all-MiniLM-L6-v2")
            .expect("a known architecture");
        return SequenceClassifier::random(&c, LABELS, 0, device);
    }
    SequenceClassifier::random(&synthetic_config(name), LABELS, 0, device)
}

fn batch<B: Backend>(
    rows: usize,
    seq: usize,
    vocab: usize,
    device: &B::Device,
) -> [Tensor<B, 2, Int>; 3] {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
    // Ids from 3 up so that no token is RoBERTa's pad (1); first and last are <s>/[CLS]-like.
    let ids: Vec<i64> = (0..rows * seq)
        .map(|_| rng.random_range(3..vocab as i64))
        .collect();
    let ids = Tensor::from_data(TensorData::new(ids, [rows, seq]), device);
    // Padding as in real batches: row i keeps seq - (7 i mod seq/2) tokens (the longest row
    // sets the batch length); the attention mask is 0 on the rest.
    let mask: Vec<i64> = (0..rows * seq)
        .map(|k| ((k % seq) < seq - (7 * (k / seq)) % (seq / 2).max(1)) as i64)
        .collect();
    let mask = Tensor::<B, 2, Int>::from_data(TensorData::new(mask, [rows, seq]), device);
    let types = Tensor::<B, 2, Int>::zeros([rows, seq], device);
    [ids, mask, types]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// CPU time of the whole process (user + system, all threads) in ms, from /proc/self/stat
/// (Linux; 10 ms resolution). On a machine shared with other jobs it is a steadier measure than
/// wall time: competing processes stretch wall time but not the work done. NaN elsewhere.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // Linux reports in USER_HZ, which is 100 on every mainstream distribution.
        (Some(u), Some(s)) => (u + s) * 10.0,
        _ => f64::NAN,
    }
}

/// Median wall ms and mean CPU ms per forward pass.
fn bench_infer<B: Backend>(name: &str, seq: usize, rows: usize, iters: usize) -> (f64, f64) {
    let device = B::Device::default();
    let model = model::<B>(name, &device);
    let [ids, mask, types] = batch::<B>(rows, seq, model.config().vocab_size, &device);
    let mut times = Vec::new();
    let mut cpu_start = 0.0;
    for i in 0..=iters {
        if i == 1 {
            cpu_start = cpu_ms();
        }
        let start = Instant::now();
        let logits = model
            .forward(ids.clone(), mask.clone(), types.clone())
            .logits;
        let _ = logits.into_data(); // forces the computation
        if i > 0 {
            times.push(ms_since(start));
        }
    }
    (median(times), (cpu_ms() - cpu_start) / iters as f64)
}

/// Median milliseconds of one training step and of its phases.
struct TrainTimes {
    total: f64,
    forward: f64,
    backward: f64,
    optim: f64,
    /// Mean CPU ms per step (all threads), in total and by phase.
    cpu: f64,
    cpu_forward: f64,
    cpu_backward: f64,
    cpu_optim: f64,
    params: usize,
}

fn bench_train<B: AutodiffBackend>(
    name: &str,
    seq: usize,
    rows: usize,
    iters: usize,
    optim_kind: &str,
) -> TrainTimes {
    let device = B::Device::default();
    let mut model = model::<B>(name, &device);
    let [ids, mask, types] = batch::<B>(rows, seq, model.config().vocab_size, &device);
    let labels: Tensor<B, 1, Int> = Tensor::from_data(
        TensorData::new((0..rows as i64).map(|i| i % 2).collect::<Vec<_>>(), [rows]),
        &device,
    );
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(0.01)
        .init::<B, SequenceClassifier<B>>();
    dmlft_model::set_dropout_seed(0);
    let (mut total, mut forward, mut backward, mut optim_ms) = (vec![], vec![], vec![], vec![]);
    let mut cpu_start = 0.0;
    let mut cpu_phases = [0.0f64; 3];
    for i in 0..=iters {
        if i == 1 {
            cpu_start = cpu_ms();
        }
        let c0 = cpu_ms();
        // Flex and NdArray execute eagerly, so each phase's time is its own.
        let start = Instant::now();
        let logits = model
            .forward(ids.clone(), mask.clone(), types.clone())
            .logits;
        let loss = loss_fn.forward(logits, labels.clone());
        let _ = loss.clone().into_data();
        let t_forward = ms_since(start);
        let c1 = cpu_ms();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t_backward = ms_since(start) - t_forward;
        let c2 = cpu_ms();
        if optim_kind == "burn" {
            model = optim.step(1e-5, model, grads);
        } else {
            drop(grads);
        }
        // Read one parameter back so that lazy backends finish the step inside the timing.
        let _ = model
            .head
            .out_proj
            .bias
            .as_ref()
            .map(|b| b.val().into_data());
        let t_total = ms_since(start);
        if i > 0 {
            let c3 = cpu_ms();
            cpu_phases[0] += c1 - c0;
            cpu_phases[1] += c2 - c1;
            cpu_phases[2] += c3 - c2;
            total.push(t_total);
            forward.push(t_forward);
            backward.push(t_backward);
            optim_ms.push(t_total - t_forward - t_backward);
        }
    }
    TrainTimes {
        total: median(total),
        forward: median(forward),
        backward: median(backward),
        optim: median(optim_ms),
        cpu: (cpu_ms() - cpu_start) / iters as f64,
        cpu_forward: cpu_phases[0] / iters as f64,
        cpu_backward: cpu_phases[1] / iters as f64,
        cpu_optim: cpu_phases[2] / iters as f64,
        params: model.num_params(),
    }
}

fn run<B: AutodiffBackend>(args: &Args, model: &str, backend: &str) -> serde_json::Value {
    let seq = args.seq;
    let (infer_batch, train_batch) = (args.infer_batch, args.train_batch);
    let mut row = serde_json::json!({"impl": backend, "model": model, "seq": seq, "optim": args.optim,
        "infer_batch": infer_batch, "train_batch": train_batch});
    if args.modes.iter().any(|m| m == "infer") {
        let (infer, cpu) = bench_infer::<B::InnerBackend>(model, seq, infer_batch, args.iters);
        let sps = infer_batch as f64 / infer * 1e3;
        println!(
            "{model:6} {backend:8} infer b{infer_batch}x{seq}: {infer:8.0} ms ({sps:6.1} sent/s), cpu {cpu:.0} ms"
        );
        row["infer_ms"] = infer.into();
        row["infer_cpu_ms"] = cpu.into();
        row["infer_sent_per_s"] = sps.into();
    }
    if args.modes.iter().any(|m| m == "train") {
        let t = bench_train::<B>(model, seq, train_batch, args.iters, &args.optim);
        let sps = train_batch as f64 / t.total * 1e3;
        println!(
            "{model:6} {backend:8} train b{train_batch}x{seq}: {:8.0} ms/step ({sps:5.1} sent/s) = forward {:.0} + backward {:.0} + optim({}) {:.0}; cpu {:.0} ms/step",
            t.total, t.forward, t.backward, args.optim, t.optim, t.cpu
        );
        row["train_cpu_ms"] = t.cpu.into();
        row["forward_cpu_ms"] = t.cpu_forward.into();
        row["backward_cpu_ms"] = t.cpu_backward.into();
        row["optim_cpu_ms"] = t.cpu_optim.into();
        row["params"] = t.params.into();
        row["train_ms"] = t.total.into();
        row["train_sent_per_s"] = sps.into();
        row["forward_ms"] = t.forward.into();
        row["backward_ms"] = t.backward.into();
        row["optim_ms"] = t.optim.into();
    }
    row
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_model: {e}");
            std::process::exit(2);
        }
    };
    if let Some(dir) = &args.save {
        for name in &args.models {
            let model = SequenceClassifier::<Flex>::random(
                &synthetic_config(name),
                LABELS,
                0,
                &Default::default(),
            );
            let dir = if args.models.len() > 1 {
                dir.join(name)
            } else {
                dir.clone()
            };
            if let Err(e) = dmlft_model::save_classifier(&model, &dir, None) {
                eprintln!("bench_model: cannot save to {}: {e}", dir.display());
                std::process::exit(1);
            }
            println!(
                "saved a synthetic {name} checkpoint ({} parameters) to {}",
                model.num_params(),
                dir.display()
            );
        }
        return;
    }
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!(
        "burn CPU benchmark, {} measured iterations after 1 warm-up, RAYON_NUM_THREADS={threads}",
        args.iters
    );
    let mut rows = Vec::new();
    for model in &args.models {
        for backend in &args.backends {
            rows.push(match backend.as_str() {
                "flex" => run::<Autodiff<Flex>>(&args, model, backend),
                "ndarray" => run::<Autodiff<NdArray>>(&args, model, backend),
                #[cfg(feature = "cuda")]
                "cuda" => run::<Autodiff<burn::backend::Cuda<f32>>>(&args, model, backend),
                #[cfg(feature = "cuda")]
                "cuda-bf16" => {
                    run::<Autodiff<burn::backend::Cuda<burn::tensor::bf16>>>(&args, model, backend)
                }
                #[cfg(feature = "wgpu")]
                "wgpu" => run::<Autodiff<burn::backend::Wgpu<f32>>>(&args, model, backend),
                #[cfg(feature = "wgpu")]
                "wgpu-f16" => {
                    run::<Autodiff<burn::backend::Wgpu<burn::tensor::f16>>>(&args, model, backend)
                }
                other => {
                    eprintln!("unknown backend {other}: valid flex, ndarray (cuda, cuda-bf16 with --features cuda; wgpu, wgpu-f16 with --features wgpu)");
                    std::process::exit(2);
                }
            });
        }
    }
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&rows).unwrap())
            .expect("write --json file");
    }
}
