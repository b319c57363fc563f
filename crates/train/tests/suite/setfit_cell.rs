//! One real SetFit cell end to end: all-MiniLM-L6-v2, SST2, 8 examples per class, seed 4 (the
//! SetFit reference reached 0.707 on the full test split with this sample,
//! scripts/reference/results/setfit-minilm.jsonl), evaluated on a seeded subset of 300 test
//! sentences (chance 0.5 +- 0.03). Skips without the data or the model unless
//! DMLFT_REQUIRE_DATA / DMLFT_REQUIRE_MODEL say they are required.

use std::sync::atomic::AtomicBool;

use dmlft_losses::losses::SupConLoss;
use dmlft_train::progress::{CellEvent, Phase};
use dmlft_train::setfit::SetFitSpec;
use dmlft_train::{run_cell, CellOptions, CellSpec, DeviceChoice};

use crate::sst2_cell::sst2_cell;

fn setfit_cell() -> Option<CellSpec> {
    let mut cell = sst2_cell(8, 0, 4, 128)?;
    cell.loss_name = "setfit".into();
    cell.eval_limit = Some(300);
    cell.setfit = Some(SetFitSpec::default());
    Some(cell)
}

#[test]
fn setfit_on_minilm_learns_sst2_from_8_examples_per_class() {
    let Some(cell) = setfit_cell() else {
        return;
    };
    let cancel = AtomicBool::new(false);
    let events = std::sync::Mutex::new(Vec::new());
    let sink = |e: CellEvent| events.lock().unwrap().push(e);
    let options = CellOptions {
        progress: Some(&sink),
        ..CellOptions::new(DeviceChoice::Cpu, &cancel)
    };
    let r = run_cell(&cell, &options).unwrap_or_else(|e| panic!("SetFit cell failed: {e}"));
    // The event stream: load, the body's steps in order, evaluation.
    let events = events.into_inner().unwrap();
    let steps: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            CellEvent::Step { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    assert_eq!(steps, (1..=9).collect::<Vec<_>>());
    assert_eq!(events.first(), Some(&CellEvent::Phase(Phase::Load)));
    assert!(events.contains(&CellEvent::Phase(Phase::Train)));
    assert_eq!(
        events.last(),
        Some(&CellEvent::Evaluated {
            done: 300,
            total: 300
        })
    );
    // SetFit's pairs of a 2 x 8 sample: pools of 72 positives and 64 negatives, oversampled to
    // 72 + 72, 9 steps of 16 pairs.
    let s = r.setfit.as_ref().expect("a SetFit cell records its stages");
    assert_eq!((s.pairs, s.positive_pairs, s.negative_pairs), (144, 72, 72));
    assert_eq!((s.pool_positive, s.pool_negative), (72, 64));
    assert_eq!(r.steps, 9);
    assert_eq!((r.train_size, r.eval_size), (16, 300));
    assert!(s.body_s > 0.0 && s.head_s > 0.0 && s.embed_s > 0.0);
    let curve = r.curve.as_ref().unwrap();
    assert_eq!(curve.points.len(), 9);
    // Linear warmup over ceil(0.1 * 9) = 1 step: the first step at lr 0, the second at 2e-5.
    assert_eq!(curve.points[0].lr["encoder"], 0.0);
    assert!((curve.points[1].lr["encoder"] - 2e-5).abs() < 1e-12);
    assert!(r.final_loss.is_finite() && r.final_loss_terms.contains_key("cosine"));
    assert_eq!(
        r.metrics.keys().collect::<Vec<_>>(),
        [&dmlft_train::InferenceMode::Head]
    );
    let acc = r.metrics[&dmlft_train::InferenceMode::Head].accuracy;
    assert!(
        acc > 0.6,
        "accuracy {acc} (SetFit's reference: 0.707 on this sample)"
    );
}

#[test]
fn a_dml_body_loss_trains_the_body_on_label_batches() {
    let Some(mut cell) = setfit_cell() else {
        return;
    };
    // SupCon on batches of the 16 training examples, for the steps of 1 x 16 pairs of each kind.
    cell.setfit = Some(SetFitSpec {
        num_iterations: Some(1),
        body_loss: dmlft_train::setfit::BodyLoss::Dml(dmlft_losses::spec::DmlLossSpec::SupCon(
            SupConLoss { temperature: 0.1 },
        )),
        ..SetFitSpec::default()
    });
    cell.eval_limit = Some(50);
    let cancel = AtomicBool::new(false);
    let options = CellOptions::new(DeviceChoice::Cpu, &cancel);
    let r = run_cell(&cell, &options).unwrap_or_else(|e| panic!("SetFit cell failed: {e}"));
    assert_eq!(r.setfit.as_ref().unwrap().pairs, 32);
    assert_eq!(r.steps, 2);
    let loss = r.final_loss_terms["sup-con"];
    assert!(loss.is_finite() && loss > 0.0, "{loss}");
    assert_eq!(r.eval_size, 50);
}
