//! The loss parity harness, generic over the backend: `tests/parity.rs` runs it on the CPU
//! (burn-flex) and dmlft-train's wgpu tests on burn-wgpu. Parity with pytorch-metric-learning /
//! sentence-transformers / torch through the fixtures that `scripts/make_loss_fixtures.py`
//! writes: same embeddings, labels and initial parameters; the loss value, the gradients
//! (embeddings and parameters) and the mined tuples must agree.
//!
//! Tolerance: |rust - ref| <= rtol * |ref| + floor, with floor = atol_rel * max|ref tensor|
//! (+1e-7 absolute) — the reference runs in float64, burn in float32.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_losses::losses::*;
use dmlft_losses::spec::DmlLossSpec;
use dmlft_losses::{DmlLoss, IndexTuple, Miner};
use serde::Deserialize;

/// How far a value may be from the float64 reference (see the module comment).
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol_rel: f64,
}

/// burn-flex in float32: all cases pass at this.
pub const CPU: Tolerance = Tolerance {
    rtol: 1e-5,
    atol_rel: 1e-6,
};

#[derive(Deserialize)]
struct Array {
    shape: Vec<usize>,
    data: Vec<f64>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    loss: serde_json::Value,
    variant: Option<String>,
    num_classes: usize,
    embeddings: Array,
    labels: Vec<i64>,
    params: BTreeMap<String, Array>,
    mined: Option<Vec<Vec<i64>>>,
    loss_value: f64,
    grad_embeddings: Vec<f64>,
    grad_params: BTreeMap<String, Vec<f64>>,
}

/// This crate's fixtures, from its own tests and from dmlft-train's (which include this file);
/// `DMLFT_REPO_ROOT` names the workspace when a test binary runs on another machine
/// (scripts/gpu-check.sh).
fn fixtures_dir() -> PathBuf {
    let root = std::env::var_os("DMLFT_REPO_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."));
    root.join("crates/losses/tests/fixtures")
}

fn tensor2<B: Backend>(a: &Array, device: &B::Device) -> Tensor<B, 2> {
    let data: Vec<f32> = a.data.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, [a.shape[0], a.shape[1]]), device)
}

fn host<B: Backend>(t: Tensor<B, 2>) -> Vec<f64> {
    t.into_data().iter::<f32>().map(|x| x as f64).collect()
}

/// Largest violation of the tolerance (<= 1 passes) and the largest absolute difference.
fn compare(got: &[f64], want: &[f64], rtol: f64, atol_rel: f64) -> (f64, f64) {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let floor = atol_rel * scale + 1e-7;
    let mut worst = 0.0f64;
    let mut max_abs = 0.0f64;
    for (g, w) in got.iter().zip(want) {
        let diff = (g - w).abs();
        if !diff.is_finite() {
            return (f64::INFINITY, f64::INFINITY);
        }
        max_abs = max_abs.max(diff);
        worst = worst.max(diff / (rtol * w.abs() + floor));
    }
    (worst, max_abs)
}

/// The loss of a case, with the parameters set to the fixture's initial values.
enum Built<B: AutodiffBackend> {
    Ce(CrossEntropyLoss),
    Dml(Box<DmlLoss<B>>, Vec<(String, Tensor<B, 2>)>),
}

fn build<B: AutodiffBackend>(case: &Case, device: &B::Device) -> Built<B> {
    let kind = case.loss["kind"].as_str().unwrap();
    if kind == "cross-entropy" {
        return Built::Ce(
            CrossEntropyLoss::new(case.loss["label_smoothing"].as_f64().unwrap()).unwrap(),
        );
    }
    let spec: DmlLossSpec =
        serde_json::from_value(case.loss.clone()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let param = |name: &str| tensor2::<B>(&case.params[name], device);
    let mut loss = DmlLoss::new(&spec, case.num_classes, case.embeddings.shape[1], 0, device)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    // Grids train with PML 2's ArcFace; the PML 1.6.2 fixtures check the papers' version.
    if let DmlLoss::ArcFace(l) = &mut loss {
        l.monotonic = case.variant.as_deref() != Some("pml-1.6.2");
    }
    // The fixture's initial parameter under PML's name for it.
    let params = match loss.parameter() {
        Some((name, _)) => {
            let pml = match name {
                "centers" => "fc",
                "weights" => "W",
                other => other,
            };
            loss = loss
                .with_parameter(param(pml).require_grad())
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            vec![(pml.to_string(), loss.parameter().unwrap().1)]
        }
        None => vec![],
    };
    Built::Dml(Box::new(loss), params)
}

fn sorted_tuples(lists: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let mut rows: Vec<Vec<i64>> = (0..lists[0].len())
        .map(|i| lists.iter().map(|l| l[i]).collect())
        .collect();
    rows.sort();
    rows
}

/// Mined tuples must be the same multiset as PML's.
fn check_mined<B: AutodiffBackend>(
    case: &Case,
    loss: &DmlLoss<B>,
    emb: &Tensor<B, 2>,
    labels: &Tensor<B, 1, Int>,
) -> Result<(), String> {
    let (Some(want), DmlLoss::Tuple(term)) = (&case.mined, loss) else {
        return Ok(());
    };
    let miner: &Miner = term
        .miner
        .as_ref()
        .ok_or("fixture has mined tuples but the loss has no miner")?;
    let got = match miner.mine(emb.clone(), labels).map_err(|e| e.to_string())? {
        IndexTuple::Pairs(p) => vec![p.a1, p.p, p.a2, p.n],
        IndexTuple::Triplets(t) => vec![t.a, t.p, t.n],
    };
    let same = if want.len() == 4 {
        got.len() == 4
            && sorted_tuples(&got[..2]) == sorted_tuples(&want[..2])
            && sorted_tuples(&got[2..]) == sorted_tuples(&want[2..])
    } else {
        sorted_tuples(&got) == sorted_tuples(want)
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "mined tuples differ: got {} lists of {:?}, want {:?}",
            got.len(),
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            want.iter().map(Vec::len).collect::<Vec<_>>()
        ))
    }
}

fn run_case<B: AutodiffBackend>(
    case: &Case,
    device: &B::Device,
    tol: Tolerance,
) -> Result<String, String> {
    let emb = tensor2::<B>(&case.embeddings, device).require_grad();
    let labels = Tensor::<B, 1, Int>::from_data(
        TensorData::new(case.labels.clone(), [case.labels.len()]),
        device,
    );
    let (value, params) = match build::<B>(case, device) {
        Built::Ce(ce) => (
            ce.forward(emb.clone(), labels.clone())
                .map_err(|e| e.to_string())?,
            vec![],
        ),
        Built::Dml(loss, params) => {
            check_mined(case, &loss, &emb, &labels)?;
            (
                loss.forward(emb.clone(), labels.clone())
                    .map_err(|e| e.to_string())?,
                params,
            )
        }
    };
    let got_value = value.clone().into_data().iter::<f32>().next().unwrap() as f64;
    let grads = value.backward();
    let Tolerance { rtol, atol_rel } = tol;
    let mut report = Vec::new();
    let (v, abs) = compare(&[got_value], &[case.loss_value], rtol, 1e-6);
    report.push(format!(
        "value {got_value:.7e} vs {:.7e} (x{v:.2})",
        case.loss_value
    ));
    let mut worst = v;
    let mut check = |label: &str, got: Option<Tensor<B::InnerBackend, 2>>, want: &[f64]| {
        let got = got.map(host).unwrap_or_else(|| vec![0.0; want.len()]);
        let (w, a) = compare(&got, want, rtol, atol_rel);
        worst = worst.max(w);
        report.push(format!("{label} max|diff| {a:.1e} (x{w:.2})"));
    };
    check("grad emb", emb.grad(&grads), &case.grad_embeddings);
    for (name, tensor) in &params {
        check(
            &format!("grad {name}"),
            tensor.grad(&grads),
            &case.grad_params[name],
        );
    }
    let _ = abs;
    let line = report.join(", ");
    if worst <= 1.0 {
        Ok(line)
    } else {
        Err(line)
    }
}

/// Every fixture case on backend `B`; panics listing the cases that differ.
pub fn check_all_cases<B: AutodiffBackend>(device: &B::Device, tol: Tolerance) {
    check_cases::<B>(device, &|_| tol, Coverage::All)
}

/// Which fixture cases a backend runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    All,
    /// One case per loss (its `basic` case, else its first): every loss, a fraction of the
    /// kernels, for backends that compile each new kernel slowly (wgpu on lavapipe).
    OnePerLoss,
}

/// The fixture files of `coverage`, sorted.
fn select(paths: Vec<PathBuf>, coverage: Coverage) -> Vec<PathBuf> {
    if coverage == Coverage::All {
        return paths;
    }
    let loss = |p: &PathBuf| {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        stem.split("__").next().unwrap_or_default().to_string()
    };
    let mut chosen: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for path in paths {
        let is_basic = path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .ends_with("__basic");
        let entry = chosen.entry(loss(&path));
        match entry {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(path);
            }
            std::collections::btree_map::Entry::Occupied(mut o) if is_basic => {
                o.insert(path);
            }
            _ => {}
        }
    }
    chosen.into_values().collect()
}

/// The fixture cases of `coverage` on backend `B`, each within `tol(case name)`; panics listing
/// the cases that differ.
pub fn check_cases<B: AutodiffBackend>(
    device: &B::Device,
    tol: &dyn Fn(&str) -> Tolerance,
    coverage: Coverage,
) {
    let dir = fixtures_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "fixtures missing at {}: {e} (run scripts/make_loss_fixtures.py)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() > 100,
        "expected the full fixture set, found {}",
        paths.len()
    );
    let paths = select(paths, coverage);
    let filter = std::env::var("PARITY_FILTER").ok();
    let verbose = std::env::var("PARITY_VERBOSE").is_ok();
    let mut failures = Vec::new();
    for path in &paths {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        if filter
            .as_ref()
            .is_some_and(|f| !case.name.contains(f.as_str()))
        {
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case::<B>(&case, device, tol(&case.name))
        }))
        .unwrap_or_else(|p| {
            Err(format!(
                "panicked: {:?}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or(p.downcast_ref::<&str>().map(|s| s.to_string()))
            ))
        });
        match outcome {
            Ok(line) if verbose => println!("ok   {}: {line}", case.name),
            Ok(_) => {}
            Err(line) => failures.push(format!("FAIL {}: {line}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

/// `regenerable_uniform` of scripts/make_loss_fixtures.py: the same integer hash, the same f32 ops.
fn regenerable_uniform(count: usize, stream: u64) -> Vec<f32> {
    (0..count as u64)
        .map(|i| {
            let i = i.wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut h = i
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            h ^= h >> 29;
            h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let u = (h >> 40) as f32 / (1u32 << 24) as f32;
            u * 2.0 - 1.0
        })
        .collect()
}

#[derive(Deserialize)]
struct Samples {
    index: Vec<usize>,
    value: Vec<f64>,
}

#[derive(Deserialize)]
struct Generated {
    sentences: usize,
    tokens: usize,
    dim: usize,
    classes: usize,
    param_shape: Vec<usize>,
    param_scale: f64,
}

#[derive(Deserialize)]
struct PapersCase {
    name: String,
    loss: DmlLossSpec,
    generated: Generated,
    loss_value: f64,
    grad_embeddings_abs_sum: f64,
    grad_param_abs_sum: f64,
    grad_embeddings_samples: Samples,
    grad_param_samples: Samples,
}

/// The papers' setting: 64 sentences x 64 tokens = 4096 rows of dimension 1024, 6 classes; inputs
/// regenerated from a hash, the reference holds the loss, gradient sums and sampled entries.
pub fn check_papers_shape<B: AutodiffBackend>(device: &B::Device, tol: Tolerance) {
    let Tolerance { rtol, atol_rel } = tol;
    let dir = fixtures_dir().join("papers-shape");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case: PapersCase =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let g = &case.generated;
        let n = g.sentences * g.tokens;
        let emb = Tensor::<B, 2>::from_data(
            TensorData::new(regenerable_uniform(n * g.dim, 1), [n, g.dim]),
            device,
        )
        .require_grad();
        let labels: Vec<i64> = (0..n)
            .map(|r| ((r / g.tokens) % g.classes) as i64)
            .collect();
        let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [n]), device);
        let scale = g.param_scale as f32;
        let values: Vec<f32> = regenerable_uniform(g.param_shape[0] * g.param_shape[1], 2)
            .into_iter()
            .map(|u| u * scale)
            .collect();
        let param = Tensor::<B, 2>::from_data(
            TensorData::new(values, [g.param_shape[0], g.param_shape[1]]),
            device,
        );
        let loss = match case.loss {
            DmlLossSpec::SoftTriple(c) => DmlLoss::SoftTriple(c.with_centers(param, g.classes)),
            DmlLossSpec::ProxyAnchor(c) => DmlLoss::ProxyAnchor(c.with_proxies(param)),
            ref other => panic!("{}: no papers-shape support for {other:?}", case.name),
        };
        let param = loss.parameter().expect("a proxy loss").1;
        let value = loss.forward(emb.clone(), labels).unwrap();
        let got_value = value.clone().into_data().iter::<f32>().next().unwrap() as f64;
        let grads = value.backward();
        let ge = host(emb.grad(&grads).unwrap());
        let gp = host(param.grad(&grads).unwrap());
        let abs_sum = |v: &[f64]| v.iter().map(|x| x.abs()).sum::<f64>();
        let pick = |v: &[f64], s: &Samples| s.index.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let checks = [
            (
                "value",
                compare(&[got_value], &[case.loss_value], rtol, 1e-6).0,
            ),
            (
                "sum|grad emb|",
                compare(&[abs_sum(&ge)], &[case.grad_embeddings_abs_sum], rtol, 1e-6).0,
            ),
            (
                "sum|grad param|",
                compare(&[abs_sum(&gp)], &[case.grad_param_abs_sum], rtol, 1e-6).0,
            ),
            (
                "grad emb samples",
                compare(
                    &pick(&ge, &case.grad_embeddings_samples),
                    &case.grad_embeddings_samples.value,
                    rtol,
                    atol_rel,
                )
                .0,
            ),
            (
                "grad param samples",
                compare(
                    &pick(&gp, &case.grad_param_samples),
                    &case.grad_param_samples.value,
                    rtol,
                    atol_rel,
                )
                .0,
            ),
        ];
        for (what, ratio) in checks {
            assert!(
                ratio <= 1.0,
                "{}: {what} off by x{ratio:.2} of the tolerance",
                case.name
            );
        }
    }
}
