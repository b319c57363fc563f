//! Turning tokenized batches and labels into tensors on a device.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use dmlft_data::EncodedBatch;

/// Input tensors of one batch, `[batch, seq]` each.
pub struct BatchTensors<B: Backend> {
    pub input_ids: Tensor<B, 2, Int>,
    pub attention_mask: Tensor<B, 2, Int>,
    pub token_type_ids: Tensor<B, 2, Int>,
}

fn int_matrix<B: Backend>(
    values: &[u32],
    rows: usize,
    cols: usize,
    device: &B::Device,
) -> Tensor<B, 2, Int> {
    let data: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

impl<B: Backend> BatchTensors<B> {
    pub fn new(batch: &EncodedBatch, device: &B::Device) -> Self {
        let (b, t) = (batch.batch_size, batch.seq_len);
        Self {
            input_ids: int_matrix(&batch.input_ids, b, t, device),
            attention_mask: int_matrix(&batch.attention_mask, b, t, device),
            token_type_ids: int_matrix(&batch.token_type_ids, b, t, device),
        }
    }
}

/// Labels `[batch]` as an Int tensor.
pub fn label_tensor<B: Backend>(labels: &[usize], device: &B::Device) -> Tensor<B, 1, Int> {
    let data: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(data, [labels.len()]), device)
}
