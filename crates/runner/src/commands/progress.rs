//! `dmlft run`'s progress bar over the run's events ([`GridEvent`]): cells done / running /
//! failed, ETA, and what the latest reporting cell is doing (phase, step, loss: dmlft-train's
//! event stream); drawn only on a terminal.

use crate::exec::GridEvent;
use dmlft_train::progress::CellEvent;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Cheap to clone: the clones share one bar (the run's callback holds one).
#[derive(Clone)]
pub struct GridProgress {
    bar: ProgressBar,
    running: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    /// The latest cell event, as shown: "<cell id>: train 12/30 loss 0.5312".
    latest: Arc<Mutex<String>>,
}

impl GridProgress {
    /// A bar on stderr when it is a terminal; `enabled` false: none anywhere.
    pub fn new(enabled: bool) -> Self {
        let bar = ProgressBar::new(0);
        if enabled && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} cells {msg} [{elapsed_precise}, eta {eta}]",
            ) {
                bar.set_style(style);
            }
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self {
            bar,
            running: Arc::new(AtomicUsize::new(0)),
            failed: Arc::new(AtomicUsize::new(0)),
            latest: Arc::new(Mutex::new(String::new())),
        }
    }

    /// Shows one event of the run.
    pub fn on(&self, event: &GridEvent) {
        match event {
            GridEvent::Queued { cells } => self.bar.set_length(*cells as u64),
            GridEvent::Started { .. } => self.started(),
            GridEvent::Cell { cell_id, event } => self.event(cell_id, event),
            GridEvent::Finished { ok, .. } => self.finished(*ok),
        }
    }

    /// The bar's message: counts, then the latest cell's activity.
    fn message(&self) -> String {
        let latest = self.latest.lock().map(|l| l.clone()).unwrap_or_default();
        let counts = format!(
            "({} running, {} failed)",
            self.running.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst)
        );
        if latest.is_empty() {
            counts
        } else {
            format!("{counts} {latest}")
        }
    }

    fn refresh(&self) {
        self.bar.set_message(self.message());
    }

    fn started(&self) {
        self.running.fetch_add(1, Ordering::SeqCst);
        self.refresh();
    }

    /// A running cell's event (from dmlft-train's loop, or the fake executor).
    fn event(&self, cell_id: &str, event: &CellEvent) {
        let what = match event {
            CellEvent::Phase(phase) => phase.to_string(),
            CellEvent::Step {
                step, total, loss, ..
            } => format!("train {step}/{total} loss {loss:.4}"),
            CellEvent::Evaluated { done, total } => format!("eval {done}/{total}"),
        };
        if let Ok(mut latest) = self.latest.lock() {
            *latest = format!("{cell_id}: {what}");
        }
        self.refresh();
    }

    fn finished(&self, ok: bool) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        if !ok {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        self.bar.inc(1);
        self.refresh();
    }

    /// Removes the bar (at the end of the run).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmlft_train::progress::Phase;

    fn cell(view: &GridProgress, event: CellEvent) {
        view.on(&GridEvent::Cell {
            cell_id: "sst2-ce-s1".into(),
            event,
        });
    }

    #[test]
    fn the_view_shows_the_latest_cell_event() {
        let view = GridProgress::new(false);
        let callback = view.clone();
        callback.on(&GridEvent::Queued { cells: 3 });
        assert_eq!(view.bar.length(), Some(3));
        callback.on(&GridEvent::Started {
            cell_id: "sst2-ce-s1".into(),
        });
        cell(&callback, CellEvent::Phase(Phase::Load));
        assert_eq!(view.message(), "(1 running, 0 failed) sst2-ce-s1: load");
        cell(
            &callback,
            CellEvent::Step {
                step: 12,
                total: 30,
                loss: 0.53126,
                lr: 1e-4,
            },
        );
        assert_eq!(
            view.message(),
            "(1 running, 0 failed) sst2-ce-s1: train 12/30 loss 0.5313"
        );
        cell(
            &callback,
            CellEvent::Evaluated {
                done: 64,
                total: 400,
            },
        );
        assert!(view.message().ends_with("sst2-ce-s1: eval 64/400"));
        callback.on(&GridEvent::Finished {
            cell_id: "sst2-ce-s1".into(),
            ok: false,
        });
        assert!(view.message().starts_with("(0 running, 1 failed)"));
        assert_eq!(view.bar.position(), 1);
    }
}
