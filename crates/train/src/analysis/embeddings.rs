//! Sentence embeddings (first token and mean over non-padding tokens) and head predictions of a
//! model over a list of examples: batched, length-sorted, returned in the examples' order.
//! Call it with a backend without autodiff (the inner backend, or a model after `.valid()`), so
//! that no graph is recorded.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use dmlft_data::{BatchPlan, Example, TextTokenizer};
use dmlft_eval::analysis::outputs::{LossProxies, ModelOutputs, ModelProxies, NamedOutputs};
use dmlft_eval::scores::{argmax, softmax};
use dmlft_model::{first_token, mean_pool, SequenceClassifier};
use dmlft_pooling::Pooling;

use crate::error::TrainError;
use crate::forward::classify;
use crate::saved_model::SavedModel;
use crate::tensors::BatchTensors;

fn rows<B: Backend>(t: Tensor<B, 2>) -> (usize, Vec<f32>) {
    let [_, c] = t.dims();
    (c, t.into_data().iter::<f32>().collect())
}

/// Embeds and classifies `examples` with `pooling` feeding the head.
pub fn compute_outputs<B: Backend>(
    model: &SequenceClassifier<B>,
    pooling: Pooling,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    max_length: usize,
    batch_size: usize,
    device: &B::Device,
) -> Result<ModelOutputs, TrainError> {
    if examples.is_empty() {
        return Err(TrainError::InvalidSetting {
            key: "examples".into(),
            value: "none".into(),
            valid: "at least one example to embed".into(),
        });
    }
    let lengths = tokenizer.token_lengths(examples)?;
    let plan = BatchPlan::length_sorted(&lengths, batch_size);
    let dim = model.config().hidden_size;
    let (mut first, mut mean, mut logits) = (Vec::new(), Vec::new(), Vec::new());
    for batch in &plan.batches {
        let items: Vec<Example> = batch.iter().map(|&i| examples[i].clone()).collect();
        let encoded = tokenizer.encode(&items, max_length)?;
        let out = classify(model, BatchTensors::<B>::new(&encoded, device), pooling);
        let (_, f) = rows(first_token(&out.token_states));
        let (_, m) = rows(mean_pool(&out.token_states, &out.attention_mask));
        let (c, l) = rows(out.logits);
        first.extend(f.chunks(dim).map(<[f32]>::to_vec));
        mean.extend(m.chunks(dim).map(<[f32]>::to_vec));
        logits.extend(
            l.chunks(c)
                .map(|r| r.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>()),
        );
    }
    let logits = plan.restore(logits);
    let probabilities: Vec<Vec<f64>> = logits.iter().map(|l| softmax(l)).collect();
    let predicted = probabilities.iter().map(|p| argmax(p)).collect();
    Ok(ModelOutputs {
        n: examples.len(),
        dim,
        first: plan.restore(first).concat(),
        mean: plan.restore(mean).concat(),
        probabilities,
        predicted,
    })
}

/// Loads a saved model on `device` and computes its outputs on `examples`.
pub fn outputs_of_saved<B: Backend>(
    name: &str,
    saved: &SavedModel,
    examples: &[Example],
    max_length: usize,
    batch_size: usize,
    device: &B::Device,
) -> Result<NamedOutputs, TrainError> {
    let model = saved.load::<B>(device)?;
    let tokenizer = saved.tokenizer()?;
    let outputs = compute_outputs(
        &model,
        saved.head_pooling,
        &tokenizer,
        examples,
        max_length,
        batch_size,
        device,
    )?;
    Ok(NamedOutputs {
        name: name.to_string(),
        head_input: saved.head_pooling,
        outputs,
        proxies: loss_proxies::<B>(saved, device)?,
    })
}

/// The class representatives of the saved loss (the term proxy inference uses), or why there are
/// none; an unreadable `loss.safetensors` is an error.
pub fn loss_proxies<B: Backend>(
    saved: &SavedModel,
    device: &B::Device,
) -> Result<ModelProxies, TrainError> {
    let Some(manifest) = &saved.loss else {
        return Ok(ModelProxies::Missing(format!(
            "{} holds no loss parameters (no {}: saved by an older dmlft, or not by dmlft)",
            saved.dir.display(),
            crate::saved_model::loss::LOSS_MANIFEST_FILE
        )));
    };
    if !manifest.has_proxies() {
        return Ok(ModelProxies::Missing(format!(
            "loss `{}` has no proxy-based term",
            manifest.loss_name
        )));
    }
    let objective = saved.load_objective::<B>(device)?;
    let Some((term, rows, classes)) = objective.class_proxies() else {
        return Ok(ModelProxies::Missing(format!(
            "loss `{}` has no proxy-based term",
            manifest.loss_name
        )));
    };
    let [n, dim] = rows.dims();
    let per_class = n / manifest.num_classes.max(1);
    Ok(ModelProxies::Loaded(LossProxies {
        source: format!(
            "{term} of `{}`, {per_class} per class ({n} in all)",
            manifest.loss_name
        ),
        dim,
        rows: rows.into_data().iter::<f32>().collect(),
        classes,
    }))
}
