//! Ctrl-C, SIGTERM and SIGHUP during `dmlft run`. The first signal stops the grid after the
//! current training step: finished cells are kept, the running ones leave no record and no lock
//! and run next time. A repeat within [`GRACE`] is the same request, not an impatient user:
//! `timeout`, Slurm and some shells signal both the process and its group a few milliseconds
//! apart. A later one exits at once, after removing this process's lock files (the destructors
//! that normally remove them do not run on `exit`).

use crate::store::release_all_held;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Repeats closer than this to the first signal are ignored.
pub const GRACE: Duration = Duration::from_secs(2);

/// What to do with one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The first: stop after the current step.
    Stop,
    /// A repeat within the grace period.
    Ignore,
    /// A repeat after it: remove our locks and exit now.
    ExitNow,
}

/// The signals seen so far.
#[derive(Debug, Default)]
pub struct Interrupts {
    first: Option<Instant>,
}

impl Interrupts {
    pub fn on_signal(&mut self, now: Instant) -> Action {
        match self.first {
            None => {
                self.first = Some(now);
                Action::Stop
            }
            Some(first) if now.saturating_duration_since(first) < GRACE => Action::Ignore,
            Some(_) => Action::ExitNow,
        }
    }
}

/// Installs the handler: sets `cancel` on the first signal; exits with 130 on a late repeat.
pub fn install(cancel: Arc<AtomicBool>) -> Result<(), ctrlc::Error> {
    let state = Mutex::new(Interrupts::default());
    ctrlc::set_handler(move || {
        let action = state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .on_signal(Instant::now());
        match action {
            Action::Stop => {
                cancel.store(true, Ordering::SeqCst);
                eprintln!(
                    "interrupt (SIGINT/SIGTERM): finishing the current steps; cells not finished will run next time (interrupt again after {} s to exit at once)",
                    GRACE.as_secs()
                );
            }
            Action::Ignore => {}
            Action::ExitNow => {
                let removed = release_all_held();
                eprintln!(
                    "second interrupt: removed {removed} lock file(s) of this process; exiting now"
                );
                std::process::exit(130);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_the_grace_period_are_ignored_later_ones_exit() {
        let mut s = Interrupts::default();
        let t0 = Instant::now();
        assert_eq!(s.on_signal(t0), Action::Stop);
        for ms in [5, 50, 1999] {
            assert_eq!(s.on_signal(t0 + Duration::from_millis(ms)), Action::Ignore);
        }
        assert_eq!(s.on_signal(t0 + GRACE), Action::ExitNow);
    }
}
