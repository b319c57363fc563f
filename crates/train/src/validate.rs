//! `validate()` of the training contract types ([`TrainSpec`], [`CellSpec`]; an inference mode's
//! own rule is `dmlft_eval::InferenceMode::validate`).
//! `CellSpec::validate` asks each part's owner (dmlft-model, dmlft-data, dmlft-losses) and
//! reports the field as the grid file's key path (`train.optimizer.lr`,
//! `losses.<name>.dml.0.loss.margin`), so that the runner's `plan` and [`crate::run_cell`] reject
//! the same values with the same words.
//!
//! Sizes have upper bounds far above any meaningful few-shot setting but low enough that their
//! products (steps x batch x tokens) neither overflow nor ask for absurd memory, which would
//! abort the process instead of failing a cell.

use crate::error::TrainError;
use crate::probe::ProbeSpec;
use crate::setfit::spec::{BodyLoss, HeadSpec, SetFitSpec};
use crate::spec::{CellSpec, ModeParseError, TrainSpec};
use dmlft_data::error::DataError;
use dmlft_data::BatchSampler;
use dmlft_losses::error::LossError;
use dmlft_model::error::ModelError;

/// Optimizer steps: `steps`, `schedule.total_steps`, `schedule.warmup_steps`.
pub const MAX_STEPS: usize = 10_000_000;
/// Passes over the training sample.
pub const MAX_EPOCHS: usize = 1_000_000;
/// Examples per batch: `batch_size`, `eval_batch_size`.
pub const MAX_BATCH: usize = 65_536;
/// Batches accumulated per optimizer step.
pub const MAX_GRAD_ACCUM: usize = 1_024;
/// SetFit's pairs per training example (`num_iterations`) and head iterations (`max_iter`).
pub const MAX_ITERATIONS: usize = 1_000_000;
/// Evaluation examples (`eval_limit`).
pub const MAX_EVAL_LIMIT: usize = 1_000_000_000;

/// One invalid field: `key` is its path, `valid` says what is valid ("a positive number").
fn invalid(key: &str, value: impl ToString, valid: impl Into<String>) -> TrainError {
    TrainError::InvalidSetting {
        key: key.into(),
        value: value.to_string(),
        valid: valid.into(),
    }
}

fn count_in(key: &str, value: usize, min: usize, max: usize) -> Result<(), TrainError> {
    if value < min {
        Err(invalid(key, value, format!("at least {min}")))
    } else if value > max {
        Err(invalid(
            key,
            value,
            format!("at most {max} (a bound against overflow and runaway memory)"),
        ))
    } else {
        Ok(())
    }
}

fn positive(key: &str, value: f64) -> Result<(), TrainError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(key, value, "a positive number"))
    }
}

fn in_unit(key: &str, value: f64, hi_inclusive: bool) -> Result<(), TrainError> {
    let ok = value >= 0.0
        && if hi_inclusive {
            value <= 1.0
        } else {
            value < 1.0
        };
    match (ok, hi_inclusive) {
        (true, _) => Ok(()),
        (false, true) => Err(invalid(key, value, "in [0, 1]")),
        (false, false) => Err(invalid(key, value, "in [0, 1)")),
    }
}

impl TrainSpec {
    /// Field paths are relative to the spec (`optimizer.lr`, `schedule.warmup_steps`).
    pub fn validate(&self) -> Result<(), TrainError> {
        let o = &self.optimizer;
        // A learning rate of 0 trains nothing: an evaluation of the untrained model is a
        // different experiment, not a setting of this one.
        positive("optimizer.lr", o.lr)?;
        if let Some(lr) = o.head_lr {
            positive("optimizer.head_lr", lr)?;
        }
        if let Some(lr) = o.loss_lr {
            positive("optimizer.loss_lr", lr)?;
        }
        in_unit("optimizer.beta1", o.beta1, false)?;
        in_unit("optimizer.beta2", o.beta2, false)?;
        positive("optimizer.eps", o.eps)?;
        if !(o.weight_decay >= 0.0 && o.weight_decay.is_finite()) {
            return Err(invalid(
                "optimizer.weight_decay",
                o.weight_decay,
                ">= 0 and finite",
            ));
        }
        count_in("batch_size", self.batch_size, 1, MAX_BATCH)?;
        count_in("grad_accum", self.grad_accum, 1, MAX_GRAD_ACCUM)?;
        count_in("eval_batch_size", self.eval_batch_size, 1, MAX_BATCH)?;
        if let BatchSampler::MPerClass { m } = self.sampler {
            // The class count is checked when the sample is drawn.
            self.sampler
                .check(self.batch_size, None)
                .map_err(|valid| invalid("sampler.m", m, valid))?;
        }
        match self.steps {
            Some(steps) => count_in("steps", steps, 1, MAX_STEPS)?,
            None => count_in("epochs", self.epochs, 1, MAX_EPOCHS)?,
        }
        if let Some(every) = self.eval_every {
            count_in("eval_every", every, 1, MAX_STEPS)?;
        }
        if let Some(stop) = &self.early_stopping {
            if self.eval_every.is_none() {
                return Err(invalid(
                    "early_stopping",
                    format!("{{ patience = {} }}", stop.patience),
                    "a table together with eval_every (early stopping checks the dev metric at each evaluation)",
                ));
            }
            count_in("early_stopping.patience", stop.patience, 1, MAX_STEPS)?;
        }
        let s = &self.schedule;
        count_in("schedule.warmup_steps", s.warmup_steps, 0, MAX_STEPS)?;
        if let Some(n) = self.max_grad_norm {
            if !(n.is_finite() && n > 0.0) {
                return Err(invalid(
                    "max_grad_norm",
                    n,
                    "a positive number (omit it to disable clipping)",
                ));
            }
        }
        if let Some(total) = s.total_steps {
            count_in("schedule.total_steps", total, 1, MAX_STEPS)?;
            if s.warmup_steps > total {
                return Err(invalid(
                    "schedule.warmup_steps",
                    s.warmup_steps,
                    format!(
                        "at most total_steps = {total} (warmup steps may not exceed total_steps)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl SetFitSpec {
    /// Field paths are relative to the spec (`lr`, `head.c`, `body_loss.temperature`).
    pub fn validate(&self) -> Result<(), TrainError> {
        if let Some(n) = self.num_iterations {
            if n == 0 {
                return Err(invalid(
                    "num_iterations",
                    0,
                    "at least 1 (omit it to let sampling_strategy decide the number of pairs)",
                ));
            }
            count_in("num_iterations", n, 1, MAX_ITERATIONS)?;
        }
        count_in("batch_size", self.batch_size, 1, MAX_BATCH)?;
        count_in("epochs", self.epochs, 1, MAX_EPOCHS)?;
        positive("lr", self.lr)?;
        if let Some(lr) = self.loss_lr {
            positive("loss_lr", lr)?;
        }
        in_unit("warmup_proportion", self.warmup_proportion, true)?;
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(invalid(
                "weight_decay",
                self.weight_decay,
                ">= 0 and finite",
            ));
        }
        positive("max_grad_norm", self.max_grad_norm)?;
        count_in(
            "max_seq_length",
            self.max_seq_length,
            2,
            dmlft_model::spec::MAX_LENGTH,
        )?;
        self.head.validate().map_err(|e| under("head", e))?;
        if let BodyLoss::Dml(loss) = &self.body_loss {
            loss.validate().map_err(|e| under("body_loss", e))?;
        }
        Ok(())
    }
}

impl CellSpec {
    /// `train.eval_every` / `train.early_stopping` need dev examples, and early stopping a mode
    /// the cell scores.
    fn validate_dev(&self) -> Result<(), TrainError> {
        let Some(every) = self.train.eval_every else {
            return Ok(());
        };
        let (dev_key, has_dev) = self.split.protocol.dev_key();
        if !has_dev {
            return Err(invalid(
                "train.eval_every",
                every,
                format!(
                    "only with dev examples: set protocol.{dev_key} above 0 (or leave eval_every and early_stopping out)"
                ),
            ));
        }
        if let Some(stop) = &self.train.early_stopping {
            let modes = crate::modes::cell_modes(self);
            if !modes.contains(&stop.mode) {
                let names: Vec<String> = modes.iter().map(|m| format!("\"{m}\"")).collect();
                return Err(invalid(
                    "train.early_stopping.mode",
                    stop.mode,
                    format!("one of the cell's inference modes: {}", names.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

/// `eval_limit`, when given: at least 1 (omitting it evaluates on everything).
pub fn validate_eval_limit(limit: Option<usize>) -> Result<(), TrainError> {
    match limit {
        Some(0) => Err(invalid(
            "eval_limit",
            0,
            "at least 1 (omit it to evaluate on everything)",
        )),
        Some(n) => count_in("eval_limit", n, 1, MAX_EVAL_LIMIT),
        None => Ok(()),
    }
}

/// `prefix.field`, or `prefix` for an empty field.
fn join(prefix: &str, field: &str) -> String {
    match (prefix.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}.{field}"),
    }
}

/// An owner's invalid-field error as (field, value, valid), `None` for any other error.
pub fn invalid_field(e: &TrainError) -> Option<(&str, &str, &str)> {
    match e {
        TrainError::InvalidSetting { key, value, valid } => Some((key, value, valid)),
        TrainError::Model(ModelError::InvalidSetting {
            field,
            value,
            valid,
        })
        | TrainError::Data(DataError::InvalidSetting {
            field,
            value,
            valid,
        })
        | TrainError::Loss(LossError::InvalidHyperparameter {
            field,
            value,
            valid,
        }) => Some((field, value, valid)),
        _ => None,
    }
}

/// `e` with its field path under `prefix` (errors that name no field are returned as they are).
pub fn under(prefix: &str, e: impl Into<TrainError>) -> TrainError {
    let e = e.into();
    match invalid_field(&e) {
        Some((field, value, valid)) => invalid(&join(prefix, field), value, valid),
        None => e,
    }
}

impl CellSpec {
    /// Every rule of every part, each asked of its owner; field paths are the grid's keys.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.model.validate().map_err(|e| under("model", e))?;
        if let dmlft_data::spec::DatasetSpec::Custom(custom) = &self.dataset {
            custom.validate().map_err(|e| under("dataset", e))?;
        }
        self.split.validate().map_err(|e| under("", e))?;
        self.train.validate().map_err(|e| under("train", e))?;
        self.objective
            .validate()
            .map_err(|e| under(&format!("losses.{}", self.loss_name), e))?;
        self.validate_dev()?;
        for (i, mode) in self.inference.iter().enumerate() {
            mode.validate().map_err(|e| match e {
                ModeParseError::Beta { value, valid } => {
                    invalid(&format!("inference.{i}.beta"), value, valid)
                }
                ModeParseError::K { value, valid } => {
                    invalid(&format!("inference.{i}.k"), value, valid)
                }
                other => invalid(&format!("inference.{i}"), mode, other.to_string()),
            })?;
        }
        if let Some(probe) = &self.probe {
            if self.setfit.is_some() {
                return Err(invalid(
                    &format!("losses.{}.probe", self.loss_name),
                    "a probe table beside a setfit table",
                    "one method per variant",
                ));
            }
            probe
                .validate()
                .map_err(|e| under(&format!("losses.{}.probe", self.loss_name), e))?;
            self.head_only_modes("linear-probe")?;
        }
        if let Some(setfit) = &self.setfit {
            setfit
                .validate()
                .map_err(|e| under(&format!("losses.{}.setfit", self.loss_name), e))?;
            if self.model.precision == dmlft_model::spec::Precision::F16 {
                return Err(invalid(
                    "model.precision",
                    "f16",
                    "f32 or bf16 for a SetFit cell (its body stage has no f16 loss scaling)",
                ));
            }
            self.head_only_modes("SetFit")?;
        }
        validate_eval_limit(self.eval_limit)
    }

    /// A variant classified by a logistic head (SetFit, the linear probe) has no proxies.
    fn head_only_modes(&self, method: &str) -> Result<(), TrainError> {
        match self
            .inference
            .iter()
            .enumerate()
            .find(|(_, m)| m.needs_proxies())
        {
            Some((i, mode)) => Err(invalid(
                &format!("inference.{i}"),
                mode,
                format!(
                    "\"head\", \"knn\" or \"centroid\" for the {method} variant `{}` (it classifies with its logistic head or by its training embeddings; proxy and mix inference need a fine-tuned proxy-based loss)",
                    self.loss_name
                ),
            )),
            None => Ok(()),
        }
    }
}

impl HeadSpec {
    /// Field paths are relative to the head (`c`, `max_iter`).
    pub fn validate(&self) -> Result<(), TrainError> {
        match *self {
            HeadSpec::Logistic { c, max_iter } => {
                positive("c", c)?;
                count_in("max_iter", max_iter, 1, MAX_ITERATIONS)
            }
        }
    }
}

impl ProbeSpec {
    /// Field paths are relative to the spec (`head.c`).
    pub fn validate(&self) -> Result<(), TrainError> {
        self.head.validate().map_err(|e| under("head", e))
    }
}
