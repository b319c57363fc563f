//! Integrated Gradients (Sundararajan et al. 2017) on the input word embeddings.
//!
//! For input word embeddings `x` (`[T, H]`), a baseline `x'` and the logit `F_c` of class `c`:
//! `IG_t = sum_h (x - x')_{t,h} * integral_0^1 dF_c(x' + a (x - x')) / dx_{t,h} da`, one number
//! per token. The integral is approximated by a Riemann sum over `steps` points:
//!
//! - [`RiemannRule::Midpoint`] (default): `a_k = (k + 1/2) / m`, `k = 0..m`, weights `1/m`;
//! - [`RiemannRule::Trapezoid`]: `a_k = k / m`, `k = 0..=m`, weights `1/m`, halved at both ends
//!   (`m + 1` gradient evaluations).
//!
//! Both are exact for a linear path function and err by O(1/m^2) for a smooth one.
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
use dmlft_model::spec::HeadPooling;
use dmlft_model::{first_token, mean_pool, SequenceClassifier};
use serde::{Deserialize, Serialize};

use super::error::AnalysisError;

/// How the path integral is approximated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiemannRule {
    #[default]
    Midpoint,
    Trapezoid,
}

/// The input the path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    /// The pad token's word embedding at every position.
    #[default]
    Pad,
    /// All-zero word embeddings.
    Zero,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IgConfig {
    /// Number of Riemann intervals (>= 1).
    pub steps: usize,
    pub rule: RiemannRule,
    pub baseline: Baseline,
    /// Class whose logit is attributed; `None` = the head's predicted class.
    pub target: Option<usize>,
    /// Interpolation points per forward/backward batch (>= 1).
    pub batch: usize,
}

impl Default for IgConfig {
    fn default() -> Self {
        Self {
            steps: 50,
            rule: RiemannRule::Midpoint,
            baseline: Baseline::Pad,
            target: None,
            batch: 16,
        }
    }
}

/// Attributions of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attributions {
    pub token_ids: Vec<u32>,
    /// One per token (special tokens included).
    pub attributions: Vec<f64>,
    /// The class whose logit was attributed.
    pub target: usize,
    /// argmax of the head's logits at the input.
    pub predicted: usize,
    /// Softmax of the head's logits at the input.
    pub probabilities: Vec<f64>,
    /// `F_target(x)`.
    pub logit: f64,
    /// `F_target(x')`.
    pub baseline_logit: f64,
    /// `sum(attributions) - (logit - baseline_logit)`.
    pub completeness_error: f64,
    pub steps: usize,
}

/// The head's logits from word embeddings, with the head reading `pooling`'s sentence vector.
pub fn logits_from_word_embeddings<B: Backend>(
    model: &SequenceClassifier<B>,
    words: Tensor<B, 3>,
    input_ids: &Tensor<B, 2, Int>,
    attention_mask: Tensor<B, 2, Int>,
    token_type_ids: Tensor<B, 2, Int>,
    pooling: HeadPooling,
) -> Tensor<B, 2> {
    let states = model.encoder.forward_from_word_embeddings(
        words,
        input_ids,
        attention_mask.clone(),
        token_type_ids,
    );
    let sentence = match pooling {
        HeadPooling::First => first_token(&states),
        HeadPooling::Mean => mean_pool(&states, &attention_mask),
    };
    model.head.forward(sentence)
}

/// Interpolation coefficients and their weights for `steps` intervals.
pub fn riemann_points(rule: RiemannRule, steps: usize) -> Vec<(f64, f64)> {
    let m = steps as f64;
    match rule {
        RiemannRule::Midpoint => (0..steps)
            .map(|k| ((k as f64 + 0.5) / m, 1.0 / m))
            .collect(),
        RiemannRule::Trapezoid => (0..=steps)
            .map(|k| {
                let w = if k == 0 || k == steps {
                    0.5 / m
                } else {
                    1.0 / m
                };
                (k as f64 / m, w)
            })
            .collect(),
    }
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
/// `model` must have been loaded with dropout 0 (see [`super::SavedModel::load`]), otherwise the
/// autodiff backend applies dropout and the attributions are noise.
pub fn integrated_gradients<B: AutodiffBackend>(
    model: &SequenceClassifier<B>,
    pooling: HeadPooling,
    token_ids: &[u32],
    token_type_ids: &[u32],
    pad_id: u32,
    config: &IgConfig,
    device: &B::Device,
) -> Result<Attributions, AnalysisError> {
    if config.steps == 0 {
        return Err(AnalysisError::setting("steps", 0, "at least 1"));
    }
    if config.batch == 0 {
        return Err(AnalysisError::setting("batch", 0, "at least 1"));
    }
    if token_ids.is_empty() || token_ids.len() != token_type_ids.len() {
        return Err(AnalysisError::setting(
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
        return Err(AnalysisError::setting(
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
            AnalysisError::setting(
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
    pooling: HeadPooling,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    max_length: usize,
    config: &IgConfig,
    device: &B::Device,
) -> Result<Vec<Attributions>, AnalysisError> {
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

fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}

/// Softmax in f64 (max-shifted).
pub fn softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = logits.iter().map(|&l| (l - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riemann_weights_sum_to_one_and_points_lie_in_the_unit_interval() {
        for rule in [RiemannRule::Midpoint, RiemannRule::Trapezoid] {
            for steps in [1, 2, 7, 50] {
                let points = riemann_points(rule, steps);
                let total: f64 = points.iter().map(|p| p.1).sum();
                assert!((total - 1.0).abs() < 1e-12, "{rule:?} {steps}: {total}");
                assert!(points.iter().all(|p| (0.0..=1.0).contains(&p.0)));
            }
        }
        assert_eq!(
            riemann_points(RiemannRule::Midpoint, 2),
            vec![(0.25, 0.5), (0.75, 0.5)]
        );
        assert_eq!(
            riemann_points(RiemannRule::Trapezoid, 2),
            vec![(0.0, 0.25), (0.5, 0.5), (1.0, 0.25)]
        );
    }

    #[test]
    fn softmax_and_argmax() {
        let p = softmax(&[1.0, 3.0, 2.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(argmax(&[1.0, 3.0, 2.0]), 1);
        assert!(p[1] > p[2] && p[2] > p[0]);
    }
}
