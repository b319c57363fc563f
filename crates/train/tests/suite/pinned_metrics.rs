//! Results must not move when the training machinery is restructured: three small real cells
//! (all-MiniLM-L6-v2 on SST2, 4 examples per class, 2 dev examples per class) — CE, CE +
//! SoftTriple with gradient accumulation across an epoch boundary and the proxy / mix modes, and
//! SetFit — with their metrics, losses and curves pinned to the values main gave before the one
//! training loop replaced the two (commit a506f50, on an AMD EPYC, AVX2). Accuracies and step
//! counts are exact; losses and gradient norms are compared to 1e-4 relative, which a changed
//! batch order, schedule or clipping would break by orders of magnitude while other SIMD paths
//! (AVX-512) stay inside it. Skips without the data or the model unless DMLFT_REQUIRE_DATA /
//! DMLFT_REQUIRE_MODEL say they are required.

use std::sync::atomic::AtomicBool;

use crate::sst2_cell::sst2_cell;
use dmlft_train::{
    run_cell, CellOptions, CellResult, CellSpec, DeviceChoice, InferenceMode, TrainSpec,
};

/// A cell whose objective, training spec and SetFit spec come from JSON: the same text that a
/// grid file resolves to, independent of how the Rust types spell them.
fn cell(
    objective: &str,
    train: &str,
    setfit: Option<&str>,
    modes: Vec<InferenceMode>,
) -> Option<CellSpec> {
    let mut cell = sst2_cell(4, 2, 3, 48)?;
    cell.loss_name = "pinned".into();
    cell.objective = serde_json::from_str(objective).expect("objective JSON");
    cell.train = serde_json::from_str::<TrainSpec>(train).expect("train JSON");
    cell.inference = modes;
    cell.eval_limit = Some(40);
    cell.setfit = setfit.map(|s| serde_json::from_str(s).expect("setfit JSON"));
    Some(cell)
}

const TRAIN: &str = r#"{"optimizer": {"lr": 5e-5, "head_lr": 5e-3},
    "schedule": {"kind": "cosine", "warmup_steps": 1}, "steps": 4, "batch_size": 3,
    "grad_accum": 2, "max_grad_norm": 1.0, "eval_batch_size": 16}"#;

fn run(cell: &CellSpec) -> CellResult {
    let cancel = AtomicBool::new(false);
    run_cell(cell, &CellOptions::new(DeviceChoice::Cpu, &cancel))
        .unwrap_or_else(|e| panic!("cell failed: {e}"))
}

/// What a cell's record must keep: per mode (eval and dev) accuracy, the final loss and terms,
/// and each curve point's loss and gradient norm.
struct Pinned {
    steps: usize,
    metrics: &'static [(&'static str, f64)],
    dev: &'static [(&'static str, f64)],
    final_loss: f64,
    terms: &'static [(&'static str, f64)],
    curve: &'static [(f64, f64)],
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-4 * want.abs().max(1e-3)
}

fn check(name: &str, r: &CellResult, want: &Pinned) {
    let show = |m: &std::collections::BTreeMap<InferenceMode, dmlft_eval::Metrics>| {
        m.iter()
            .map(|(k, v)| format!("(\"{k}\", {:?})", v.accuracy))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let curve = r.curve.as_ref().map(|c| {
        c.points
            .iter()
            .map(|p| format!("({:?}, {:?})", p.loss, p.grad_norm))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let terms: Vec<String> = r
        .final_loss_terms
        .iter()
        .map(|(k, v)| format!("(\"{k}\", {v:?})"))
        .collect();
    // What this run gave, in the form of the pins (to re-pin deliberately after a change that
    // is meant to move results).
    let got = format!(
        "{name}: steps: {}, metrics: &[{}], dev: &[{}], final_loss: {:?}, terms: &[{}], curve: &[{}]",
        r.steps,
        show(&r.metrics),
        show(&r.dev_metrics),
        r.final_loss,
        terms.join(", "),
        curve.unwrap_or_default()
    );
    eprintln!("{got}");
    assert_eq!(r.steps, want.steps, "{got}");
    for (map, pins) in [(&r.metrics, want.metrics), (&r.dev_metrics, want.dev)] {
        assert_eq!(map.len(), pins.len(), "{got}");
        for (mode, acc) in pins {
            let key: InferenceMode = mode.parse().expect("mode key");
            assert_eq!(map[&key].accuracy, *acc, "{name} {mode}: {got}");
        }
    }
    assert!(close(r.final_loss, want.final_loss), "{got}");
    assert_eq!(r.final_loss_terms.len(), want.terms.len(), "{got}");
    for (term, v) in want.terms {
        assert!(close(r.final_loss_terms[*term], *v), "{term}: {got}");
    }
    let points = &r.curve.as_ref().expect("a curve").points;
    assert_eq!(points.len(), want.curve.len(), "{got}");
    for (p, (loss, norm)) in points.iter().zip(want.curve) {
        assert!(close(p.loss, *loss) && close(p.grad_norm, *norm), "{got}");
    }
}

#[test]
fn ce_cell_metrics_are_unchanged() {
    let Some(c) = cell("{}", TRAIN, None, vec![InferenceMode::Head]) else {
        return;
    };
    check("ce", &run(&c), &CE);
}

#[test]
fn ce_plus_softtriple_cell_metrics_are_unchanged() {
    let objective = r#"{"ce_weight": 0.5, "dml": [{"weight": 0.5, "embeddings": "mean-tokens",
        "loss": {"kind": "soft-triple", "centers_per_class": 2}}]}"#;
    let modes = vec![
        InferenceMode::Head,
        InferenceMode::Proxy,
        InferenceMode::Mix { beta: 0.5 },
    ];
    let Some(c) = cell(objective, TRAIN, None, modes) else {
        return;
    };
    check("ce+softtriple", &run(&c), &SOFT_TRIPLE);
}

#[test]
fn setfit_cell_metrics_are_unchanged() {
    let setfit = r#"{"num_iterations": 2, "batch_size": 8}"#;
    let Some(c) = cell("{}", "{}", Some(setfit), vec![InferenceMode::Head]) else {
        return;
    };
    check("setfit", &run(&c), &SETFIT);
}

const CE: Pinned = Pinned {
    steps: 4,
    metrics: &[("head", 0.575)],
    dev: &[("head", 1.0)],
    final_loss: 0.1842128336429596,
    terms: &[("ce", 0.1842128336429596)],
    curve: &[
        (0.691338300704956, 0.5951302447137004),
        (0.3464975953102112, 0.6212921785278273),
        (0.49275366961956024, 2.14597192952479),
        (0.1842128336429596, 2.940298330260904),
    ],
};

const SOFT_TRIPLE: Pinned = Pinned {
    steps: 4,
    metrics: &[("head", 0.575), ("mix-0.5", 0.6), ("proxy", 0.425)],
    dev: &[("head", 1.0), ("mix-0.5", 1.0), ("proxy", 0.75)],
    final_loss: 0.17211954295635223,
    terms: &[
        ("ce", 0.19235241413116455),
        ("soft-triple", 0.15188667178153992),
    ],
    curve: &[
        (0.7706664800643921, 7.531055242149186),
        (0.6182446479797363, 8.513823992461283),
        (0.5572132170200348, 6.264501913353695),
        (0.17211954295635223, 4.899149427743192),
    ],
};

const SETFIT: Pinned = Pinned {
    steps: 4,
    metrics: &[("head", 0.575)],
    dev: &[("head", 0.75)],
    final_loss: 0.2198769897222519,
    terms: &[("cosine", 0.2198769897222519)],
    curve: &[
        (0.13515762984752655, 1.5013465400547439),
        (0.32688549160957336, 2.5872428803150127),
        (0.1851527839899063, 1.690263392898227),
        (0.2198769897222519, 1.8021386713193501),
    ],
};
