//! The grid progress bar: cells done / running / failed and ETA, drawn only on a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct GridProgress {
    bar: ProgressBar,
    running: AtomicUsize,
    failed: AtomicUsize,
}

impl GridProgress {
    pub fn new(total: usize, enabled: bool) -> Self {
        let bar = ProgressBar::new(total as u64);
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
            running: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    fn refresh(&self) {
        self.bar.set_message(format!(
            "({} running, {} failed)",
            self.running.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst)
        ));
    }

    pub fn started(&self) {
        self.running.fetch_add(1, Ordering::SeqCst);
        self.refresh();
    }

    pub fn finished(&self, ok: bool) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        if !ok {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        self.bar.inc(1);
        self.refresh();
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
