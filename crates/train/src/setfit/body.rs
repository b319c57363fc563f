//! SetFit's body stage (`setfit.Trainer.train_embeddings` with sentence-transformers' trainer) as
//! a step of the one training loop ([`crate::train_loop`]): the encoder fine-tuned on the pairs
//! with CosineSimilarityLoss, both sentences of a pair embedded in training mode by separate
//! forwards (independent dropout), batches of `batch_size` pairs in a seeded order reshuffled
//! every epoch (the last partial batch kept), AdamW with weight decay on every weight but biases
//! and LayerNorm, a linear schedule with `ceil(warmup_proportion * steps)` warmup steps (the
//! first step at lr 0), and global-norm clipping.
//!
//! Beyond SetFit, the body loss may be a dmlft DML loss: it then sees batches of `batch_size`
//! training examples with their labels (a seeded order per pass over the examples), for as many
//! steps as the cosine stage would take on the pairs.

use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use dmlft_data::{BatchStream, Example, TextTokenizer};
use dmlft_losses::objective::DmlLoss;
use dmlft_model::Encoder;

use crate::error::TrainError;
use crate::optim::{AdamWConfig, GroupLrs, ParamGroup, ParamGroups};
use crate::progress::EventSink;
use crate::schedule::Schedule;
use crate::setfit::cosine_loss::cosine_similarity_loss;
use crate::setfit::embed::sentence_embeddings;
use crate::setfit::pairs::Pair;
use crate::setfit::spec::SetFitSpec;
use crate::spec::{OptimizerSpec, ScheduleKind};
use crate::tensors::label_tensor;
use crate::train_loop::{LoopPlan, StepLoss, TrainStep};

/// What the body stage updates: the encoder and, with a proxy-based DML body loss, its proxies.
#[derive(Module, Debug)]
pub struct Body<B: Backend> {
    pub encoder: Encoder<B>,
    pub loss: Option<DmlLoss<B>>,
}

/// Optimizer steps of the body stage on `n_pairs` pairs (also the plan's estimate).
pub fn planned_body_steps(spec: &SetFitSpec, n_pairs: usize) -> usize {
    n_pairs
        .div_ceil(spec.batch_size.max(1))
        .saturating_mul(spec.epochs)
}

/// The body loss of a batch of pairs (cosine) or of training examples (a DML body loss).
pub struct BodyStep<'a> {
    /// The training examples in draw order (what the pairs index).
    pub examples: &'a [Example],
    pub pairs: &'a [Pair],
    pub tokenizer: &'a TextTokenizer,
    /// The truncation length ([`SetFitSpec::max_length`]).
    pub max_length: usize,
    pub spec: &'a SetFitSpec,
}

impl<B: AutodiffBackend> TrainStep<B> for BodyStep<'_> {
    type Module = Body<B>;

    fn loss(
        &self,
        body: &Body<B>,
        batch: &[usize],
        device: &B::Device,
    ) -> Result<StepLoss<B>, TrainError> {
        let embed = |items: Vec<Example>| {
            sentence_embeddings(
                &body.encoder,
                &items,
                self.tokenizer,
                self.max_length,
                self.spec.normalize,
                device,
            )
        };
        let ex = |i: usize| self.examples[i].clone();
        let loss: Tensor<B, 1> = match &body.loss {
            None => {
                let pairs: Vec<Pair> = batch.iter().map(|&k| self.pairs[k]).collect();
                // Separate forwards, as sentence-transformers embeds each column of the pairs.
                let u = embed(pairs.iter().map(|p| ex(p.first)).collect())?;
                let v = embed(pairs.iter().map(|p| ex(p.second)).collect())?;
                let targets: Vec<f32> = pairs.iter().map(Pair::target).collect();
                let targets = Tensor::from_data(TensorData::new(targets, [pairs.len()]), device);
                cosine_similarity_loss(u, v, targets)
            }
            Some(loss) => {
                let items: Vec<Example> = batch.iter().map(|&i| ex(i)).collect();
                let labels: Vec<usize> = items.iter().map(|e| e.label).collect();
                let emb = embed(items)?;
                loss.forward(emb, label_tensor(&labels, device))?
            }
        };
        let term = self.spec.body_loss_name().to_string();
        Ok(StepLoss {
            terms: vec![(term, loss.clone().detach())],
            loss,
        })
    }
}

/// The loop's plan for the body stage of `body` under `step`'s spec.
pub fn body_plan<'a, B: AutodiffBackend>(
    step: &BodyStep<'_>,
    body: &Body<B>,
    seed: u64,
    cancel: &'a AtomicBool,
    progress: Option<EventSink<'a>>,
) -> LoopPlan<'a, Body<B>> {
    let spec = step.spec;
    let total_steps = planned_body_steps(spec, step.pairs.len());
    let mut groups = ParamGroups::default().add(&body.encoder, ParamGroup::Encoder);
    let mut recorded_lrs = vec![ParamGroup::Encoder];
    if let Some(loss) = &body.loss {
        groups = groups.add(loss, ParamGroup::Loss);
        recorded_lrs.push(ParamGroup::Loss);
    }
    // Cosine: batches of pairs; a DML loss: batches of training examples.
    let items = match body.loss {
        None => step.pairs.len(),
        Some(_) => step.examples.len(),
    };
    // sentence-transformers' AdamW is torch's with its default betas and eps: the same as
    // dmlft's optimizer defaults, so they are taken from there
    let adam = OptimizerSpec::default();
    LoopPlan {
        total_steps,
        batches: BatchStream::shuffled(items, spec.batch_size, seed),
        grad_accum: 1,
        schedule: Schedule {
            kind: ScheduleKind::Linear,
            warmup_steps: spec.warmup_steps(total_steps),
            total_steps,
        },
        lrs: GroupLrs {
            encoder: spec.lr,
            head: 0.0,
            loss: spec.loss_lr.unwrap_or(spec.lr),
        },
        recorded_lrs,
        optimizer: AdamWConfig {
            beta1: adam.beta1,
            beta2: adam.beta2,
            eps: adam.eps,
            weight_decay: spec.weight_decay,
            decay_bias_and_norm: false,
        },
        groups,
        max_grad_norm: Some(spec.max_grad_norm),
        seed,
        cancel,
        progress,
        dev: None,
    }
}
