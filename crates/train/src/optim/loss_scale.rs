//! Dynamic loss scaling for f16 training, with the semantics of PyTorch's `torch.amp.GradScaler`
//! (`_amp_update_scale_`): the loss is multiplied by `scale` before the backward pass so that
//! small gradients do not flush to zero in f16; the gradients are divided by it again (in f32,
//! inside the optimizer); a step whose gradients hold an inf or NaN is skipped and the scale
//! multiplied by `backoff_factor`; after `growth_interval` clean steps in a row it is multiplied
//! by `growth_factor`.
//!
//! bf16 has f32's exponent range and needs no scaling (PyTorch uses GradScaler with f16 only).

/// GradScaler's hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossScaleConfig {
    pub init_scale: f64,
    pub growth_factor: f64,
    pub backoff_factor: f64,
    pub growth_interval: u32,
    /// The scale never grows above this.
    pub max_scale: f64,
}

impl LossScaleConfig {
    /// GradScaler's defaults (init 2^16, x2 after 2000 clean steps, x0.5 after an overflow)
    /// with the scale capped at 2^15: dmlft's loss is itself an f16 value, whose gradient is the
    /// scale, and f16's largest finite value is 65504 < 2^16. (Under torch autocast the loss is
    /// f32, so GradScaler needs no cap.)
    pub fn f16() -> Self {
        Self {
            init_scale: 65536.0,
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 2000,
            max_scale: 32768.0,
        }
    }
}

/// The scale and its history across steps.
#[derive(Debug, Clone)]
pub struct LossScaler {
    config: LossScaleConfig,
    scale: f64,
    /// Clean steps since the last change (GradScaler's `_growth_tracker`).
    growth_tracker: u32,
    skipped: usize,
}

impl LossScaler {
    pub fn new(config: LossScaleConfig) -> Self {
        Self {
            scale: config.init_scale.min(config.max_scale),
            config,
            growth_tracker: 0,
            skipped: 0,
        }
    }

    /// The factor the loss is multiplied by before the backward pass.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Steps skipped so far because of non-finite gradients.
    pub fn skipped_steps(&self) -> usize {
        self.skipped
    }

    /// Records the outcome of one backward pass (`grads_finite`: no inf / NaN in any gradient)
    /// and returns whether the optimizer step may run; updates the scale for the next step.
    pub fn update(&mut self, grads_finite: bool) -> bool {
        if !grads_finite {
            self.scale *= self.config.backoff_factor;
            self.growth_tracker = 0;
            self.skipped += 1;
            return false;
        }
        self.growth_tracker += 1;
        if self.growth_tracker == self.config.growth_interval {
            let grown = self.scale * self.config.growth_factor;
            // GradScaler grows only to a finite value; here also only up to the cap.
            if grown.is_finite() {
                self.scale = grown.min(self.config.max_scale);
            }
            self.growth_tracker = 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(max_scale: f64) -> LossScaler {
        LossScaler::new(LossScaleConfig {
            init_scale: 8.0,
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 3,
            max_scale,
        })
    }

    #[test]
    fn backs_off_on_overflow_and_grows_after_clean_streaks() {
        let mut s = small(1e9);
        // Two clean steps, an overflow (skip, halve, reset the streak), three clean (grow).
        let outcomes: Vec<(bool, f64)> = [true, true, false, true, true, true, true]
            .into_iter()
            .map(|finite| (s.update(finite), s.scale()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (true, 8.0),
                (true, 8.0),
                (false, 4.0),
                (true, 4.0),
                (true, 4.0),
                (true, 8.0),
                (true, 8.0),
            ]
        );
        assert_eq!(s.skipped_steps(), 1);
    }

    #[test]
    fn the_cap_holds_at_start_and_when_growing() {
        let mut s = small(10.0);
        assert_eq!(s.scale(), 8.0);
        for _ in 0..3 {
            s.update(true);
        }
        assert_eq!(s.scale(), 10.0);
        assert_eq!(LossScaler::new(LossScaleConfig::f16()).scale(), 32768.0);
        assert!(32768.0 < f64::from(burn::tensor::f16::MAX));
    }
}
