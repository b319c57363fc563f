//! One rule per contract type, asked of its owner: every bad value is one file:line:col error
//! from `dmlft plan`, and the same value in a `CellSpec` is rejected by `run_cell` with the same
//! rule (key and what is valid), before any device, file or model is touched. Regressions: an
//! ArcFace margin of 200 used to pass `plan` and fail every cell at run time, and `lr = 0` was
//! rejected by `plan` but accepted by `run_cell`.

use crate::common::{stderr, Fixture, HEAD};
use dmlft::grid::{parse_grid, LoadOptions};
use dmlft_losses::losses::{ArcFaceConfig, SoftTripleConfig, SupConLoss};
use dmlft_losses::spec::{DmlLossSpec, DmlTermSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_train::setfit::{BodyLoss, SetFitSpec};
use dmlft_train::spec::{CellSpec, InferenceMode};
use dmlft_train::{run_cell, CellOptions, DeviceChoice};
use std::path::Path;
use std::sync::atomic::AtomicBool;

const BASE: &str = "shots = [2]\nseeds = [1]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n";

/// A valid cell, as the grid `BASE` expands it.
fn valid_cell() -> CellSpec {
    let grid = parse_grid(
        &format!("{HEAD}{BASE}"),
        Path::new("g.toml"),
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    grid.cells[0].spec.clone()
}

fn one_term(loss: DmlLossSpec) -> ObjectiveSpec {
    ObjectiveSpec {
        ce_weight: 0.4,
        label_smoothing: 0.0,
        dml: vec![DmlTermSpec {
            weight: 0.6,
            embeddings: EmbeddingSelection::default(),
            loss,
        }],
    }
}

type Mutation = Box<dyn Fn(&mut CellSpec)>;

struct Case {
    /// TOML appended to the valid grid (a `[losses.x]` table is used by `run_cell` as `x`).
    toml: &'static str,
    /// The key `plan` reports and `run_cell` names.
    key: &'static str,
    /// What is valid, as the owner says it.
    valid: &'static str,
    mutate: Mutation,
}

fn case(
    toml: &'static str,
    key: &'static str,
    valid: &'static str,
    mutate: impl Fn(&mut CellSpec) + 'static,
) -> Case {
    Case {
        toml,
        key,
        valid,
        mutate: Box::new(mutate),
    }
}

fn loss_x(c: &mut CellSpec, objective: ObjectiveSpec) {
    c.loss_name = "x".into();
    c.objective = objective;
}

fn setfit_x(c: &mut CellSpec, spec: SetFitSpec) {
    c.loss_name = "x".into();
    c.setfit = Some(spec);
}

fn cases() -> Vec<Case> {
    vec![
        // the two bugs
        case(
            "[losses.x]\nce_weight = 0.4\n[[losses.x.dml]]\nweight = 0.6\nloss = { kind = \"arc-face\", margin = 200.0 }\n",
            "losses.x.dml.0.loss.margin",
            "in [0, 180) degrees",
            |c| loss_x(c, one_term(DmlLossSpec::ArcFace(ArcFaceConfig { margin_degrees: 200.0, scale: 64.0, ..Default::default() }))),
        ),
        case("[train.optimizer]\nlr = 0.0\n", "train.optimizer.lr", "a positive number", |c| c.train.optimizer.lr = 0.0),
        // every other key with a rule
        case("[train.optimizer]\nhead_lr = 0.0\n", "train.optimizer.head_lr", "a positive number", |c| c.train.optimizer.head_lr = Some(0.0)),
        case("[train.optimizer]\nloss_lr = -1.0\n", "train.optimizer.loss_lr", "a positive number", |c| c.train.optimizer.loss_lr = Some(-1.0)),
        case("[train.optimizer]\nbeta1 = 1.0\n", "train.optimizer.beta1", "in [0, 1)", |c| c.train.optimizer.beta1 = 1.0),
        case("[train.optimizer]\nbeta2 = -0.1\n", "train.optimizer.beta2", "in [0, 1)", |c| c.train.optimizer.beta2 = -0.1),
        case("[train.optimizer]\neps = 0.0\n", "train.optimizer.eps", "a positive number", |c| c.train.optimizer.eps = 0.0),
        case("[train.optimizer]\nweight_decay = -0.01\n", "train.optimizer.weight_decay", ">= 0", |c| c.train.optimizer.weight_decay = -0.01),
        case("[train]\nbatch_size = 0\n", "train.batch_size", "at least 1", |c| c.train.batch_size = 0),
        case("[train]\nbatch_size = 100000\n", "train.batch_size", "at most 65536", |c| c.train.batch_size = 100_000),
        case("[train]\ngrad_accum = 0\n", "train.grad_accum", "at least 1", |c| c.train.grad_accum = 0),
        case("[train]\neval_batch_size = 0\n", "train.eval_batch_size", "at least 1", |c| c.train.eval_batch_size = 0),
        case("[train]\nepochs = 0\n", "train.epochs", "at least 1", |c| c.train.epochs = 0),
        case("[train]\nsteps = 0\n", "train.steps", "at least 1", |c| c.train.steps = Some(0)),
        case("[train]\nsteps = 20000000\n", "train.steps", "at most 10000000", |c| c.train.steps = Some(20_000_000)),
        case("[train]\nmax_grad_norm = 0.0\n", "train.max_grad_norm", "a positive number", |c| c.train.max_grad_norm = Some(0.0)),
        case("[train.schedule]\ntotal_steps = 0\n", "train.schedule.total_steps", "at least 1", |c| c.train.schedule.total_steps = Some(0)),
        case("[train.schedule]\nwarmup_steps = 200\ntotal_steps = 100\n", "train.schedule.warmup_steps", "at most total_steps = 100", |c| {
            c.train.schedule.warmup_steps = 200;
            c.train.schedule.total_steps = Some(100);
        }),
        case("[model]\nmax_length = 1\n", "model.max_length", "at least 2", |c| c.model.max_length = 1),
        case("[model]\ndropout = 1.0\n", "model.dropout", "in [0, 1)", |c| c.model.dropout = Some(1.0)),
        case("[protocol]\ndev_shots = 20000000\n", "protocol.dev_shots", "at most 10000000", |c| {
            c.split.protocol = dmlft_data::spec::ProtocolSpec::PerClass { dev_shots: 20_000_000 }
        }),
        case("[losses.x]\nce_weight = 1.5\n", "losses.x.ce_weight", "in [0, 1] (ce_weight is the papers' beta)", |c| {
            loss_x(c, ObjectiveSpec { ce_weight: 1.5, ..ObjectiveSpec::default() })
        }),
        case("[losses.x]\nlabel_smoothing = 1.0\n", "losses.x.label_smoothing", "in [0, 1)", |c| {
            loss_x(c, ObjectiveSpec { label_smoothing: 1.0, ..ObjectiveSpec::default() })
        }),
        case("[losses.x]\nce_weight = 0.0\n", "losses.x.ce_weight", "every weight is 0", |c| {
            loss_x(c, ObjectiveSpec { ce_weight: 0.0, ..ObjectiveSpec::default() })
        }),
        case(
            "[losses.x]\nce_weight = 0.4\n[[losses.x.dml]]\nweight = 0.6\nloss = { kind = \"sup-con\", temperature = 0.0 }\n",
            "losses.x.dml.0.loss.temperature",
            "> 0 and finite",
            |c| loss_x(c, one_term(DmlLossSpec::SupCon(SupConLoss { temperature: 0.0 }))),
        ),
        case(
            "[losses.x]\nce_weight = 0.4\n[[losses.x.dml]]\nweight = 0.6\nloss = { kind = \"soft-triple\", centers_per_class = 0 }\n",
            "losses.x.dml.0.loss.centers_per_class",
            "in [1, 1000]",
            |c| loss_x(c, one_term(DmlLossSpec::SoftTriple(SoftTripleConfig { centers_per_class: 0, la: 20.0, gamma: 0.1, margin: 0.01, tau: 0.0 }))),
        ),
        case("eval_limit = 0\n", "eval_limit", "at least 1", |c| c.eval_limit = Some(0)),
        // SetFit's settings: dmlft-train's SetFitSpec::validate, under the variant's key
        case("[losses.x]\nmethod = \"setfit\"\n[losses.x.setfit]\nlr = 0.0\n", "losses.x.setfit.lr", "a positive number", |c| {
            setfit_x(c, SetFitSpec { lr: 0.0, ..SetFitSpec::default() })
        }),
        case("[losses.x]\nmethod = \"setfit\"\n[losses.x.setfit]\nbatch_size = 0\n", "losses.x.setfit.batch_size", "at least 1", |c| {
            setfit_x(c, SetFitSpec { batch_size: 0, ..SetFitSpec::default() })
        }),
        case("[losses.x]\nmethod = \"setfit\"\n[losses.x.setfit]\nmax_grad_norm = -1.0\n", "losses.x.setfit.max_grad_norm", "a positive number", |c| {
            setfit_x(c, SetFitSpec { max_grad_norm: -1.0, ..SetFitSpec::default() })
        }),
        case(
            "[losses.x]\nmethod = \"setfit\"\n[losses.x.setfit]\nbody_loss = { kind = \"soft-triple\", centers_per_class = 0 }\n",
            "losses.x.setfit.body_loss.centers_per_class",
            "in [1, 1000]",
            |c| setfit_x(c, SetFitSpec {
                body_loss: BodyLoss::Dml(DmlLossSpec::SoftTriple(SoftTripleConfig { centers_per_class: 0, la: 20.0, gamma: 0.1, margin: 0.01, tau: 0.0 })),
                ..SetFitSpec::default()
            }),
        ),
    ]
}

/// The grid with `toml` merged: a top-level key goes above the tables, a table replaces BASE's.
fn grid_with(toml: &str) -> String {
    if !toml.starts_with('[') {
        return format!("{HEAD}{toml}{BASE}");
    }
    let mut base = BASE.to_string();
    for section in ["[model]\n", "[protocol]\n"] {
        if toml.starts_with(section) {
            base = base.replace(section, toml);
            return format!("{HEAD}{base}");
        }
    }
    format!("{HEAD}{base}{toml}")
}

#[test]
fn plan_and_run_cell_reject_the_same_values_with_the_same_rule() {
    let fx = Fixture::new();
    let cancel = AtomicBool::new(false);
    let mut failures = Vec::new();
    let cases = cases();
    for case in &cases {
        let grid = fx.write("g.toml", &grid_with(case.toml));
        let out = fx.run(&["plan", grid.to_str().unwrap()]);
        let err = stderr(&out);
        let plan_ok = out.status.code() == Some(1)
            && err.starts_with("error: ")
            && err.contains("g.toml:")
            && err.lines().count() == 1
            && err.contains(&format!("key `{}`", case.key))
            && err.contains(case.valid);
        if !plan_ok {
            failures.push(format!("plan, {}: {err}", case.key));
        }

        let mut cell = valid_cell();
        (case.mutate)(&mut cell);
        let options = CellOptions {
            device: DeviceChoice::default(),
            cancel: &cancel,
            save_dir: None,
            progress: None,
        };
        let msg = match run_cell(&cell, &options) {
            Ok(_) => "accepted".to_string(),
            Err(e) => e.to_string(),
        };
        if !(msg.contains(&format!("`{}`", case.key)) && msg.contains(case.valid)) {
            failures.push(format!("run_cell, {}: {msg}", case.key));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn a_valid_cell_passes_every_owner() {
    let mut cell = valid_cell();
    assert!(cell.validate().is_ok());
    cell.loss_name = "x".into();
    cell.objective = one_term(DmlLossSpec::ArcFace(ArcFaceConfig {
        margin_degrees: 28.6,
        scale: 64.0,
        ..Default::default()
    }));
    cell.inference = vec![InferenceMode::Head, InferenceMode::Mix { beta: 0.4 }];
    assert!(cell.validate().is_ok(), "{:?}", cell.validate());
}

#[test]
fn arcface_margin_nan_is_rejected_by_plan_and_run_cell() {
    let fx = Fixture::new();
    let grid = fx.write(
        "g.toml",
        &grid_with("[losses.x]\nce_weight = 0.4\n[[losses.x.dml]]\nweight = 0.6\nloss = { kind = \"arc-face\", margin = nan }\n"),
    );
    let out = fx.run(&["plan", grid.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(
        out.status.code() == Some(1) && err.contains("key `losses.x.dml.0.loss.margin`"),
        "{err}"
    );
    let mut cell = valid_cell();
    loss_x(
        &mut cell,
        one_term(DmlLossSpec::ArcFace(ArcFaceConfig {
            margin_degrees: f64::NAN,
            scale: 64.0,
            ..Default::default()
        })),
    );
    let msg = cell.validate().unwrap_err().to_string();
    assert!(
        msg.contains("`losses.x.dml.0.loss.margin`") && msg.contains("[0, 180)"),
        "{msg}"
    );
}
