//! A foreign `config.json`'s sizes checked against the weights and the memory before anything
//! is allocated from them: an absurd `vocab_size` or `num_hidden_layers` would otherwise make the
//! loader allocate (and abort on) tensors of that size before it ever compares shapes.

use std::path::Path;

use crate::checkpoint::Checkpoint;
use crate::config::{EncoderConfig, ModelFamily};
use crate::error::ModelError;

/// Each size key the weights can tell must match them, and the parameters the config implies
/// must be about what the weights hold and fit in the available memory.
pub(crate) fn check_sizes(
    config: &EncoderConfig,
    checkpoint: &Checkpoint,
    config_file: &Path,
) -> Result<(), ModelError> {
    let wrong = |key: &str, value: usize, found: String| ModelError::ConfigKey {
        file: config_file.to_path_buf(),
        key: key.into(),
        message: format!("{value} does not match the weights: {found}"),
    };
    let shape_of = |suffix: &str| {
        checkpoint
            .names()
            .find(|n| n.ends_with(suffix))
            .and_then(|n| {
                checkpoint
                    .entry(n)
                    .map(|e| (n.to_string(), e.shape.clone()))
            })
    };
    if let Some((name, shape)) = shape_of("embeddings.word_embeddings.weight") {
        if shape.first() != Some(&config.vocab_size) {
            return Err(wrong(
                "vocab_size",
                config.vocab_size,
                format!("{name} is {shape:?}"),
            ));
        }
        let width_key = match config.family {
            ModelFamily::Electra => "embedding_size",
            _ => "hidden_size",
        };
        if shape.get(1) != Some(&config.embedding_size) {
            return Err(wrong(
                width_key,
                config.embedding_size,
                format!("{name} is {shape:?}"),
            ));
        }
    }
    if let Some((name, shape)) = shape_of("embeddings.position_embeddings.weight") {
        if shape.first() != Some(&config.max_position_embeddings) {
            return Err(wrong(
                "max_position_embeddings",
                config.max_position_embeddings,
                format!("{name} is {shape:?}"),
            ));
        }
    }
    let layers = checkpoint
        .names()
        .filter_map(layer_index)
        .max()
        .map(|i| i + 1);
    if let Some(layers) = layers.filter(|&n| config.num_hidden_layers > n) {
        return Err(wrong(
            "num_hidden_layers",
            config.num_hidden_layers,
            format!("the weights hold {layers} layers"),
        ));
    }
    if let Some((name, shape)) = shape_of("layer.0.intermediate.dense.weight") {
        if shape.first() != Some(&config.intermediate_size) {
            return Err(wrong(
                "intermediate_size",
                config.intermediate_size,
                format!("{name} is {shape:?}"),
            ));
        }
        if shape.get(1) != Some(&config.hidden_size) {
            return Err(wrong(
                "hidden_size",
                config.hidden_size,
                format!("{name} is {shape:?}"),
            ));
        }
    }
    let implied = config.parameter_count();
    let held: u64 = checkpoint
        .names()
        .filter_map(|n| checkpoint.entry(n))
        .map(|e| e.shape.iter().map(|&d| d as u64).product::<u64>())
        .sum();
    // The config's count includes a head's dense layer the weights may lack: allow for it.
    let head = (config.hidden_size as u64).saturating_mul(config.hidden_size as u64 + 1);
    if implied > held.saturating_mul(2).saturating_add(head) {
        return Err(ModelError::Config {
            file: config_file.to_path_buf(),
            message: format!(
                "its sizes imply {implied} parameters but the weights hold {held} (hidden_size \
                 {}, intermediate_size {}, num_hidden_layers {}, vocab_size {}, \
                 max_position_embeddings {}): one of them is wrong",
                config.hidden_size,
                config.intermediate_size,
                config.num_hidden_layers,
                config.vocab_size,
                config.max_position_embeddings
            ),
        });
    }
    let bytes = implied.saturating_mul(4);
    if let Some(available) = available_memory() {
        if bytes > available {
            return Err(ModelError::Config {
                file: config_file.to_path_buf(),
                message: format!(
                    "the model needs {:.1} GiB for its f32 parameters alone but {:.1} GiB of \
                     memory is available",
                    gib(bytes),
                    gib(available)
                ),
            });
        }
    }
    Ok(())
}

/// `i` of a tensor name with `layer.<i>.` (ModernBERT: `layers.<i>.`) in it.
fn layer_index(name: &str) -> Option<usize> {
    let (_, rest) = name
        .split_once("layer.")
        .or_else(|| name.split_once("layers."))?;
    let digits = rest.split('.').next()?;
    digits.parse().ok()
}

/// `MemAvailable` of /proc/meminfo (Linux); `None` where it cannot be read.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_indices_are_read_from_names() {
        assert_eq!(
            layer_index("roberta.encoder.layer.11.output.dense.weight"),
            Some(11)
        );
        assert_eq!(layer_index("model.layers.21.mlp.Wi.weight"), Some(21));
        assert_eq!(layer_index("embeddings.LayerNorm.weight"), None);
        assert_eq!(layer_index("encoder.layer.x.y"), None);
    }

    #[test]
    fn memory_is_known_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(available_memory().is_some_and(|m| m > 0));
        }
    }
}
