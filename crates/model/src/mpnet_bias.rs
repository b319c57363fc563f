//! MPNet's relative position bias: one learned value per (bucket, head), where the bucket of a
//! (query, key) pair depends on `key - query` (exact for short distances, log-spaced up to 128,
//! separate buckets for each direction). The encoder computes it once per forward pass and every
//! layer adds it to its attention scores (transformers' `MPNetEncoder.compute_position_bias`).

use burn::nn::Embedding;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

/// Buckets the distances are sorted into. transformers passes its default of 32 whatever the
/// config's `relative_attention_num_buckets` says (that only sizes the table).
pub const BUCKETS: usize = 32;
/// Distances from here on share the last bucket of their direction.
const MAX_DISTANCE: f32 = 128.0;

/// The bucket of a key `relative` positions after the query (negative: before), as transformers'
/// `relative_position_bucket` computes it, in f32 as torch does so the log-spaced boundaries
/// fall on the same distances.
pub fn bucket(relative: i64) -> usize {
    let half = BUCKETS / 2;
    let max_exact = half / 2;
    // transformers works on n = -relative: keys after the query get the upper half.
    let n = -relative;
    let direction = if n < 0 { half } else { 0 };
    let distance = n.unsigned_abs() as usize;
    if distance < max_exact {
        return direction + distance;
    }
    let ratio = (distance as f32 / max_exact as f32).ln()
        / (f64::from(MAX_DISTANCE) / max_exact as f64).ln() as f32;
    let log_spaced = max_exact + (ratio * (half - max_exact) as f32) as usize;
    direction + log_spaced.min(half - 1)
}

/// `[1, heads, seq, seq]`: the bias of each head for query row, key column.
pub fn position_bias<B: Backend>(table: &Embedding<B>, seq: usize) -> Tensor<B, 4> {
    let buckets: Vec<i64> = (0..seq as i64)
        .flat_map(|query| (0..seq as i64).map(move |key| bucket(key - query) as i64))
        .collect();
    let ids = Tensor::<B, 2, Int>::from_data(
        TensorData::new(buckets, [seq, seq]),
        &table.weight.device(),
    );
    // [query, key, heads] -> [heads, query, key]
    table.forward(ids).permute([2, 0, 1]).unsqueeze_dim(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_transformers() {
        // Values of transformers' MPNetEncoder.relative_position_bucket (num_buckets=32,
        // max_distance=128) for these relative positions (key - query).
        let cases = [
            (0, 0),
            (-1, 1),
            (-7, 7),
            (-8, 8),
            (-11, 8),
            (-12, 9),
            (-15, 9),
            (-16, 10),
            (-31, 11),
            (-32, 12),
            (-64, 14),
            (-127, 15),
            (-1000, 15),
            (1, 17),
            (7, 23),
            (8, 24),
            (16, 26),
            (1000, 31),
        ];
        for (relative, expected) in cases {
            assert_eq!(bucket(relative), expected, "relative position {relative}");
        }
    }
}
