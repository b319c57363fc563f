//! SetFit as a method of a cell ([`crate::cell::Method::SetFit`]): the pairs of the cell's
//! training sample, the body stage on the one training loop, then the head fitted on the body's
//! embeddings of the training examples (body in eval mode). The fitted model ([`FittedBodyHead`])
//! scores examples with the head (the `head` inference mode, like every cell) and by the
//! training embeddings (kNN, centroid), and saves the body and head
//! ([`crate::saved_model::save_setfit_model`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::Example;
use dmlft_eval::{InferenceMode, Metrics};
use dmlft_losses::objective::DmlLoss;
use dmlft_model::Encoder;
use dmlft_pooling::Pooling;

use crate::cell::{CellOptions, Fit, Fitted};
use crate::error::TrainError;
use crate::modes::{cell_modes, needs_training_set, score_modes, TrainingSet};
use crate::predict::Predictions;
use crate::progress::{CellEvent, Phase};
use crate::result::SetFitStats;
use crate::saved_model::setfit_head::SetFitHeadFile;
use crate::saved_model::{save_setfit_model, TrainedSetFit};
use crate::setfit::body::{body_plan, Body, BodyStep};
use crate::setfit::embed::embed_all_pooled;
use crate::setfit::head::LogisticHead;
use crate::setfit::pairs::generate_pairs;
use crate::setfit::spec::{BodyLoss, HeadSpec, SetFitSpec};
use crate::setup::CellSetup;
use crate::spec::CellSpec;
use crate::train_loop::{dev_eval, train};

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
    let embedding = BodyEmbedding {
        pooling: Pooling::Mean,
        normalize: setfit.normalize,
        max_length,
    };
    let mut plan = body_plan(&step, &body, seed, options.cancel, options.progress);
    let planned_body_steps = plan.total_steps;
    // SetFit scores with its head, so each dev point first fits a head on the current body's
    // embeddings of the training examples, as after training (an embedding pass over them and
    // a logistic fit besides the dev examples' pass); the final head is fitted again below.
    let train_labels = labels.clone();
    plan.dev = dev_eval(
        &cell.train,
        Box::new(move |body: &Body<B>| {
            let encoder = body.encoder.valid();
            let x = embedding.embed(&encoder, train_examples, setup, cell, device)?;
            let head = fit_head(&setfit.head, &x, &train_labels)?;
            FittedBodyHead::new(encoder, head, embedding, &x, setup, cell, options, device)?
                .score(&setup.split.dev)
        }),
    );
    let (body, stats) = train(&step, body, plan, device)?;

    let encoder = body.encoder.valid();
    let embed_started = Instant::now();
    let x_train = embedding.embed(&encoder, train_examples, setup, cell, device)?;
    let embed_s = embed_started.elapsed().as_secs_f64();
    let head_started = Instant::now();
    let head = fit_head(&setfit.head, &x_train, &labels)?;
    let head_s = head_started.elapsed().as_secs_f64();
    let fitted = FittedBodyHead::new(
        encoder, head, embedding, &x_train, setup, cell, options, device,
    )?;
    let setfit_stats = SetFitStats {
        pairs: pairs.pairs.len(),
        positive_pairs: pairs.positives(),
        negative_pairs: pairs.negatives(),
        pool_positive: pairs.pool_positive,
        pool_negative: pairs.pool_negative,
        pairs_from: match setfit.num_iterations {
            Some(n) => format!("num_iterations = {n}"),
            None => format!(
                "sampling_strategy = {}",
                serde_json::to_string(&setfit.sampling_strategy).unwrap_or_default()
            ),
        },
        planned_body_steps,
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

/// The head of `spec` fitted on the training embeddings `x` with labels `y`.
pub(crate) fn fit_head(
    spec: &HeadSpec,
    x: &[Vec<f32>],
    y: &[usize],
) -> Result<LogisticHead, TrainError> {
    match *spec {
        HeadSpec::Logistic { c, max_iter } => LogisticHead::fit(x, y, c, max_iter),
    }
}

/// How a body's token states become the embedding its head reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyEmbedding {
    pub pooling: Pooling,
    /// L2-normalise the pooled vectors.
    pub normalize: bool,
    /// Truncation length in tokens.
    pub max_length: usize,
}

impl BodyEmbedding {
    /// Embeddings of `examples` by `encoder` (no autodiff: eval mode), `[n][hidden]`.
    pub(crate) fn embed<B: Backend>(
        &self,
        encoder: &Encoder<B>,
        examples: &[Example],
        setup: &CellSetup,
        cell: &CellSpec,
        device: &B::Device,
    ) -> Result<Vec<Vec<f32>>, TrainError> {
        embed_all_pooled(
            encoder,
            examples,
            &setup.tokenizer,
            self.max_length,
            self.pooling,
            self.normalize,
            cell.train.eval_batch_size,
            device,
        )
    }
}

/// A body (eval mode) and the logistic head on its embeddings: SetFit's model, and the linear
/// probe's ([`crate::probe`]). It scores in the cell's modes: `head`, and kNN / centroid on the
/// same embeddings the head reads.
pub(crate) struct FittedBodyHead<'a, B: Backend> {
    encoder: Encoder<B>,
    head: LogisticHead,
    embedding: BodyEmbedding,
    /// The training examples' embeddings, when a mode classifies by them.
    training_set: Option<TrainingSet>,
    setup: &'a CellSetup,
    cell: &'a CellSpec,
    options: &'a CellOptions<'a>,
    device: &'a B::Device,
}

impl<'a, B: Backend> FittedBodyHead<'a, B> {
    /// `x_train`: the training examples' embeddings the head was fitted on.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        encoder: Encoder<B>,
        head: LogisticHead,
        embedding: BodyEmbedding,
        x_train: &[Vec<f32>],
        setup: &'a CellSetup,
        cell: &'a CellSpec,
        options: &'a CellOptions<'a>,
        device: &'a B::Device,
    ) -> Result<Self, TrainError> {
        let training_set = if needs_training_set(&cell_modes(cell)) {
            let labels: Vec<usize> = setup.split.train.iter().map(|e| e.label).collect();
            Some(TrainingSet::new(x_train, &labels)?)
        } else {
            None
        };
        Ok(Self {
            encoder,
            head,
            embedding,
            training_set,
            setup,
            cell,
            options,
            device,
        })
    }
}

impl<B: Backend> Fitted for FittedBodyHead<'_, B> {
    fn score(&self, examples: &[Example]) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError> {
        self.options.emit(CellEvent::Phase(Phase::Eval));
        let x =
            self.embedding
                .embed(&self.encoder, examples, self.setup, self.cell, self.device)?;
        self.options.emit(CellEvent::Evaluated {
            done: examples.len(),
            total: examples.len(),
        });
        let names = &self.setup.task.label_names;
        let predictions = Predictions {
            logits: self.head.task_scores(&x, names.len())?,
            proxy_scores: None,
            sentences: Some(x),
        };
        score_modes(
            &predictions,
            &cell_modes(self.cell),
            &self.cell.loss_name,
            self.training_set.as_ref(),
            examples,
            names,
        )
    }

    fn save(
        &self,
        metrics: &BTreeMap<InferenceMode, Metrics>,
        dir: &Path,
    ) -> Result<(), TrainError> {
        // The saved format (sentence-transformers modules + setfit_head.json) reads mean-pooled
        // embeddings.
        if self.embedding.pooling != Pooling::Mean {
            return Err(TrainError::InvalidSetting {
                key: format!("losses.{}.probe.pooling", self.cell.loss_name),
                value: self.embedding.pooling.to_string(),
                valid: "\"mean\" to save the model (a saved body + logistic head reads mean-pooled embeddings); run without saving models for first-token embeddings".into(),
            });
        }
        let head = SetFitHeadFile::new(
            &self.head,
            &self.cell.loss_name,
            &self.setup.task.label_names,
            self.embedding.normalize,
            self.embedding.max_length,
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
