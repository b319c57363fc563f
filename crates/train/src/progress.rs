//! What a running cell reports: one event stream from the training loop and the evaluation to
//! whoever runs the cell. The runner passes a sink and draws its own view (one grid bar for all
//! cells); without a sink (library calls, examples) a terminal bar is drawn here, and nothing
//! at all off a terminal (logs and CI stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt;
use std::io::IsTerminal;

/// The stages of a cell, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Data, sample, tokenizer and model.
    Load,
    Train,
    Eval,
    /// Writing the fine-tuned model folder.
    Save,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Load => "load",
            Self::Train => "train",
            Self::Eval => "eval",
            Self::Save => "save",
        })
    }
}

/// One event of a running cell.
#[derive(Debug, Clone, PartialEq)]
pub enum CellEvent {
    /// A stage begins.
    Phase(Phase),
    /// Optimizer step `step` (1-based) of `total` is done, with the step's loss and the
    /// encoder's learning rate.
    Step {
        step: usize,
        total: usize,
        loss: f64,
        lr: f64,
    },
    /// `done` of `total` evaluation examples are predicted.
    Evaluated { done: usize, total: usize },
}

/// Where a cell's events go.
pub type EventSink<'a> = &'a (dyn Fn(CellEvent) + Send + Sync);

/// Reports one stage's progress: to the sink when there is one, else to a terminal bar.
pub(crate) struct Progress<'a> {
    sink: Option<EventSink<'a>>,
    bar: Option<ProgressBar>,
}

impl<'a> Progress<'a> {
    /// Announces `phase` and sets up its bar (`len` steps or examples).
    pub(crate) fn new(phase: Phase, len: u64, sink: Option<EventSink<'a>>) -> Self {
        if let Some(sink) = sink {
            sink(CellEvent::Phase(phase));
            return Self {
                sink: Some(sink),
                bar: None,
            };
        }
        Self {
            sink: None,
            bar: terminal_bar(len, phase),
        }
    }

    pub(crate) fn step(&self, step: usize, total: usize, loss: f64, lr: f64) {
        if let Some(sink) = self.sink {
            sink(CellEvent::Step {
                step,
                total,
                loss,
                lr,
            });
        }
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {loss:.4} lr {lr:.2e}"));
            bar.inc(1);
        }
    }

    pub(crate) fn evaluated(&self, done: usize, total: usize) {
        if let Some(sink) = self.sink {
            sink(CellEvent::Evaluated { done, total });
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn terminal_bar(len: u64, phase: Phase) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || std::env::var_os("DMLFT_NO_PROGRESS").is_some() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(phase.to_string());
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_sink_gets_the_phase_then_every_step_in_order() {
        let seen = Mutex::new(Vec::new());
        let sink = |e: CellEvent| seen.lock().unwrap().push(e);
        let p = Progress::new(Phase::Train, 2, Some(&sink));
        p.step(1, 2, 0.5, 1e-3);
        p.step(2, 2, 0.25, 5e-4);
        p.finish();
        let e = Progress::new(Phase::Eval, 10, Some(&sink));
        e.evaluated(10, 10);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                CellEvent::Phase(Phase::Train),
                CellEvent::Step {
                    step: 1,
                    total: 2,
                    loss: 0.5,
                    lr: 1e-3
                },
                CellEvent::Step {
                    step: 2,
                    total: 2,
                    loss: 0.25,
                    lr: 5e-4
                },
                CellEvent::Phase(Phase::Eval),
                CellEvent::Evaluated {
                    done: 10,
                    total: 10
                },
            ]
        );
    }
}
