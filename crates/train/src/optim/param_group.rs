//! Which parameter group a parameter belongs to, decided from its module path.
//!
//! The trainer optimises one module, [`crate::Trainable`], whose top-level fields are `model`
//! (with `encoder` and `head`) and `objective` (loss parameters: proxies, centers). The path of a
//! parameter therefore says its group; its last components say whether it is a bias or a norm.

/// The three learning-rate groups a researcher can tune separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamGroup {
    Encoder,
    Head,
    Loss,
}

impl ParamGroup {
    /// Group of a parameter from its module path (components from the root module down).
    pub fn of_path(path: &[String]) -> Self {
        match (
            path.first().map(String::as_str),
            path.get(1).map(String::as_str),
        ) {
            (Some("objective"), _) => ParamGroup::Loss,
            (Some("model"), Some("head")) => ParamGroup::Head,
            _ => ParamGroup::Encoder,
        }
    }
}

/// Whether a parameter is a bias or belongs to a normalisation layer: the parameters that common
/// practice (and transformers' examples) exclude from weight decay. The last path component is
/// the parameter's own field name (burn's derive enters it like a submodule).
pub fn is_bias_or_norm(path: &[String]) -> bool {
    let is_norm = path.iter().any(|c| c.to_ascii_lowercase().contains("norm"));
    let is_bias = matches!(path.last().map(String::as_str), Some("bias") | Some("beta"));
    is_norm || is_bias
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn groups_follow_the_top_level_fields() {
        assert_eq!(
            ParamGroup::of_path(&p("objective.terms.0.proxies")),
            ParamGroup::Loss
        );
        assert_eq!(
            ParamGroup::of_path(&p("model.head.dense")),
            ParamGroup::Head
        );
        assert_eq!(
            ParamGroup::of_path(&p("model.encoder.layer.0")),
            ParamGroup::Encoder
        );
    }

    #[test]
    fn biases_and_norms_are_recognised() {
        assert!(is_bias_or_norm(&p(
            "model.encoder.embeddings.LayerNorm.weight"
        )));
        assert!(is_bias_or_norm(&p("model.head.dense.bias")));
        assert!(!is_bias_or_norm(&p("model.head.dense.weight")));
    }
}
