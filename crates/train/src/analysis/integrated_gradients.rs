//! Integrated Gradients (Sundararajan et al. 2017) on the input word embeddings.
//!
//! For input word embeddings `x` (`[T, H]`), a baseline `x'` and the logit `F_c` of class `c`:
//! `IG_t = sum_h (x - x')_{t,h} * integral_0^1 dF_c(x' + a (x - x')) / dx_{t,h} da`, one number
//! per token. The integral is approximated by a Riemann sum over `steps` points
//! ([`riemann_points`]): exact for a linear path function, O(1/m^2) error for a smooth one.
//! Completeness (`sum_t IG_t = F_c(x) - F_c(x')`) therefore holds up to that error, which every
//! result reports ([`Attributions::completeness_error`]).
//!
//! Only the word embeddings move along the path: position and token-type embeddings, the
//! attention mask and (for RoBERTa) the position ids stay those of the real input, so the
//! baseline is "the same sentence with every word replaced". Baselines: the embedding of the pad
//! token at every position ([`Baseline::Pad`], the default) or zeros ([`Baseline::Zero`]).
//! The attributed quantity is the head's logit (not the probability), for the predicted class
//! or a chosen one. Interpolation points are evaluated `batch` at a time as one batch.

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_data::{Example, TextTokenizer};
use dmlft_eval::analysis::attribution::{riemann_points, Attributions, Baseline, IgConfig};
use dmlft_eval::scores::{argmax, softmax};
use dmlft_model::{pool, SequenceClassifier};
use dmlft_pooling::Pooling;

use crate::error::TrainError;

fn setting(key: &str, value: impl ToString, valid: impl Into<String>) -> TrainError {
    TrainError::InvalidSetting {
        key: key.into(),
        value: value.to_string(),
        valid: valid.into(),
    }
}

/// The head's logits from word embeddings, with the head reading `pooling`'s sentence vector.
pub(crate) fn logits_from_word_embeddings<B: Backend>(
    model: &SequenceClassifier<B>,
    words: Tensor<B, 3>,
    input_ids: &Tensor<B, 2, Int>,
    attention_mask: Tensor<B, 2, Int>,
    token_type_ids: Tensor<B, 2, Int>,
    pooling: Pooling,
) -> Tensor<B, 2> {
    let states = model.encoder.forward_from_word_embeddings(
        words,
        input_ids,
        attention_mask.clone(),
        token_type_ids,
    );
    let sentence = pool(pooling, &states, &attention_mask);
    model.head.forward(sentence)
}

fn int_rows<B: Backend>(row: &[u32], rows: usize, device: &B::Device) -> Tensor<B, 2, Int> {
    let data: Vec<i64> = (0..rows)
        .flat_map(|_| row.iter().map(|&v| v as i64))
        .collect();
    Tensor::from_data(TensorData::new(data, [rows, row.len()]), device)
}

fn values(t: Tensor<impl Backend, 1>) -> Vec<f64> {
    t.into_data().iter::<f32>().map(f64::from).collect()
}

/// Integrated Gradients for one unpadded token sequence (`token_ids`, `token_type_ids`).
/// `model` must have been loaded with dropout 0 (see [`crate::saved_model::SavedModel::load`]), otherwise the
/// autodiff backend applies dropout and the attributions are noise.
pub fn integrated_gradients<B: AutodiffBackend>(
    model: &SequenceClassifier<B>,
    pooling: Pooling,
    token_ids: &[u32],
    token_type_ids: &[u32],
    pad_id: u32,
    config: &IgConfig,
    device: &B::Device,
) -> Result<Attributions, TrainError> {
    if config.steps == 0 {
        return Err(setting("steps", 0, "at least 1"));
    }
    if config.batch == 0 {
        return Err(setting("batch", 0, "at least 1"));
    }
    if token_ids.is_empty() || token_ids.len() != token_type_ids.len() {
        return Err(setting(
            "token_ids",
            format!(
                "{} ids, {} token types",
                token_ids.len(),
                token_type_ids.len()
            ),
            "a non-empty sequence with one token type per id",
        ));
    }
    let num_labels = model.num_labels();
    if let Some(t) = config.target.filter(|&t| t >= num_labels) {
        return Err(setting(
            "class",
            t,
            format!("a class index in 0..{num_labels}"),
        ));
    }
    let len = token_ids.len();
    let hidden = model.config().hidden_size;
    let ones = vec![1u32; len];
    let ids1 = int_rows::<B>(token_ids, 1, device);
    let embed = |ids: Tensor<B, 2, Int>| model.encoder.embeddings.word_embeddings(ids).inner();
    let x = embed(ids1.clone());
    let x_base = match config.baseline {
        Baseline::Pad => embed(int_rows::<B>(&vec![pad_id; len], 1, device)),
        Baseline::Zero => x.zeros_like(),
    };
    let diff = x.clone() - x_base.clone();

    // Logits at the input and at the baseline, with the same ids, mask and token types.
    let ends = Tensor::<B::InnerBackend, 3>::cat(vec![x, x_base.clone()], 0);
    let end_logits = logits_from_word_embeddings(
        model,
        Tensor::from_inner(ends),
        &int_rows::<B>(token_ids, 2, device),
        int_rows::<B>(&ones, 2, device),
        int_rows::<B>(token_type_ids, 2, device),
        pooling,
    )
    .inner();
    let at_input = values(end_logits.clone().narrow(0, 0, 1).reshape([num_labels]));
    let at_baseline = values(end_logits.narrow(0, 1, 1).reshape([num_labels]));
    let predicted = argmax(&at_input);
    let target = config.target.unwrap_or(predicted);

    let points = riemann_points(config.rule, config.steps);
    let mut grad_sum = Tensor::<B::InnerBackend, 3>::zeros([1, len, hidden], device);
    for chunk in points.chunks(config.batch) {
        let rows = chunk.len();
        let alphas: Vec<f32> = chunk.iter().map(|&(a, _)| a as f32).collect();
        let weights: Vec<f32> = chunk.iter().map(|&(_, w)| w as f32).collect();
        let alpha =
            Tensor::<B::InnerBackend, 3>::from_data(TensorData::new(alphas, [rows, 1, 1]), device);
        let path = x_base.clone().expand([rows, len, hidden])
            + diff.clone().expand([rows, len, hidden]) * alpha;
        let words = Tensor::<B, 3>::from_inner(path).require_grad();
        let logits = logits_from_word_embeddings(
            model,
            words.clone(),
            &int_rows::<B>(token_ids, rows, device),
            int_rows::<B>(&ones, rows, device),
            int_rows::<B>(token_type_ids, rows, device),
            pooling,
        );
        // Weighting the outputs makes each row's gradient already carry its Riemann weight.
        let weight = Tensor::<B, 2>::from_data(TensorData::new(weights, [rows, 1]), device);
        let objective = (logits.narrow(1, target, 1) * weight).sum();
        let grads = objective.backward();
        let grad = words.grad(&grads).ok_or_else(|| {
            setting(
                "backend",
                "no gradient for the word embeddings",
                "an autodiff backend",
            )
        })?;
        grad_sum = grad_sum + grad.sum_dim(0);
    }
    let attributions = values((grad_sum * diff).sum_dim(2).reshape([len]));
    let (logit, baseline_logit) = (at_input[target], at_baseline[target]);
    let total: f64 = attributions.iter().sum();
    Ok(Attributions {
        token_ids: token_ids.to_vec(),
        completeness_error: total - (logit - baseline_logit),
        attributions,
        target,
        predicted,
        probabilities: softmax(&at_input),
        logit,
        baseline_logit,
        steps: config.steps,
    })
}

/// Integrated Gradients for each example (tokenized alone, so without padding).
pub fn explain_examples<B: AutodiffBackend>(
    model: &SequenceClassifier<B>,
    pooling: Pooling,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    max_length: usize,
    config: &IgConfig,
    device: &B::Device,
) -> Result<Vec<Attributions>, TrainError> {
    examples
        .iter()
        .map(|example| {
            let encoded = tokenizer.encode(std::slice::from_ref(example), max_length)?;
            integrated_gradients(
                model,
                pooling,
                &encoded.input_ids,
                &encoded.token_type_ids,
                tokenizer.pad_id(),
                config,
                device,
            )
        })
        .collect()
}
