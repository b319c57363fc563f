//! Checks of values that serde accepts but that cannot make a meaningful cell. Each check names
//! the key and what is valid. Data-dependent checks (folders, files, class sizes) are in
//! [`super::data_check`].

use super::error::GridError;
use super::schema::GridContext;
use dmlft_data::spec::ProtocolSpec;
use dmlft_losses::spec::{DmlLossSpec, ObjectiveSpec};
use dmlft_model::spec::ModelSpec;
use dmlft_train::spec::TrainSpec;

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

fn at_least_one(ctx: &GridContext, key: &str, value: usize) -> Result<(), GridError> {
    if value >= 1 {
        Ok(())
    } else {
        Err(ctx.error(key, "must be at least 1, got 0"))
    }
}

pub fn model(ctx: &GridContext, m: &ModelSpec) -> Result<(), GridError> {
    if m.source.trim().is_empty() {
        return Err(ctx.error(
            "model.source",
            "must name a model folder or a Hugging Face model id",
        ));
    }
    if m.max_length < 2 {
        return Err(ctx.error(
            "model.max_length",
            format!("must be at least 2 tokens, got {}", m.max_length),
        ));
    }
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
    at_least_one(ctx, "train.batch_size", t.batch_size)?;
    at_least_one(ctx, "train.grad_accum", t.grad_accum)?;
    at_least_one(ctx, "train.eval_batch_size", t.eval_batch_size)?;
    match t.steps {
        Some(steps) => at_least_one(ctx, "train.steps", steps)?,
        None => at_least_one(ctx, "train.epochs", t.epochs)?,
    }
    if let Some(n) = t.max_grad_norm {
        positive(ctx, "train.max_grad_norm", n)?;
    }
    if let Some(total) = t.schedule.total_steps {
        at_least_one(ctx, "train.schedule.total_steps", total)?;
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
    if let ProtocolSpec::Kfold { folds, .. } = p {
        if *folds < 2 {
            return Err(ctx.error(
                "protocol.folds",
                format!("k-fold needs at least 2 folds, got {folds}"),
            ));
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
            at_least_one(ctx, &k("centers_per_class"), *centers_per_class)?;
            positive(ctx, &k("la"), *la)?;
            positive(ctx, &k("gamma"), *gamma)?;
            if *tau < 0.0 {
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
