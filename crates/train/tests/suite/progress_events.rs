//! The cell's event stream (`CellOptions::progress`): a real `run_cell` reports load, every
//! optimizer step in order with a finite loss, evaluation up to the eval set's size, and the
//! save, in that order; the runner draws its progress view from exactly these events.

use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use dmlft_train::progress::{CellEvent, Phase};
use dmlft_train::{run_cell, CellOptions, DeviceChoice};

#[test]
fn a_real_cell_reports_its_phases_and_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let spec = crate::max_length::cell(dir.path(), 32);
    let events = Mutex::new(Vec::new());
    let sink = |e: CellEvent| events.lock().unwrap().push(e);
    let cancel = AtomicBool::new(false);
    let options = CellOptions {
        save_dir: Some(dir.path().join("saved")),
        progress: Some(&sink),
        ..CellOptions::new(DeviceChoice::Cpu, &cancel)
    };
    let result = run_cell(&spec, &options).unwrap();
    let events = events.into_inner().unwrap();

    let phases: Vec<Phase> = events
        .iter()
        .filter_map(|e| match e {
            CellEvent::Phase(p) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [Phase::Load, Phase::Train, Phase::Eval, Phase::Save]
    );

    let steps: Vec<(usize, usize, f64)> = events
        .iter()
        .filter_map(|e| match e {
            CellEvent::Step {
                step, total, loss, ..
            } => Some((*step, *total, *loss)),
            _ => None,
        })
        .collect();
    assert_eq!(steps.len(), result.steps);
    for (i, (step, total, loss)) in steps.iter().enumerate() {
        assert_eq!((*step, *total), (i + 1, result.steps));
        assert!(loss.is_finite());
    }
    assert_eq!(steps.last().unwrap().2, result.final_loss);

    let evaluated: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            CellEvent::Evaluated { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert!(evaluated.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(
        evaluated.last(),
        Some(&(result.eval_size, result.eval_size))
    );

    // Phases come in order around their events: steps after Train, evaluations after Eval.
    let position = |p: Phase| {
        events
            .iter()
            .position(|e| *e == CellEvent::Phase(p))
            .unwrap()
    };
    let first_step = events
        .iter()
        .position(|e| matches!(e, CellEvent::Step { .. }))
        .unwrap();
    let first_eval = events
        .iter()
        .position(|e| matches!(e, CellEvent::Evaluated { .. }))
        .unwrap();
    assert!(position(Phase::Train) < first_step && first_step < position(Phase::Eval));
    assert!(position(Phase::Eval) < first_eval && first_eval < position(Phase::Save));
}
