//! A SetFit cell: the cell's data, split and encoder ([`CellSetup`]), the pairs of its training
//! sample, the body stage, the head fitted on the body's embeddings of the training examples
//! (body in eval mode), and the head's predictions on the cell's evaluation examples, recorded
//! as the `head` inference mode like every cell; with a save dir, the body and head are saved
//! ([`crate::saved_model::save_setfit_model`]).

use std::collections::BTreeMap;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use dmlft_data::rng::{stream, SplitRng};
use dmlft_eval::scores::argmax;
use dmlft_eval::Metrics;
use dmlft_losses::objective::DmlLoss;

use crate::cell::{versions, RunOptions};
use crate::error::TrainError;
use crate::progress::{CellEvent, Phase};
use crate::result::{CellResult, SetFitStats, Timings};
use crate::saved_model::setfit_head::SetFitHeadFile;
use crate::saved_model::{save_setfit_model, TrainedSetFit};
use crate::setfit::body::{train_body, Body, BodyInputs};
use crate::setfit::embed::embed_all;
use crate::setfit::head::LogisticHead;
use crate::setfit::pairs::generate_pairs;
use crate::setfit::spec::{BodyLoss, HeadSpec, SetFitSpec};
use crate::setup::CellSetup;
use crate::spec::{CellSpec, InferenceMode};

pub(crate) fn run_setfit_on<B: AutodiffBackend>(
    cell: &CellSpec,
    setfit: &SetFitSpec,
    options: &RunOptions<'_>,
    device: &B::Device,
) -> Result<CellResult, TrainError> {
    let started = Instant::now();
    options.emit(CellEvent::Phase(Phase::Load));
    let setup = CellSetup::<B>::new(cell, device)?;
    let load_s = started.elapsed().as_secs_f64();
    let seed = cell.split.seed;
    let train = &setup.split.train;
    let num_classes = setup.task.num_classes();
    let labels: Vec<usize> = train.iter().map(|e| e.label).collect();
    let pairs = generate_pairs(
        &labels,
        setfit.sampling_strategy,
        setfit.num_iterations,
        seed,
    )?;
    let max_length = setfit.max_length(cell.model.max_length);

    let loss = match &setfit.body_loss {
        BodyLoss::Named(_) => None,
        BodyLoss::Dml(spec) => Some(
            DmlLoss::new(
                spec,
                num_classes,
                setup.model.config().hidden_size,
                SplitRng::derived_seed(seed, stream::LOSS_INIT),
                device,
            )
            .map_err(|e| {
                crate::validate::under(&format!("losses.{}.setfit.body_loss", cell.loss_name), e)
            })?,
        ),
    };
    let body = Body {
        encoder: setup.model.encoder,
        loss,
    };
    let inputs = BodyInputs {
        examples: train,
        pairs: &pairs.pairs,
        tokenizer: &setup.tokenizer,
        max_length,
        spec: setfit,
        seed,
        cancel: options.cancel,
        progress: options.progress,
    };
    let (body, body_stats) = train_body(body, &inputs, device)?;

    let encoder = body.encoder.valid();
    let embed = |examples| {
        embed_all(
            &encoder,
            examples,
            &setup.tokenizer,
            max_length,
            setfit.normalize,
            cell.train.eval_batch_size,
            device,
        )
    };
    let embed_started = Instant::now();
    let x_train = embed(train)?;
    let embed_s = embed_started.elapsed().as_secs_f64();
    let head_started = Instant::now();
    let head = match setfit.head {
        HeadSpec::Logistic { c, max_iter } => LogisticHead::fit(&x_train, &labels, c, max_iter)?,
    };
    let head_s = head_started.elapsed().as_secs_f64();

    let eval_started = Instant::now();
    options.emit(CellEvent::Phase(Phase::Eval));
    let x_eval = embed(&setup.eval)?;
    options.emit(CellEvent::Evaluated {
        done: setup.eval.len(),
        total: setup.eval.len(),
    });
    let head_metrics = |x: &[Vec<f32>], examples: &[dmlft_data::Example]| {
        let scores = head.task_scores(x, num_classes)?;
        let predicted: Vec<usize> = scores.iter().map(|r| argmax(r)).collect();
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        let m = Metrics::compute(
            &predicted,
            &labels,
            num_classes,
            Some(&setup.task.label_names),
        )?;
        Ok::<_, TrainError>(BTreeMap::from([(InferenceMode::Head.key(), m)]))
    };
    let metrics = head_metrics(&x_eval, &setup.eval)?;
    // Dev examples (per-class `dev_shots`), for model selection; never seen by the body or head.
    let dev_metrics = if setup.split.dev.is_empty() {
        BTreeMap::new()
    } else {
        head_metrics(&embed(&setup.split.dev)?, &setup.split.dev)?
    };
    let eval_s = eval_started.elapsed().as_secs_f64();
    if let Some(dir) = &options.save_dir {
        options.emit(CellEvent::Phase(Phase::Save));
        let head = SetFitHeadFile::new(
            &head,
            &cell.loss_name,
            &setup.task.label_names,
            setfit.normalize,
            max_length,
        );
        let trained = TrainedSetFit {
            cell,
            body: &encoder,
            head: &head,
            metrics: &metrics,
        };
        save_setfit_model(&trained, &setup.model_dir, dir)?;
    }
    let term = setfit.body_loss_name().to_string();
    Ok(CellResult {
        metrics,
        train_size: train.len(),
        eval_size: setup.eval.len(),
        steps: body_stats.steps,
        final_loss: body_stats.final_loss,
        final_loss_terms: [(term, body_stats.final_loss)].into_iter().collect(),
        timings: Timings {
            load_s,
            train_s: body_stats.seconds + embed_s + head_s,
            eval_s,
            total_s: started.elapsed().as_secs_f64(),
        },
        versions: versions(options),
        curve: Some(body_stats.curve),
        setfit: Some(SetFitStats {
            pairs: pairs.pairs.len(),
            positive_pairs: pairs.positives(),
            negative_pairs: pairs.negatives(),
            pool_positive: pairs.pool_positive,
            pool_negative: pairs.pool_negative,
            body_s: body_stats.seconds,
            embed_s,
            head_s,
        }),
        dev_metrics,
        dev_size: setup.split.dev.len(),
    })
}
