//! A progress bar for a terminal, nothing otherwise (logs and CI stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(len: u64, what: &str) -> Self {
        if !std::io::stderr().is_terminal() || std::env::var_os("DMLFT_NO_PROGRESS").is_some() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        Self { bar: Some(bar) }
    }

    pub fn step(&self, loss: f64, lr: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {loss:.4} lr {lr:.2e}"));
            bar.inc(1);
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
