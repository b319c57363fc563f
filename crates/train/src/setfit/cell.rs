//! SetFit as a method of a cell ([`crate::cell::Method::SetFit`]): the pairs of the cell's
//! training sample, the body stage on the one training loop, then the head fitted on the body's
//! embeddings of the training examples (body in eval mode). The fitted model scores examples
//! with the head (the `head` inference mode, like every cell) and saves the body and head
//! ([`crate::saved_model::save_setfit_model`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::Example;
use dmlft_eval::scores::argmax;
use dmlft_eval::{InferenceMode, Metrics};
use dmlft_losses::objective::DmlLoss;
use dmlft_model::Encoder;

use crate::cell::{CellOptions, Fit, Fitted};
use crate::error::TrainError;
use crate::progress::{CellEvent, Phase};
use crate::result::SetFitStats;
use crate::saved_model::setfit_head::SetFitHeadFile;
use crate::saved_model::{save_setfit_model, TrainedSetFit};
use crate::setfit::body::{body_plan, Body, BodyStep};
use crate::setfit::embed::embed_all;
use crate::setfit::head::LogisticHead;
use crate::setfit::pairs::generate_pairs;
use crate::setfit::spec::{BodyLoss, HeadSpec, SetFitSpec};
use crate::setup::CellSetup;
use crate::spec::CellSpec;
use crate::train_loop::train;

/// Trains the body on the pairs (or label batches), then fits the head.
pub(crate) fn fit<'a, B: AutodiffBackend>(
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    setfit: &'a SetFitSpec,
    options: &'a CellOptions<'a>,
    device: &'a B::Device,
) -> Result<Fit<'a>, TrainError> {
    let seed = cell.split.seed;
    let train_examples = &setup.split.train;
    let num_classes = setup.task.num_classes();
    let labels: Vec<usize> = train_examples.iter().map(|e| e.label).collect();
    let pairs = generate_pairs(
        &labels,
        setfit.sampling_strategy,
        setfit.num_iterations,
        seed,
    )?;
    let max_length = setfit.max_length(cell.model.max_length);

    let loading = Instant::now();
    let encoder = setup.encoder::<B>(cell, device)?;
    let loss = match &setfit.body_loss {
        BodyLoss::Named(_) => None,
        BodyLoss::Dml(spec) => Some(
            DmlLoss::new(
                spec,
                num_classes,
                setup.config.hidden_size,
                SplitRng::derived_seed(seed, stream::LOSS_INIT),
                device,
            )
            .map_err(|e| {
                crate::validate::under(&format!("losses.{}.setfit.body_loss", cell.loss_name), e)
            })?,
        ),
    };
    let load_s = loading.elapsed().as_secs_f64();
    let body = Body { encoder, loss };
    let step = BodyStep {
        examples: train_examples,
        pairs: &pairs.pairs,
        tokenizer: &setup.tokenizer,
        max_length,
        spec: setfit,
    };
    let plan = body_plan(&step, &body, seed, options.cancel, options.progress);
    let (body, stats) = train(&step, body, plan, device)?;

    let encoder = body.encoder.valid();
    let embed_started = Instant::now();
    let x_train = embed_all(
        &encoder,
        train_examples,
        &setup.tokenizer,
        max_length,
        setfit.normalize,
        cell.train.eval_batch_size,
        device,
    )?;
    let embed_s = embed_started.elapsed().as_secs_f64();
    let head_started = Instant::now();
    let head = match setfit.head {
        HeadSpec::Logistic { c, max_iter } => LogisticHead::fit(&x_train, &labels, c, max_iter)?,
    };
    let head_s = head_started.elapsed().as_secs_f64();
    let fitted = FittedSetFit {
        encoder,
        head,
        setup,
        cell,
        setfit,
        max_length,
        options,
        device,
    };
    let setfit_stats = SetFitStats {
        pairs: pairs.pairs.len(),
        positive_pairs: pairs.positives(),
        negative_pairs: pairs.negatives(),
        pool_positive: pairs.pool_positive,
        pool_negative: pairs.pool_negative,
        body_s: stats.seconds,
        embed_s,
        head_s,
    };
    Ok(Fit {
        fitted: Box::new(fitted),
        load_s,
        train_s: stats.seconds + embed_s + head_s,
        stats,
        setfit: Some(setfit_stats),
    })
}

/// The trained body (eval mode) and its logistic head.
struct FittedSetFit<'a, B: Backend> {
    encoder: Encoder<B>,
    head: LogisticHead,
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    setfit: &'a SetFitSpec,
    max_length: usize,
    options: &'a CellOptions<'a>,
    device: &'a B::Device,
}

impl<B: Backend> Fitted for FittedSetFit<'_, B> {
    fn score(&self, examples: &[Example]) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError> {
        self.options.emit(CellEvent::Phase(Phase::Eval));
        let x = embed_all(
            &self.encoder,
            examples,
            &self.setup.tokenizer,
            self.max_length,
            self.setfit.normalize,
            self.cell.train.eval_batch_size,
            self.device,
        )?;
        self.options.emit(CellEvent::Evaluated {
            done: examples.len(),
            total: examples.len(),
        });
        let names = &self.setup.task.label_names;
        let scores = self.head.task_scores(&x, names.len())?;
        let predicted: Vec<usize> = scores.iter().map(|r| argmax(r)).collect();
        let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
        let m = Metrics::compute(&predicted, &labels, names.len(), Some(names))?;
        Ok(BTreeMap::from([(InferenceMode::Head, m)]))
    }

    fn save(
        &self,
        metrics: &BTreeMap<InferenceMode, Metrics>,
        dir: &Path,
    ) -> Result<(), TrainError> {
        let head = SetFitHeadFile::new(
            &self.head,
            &self.cell.loss_name,
            &self.setup.task.label_names,
            self.setfit.normalize,
            self.max_length,
        );
        let trained = TrainedSetFit {
            cell: self.cell,
            body: &self.encoder,
            head: &head,
            metrics,
        };
        save_setfit_model(&trained, &self.setup.model_dir, dir)
    }
}
