//! Checks of values that serde accepts but that cannot make a meaningful cell. Each check names
//! the key and what is valid. Data-dependent checks (folders, files, class sizes, the
//! checkpoint's longest input) are in [`super::data_check`].
//!
//! Sizes have upper bounds far above any meaningful few-shot setting but low enough that their
//! products (steps x batch x tokens, classes x centers x hidden size, cells of a grid) neither
//! overflow nor ask for absurd memory, which would abort the process instead of failing a cell.

use super::error::GridError;
use super::schema::GridContext;
use dmlft_data::spec::ProtocolSpec;
use dmlft_losses::spec::{DmlLossSpec, ObjectiveSpec};
use dmlft_model::spec::ModelSpec;
use dmlft_train::spec::TrainSpec;

/// Optimizer steps: `steps`, `schedule.total_steps`, `schedule.warmup_steps`.
pub const MAX_STEPS: usize = 10_000_000;
/// Passes over the training sample.
pub const MAX_EPOCHS: usize = 1_000_000;
/// Examples per batch: `batch_size`, `eval_batch_size`.
pub const MAX_BATCH: usize = 65_536;
/// Batches accumulated per optimizer step.
pub const MAX_GRAD_ACCUM: usize = 1_024;
/// Sample sizes: `shots` and `dev_shots` (per class or in total).
pub const MAX_SHOTS: usize = 10_000_000;
/// Folds of the k-fold protocol (each is a cell per seed).
pub const MAX_FOLDS: usize = 1_000;
/// Evaluation examples (`eval_limit`).
pub const MAX_EVAL_LIMIT: usize = 1_000_000_000;
/// Tokens per input, before the checkpoint's own limit is known.
pub const MAX_LENGTH: usize = 65_536;
/// Centers (SoftTriple) per class.
pub const MAX_CENTERS_PER_CLASS: usize = 1_000;
/// Cells of one grid (and combinations of its swept settings).
pub const MAX_CELLS: usize = 100_000;

/// `value` in `[min, max]`, else an error naming the key and the range.
fn count_in(
    ctx: &GridContext,
    key: &str,
    value: usize,
    min: usize,
    max: usize,
) -> Result<(), GridError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else if value < min {
        Err(ctx.error(key, format!("must be at least {min}, got {value}")))
    } else {
        Err(ctx.error(
            key,
            format!(
                "must be at most {max}, got {value} (a bound against overflow and runaway memory)"
            ),
        ))
    }
}

/// `shots` of every cell.
pub fn shots(ctx: &GridContext, shots: usize) -> Result<(), GridError> {
    count_in(ctx, "shots", shots, 1, MAX_SHOTS)
}

/// `eval_limit`, when given.
pub fn eval_limit(ctx: &GridContext, limit: usize) -> Result<(), GridError> {
    if limit == 0 {
        return Err(ctx.error(
            "eval_limit",
            "must be at least 1 (omit it to evaluate on everything)",
        ));
    }
    count_in(ctx, "eval_limit", limit, 1, MAX_EVAL_LIMIT)
}

/// Every float of the file is finite: TOML accepts `nan` and `inf`, which no setting means (a
/// NaN fails every range check silently, as comparisons with it are false).
pub fn finite_numbers(
    ctx: &GridContext,
    table: &toml::Table,
    prefix: &str,
) -> Result<(), GridError> {
    fn walk(ctx: &GridContext, value: &toml::Value, key: &str) -> Result<(), GridError> {
        match value {
            toml::Value::Float(f) if !f.is_finite() => {
                Err(ctx.error(key, format!("must be a finite number, got {f}")))
            }
            toml::Value::Table(t) => finite_numbers(ctx, t, key),
            toml::Value::Array(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| walk(ctx, v, &format!("{key}.{i}"))),
            _ => Ok(()),
        }
    }
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        walk(ctx, v, &key)?;
    }
    Ok(())
}

/// The number of cells (or combinations) a grid expands to.
pub fn cell_count(ctx: &GridContext, count: usize) -> Result<(), GridError> {
    if count <= MAX_CELLS {
        Ok(())
    } else {
        Err(ctx.file_error(format!(
            "the grid expands to {} cells, more than the limit of {MAX_CELLS}: shorten the swept lists or split the grid",
            if count == usize::MAX { "too many".to_string() } else { count.to_string() }
        )))
    }
}

fn positive(ctx: &GridContext, key: &str, value: f64) -> Result<(), GridError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ctx.error(key, format!("must be a positive number, got {value}")))
    }
}

fn in_range(
    ctx: &GridContext,
    key: &str,
    value: f64,
    lo: f64,
    hi: f64,
    hi_inclusive: bool,
) -> Result<(), GridError> {
    let ok = value >= lo
        && if hi_inclusive {
            value <= hi
        } else {
            value < hi
        };
    if ok {
        Ok(())
    } else {
        let close = if hi_inclusive { "]" } else { ")" };
        Err(ctx.error(key, format!("must be in [{lo}, {hi}{close}, got {value}")))
    }
}

pub fn model(ctx: &GridContext, m: &ModelSpec) -> Result<(), GridError> {
    if m.source.trim().is_empty() {
        return Err(ctx.error(
            "model.source",
            "must name a model folder or a Hugging Face model id",
        ));
    }
    count_in(ctx, "model.max_length", m.max_length, 2, MAX_LENGTH)?;
    if let Some(p) = m.dropout {
        in_range(ctx, "model.dropout", p, 0.0, 1.0, false)?;
    }
    Ok(())
}

pub fn train(ctx: &GridContext, t: &TrainSpec) -> Result<(), GridError> {
    let o = &t.optimizer;
    positive(ctx, "train.optimizer.lr", o.lr)?;
    if let Some(lr) = o.head_lr {
        positive(ctx, "train.optimizer.head_lr", lr)?;
    }
    if let Some(lr) = o.loss_lr {
        positive(ctx, "train.optimizer.loss_lr", lr)?;
    }
    in_range(ctx, "train.optimizer.beta1", o.beta1, 0.0, 1.0, false)?;
    in_range(ctx, "train.optimizer.beta2", o.beta2, 0.0, 1.0, false)?;
    positive(ctx, "train.optimizer.eps", o.eps)?;
    if !(o.weight_decay >= 0.0 && o.weight_decay.is_finite()) {
        return Err(ctx.error(
            "train.optimizer.weight_decay",
            format!("must be >= 0, got {}", o.weight_decay),
        ));
    }
    count_in(ctx, "train.batch_size", t.batch_size, 1, MAX_BATCH)?;
    count_in(ctx, "train.grad_accum", t.grad_accum, 1, MAX_GRAD_ACCUM)?;
    count_in(
        ctx,
        "train.eval_batch_size",
        t.eval_batch_size,
        1,
        MAX_BATCH,
    )?;
    match t.steps {
        Some(steps) => count_in(ctx, "train.steps", steps, 1, MAX_STEPS)?,
        None => count_in(ctx, "train.epochs", t.epochs, 1, MAX_EPOCHS)?,
    }
    count_in(
        ctx,
        "train.schedule.warmup_steps",
        t.schedule.warmup_steps,
        0,
        MAX_STEPS,
    )?;
    if let Some(n) = t.max_grad_norm {
        positive(ctx, "train.max_grad_norm", n)?;
    }
    if let Some(total) = t.schedule.total_steps {
        count_in(ctx, "train.schedule.total_steps", total, 1, MAX_STEPS)?;
        if t.schedule.warmup_steps > total {
            return Err(ctx.error(
                "train.schedule.warmup_steps",
                format!(
                    "{} warmup steps exceed total_steps = {total}",
                    t.schedule.warmup_steps
                ),
            ));
        }
    }
    Ok(())
}

pub fn protocol(ctx: &GridContext, p: &ProtocolSpec) -> Result<(), GridError> {
    match p {
        ProtocolSpec::Kfold { folds, .. } if *folds < 2 => {
            return Err(ctx.error(
                "protocol.folds",
                format!("k-fold needs at least 2 folds, got {folds}"),
            ))
        }
        ProtocolSpec::Kfold { folds, .. } => count_in(ctx, "protocol.folds", *folds, 2, MAX_FOLDS)?,
        ProtocolSpec::PerClass { dev_shots } => {
            count_in(ctx, "protocol.dev_shots", *dev_shots, 0, MAX_SHOTS)?
        }
    }
    if let Some((key, message)) = p.conflict() {
        return Err(ctx.error(&format!("protocol.{key}"), message));
    }
    Ok(())
}

/// `prefix` is `losses.<name>`.
pub fn objective(ctx: &GridContext, o: &ObjectiveSpec, prefix: &str) -> Result<(), GridError> {
    // The papers' form `beta * CE + (1 - beta) * DML` (at most one DML term): beta in [0, 1].
    if o.dml.len() <= 1 {
        in_range(
            ctx,
            &format!("{prefix}.ce_weight"),
            o.ce_weight,
            0.0,
            1.0,
            true,
        )
        .map_err(|e| GridError {
            message: format!("{} (ce_weight is the papers' beta)", e.message),
            ..e
        })?;
    } else if !(o.ce_weight >= 0.0 && o.ce_weight.is_finite()) {
        return Err(ctx.error(
            &format!("{prefix}.ce_weight"),
            format!("must be >= 0, got {}", o.ce_weight),
        ));
    }
    in_range(
        ctx,
        &format!("{prefix}.label_smoothing"),
        o.label_smoothing,
        0.0,
        1.0,
        false,
    )?;
    for (i, term) in o.dml.iter().enumerate() {
        let key = format!("{prefix}.dml.{i}");
        if !(term.weight >= 0.0 && term.weight.is_finite()) {
            return Err(ctx.error(
                &format!("{key}.weight"),
                format!("must be >= 0, got {}", term.weight),
            ));
        }
        if o.dml.len() == 1 {
            in_range(ctx, &format!("{key}.weight"), term.weight, 0.0, 1.0, true)?;
        }
        dml_loss(ctx, &term.loss, &format!("{key}.loss"))?;
    }
    if o.ce_weight == 0.0 && o.dml.iter().all(|t| t.weight == 0.0) {
        return Err(ctx.error(prefix, "every weight is 0: the objective would be constant"));
    }
    Ok(())
}

fn dml_loss(ctx: &GridContext, loss: &DmlLossSpec, key: &str) -> Result<(), GridError> {
    let k = |field: &str| format!("{key}.{field}");
    match loss {
        DmlLossSpec::SoftTriple {
            centers_per_class,
            la,
            gamma,
            tau,
            ..
        } => {
            count_in(
                ctx,
                &k("centers_per_class"),
                *centers_per_class,
                1,
                MAX_CENTERS_PER_CLASS,
            )?;
            positive(ctx, &k("la"), *la)?;
            positive(ctx, &k("gamma"), *gamma)?;
            if tau.is_nan() || *tau < 0.0 {
                return Err(ctx.error(&k("tau"), format!("must be >= 0, got {tau}")));
            }
        }
        DmlLossSpec::ProxyAnchor { alpha, .. } => positive(ctx, &k("alpha"), *alpha)?,
        DmlLossSpec::ProxyNca { softmax_scale } => {
            positive(ctx, &k("softmax_scale"), *softmax_scale)?
        }
        DmlLossSpec::NormalizedSoftmax { temperature }
        | DmlLossSpec::SupCon { temperature }
        | DmlLossSpec::NtXent { temperature } => positive(ctx, &k("temperature"), *temperature)?,
        DmlLossSpec::ArcFace { scale, .. } | DmlLossSpec::CosFace { scale, .. } => {
            positive(ctx, &k("scale"), *scale)?
        }
        DmlLossSpec::MultiSimilarity { alpha, beta, .. } => {
            positive(ctx, &k("alpha"), *alpha)?;
            positive(ctx, &k("beta"), *beta)?;
        }
        DmlLossSpec::Circle { gamma, .. } => positive(ctx, &k("gamma"), *gamma)?,
        DmlLossSpec::TripletMargin { .. }
        | DmlLossSpec::Contrastive { .. }
        | DmlLossSpec::NPairs
        | DmlLossSpec::LiftedStructure { .. }
        | DmlLossSpec::BatchAllTriplet { .. } => {}
    }
    Ok(())
}
