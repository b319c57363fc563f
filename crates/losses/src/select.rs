//! Which rows a DML term sees: token states `[B, T, H]` and the attention mask `[B, T]` become
//! embeddings `[N, H]` with each row labelled by its sentence's label.

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::error::LossError;
use crate::numerics::{host_ints, int_tensor};
use dmlft_pooling::Pooling;

use crate::spec::EmbeddingSelection;

/// `(embeddings [N, H], labels [N])` for `selection`.
pub fn select_embeddings<B: Backend>(
    selection: EmbeddingSelection,
    token_states: Tensor<B, 3>,
    attention_mask: Tensor<B, 2, Int>,
    labels: Tensor<B, 1, Int>,
) -> Result<(Tensor<B, 2>, Tensor<B, 1, Int>), LossError> {
    let [b, t, h] = token_states.dims();
    if attention_mask.dims() != [b, t] {
        return Err(LossError::Shape(format!(
            "attention mask {:?} does not match token states [{b}, {t}, {h}]",
            attention_mask.dims()
        )));
    }
    if labels.dims()[0] != b {
        return Err(LossError::Shape(format!(
            "{} labels for a batch of {b}",
            labels.dims()[0]
        )));
    }
    let device = token_states.device();
    Ok(match selection {
        EmbeddingSelection::AllTokens => {
            // Row b*T + t is token t of sentence b: the label repeats T times.
            let rows = labels.reshape([b, 1]).expand([b, t]).reshape([b * t]);
            (token_states.reshape([b * t, h]), rows)
        }
        EmbeddingSelection::AllTokensDmlBertLabels => {
            // dml_bert wrote `flatten_labels[idx] = label` with idx in 0..T for every sentence
            // into a tensor of ones: rows 0..T end with the last sentence's label, the rest 1.
            let label_host = host_ints(&labels);
            let last = *label_host.last().unwrap_or(&1);
            let rows: Vec<i64> = (0..b * t).map(|i| if i < t { last } else { 1 }).collect();
            (
                token_states.reshape([b * t, h]),
                int_tensor::<B>(&rows, &device),
            )
        }
        EmbeddingSelection::Pooled(Pooling::First) => {
            (token_states.slice([0..b, 0..1]).reshape([b, h]), labels)
        }
        EmbeddingSelection::Pooled(Pooling::Mean) => {
            let mask = attention_mask.float().reshape([b, t, 1]);
            let count = mask.clone().sum_dim(1).clamp_min(1.0);
            (
                (token_states * mask).sum_dim(1).div(count).reshape([b, h]),
                labels,
            )
        }
        EmbeddingSelection::NonPadTokens => {
            let mask = host_ints(&attention_mask);
            let keep: Vec<i64> = (0..(b * t) as i64)
                .filter(|&i| mask[i as usize] != 0)
                .collect();
            let label_host = host_ints(&labels);
            let keep_labels: Vec<i64> = keep.iter().map(|&i| label_host[i as usize / t]).collect();
            let idx = int_tensor::<B>(&keep, &device);
            (
                token_states.reshape([b * t, h]).select(0, idx),
                int_tensor::<B>(&keep_labels, &device),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dml_bert_labels_reproduce_the_authors_loop() {
        let (s, m, _) = batch();
        let device = Default::default();
        let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(vec![0i64, 0], [2]), &device);
        let (e, l) =
            select_embeddings(EmbeddingSelection::AllTokensDmlBertLabels, s, m, labels).unwrap();
        assert_eq!(e.dims(), [6, 2]);
        // T = 3 rows of the last label (0), then label 1 for the other 3 rows.
        assert_eq!(host_ints(&l), vec![0, 0, 0, 1, 1, 1]);
    }
    use crate::numerics::host_floats;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray<f32>;

    /// Batch of 2 sentences, 3 tokens, hidden 2; token (b, t) = [10b + t, -(10b + t)];
    /// sentence 0 has 2 real tokens, sentence 1 has 1.
    fn batch() -> (Tensor<B, 3>, Tensor<B, 2, Int>, Tensor<B, 1, Int>) {
        let device = Default::default();
        let values: Vec<f32> = (0..2)
            .flat_map(|b| (0..3).flat_map(move |t| [(10 * b + t) as f32, -((10 * b + t) as f32)]))
            .collect();
        let states = Tensor::from_data(TensorData::new(values, [2, 3, 2]), &device);
        let mask = Tensor::from_data(TensorData::new(vec![1i64, 1, 0, 1, 0, 0], [2, 3]), &device);
        let labels = Tensor::from_data(TensorData::new(vec![4i64, 7], [2]), &device);
        (states, mask, labels)
    }

    #[test]
    fn all_tokens_repeats_labels_and_keeps_padding() {
        let (s, m, l) = batch();
        let (e, l) = select_embeddings(EmbeddingSelection::AllTokens, s, m, l).unwrap();
        assert_eq!(e.dims(), [6, 2]);
        assert_eq!(host_ints(&l), vec![4, 4, 4, 7, 7, 7]);
        assert_eq!(host_floats(&e)[..4], [0.0, -0.0, 1.0, -1.0]);
    }

    #[test]
    fn non_pad_tokens_drop_padding() {
        let (s, m, l) = batch();
        let (e, l) = select_embeddings(EmbeddingSelection::NonPadTokens, s, m, l).unwrap();
        assert_eq!(host_ints(&l), vec![4, 4, 7]);
        assert_eq!(host_floats(&e), vec![0.0, -0.0, 1.0, -1.0, 10.0, -10.0]);
    }

    #[test]
    fn first_and_mean_tokens() {
        let (s, m, l) = batch();
        let (e, _) = select_embeddings(
            EmbeddingSelection::Pooled(Pooling::First),
            s.clone(),
            m.clone(),
            l.clone(),
        )
        .unwrap();
        assert_eq!(host_floats(&e), vec![0.0, -0.0, 10.0, -10.0]);
        let (e, l) = select_embeddings(EmbeddingSelection::Pooled(Pooling::Mean), s, m, l).unwrap();
        assert_eq!(host_floats(&e), vec![0.5, -0.5, 10.0, -10.0]);
        assert_eq!(host_ints(&l), vec![4, 7]);
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let (s, _, l) = batch();
        let bad_mask = Tensor::<B, 2, Int>::ones([2, 4], &Default::default());
        assert!(matches!(
            select_embeddings(EmbeddingSelection::AllTokens, s, bad_mask, l),
            Err(LossError::Shape(_))
        ));
    }
}
