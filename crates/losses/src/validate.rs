//! `validate()` for the grid-file contract in [`crate::spec`]: each error names the field, the
//! value and the valid range.

use crate::error::LossError;
use crate::spec::{DmlTermSpec, MinerSpec, ObjectiveSpec};

pub(crate) fn positive(field: &str, v: f64) -> Result<(), LossError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(LossError::invalid(field, v, "> 0 and finite"))
    }
}

pub(crate) fn non_negative(field: &str, v: f64) -> Result<(), LossError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(LossError::invalid(field, v, ">= 0 and finite"))
    }
}

pub(crate) fn finite(field: &str, v: f64) -> Result<(), LossError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(LossError::invalid(field, v, "finite"))
    }
}

/// Prefixes the field of an error with where it sits (`dml.1.loss.`).
pub(crate) fn within(prefix: &str, r: Result<(), LossError>) -> Result<(), LossError> {
    r.map_err(|e| e.within(prefix))
}

/// A tuple loss's optional miner; its fields are named `miner.<field>`.
pub(crate) fn validate_miner(miner: Option<&MinerSpec>) -> Result<(), LossError> {
    within("miner.", miner.map_or(Ok(()), MinerSpec::validate))
}

impl LossError {
    /// The error with its field path prefixed by `prefix` (e.g. `dml.0.loss.`).
    pub(crate) fn within(self, prefix: &str) -> LossError {
        match self {
            LossError::InvalidHyperparameter {
                field,
                value,
                valid,
            } => LossError::InvalidHyperparameter {
                field: format!("{prefix}{field}"),
                value,
                valid,
            },
            other => other,
        }
    }
}

impl MinerSpec {
    pub fn validate(&self) -> Result<(), LossError> {
        match *self {
            MinerSpec::BatchHard => Ok(()),
            MinerSpec::TripletMargin { margin, .. } => finite("margin", margin),
            MinerSpec::MultiSimilarity { epsilon } => non_negative("epsilon", epsilon),
        }
    }
}

impl DmlTermSpec {
    pub fn validate(&self) -> Result<(), LossError> {
        non_negative("weight", self.weight)?;
        within("loss.", self.loss.validate())
    }
}

impl ObjectiveSpec {
    /// Field paths are relative to the objective (`ce_weight`, `dml.0.loss.margin`).
    pub fn validate(&self) -> Result<(), LossError> {
        self.validate_weights()?;
        for (i, term) in self.dml.iter().enumerate() {
            within(&format!("dml.{i}.loss."), term.loss.validate())?;
        }
        Ok(())
    }

    /// Everything but the losses' hyperparameters (which building each loss checks).
    pub(crate) fn validate_weights(&self) -> Result<(), LossError> {
        // The papers' form `beta * CE + (1 - beta) * DML` (at most one DML term): beta in [0, 1].
        if self.dml.len() <= 1 {
            if !(0.0..=1.0).contains(&self.ce_weight) {
                return Err(LossError::invalid(
                    "ce_weight",
                    self.ce_weight,
                    "in [0, 1] (ce_weight is the papers' beta)",
                ));
            }
        } else {
            non_negative("ce_weight", self.ce_weight)?;
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(LossError::invalid(
                "label_smoothing",
                self.label_smoothing,
                "in [0, 1)",
            ));
        }
        for (i, term) in self.dml.iter().enumerate() {
            within(&format!("dml.{i}."), non_negative("weight", term.weight))?;
            if self.dml.len() == 1 && term.weight > 1.0 {
                return Err(LossError::invalid(
                    &format!("dml.{i}.weight"),
                    term.weight,
                    "in [0, 1] (the papers' 1 - beta)",
                ));
            }
        }
        if self.ce_weight == 0.0 && self.dml.iter().all(|t| t.weight == 0.0) {
            return Err(LossError::invalid(
                "ce_weight",
                0,
                "> 0 for some term (every weight is 0: the objective would be constant)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::*;
    use crate::spec::{DmlLossSpec, EmbeddingSelection};

    fn term(loss: DmlLossSpec) -> DmlTermSpec {
        DmlTermSpec {
            weight: 0.6,
            embeddings: EmbeddingSelection::AllTokens,
            loss,
        }
    }

    #[test]
    fn errors_name_the_field_and_range() {
        let spec = ObjectiveSpec {
            ce_weight: 0.4,
            label_smoothing: 0.0,
            dml: vec![term(DmlLossSpec::SupCon(SupConLoss { temperature: 0.0 }))],
        };
        let msg = spec.validate().unwrap_err().to_string();
        assert!(
            msg.contains("dml.0.loss.temperature") && msg.contains("> 0"),
            "{msg}"
        );

        let bad_centers = DmlLossSpec::SoftTriple(SoftTripleConfig {
            centers_per_class: 0,
            la: 8.0,
            gamma: 0.1,
            margin: 0.1,
            tau: 0.0,
        });
        let msg = term(bad_centers).validate().unwrap_err().to_string();
        assert!(
            msg.contains("loss.centers_per_class") && msg.contains("in [1, 1000]"),
            "{msg}"
        );

        let neg_weight = DmlTermSpec {
            weight: -1.0,
            ..term(DmlLossSpec::NPairs(NPairsLoss {}))
        };
        assert!(neg_weight
            .validate()
            .unwrap_err()
            .to_string()
            .contains("weight"));

        let miner = DmlLossSpec::MultiSimilarity(MultiSimilarityLoss {
            alpha: 2.0,
            beta: 50.0,
            base: 0.5,
            miner: Some(MinerSpec::MultiSimilarity { epsilon: -0.1 }),
        });
        assert!(miner
            .validate()
            .unwrap_err()
            .to_string()
            .contains("miner.epsilon"));

        let smoothing = ObjectiveSpec {
            label_smoothing: 1.5,
            ..ObjectiveSpec::default()
        };
        assert!(smoothing
            .validate()
            .unwrap_err()
            .to_string()
            .contains("label_smoothing"));
    }

    #[test]
    fn omitted_hyperparameters_take_pml_defaults() {
        let st: DmlLossSpec = serde_json::from_str(r#"{"kind": "soft-triple"}"#).unwrap();
        assert_eq!(
            st,
            DmlLossSpec::SoftTriple(SoftTripleConfig {
                centers_per_class: 10,
                la: 20.0,
                gamma: 0.1,
                margin: 0.01,
                tau: 0.0
            })
        );
        let miner: MinerSpec = serde_json::from_str(r#"{"kind": "triplet-margin"}"#).unwrap();
        assert_eq!(
            miner,
            MinerSpec::TripletMargin {
                margin: 0.2,
                triplets: crate::spec::TripletType::All
            }
        );
        let bad = serde_json::from_str::<DmlLossSpec>(r#"{"kind": "soft-triple", "centres": 3}"#);
        assert!(bad.unwrap_err().to_string().contains("centres"));
    }

    #[test]
    fn papers_settings_are_valid() {
        let st = DmlLossSpec::SoftTriple(SoftTripleConfig {
            centers_per_class: 5,
            la: 8.0,
            gamma: 0.1,
            margin: 0.1,
            tau: 0.2,
        });
        let spec = ObjectiveSpec {
            ce_weight: 0.4,
            label_smoothing: 0.0,
            dml: vec![term(st)],
        };
        assert_eq!(spec.validate(), Ok(()));
    }
}
