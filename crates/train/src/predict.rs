//! Batched, length-sorted inference without gradients: head logits, when the objective has
//! proxies the proxy class scores of the head's sentence vector, and when asked the sentence
//! vectors themselves (for the kNN and centroid modes), in the examples' order.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use dmlft_data::{BatchPlan, Example, TextTokenizer};
use dmlft_losses::Objective;
use dmlft_model::SequenceClassifier;
use dmlft_pooling::Pooling;

use crate::error::TrainError;
use crate::forward::classify;
use crate::progress::{EventSink, Phase, Progress};
use crate::tensors::BatchTensors;

/// Raw scores per example, `[n][classes]`.
#[derive(Debug, Clone, Default)]
pub struct Predictions {
    pub logits: Vec<Vec<f32>>,
    pub proxy_scores: Option<Vec<Vec<f32>>>,
    /// The sentence vectors the head read, `[n][hidden]`, when asked for
    /// ([`EvalInputs::sentences`]): what the kNN and centroid modes compare.
    pub sentences: Option<Vec<Vec<f32>>>,
}

fn rows<B: Backend>(t: Tensor<B, 2>) -> Vec<Vec<f32>> {
    let [n, c] = t.dims();
    let flat: Vec<f32> = t.into_data().iter::<f32>().collect();
    (0..n).map(|i| flat[i * c..(i + 1) * c].to_vec()).collect()
}

/// How examples are turned into model inputs at evaluation time.
#[derive(Clone, Copy)]
pub struct EvalInputs<'a> {
    pub tokenizer: &'a TextTokenizer,
    pub max_length: usize,
    pub head_pooling: Pooling,
    pub batch_size: usize,
    /// Keep the sentence vectors ([`Predictions::sentences`]).
    pub sentences: bool,
    /// Where evaluation events go; `None` = a terminal bar.
    pub progress: Option<EventSink<'a>>,
}

/// Head logits and, when `objective` has proxies, proxy class scores of `examples`.
pub fn predict<B: Backend>(
    model: &SequenceClassifier<B>,
    objective: Option<&Objective<B>>,
    examples: &[Example],
    inputs: &EvalInputs<'_>,
    device: &B::Device,
) -> Result<Predictions, TrainError> {
    let EvalInputs {
        tokenizer,
        max_length,
        head_pooling,
        batch_size,
        sentences: keep_sentences,
        progress,
    } = *inputs;
    let lengths = tokenizer.token_lengths(examples)?;
    let plan = BatchPlan::length_sorted(&lengths, batch_size);
    let progress = Progress::new(Phase::Eval, examples.len() as u64, progress);
    let mut done = 0;
    let mut logits = Vec::with_capacity(examples.len());
    let mut proxy: Vec<Vec<f32>> = Vec::new();
    let mut sentences: Vec<Vec<f32>> = Vec::new();
    let mut has_proxy = objective.is_some();
    for batch in &plan.batches {
        let items: Vec<Example> = batch.iter().map(|&i| examples[i].clone()).collect();
        let encoded = tokenizer.encode(&items, max_length)?;
        let x = BatchTensors::<B>::new(&encoded, device);
        let out = classify(model, x, head_pooling);
        if keep_sentences {
            sentences.extend(rows(out.sentence.clone()));
        }
        if has_proxy {
            match objective.and_then(|o| o.class_scores(out.sentence)) {
                Some(scores) => proxy.extend(rows(scores)),
                None => has_proxy = false,
            }
        }
        logits.extend(rows(out.logits));
        done += batch.len();
        progress.evaluated(done, examples.len());
    }
    progress.finish();
    Ok(Predictions {
        logits: plan.restore(logits),
        proxy_scores: has_proxy.then(|| plan.restore(proxy)),
        sentences: keep_sentences.then(|| plan.restore(sentences)),
    })
}
