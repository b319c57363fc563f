//! Learning-rate multipliers exactly as transformers defines its schedules
//! (`get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup`,
//! `get_cosine_schedule_with_warmup` with 0.5 cycles). `step` is the 0-based index of the
//! optimizer step about to be taken, so with warmup the first step runs at lr 0, as in the
//! papers' HF Trainer runs. Past `total_steps` the linear schedule stays at 0 and the cosine one
//! rises again (transformers does not clamp the progress), which matters when a sample is large
//! enough that a run takes more steps than the schedule was built for (the papers' 120-step
//! cosine schedule with a large sample).

use crate::spec::{ScheduleKind, ScheduleSpec};

/// Multiplier of the base learning rate at optimizer step `step` (0-based).
pub fn lr_multiplier(kind: ScheduleKind, warmup: usize, total: usize, step: usize) -> f64 {
    let step = step as f64;
    let warmup_f = warmup as f64;
    if step < warmup_f {
        return step / warmup_f.max(1.0);
    }
    match kind {
        ScheduleKind::Constant => 1.0,
        ScheduleKind::Linear => {
            let left = total as f64 - step;
            (left / (total as f64 - warmup_f).max(1.0)).max(0.0)
        }
        ScheduleKind::Cosine => {
            let progress = (step - warmup_f) / (total as f64 - warmup_f).max(1.0);
            (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
        }
    }
}

/// The schedule of one run, with `total_steps` resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl Schedule {
    /// `run_steps` is the number of optimizer steps the run will take; it is the schedule's
    /// length when the spec does not fix one.
    pub fn resolve(spec: &ScheduleSpec, run_steps: usize) -> Self {
        Self {
            kind: spec.kind,
            warmup_steps: spec.warmup_steps,
            total_steps: spec.total_steps.unwrap_or(run_steps),
        }
    }

    pub fn multiplier(&self, step: usize) -> f64 {
        lr_multiplier(self.kind, self.warmup_steps, self.total_steps, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_starts_at_zero_and_reaches_one() {
        for kind in [
            ScheduleKind::Constant,
            ScheduleKind::Linear,
            ScheduleKind::Cosine,
        ] {
            assert_eq!(lr_multiplier(kind, 10, 120, 0), 0.0);
            assert!((lr_multiplier(kind, 10, 120, 5) - 0.5).abs() < 1e-12);
            assert!((lr_multiplier(kind, 10, 120, 10) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn linear_decays_to_zero_and_stays() {
        assert!((lr_multiplier(ScheduleKind::Linear, 10, 110, 60) - 0.5).abs() < 1e-12);
        assert_eq!(lr_multiplier(ScheduleKind::Linear, 10, 110, 110), 0.0);
        assert_eq!(lr_multiplier(ScheduleKind::Linear, 10, 110, 500), 0.0);
    }

    #[test]
    fn cosine_is_half_at_midpoint_and_rises_past_the_end() {
        assert!((lr_multiplier(ScheduleKind::Cosine, 10, 110, 60) - 0.5).abs() < 1e-12);
        assert!(lr_multiplier(ScheduleKind::Cosine, 10, 110, 110).abs() < 1e-12);
        // transformers does not clamp progress: at 1.5x the schedule the lr is back at 0.5.
        assert!((lr_multiplier(ScheduleKind::Cosine, 10, 110, 160) - 0.5).abs() < 1e-12);
    }

    /// The default schedule ends with the run, whatever its length: a 30-step run's lr decays
    /// to 0 at its last step, and a 200-step cosine run's lr does not rise again past 120.
    #[test]
    fn the_default_schedule_follows_the_runs_length() {
        let spec = ScheduleSpec::default();
        for steps in [30, 120, 200] {
            let s = Schedule::resolve(&spec, steps);
            assert_eq!(s.total_steps, steps);
            assert!(s.multiplier(steps) < 1e-12, "{steps}");
            assert!(s.multiplier(steps - 1) < 0.01, "{steps}");
        }
        // a fixed length is kept (the papers' grids set 120)
        let fixed = ScheduleSpec {
            total_steps: Some(120),
            ..spec
        };
        assert_eq!(Schedule::resolve(&fixed, 30).total_steps, 120);
    }
}
