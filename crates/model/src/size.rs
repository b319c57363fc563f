//! How big an encoder is: its parameter count and the matrix-multiply work per token, the
//! quantities time estimates scale with (element-wise ops, softmax and layer norms are a few
//! percent on CPU and are left out).

use crate::config::EncoderConfig;

impl EncoderConfig {
    /// Parameters of the encoder (embeddings, layers) plus a classification head's dense layer,
    /// as counted by transformers for `*ForSequenceClassification` less the output projection.
    /// Saturates at `u64::MAX` (a foreign config.json may hold absurd sizes).
    pub fn parameter_count(&self) -> u64 {
        if let Some(modern) = &self.modernbert {
            return self.modernbert_parameter_count(modern);
        }
        let (h, i) = (
            Sat(self.hidden_size as u64),
            Sat(self.intermediate_size as u64),
        );
        let e = Sat(self.embedding_size as u64);
        let token_types = if self.has_token_types() {
            self.type_vocab_size
        } else {
            0
        };
        let positions = if self.has_absolute_positions() {
            self.max_position_embeddings
        } else {
            0
        };
        let rows = Sat(self.vocab_size as u64) + Sat(positions as u64) + Sat(token_types as u64);
        let embeddings = rows * e + Sat(2) * e;
        // ELECTRA's embeddings_project when the widths differ.
        let project = if e != h { e * h + h } else { Sat(0) };
        // MPNet's relative position bias table.
        let bias =
            Sat(self.relative_attention_num_buckets as u64) * Sat(self.num_attention_heads as u64);
        // q, k, v, output (+ biases), two FFN matrices (+ biases), two layer norms.
        let mut layer = Sat(4) * (h * h + h) + Sat(2) * h * i + i + h + Sat(4) * h;
        // DeBERTa: relative embeddings (+ norm), separate position projections.
        let mut relative = Sat(0);
        if let Some(d) = self.deberta.as_ref().filter(|d| d.relative_attention) {
            relative = Sat(2 * d.span() as u64) * h;
            if d.norm_rel_ebd {
                relative = relative + Sat(2) * h;
            }
            if !d.share_att_key {
                let projections = u64::from(d.c2p) + u64::from(d.p2c);
                layer = layer + Sat(projections) * (h * h + h);
            }
        }
        let total = embeddings
            + project
            + bias
            + relative
            + Sat(self.num_hidden_layers as u64) * layer
            + h * h
            + h;
        total.0
    }

    /// ModernBERT: word embeddings and norms, per layer `Wqkv`, `Wo`, `Wi` (input and gate),
    /// `Wo` and two norms (one in layer 0), the final norm and the head's dense layer and norm;
    /// biases only where the config has them.
    fn modernbert_parameter_count(&self, m: &crate::config::ModernBertSettings) -> u64 {
        let (h, i) = (
            Sat(self.hidden_size as u64),
            Sat(self.intermediate_size as u64),
        );
        let bias = |on: bool, n: Sat| if on { n } else { Sat(0) };
        let norm = h + bias(m.norm_bias, h);
        let layers = Sat(self.num_hidden_layers as u64);
        let attention =
            Sat(3) * h * h + bias(m.attention_bias, Sat(3) * h) + h * h + bias(m.attention_bias, h);
        let mlp = Sat(2) * i * h + bias(m.mlp_bias, Sat(2) * i) + i * h + bias(m.mlp_bias, h);
        // two norms per layer (less layer 0's attention norm), the embeddings', the final and
        // the head's
        let norms = (Sat(2) * layers + Sat(2)) * norm;
        let total = Sat(self.vocab_size as u64) * h
            + layers * (attention + mlp)
            + norms
            + h * h
            + bias(m.classifier_bias, h);
        total.0
    }

    /// Floating-point operations of one forward pass per token for sequences of `seq` tokens:
    /// 2 per multiply-add of the projections, the FFN, the attention scores and context, and the
    /// head's dense layer. A training step (forward + backward) is about three times this.
    pub fn forward_flops_per_token(&self, seq: usize) -> f64 {
        let (h, i, s) = (
            self.hidden_size as f64,
            self.intermediate_size as f64,
            seq as f64,
        );
        // ModernBERT's GeGLU input layer is twice as wide (its local layers' shorter windows
        // are left out: an upper bound).
        let ffn = if self.modernbert.is_some() { 3.0 } else { 2.0 };
        let per_layer = 2.0 * (4.0 * h * h + ffn * h * i) + 2.0 * 2.0 * s * h;
        self.num_hidden_layers as f64 * per_layer + 2.0 * h * h
    }

    /// Forward + backward per token: the backward pass costs two forwards (gradients of inputs
    /// and of weights).
    pub fn train_flops_per_token(&self, seq: usize) -> f64 {
        3.0 * self.forward_flops_per_token(seq)
    }
}

/// Saturating u64 arithmetic, so that the formula above reads as a formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sat(u64);

impl std::ops::Add for Sat {
    type Output = Sat;
    fn add(self, other: Sat) -> Sat {
        Sat(self.0.saturating_add(other.0))
    }
}

impl std::ops::Mul for Sat {
    type Output = Sat;
    fn mul(self, other: Sat) -> Sat {
        Sat(self.0.saturating_mul(other.0))
    }
}

#[cfg(test)]
mod tests {
    use crate::known::known_architecture;

    #[test]
    fn roberta_large_has_355m_parameters() {
        // transformers' RobertaModel("roberta-large") has 355,359,744 with its pooler (a dense
        // layer, as the head's counted here).
        let c = known_architecture("roberta-large").unwrap();
        assert_eq!(c.parameter_count(), 355_359_744);
    }

    #[test]
    fn absurd_sizes_saturate_instead_of_overflowing() {
        let mut c = known_architecture("roberta-large").unwrap();
        c.vocab_size = usize::MAX / 2;
        c.num_hidden_layers = usize::MAX / 3;
        assert_eq!(c.parameter_count(), u64::MAX);
    }

    #[test]
    fn flops_scale_with_layers_width_and_length() {
        let large = known_architecture("roberta-large").unwrap();
        let base = known_architecture("roberta-base").unwrap();
        let f = large.forward_flops_per_token(64);
        // 24 x 2 x (4 x 1024^2 + 2 x 1024 x 4096) + 24 x 4 x 64 x 1024 + 2 x 1024^2
        assert_eq!(f, 603_979_776.0 + 6_291_456.0 + 2_097_152.0);
        assert!(large.forward_flops_per_token(128) > f);
        assert!(f / base.forward_flops_per_token(64) > 3.4);
        assert_eq!(large.train_flops_per_token(64), 3.0 * f);
    }
}
