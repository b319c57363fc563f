//! Times forward + backward of CE + SoftTriple and CE + ProxyAnchor on the papers' all-token
//! shape (64 sentences x 64 tokens = 4096 rows of dimension 1024, 6 classes), on burn's CPU
//! backends. Compare with `scripts/bench/losses_torch.py` (PML) run alone on the same machine.
//!
//! cargo run -p dmlft-losses --example bench_losses [-- ITERATIONS]

use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_losses::losses::{ProxyAnchorConfig, SoftTripleConfig};
use dmlft_losses::spec::{DmlLossSpec, DmlTermSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_losses::Objective;

const SENTENCES: usize = 64;
const TOKENS: usize = 64;
const DIM: usize = 1024;
const CLASSES: usize = 6;

fn noise(count: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..count)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn spec(loss: DmlLossSpec) -> ObjectiveSpec {
    ObjectiveSpec {
        ce_weight: 0.4,
        label_smoothing: 0.0,
        dml: vec![DmlTermSpec {
            weight: 0.6,
            embeddings: EmbeddingSelection::AllTokens,
            loss,
        }],
    }
}

fn bench<B: AutodiffBackend>(backend: &str, name: &str, loss: DmlLossSpec, iterations: usize) {
    let device: B::Device = Default::default();
    let objective = Objective::<B>::new(&spec(loss), CLASSES, DIM, 1, &device).expect("valid spec");
    let states = Tensor::<B, 3>::from_data(
        TensorData::new(noise(SENTENCES * TOKENS * DIM, 2), [SENTENCES, TOKENS, DIM]),
        &device,
    );
    let logits = Tensor::<B, 2>::from_data(
        TensorData::new(noise(SENTENCES * CLASSES, 3), [SENTENCES, CLASSES]),
        &device,
    );
    let mask = Tensor::<B, 2, Int>::ones([SENTENCES, TOKENS], &device);
    let labels: Vec<i64> = (0..SENTENCES as i64).map(|i| i % CLASSES as i64).collect();
    let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [SENTENCES]), &device);
    let mut times = Vec::new();
    for i in 0..iterations + 1 {
        let states = states.clone().require_grad();
        let logits = logits.clone().require_grad();
        let start = Instant::now();
        let out = objective
            .forward(logits.clone(), states.clone(), mask.clone(), labels.clone())
            .expect("forward");
        let grads = out.total.backward();
        let g = states.grad(&grads).expect("gradient");
        let _ = g.into_data(); // wait for the result
        let elapsed = start.elapsed().as_secs_f64() * 1e3;
        if i > 0 {
            times.push(elapsed); // the first run warms up allocations
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{backend:8} {name:14} median {:8.1} ms  min {:8.1} ms  ({iterations} runs)",
        times[times.len() / 2],
        times[0]
    );
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let soft_triple = DmlLossSpec::SoftTriple(SoftTripleConfig {
        centers_per_class: 5,
        la: 8.0,
        gamma: 0.1,
        margin: 0.1,
        tau: 0.0,
    });
    let proxy_anchor = DmlLossSpec::ProxyAnchor(ProxyAnchorConfig {
        alpha: 32.0,
        margin: 0.1,
    });
    println!("forward + backward, CE on [64, 6] logits + DML on [4096, 1024] token rows, {CLASSES} classes");
    bench::<Autodiff<Flex>>("flex", "ce+soft-triple", soft_triple.clone(), iterations);
    bench::<Autodiff<Flex>>("flex", "ce+proxy-anchor", proxy_anchor.clone(), iterations);
    bench::<Autodiff<NdArray<f32>>>("ndarray", "ce+soft-triple", soft_triple, iterations);
    bench::<Autodiff<NdArray<f32>>>("ndarray", "ce+proxy-anchor", proxy_anchor, iterations);
}
