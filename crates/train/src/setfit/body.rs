//! SetFit's body stage (`setfit.Trainer.train_embeddings` with sentence-transformers' trainer):
//! the encoder fine-tuned on the pairs with CosineSimilarityLoss, both sentences of a pair
//! embedded in training mode by separate forwards (independent dropout), batches of
//! `batch_size` pairs in a seeded order reshuffled every epoch (the last partial batch kept),
//! AdamW with weight decay on every weight but biases and LayerNorm, a linear schedule with
//! `ceil(warmup_proportion * steps)` warmup steps (the first step at lr 0), and global-norm
//! clipping. The optimizer, schedule and clipping are the trainer's own ([`crate::optim`],
//! [`crate::schedule`]).
//!
//! Beyond SetFit, the body loss may be a dmlft DML loss: it then sees batches of `batch_size`
//! training examples with their labels (a seeded order per pass over the examples), for as many
//! steps as the cosine stage would take on the pairs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::{Example, TextTokenizer};
use dmlft_losses::objective::DmlLoss;
use dmlft_model::Encoder;

use crate::curve::{CurvePoint, TrainingCurve};
use crate::error::TrainError;
use crate::optim::{
    clip_scale, global_grad_norm, AdamW, AdamWConfig, GroupLrs, ParamGroup, ParamGroups,
};
use crate::progress::{EventSink, Phase, Progress};
use crate::schedule::lr_multiplier;
use crate::setfit::cosine_loss::cosine_similarity_loss;
use crate::setfit::embed::sentence_embeddings;
use crate::setfit::pairs::Pair;
use crate::setfit::spec::SetFitSpec;
use crate::spec::ScheduleKind;
use crate::tensors::label_tensor;
use crate::train_loop::epoch_order;

/// What the body stage updates: the encoder and, with a proxy-based DML body loss, its proxies.
#[derive(Module, Debug)]
pub struct Body<B: Backend> {
    pub encoder: Encoder<B>,
    pub loss: Option<DmlLoss<B>>,
}

/// Everything the body stage needs besides the module.
pub struct BodyInputs<'a> {
    /// The training examples in draw order (what the pairs index).
    pub examples: &'a [Example],
    pub pairs: &'a [Pair],
    pub tokenizer: &'a TextTokenizer,
    /// The truncation length ([`SetFitSpec::max_length`]).
    pub max_length: usize,
    pub spec: &'a SetFitSpec,
    pub seed: u64,
    pub cancel: &'a AtomicBool,
    /// Where step events go; `None` = a terminal bar.
    pub progress: Option<EventSink<'a>>,
}

/// How the body stage went.
#[derive(Debug, Clone, Default)]
pub struct BodyStats {
    pub steps: usize,
    pub final_loss: f64,
    pub seconds: f64,
    pub curve: TrainingCurve,
}

/// Optimizer steps of the body stage on `n_pairs` pairs (also the plan's estimate).
pub fn planned_body_steps(spec: &SetFitSpec, n_pairs: usize) -> usize {
    n_pairs
        .div_ceil(spec.batch_size.max(1))
        .saturating_mul(spec.epochs)
}

/// Consecutive batches of `0..n` in a fresh seeded order per pass, the last partial one kept.
struct Batches {
    n: usize,
    size: usize,
    seed: u64,
    order: Vec<usize>,
    cursor: usize,
    epoch: u64,
}

impl Batches {
    fn new(n: usize, size: usize, seed: u64) -> Self {
        Self {
            n,
            size,
            seed,
            order: Vec::new(),
            cursor: 0,
            epoch: 0,
        }
    }

    fn next_batch(&mut self) -> Vec<usize> {
        if self.cursor >= self.order.len() {
            self.order = epoch_order(self.n, self.seed, self.epoch);
            self.epoch += 1;
            self.cursor = 0;
        }
        let end = (self.cursor + self.size).min(self.order.len());
        let batch = self.order[self.cursor..end].to_vec();
        self.cursor = end;
        batch
    }
}

/// Trains `body` and returns it with the stage's statistics.
pub fn train_body<B: AutodiffBackend>(
    mut body: Body<B>,
    inputs: &BodyInputs<'_>,
    device: &B::Device,
) -> Result<(Body<B>, BodyStats), TrainError> {
    let spec = inputs.spec;
    let started = Instant::now();
    dmlft_model::dropout::set_dropout_seed(SplitRng::derived_seed(inputs.seed, stream::DROPOUT));
    let total = planned_body_steps(spec, inputs.pairs.len());
    let warmup = spec.warmup_steps(total);
    let mut groups = ParamGroups::default().add(&body.encoder, ParamGroup::Encoder);
    if let Some(loss) = &body.loss {
        groups = groups.add(loss, ParamGroup::Loss);
    }
    // sentence-transformers' AdamW is torch's with its default betas and eps: the same as
    // dmlft's optimizer defaults, so they are taken from there
    let adam = crate::spec::OptimizerSpec::default();
    let mut optim = AdamW::<B>::new(
        AdamWConfig {
            beta1: adam.beta1,
            beta2: adam.beta2,
            eps: adam.eps,
            weight_decay: spec.weight_decay,
            decay_bias_and_norm: false,
        },
        groups,
    );
    // Cosine: batches of pairs; a DML loss: batches of training examples.
    let mut batches = match body.loss {
        None => Batches::new(inputs.pairs.len(), spec.batch_size, inputs.seed),
        Some(_) => Batches::new(inputs.examples.len(), spec.batch_size, inputs.seed),
    };
    let term = spec.body_loss_name().to_string();
    let progress = Progress::new(Phase::Train, total as u64, inputs.progress);
    let mut stats = BodyStats {
        curve: TrainingCurve::for_steps(total),
        ..BodyStats::default()
    };
    for step in 0..total {
        if inputs.cancel.load(Ordering::Relaxed) {
            return Err(TrainError::Cancelled { step });
        }
        let mult = lr_multiplier(ScheduleKind::Linear, warmup, total, step);
        let lrs = GroupLrs {
            encoder: spec.lr * mult,
            head: 0.0,
            loss: spec.loss_lr.unwrap_or(spec.lr) * mult,
        };
        let batch = batches.next_batch();
        let loss = step_loss(&body, &batch, inputs, device)?;
        let value = loss.clone().into_scalar().elem::<f64>();
        if !value.is_finite() {
            return Err(TrainError::NonFinite { step, term, value });
        }
        let mut grads = GradientsParams::from_grads(loss.backward(), &body);
        let norm = global_grad_norm(&body, &grads);
        let scale = clip_scale(norm, spec.max_grad_norm);
        body = optim.step(body, &mut grads, lrs, scale)?;
        stats.steps = step + 1;
        stats.final_loss = value;
        if stats.curve.records(step, total) {
            let mut lr = std::collections::BTreeMap::from([("encoder".to_string(), lrs.encoder)]);
            if body.loss.is_some() {
                lr.insert("loss".to_string(), lrs.loss);
            }
            stats.curve.points.push(CurvePoint {
                step: step + 1,
                loss: value,
                terms: [(term.clone(), value)].into_iter().collect(),
                lr,
                grad_norm: norm,
            });
        }
        progress.step(step + 1, total, value, lrs.encoder);
    }
    progress.finish();
    stats.seconds = started.elapsed().as_secs_f64();
    Ok((body, stats))
}

/// The body loss of one batch (indices into the pairs, or into the examples for a DML loss).
fn step_loss<B: AutodiffBackend>(
    body: &Body<B>,
    batch: &[usize],
    inputs: &BodyInputs<'_>,
    device: &B::Device,
) -> Result<Tensor<B, 1>, TrainError> {
    let embed = |items: Vec<Example>| {
        sentence_embeddings(
            &body.encoder,
            &items,
            inputs.tokenizer,
            inputs.max_length,
            inputs.spec.normalize,
            device,
        )
    };
    let ex = |i: usize| inputs.examples[i].clone();
    match &body.loss {
        None => {
            let pairs: Vec<Pair> = batch.iter().map(|&k| inputs.pairs[k]).collect();
            // Separate forwards, as sentence-transformers embeds each column of the pairs.
            let u = embed(pairs.iter().map(|p| ex(p.first)).collect())?;
            let v = embed(pairs.iter().map(|p| ex(p.second)).collect())?;
            let targets: Vec<f32> = pairs.iter().map(Pair::target).collect();
            let targets = Tensor::from_data(TensorData::new(targets, [pairs.len()]), device);
            Ok(cosine_similarity_loss(u, v, targets))
        }
        Some(loss) => {
            let items: Vec<Example> = batch.iter().map(|&i| ex(i)).collect();
            let labels: Vec<usize> = items.iter().map(|e| e.label).collect();
            let emb = embed(items)?;
            Ok(loss.forward(emb, label_tensor(&labels, device))?)
        }
    }
}
