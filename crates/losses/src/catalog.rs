//! Every DML loss, declared once: one line of the table at the bottom names the loss's variant,
//! its hyperparameter struct (declared in its own file under `losses/`) and its grid-file
//! `kind`. From that line come the variant of [`DmlLossSpec`] (what a grid file says), of
//! [`DmlLossKind`] (its name and whether it has proxies), and of [`DmlLoss`] or [`TupleLoss`]
//! (the built loss), with every dispatch between them; a proxy loss's struct implements
//! [`ProxyLossConfig`], a tuple loss's [`TupleLossConfig`].

use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::LossError;
use crate::losses::*;
use crate::miners::Miner;
use crate::objective::TupleTerm;
use crate::proxy::{ProxyLoss, ProxyLossConfig, TupleLossConfig};
use crate::tuples::IndexTuple;

macro_rules! catalog {
    (
        proxy { $( $(#[$pdoc:meta])* $P:ident($PC:ident => $PL:ident) = $pname:literal, )* }
        tuple { $( $(#[$tdoc:meta])* $T:ident($TC:ident) = $tname:literal, )* }
    ) => {
        /// One DML loss with its hyperparameters: a grid file's loss table, `kind` naming the
        /// variant and the other keys the fields of its struct (each with a default).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum DmlLossSpec {
            $( $(#[$pdoc])* #[serde(rename = $pname)] $P($PC), )*
            $( $(#[$tdoc])* #[serde(rename = $tname)] $T($TC), )*
        }

        /// What kind a DML loss is: its name (the `kind` of a grid file's loss table, and the
        /// name of its term in results) and whether it keeps per-class proxies.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DmlLossKind {
            $( $P, )*
            $( $T, )*
        }

        impl DmlLossKind {
            /// Every kind, in the order of [`DmlLossSpec`]'s variants.
            pub const ALL: [DmlLossKind; [$($pname,)* $($tname,)*].len()] =
                [$(DmlLossKind::$P,)* $(DmlLossKind::$T,)*];

            /// The grid-file name (serde's `kind` tag of [`DmlLossSpec`]).
            pub fn name(self) -> &'static str {
                match self {
                    $( DmlLossKind::$P => $pname, )*
                    $( DmlLossKind::$T => $tname, )*
                }
            }

            /// Whether the loss learns per-class proxies (or centers, or class weights) that
            /// give class scores: what proxy and mix inference need. These are also its only
            /// parameters.
            pub fn has_proxies(self) -> bool {
                match self {
                    $( DmlLossKind::$P => true, )*
                    $( DmlLossKind::$T => false, )*
                }
            }
        }

        impl DmlLossSpec {
            pub fn kind(&self) -> DmlLossKind {
                match self {
                    $( DmlLossSpec::$P(_) => DmlLossKind::$P, )*
                    $( DmlLossSpec::$T(_) => DmlLossKind::$T, )*
                }
            }

            /// Each error names the field, the value and the valid range.
            pub fn validate(&self) -> Result<(), LossError> {
                match self {
                    $( DmlLossSpec::$P(c) => ProxyLossConfig::validate(c), )*
                    $( DmlLossSpec::$T(c) => TupleLossConfig::validate(c), )*
                }
            }
        }

        /// A loss without parameters, as a grid file set it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum TupleLoss {
            $( $T($TC), )*
        }

        impl TupleLoss {
            /// Loss on `embeddings` [N, D] with the pairs / triplets of `tuple` (miner output)
            /// where the loss takes them, else all of the batch's.
            pub fn forward<B: Backend>(
                &self,
                embeddings: Tensor<B, 2>,
                labels: Tensor<B, 1, Int>,
                tuple: Option<&IndexTuple>,
            ) -> Result<Tensor<B, 1>, LossError> {
                match self {
                    $( TupleLoss::$T(l) => l.forward_mined(embeddings, labels, tuple), )*
                }
            }
        }

        /// One DML loss of the objective.
        #[derive(Module, Debug)]
        pub enum DmlLoss<B: Backend> {
            $( $P($PL<B>), )*
            Tuple(TupleTerm<B>),
        }

        impl<B: Backend> DmlLoss<B> {
            /// Builds the loss of `spec` (validating it); parameters are drawn with `seed` as
            /// PML initialises them.
            pub fn new(
                spec: &DmlLossSpec,
                num_classes: usize,
                embedding_dim: usize,
                seed: u64,
                device: &B::Device,
            ) -> Result<Self, LossError> {
                Ok(match spec {
                    $( DmlLossSpec::$P(c) => {
                        DmlLoss::$P(c.init(num_classes, embedding_dim, seed, device)?)
                    } )*
                    $( DmlLossSpec::$T(c) => {
                        TupleLossConfig::validate(c)?;
                        let miner = c.miner().map(Miner::from_spec).transpose()?;
                        DmlLoss::Tuple(TupleTerm::new(TupleLoss::$T(*c), miner))
                    } )*
                })
            }

            pub fn forward(
                &self,
                embeddings: Tensor<B, 2>,
                labels: Tensor<B, 1, Int>,
            ) -> Result<Tensor<B, 1>, LossError> {
                match self {
                    $( DmlLoss::$P(l) => ProxyLoss::forward(l, embeddings, labels), )*
                    DmlLoss::Tuple(t) => t.forward(embeddings, labels),
                }
            }

            /// The proxy loss, `None` for a tuple loss.
            pub fn proxy(&self) -> Option<&dyn ProxyLoss<B>> {
                match self {
                    $( DmlLoss::$P(l) => Some(l), )*
                    DmlLoss::Tuple(_) => None,
                }
            }

            pub(crate) fn proxy_mut(&mut self) -> Option<&mut dyn ProxyLoss<B>> {
                match self {
                    $( DmlLoss::$P(l) => Some(l), )*
                    DmlLoss::Tuple(_) => None,
                }
            }
        }
    };
}

catalog! {
    proxy {
        SoftTriple(SoftTripleConfig => SoftTripleLoss) = "soft-triple",
        ProxyAnchor(ProxyAnchorConfig => ProxyAnchorLoss) = "proxy-anchor",
        ProxyNca(ProxyNcaConfig => ProxyNcaLoss) = "proxy-nca",
        NormalizedSoftmax(NormalizedSoftmaxConfig => NormalizedSoftmaxLoss) = "normalized-softmax",
        /// `margin` in degrees (PML).
        ArcFace(ArcFaceConfig => ArcFaceLoss) = "arc-face",
        CosFace(CosFaceConfig => CosFaceLoss) = "cos-face",
    }
    tuple {
        SupCon(SupConLoss) = "sup-con",
        NtXent(NtXentLoss) = "nt-xent",
        NPairs(NPairsLoss) = "n-pairs",
        TripletMargin(TripletMarginLoss) = "triplet-margin",
        Contrastive(ContrastiveLoss) = "contrastive",
        MultiSimilarity(MultiSimilarityLoss) = "multi-similarity",
        Circle(CircleLoss) = "circle",
        LiftedStructure(LiftedStructureLoss) = "lifted-structure",
        /// sentence-transformers' BatchAllTripletLoss: Euclidean distances on unnormalised
        /// embeddings, mean over the triplets with positive loss.
        BatchAllTriplet(BatchAllTripletLoss) = "batch-all-triplet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How every loss's default serialised before each loss had its own struct: a cell's id
    /// hashes this JSON, so it must not move.
    const LEGACY_DEFAULTS: [&str; 15] = [
        r#"{"kind":"soft-triple","centers_per_class":10,"la":20.0,"gamma":0.1,"margin":0.01,"tau":0.0}"#,
        r#"{"kind":"proxy-anchor","alpha":32.0,"margin":0.1}"#,
        r#"{"kind":"proxy-nca","softmax_scale":1.0}"#,
        r#"{"kind":"normalized-softmax","temperature":0.05}"#,
        r#"{"kind":"arc-face","margin":28.6,"scale":64.0}"#,
        r#"{"kind":"cos-face","margin":0.35,"scale":64.0}"#,
        r#"{"kind":"sup-con","temperature":0.1}"#,
        r#"{"kind":"nt-xent","temperature":0.07}"#,
        r#"{"kind":"n-pairs"}"#,
        r#"{"kind":"triplet-margin","margin":0.05,"smooth_loss":false,"distance":null,"miner":null}"#,
        r#"{"kind":"contrastive","pos_margin":0.0,"neg_margin":1.0,"distance":null,"miner":null}"#,
        r#"{"kind":"multi-similarity","alpha":2.0,"beta":50.0,"base":0.5,"miner":null}"#,
        r#"{"kind":"circle","m":0.4,"gamma":80.0}"#,
        r#"{"kind":"lifted-structure","pos_margin":0.0,"neg_margin":1.0}"#,
        r#"{"kind":"batch-all-triplet","margin":5.0}"#,
    ];

    #[test]
    fn defaults_serialise_as_before_and_name_every_kind() {
        assert_eq!(DmlLossKind::ALL.len(), LEGACY_DEFAULTS.len());
        for (kind, legacy) in DmlLossKind::ALL.into_iter().zip(LEGACY_DEFAULTS) {
            let spec: DmlLossSpec =
                serde_json::from_str(&format!(r#"{{"kind": "{}"}}"#, kind.name())).unwrap();
            assert_eq!(spec.kind(), kind);
            assert_eq!(serde_json::to_string(&spec).unwrap(), legacy, "{kind}");
            let back: DmlLossSpec = serde_json::from_str(legacy).unwrap();
            assert_eq!(back, spec, "{kind}");
        }
    }

    #[test]
    fn set_fields_round_trip_and_unknown_ones_are_named_with_the_valid_ones() {
        let json = r#"{"kind":"triplet-margin","margin":0.1,"smooth_loss":true,"distance":{"kind":"euclidean","squared":true,"normalize":false},"miner":{"kind":"batch-hard"}}"#;
        let spec: DmlLossSpec = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&spec).unwrap(), json);
        let built = TripletMarginLoss::default()
            .with_margin(0.1)
            .with_smooth_loss(true)
            .with_distance(Some(crate::spec::DistanceSpec::Euclidean {
                squared: true,
                normalize: false,
            }))
            .with_miner(Some(crate::spec::MinerSpec::BatchHard));
        assert_eq!(spec, DmlLossSpec::TripletMargin(built));

        let err = serde_json::from_str::<DmlLossSpec>(r#"{"kind":"arc-face","monotonic":false}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown field `monotonic`")
                && err.contains("`margin`")
                && err.contains("`scale`"),
            "{err}"
        );
        let arc: DmlLossSpec = serde_json::from_str(r#"{"kind":"arc-face","margin":10}"#).unwrap();
        let DmlLossSpec::ArcFace(arc) = arc else {
            panic!("{arc:?}")
        };
        assert_eq!(arc, ArcFaceConfig::default().with_margin_degrees(10.0));
        assert!(arc.monotonic, "grids train with PML 2's ArcFace");
    }

    #[test]
    fn the_workspace_readme_counts_the_losses_there_are() {
        let readme = include_str!("../../../README.md");
        let claim = "| `dmlft-losses` | CE and ";
        let at = readme
            .find(claim)
            .expect("the README's crate table names the losses")
            + claim.len();
        let count: usize = readme[at..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("`CE and <N> DML losses`");
        assert_eq!(count, DmlLossKind::ALL.len());
    }
}
