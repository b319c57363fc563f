//! What a grid file says about the training objective: `ce_weight * CE(logits) + sum_i weight_i *
//! DML_i(embeddings_i)`. Hyperparameter defaults are pytorch-metric-learning's (v2.x) unless noted.
//! Contract between the runner (grid files) and this crate.

use serde::{Deserialize, Serialize};

/// Which vectors a DML loss sees, each labelled with its sentence's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmbeddingSelection {
    /// Every token state, padding included (the papers' setting, B*T rows).
    #[default]
    AllTokens,
    /// Every non-padding token state.
    NonPadTokens,
    /// The first token (`<s>` / `[CLS]`).
    FirstToken,
    /// Mean over non-padding tokens.
    MeanTokens,
    /// Every token state with the labels that the authors' dml_bert code actually produced (its
    /// label expansion is wrong): the first T rows get the batch's last label, every other row
    /// label 1. Only for reproducing that code's numbers.
    AllTokensDmlBertLabels,
}

/// Distance / similarity used by tuple losses and miners.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DistanceSpec {
    Cosine,
    Euclidean {
        #[serde(default)]
        squared: bool,
        #[serde(default = "yes")]
        normalize: bool,
    },
    DotProduct {
        #[serde(default = "yes")]
        normalize: bool,
    },
}

fn yes() -> bool {
    true
}

/// Triplet selection strategy of the triplet-margin miner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TripletType {
    All,
    Hard,
    Semihard,
    Easy,
}

/// Miners that choose the pairs / triplets a tuple loss uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MinerSpec {
    BatchHard,
    /// PML defaults: margin 0.2, all triplets.
    TripletMargin {
        #[serde(default = "d::miner_margin")]
        margin: f64,
        #[serde(default = "d::miner_triplets")]
        triplets: TripletType,
    },
    /// PML default: epsilon 0.1.
    MultiSimilarity {
        #[serde(default = "d::miner_epsilon")]
        epsilon: f64,
    },
}

/// One DML loss with its hyperparameters. Field defaults are filled by this crate's loss modules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DmlLossSpec {
    SoftTriple {
        #[serde(default = "d::centers_per_class")]
        centers_per_class: usize,
        #[serde(default = "d::la")]
        la: f64,
        #[serde(default = "d::gamma")]
        gamma: f64,
        #[serde(default = "d::soft_triple_margin")]
        margin: f64,
        /// Weight of the center-similarity regulariser of the SoftTriple paper; 0 = off (PML).
        #[serde(default = "d::soft_triple_tau")]
        tau: f64,
    },
    ProxyAnchor {
        #[serde(default = "d::proxy_anchor_alpha")]
        alpha: f64,
        #[serde(default = "d::proxy_anchor_margin")]
        margin: f64,
    },
    ProxyNca {
        #[serde(default = "d::proxy_nca_scale")]
        softmax_scale: f64,
    },
    NormalizedSoftmax {
        #[serde(default = "d::normalized_softmax_temperature")]
        temperature: f64,
    },
    /// `margin` in degrees (PML).
    ArcFace {
        #[serde(default = "d::arcface_margin")]
        margin: f64,
        #[serde(default = "d::arcface_scale")]
        scale: f64,
    },
    CosFace {
        #[serde(default = "d::cosface_margin")]
        margin: f64,
        #[serde(default = "d::cosface_scale")]
        scale: f64,
    },
    SupCon {
        #[serde(default = "d::supcon_temperature")]
        temperature: f64,
    },
    NtXent {
        #[serde(default = "d::ntxent_temperature")]
        temperature: f64,
    },
    NPairs,
    TripletMargin {
        #[serde(default = "d::triplet_margin")]
        margin: f64,
        #[serde(default = "d::triplet_smooth")]
        smooth_loss: bool,
        #[serde(default)]
        distance: Option<DistanceSpec>,
        #[serde(default)]
        miner: Option<MinerSpec>,
    },
    Contrastive {
        #[serde(default = "d::contrastive_pos")]
        pos_margin: f64,
        #[serde(default = "d::contrastive_neg")]
        neg_margin: f64,
        #[serde(default)]
        distance: Option<DistanceSpec>,
        #[serde(default)]
        miner: Option<MinerSpec>,
    },
    MultiSimilarity {
        #[serde(default = "d::ms_alpha")]
        alpha: f64,
        #[serde(default = "d::ms_beta")]
        beta: f64,
        #[serde(default = "d::ms_base")]
        base: f64,
        #[serde(default)]
        miner: Option<MinerSpec>,
    },
    Circle {
        #[serde(default = "d::circle_m")]
        m: f64,
        #[serde(default = "d::circle_gamma")]
        gamma: f64,
    },
    LiftedStructure {
        #[serde(default = "d::lifted_pos")]
        pos_margin: f64,
        #[serde(default = "d::lifted_neg")]
        neg_margin: f64,
    },
    /// sentence-transformers' BatchAllTripletLoss: Euclidean distances on unnormalised
    /// embeddings, mean over the triplets with positive loss.
    BatchAllTriplet {
        #[serde(default = "d::batch_all_margin")]
        margin: f64,
    },
}

/// What kind a DML loss is: its name (the `kind` of a grid file's loss table, and the name of its
/// term in results) and whether it keeps per-class proxies. The one place that knows these facts:
/// the runner, the trainer and error messages ask here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DmlLossKind {
    SoftTriple,
    ProxyAnchor,
    ProxyNca,
    NormalizedSoftmax,
    ArcFace,
    CosFace,
    SupCon,
    NtXent,
    NPairs,
    TripletMargin,
    Contrastive,
    MultiSimilarity,
    Circle,
    LiftedStructure,
    BatchAllTriplet,
}

impl DmlLossKind {
    /// Every kind, in the order of [`DmlLossSpec`]'s variants.
    pub const ALL: [DmlLossKind; 15] = [
        DmlLossKind::SoftTriple,
        DmlLossKind::ProxyAnchor,
        DmlLossKind::ProxyNca,
        DmlLossKind::NormalizedSoftmax,
        DmlLossKind::ArcFace,
        DmlLossKind::CosFace,
        DmlLossKind::SupCon,
        DmlLossKind::NtXent,
        DmlLossKind::NPairs,
        DmlLossKind::TripletMargin,
        DmlLossKind::Contrastive,
        DmlLossKind::MultiSimilarity,
        DmlLossKind::Circle,
        DmlLossKind::LiftedStructure,
        DmlLossKind::BatchAllTriplet,
    ];

    /// The grid-file name (serde's `kind` tag of [`DmlLossSpec`]).
    pub fn name(self) -> &'static str {
        match self {
            DmlLossKind::SoftTriple => "soft-triple",
            DmlLossKind::ProxyAnchor => "proxy-anchor",
            DmlLossKind::ProxyNca => "proxy-nca",
            DmlLossKind::NormalizedSoftmax => "normalized-softmax",
            DmlLossKind::ArcFace => "arc-face",
            DmlLossKind::CosFace => "cos-face",
            DmlLossKind::SupCon => "sup-con",
            DmlLossKind::NtXent => "nt-xent",
            DmlLossKind::NPairs => "n-pairs",
            DmlLossKind::TripletMargin => "triplet-margin",
            DmlLossKind::Contrastive => "contrastive",
            DmlLossKind::MultiSimilarity => "multi-similarity",
            DmlLossKind::Circle => "circle",
            DmlLossKind::LiftedStructure => "lifted-structure",
            DmlLossKind::BatchAllTriplet => "batch-all-triplet",
        }
    }

    /// Whether the loss learns per-class proxies (or centers, or class weights) that give class
    /// scores: what proxy and mix inference need. These are also its only parameters.
    pub fn has_proxies(self) -> bool {
        matches!(
            self,
            DmlLossKind::SoftTriple
                | DmlLossKind::ProxyAnchor
                | DmlLossKind::ProxyNca
                | DmlLossKind::NormalizedSoftmax
                | DmlLossKind::ArcFace
                | DmlLossKind::CosFace
        )
    }

    /// Names of the proxy-based losses, comma-separated, for messages.
    pub fn proxy_loss_names() -> String {
        Self::ALL
            .iter()
            .filter(|k| k.has_proxies())
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for DmlLossKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl DmlLossSpec {
    pub fn kind(&self) -> DmlLossKind {
        match self {
            DmlLossSpec::SoftTriple { .. } => DmlLossKind::SoftTriple,
            DmlLossSpec::ProxyAnchor { .. } => DmlLossKind::ProxyAnchor,
            DmlLossSpec::ProxyNca { .. } => DmlLossKind::ProxyNca,
            DmlLossSpec::NormalizedSoftmax { .. } => DmlLossKind::NormalizedSoftmax,
            DmlLossSpec::ArcFace { .. } => DmlLossKind::ArcFace,
            DmlLossSpec::CosFace { .. } => DmlLossKind::CosFace,
            DmlLossSpec::SupCon { .. } => DmlLossKind::SupCon,
            DmlLossSpec::NtXent { .. } => DmlLossKind::NtXent,
            DmlLossSpec::NPairs => DmlLossKind::NPairs,
            DmlLossSpec::TripletMargin { .. } => DmlLossKind::TripletMargin,
            DmlLossSpec::Contrastive { .. } => DmlLossKind::Contrastive,
            DmlLossSpec::MultiSimilarity { .. } => DmlLossKind::MultiSimilarity,
            DmlLossSpec::Circle { .. } => DmlLossKind::Circle,
            DmlLossSpec::LiftedStructure { .. } => DmlLossKind::LiftedStructure,
            DmlLossSpec::BatchAllTriplet { .. } => DmlLossKind::BatchAllTriplet,
        }
    }

    /// See [`DmlLossKind::has_proxies`].
    pub fn has_proxies(&self) -> bool {
        self.kind().has_proxies()
    }
}

/// One weighted DML term of the objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmlTermSpec {
    pub weight: f64,
    #[serde(default)]
    pub embeddings: EmbeddingSelection,
    pub loss: DmlLossSpec,
}

/// `ce_weight * CE + sum of DML terms`. The papers' `beta * CE + (1 - beta) * DML` is
/// `ce_weight = beta` and one term of weight `1 - beta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObjectiveSpec {
    pub ce_weight: f64,
    pub label_smoothing: f64,
    pub dml: Vec<DmlTermSpec>,
}

impl ObjectiveSpec {
    /// The papers' objective `beta * CE + (1 - beta) * loss` on the default embeddings, with
    /// `beta = ce_weight`.
    pub fn ce_plus(loss: DmlLossSpec, ce_weight: f64) -> Self {
        Self {
            ce_weight,
            label_smoothing: 0.0,
            dml: vec![DmlTermSpec {
                weight: 1.0 - ce_weight,
                embeddings: EmbeddingSelection::default(),
                loss,
            }],
        }
    }

    /// The same objective with every DML term on `embeddings`.
    pub fn with_embeddings(mut self, embeddings: EmbeddingSelection) -> Self {
        for term in &mut self.dml {
            term.embeddings = embeddings;
        }
        self
    }
}

impl Default for ObjectiveSpec {
    fn default() -> Self {
        Self {
            ce_weight: 1.0,
            label_smoothing: 0.0,
            dml: Vec::new(),
        }
    }
}

impl ObjectiveSpec {
    /// Whether some DML term has proxies (so that proxy and mix inference are possible).
    pub fn has_proxies(&self) -> bool {
        self.dml.iter().any(|t| t.loss.has_proxies())
    }
}

/// The serde defaults of [`DmlLossSpec`]'s fields: each loss module's `Default` owns its values
/// (pytorch-metric-learning 2.x / sentence-transformers); the miners' are written here, once.
mod d {
    use super::TripletType;
    use crate::losses::*;
    pub(crate) fn miner_margin() -> f64 {
        0.2
    }
    pub(crate) fn miner_triplets() -> TripletType {
        TripletType::All
    }
    pub(crate) fn miner_epsilon() -> f64 {
        0.1
    }
    pub(crate) fn centers_per_class() -> usize {
        SoftTripleConfig::default().centers_per_class
    }
    pub(crate) fn la() -> f64 {
        SoftTripleConfig::default().la
    }
    pub(crate) fn gamma() -> f64 {
        SoftTripleConfig::default().gamma
    }
    pub(crate) fn soft_triple_margin() -> f64 {
        SoftTripleConfig::default().margin
    }
    pub(crate) fn soft_triple_tau() -> f64 {
        SoftTripleConfig::default().tau
    }
    pub(crate) fn proxy_anchor_alpha() -> f64 {
        ProxyAnchorConfig::default().alpha
    }
    pub(crate) fn proxy_anchor_margin() -> f64 {
        ProxyAnchorConfig::default().margin
    }
    pub(crate) fn proxy_nca_scale() -> f64 {
        ProxyNcaConfig::default().softmax_scale
    }
    pub(crate) fn normalized_softmax_temperature() -> f64 {
        NormalizedSoftmaxConfig::default().temperature
    }
    pub(crate) fn arcface_margin() -> f64 {
        ArcFaceConfig::default().margin_degrees
    }
    pub(crate) fn arcface_scale() -> f64 {
        ArcFaceConfig::default().scale
    }
    pub(crate) fn cosface_margin() -> f64 {
        CosFaceConfig::default().margin
    }
    pub(crate) fn cosface_scale() -> f64 {
        CosFaceConfig::default().scale
    }
    pub(crate) fn supcon_temperature() -> f64 {
        SupConLoss::default().temperature
    }
    pub(crate) fn ntxent_temperature() -> f64 {
        NtXentLoss::default().temperature
    }
    pub(crate) fn triplet_margin() -> f64 {
        TripletMarginLoss::default().margin
    }
    pub(crate) fn triplet_smooth() -> bool {
        TripletMarginLoss::default().smooth_loss
    }
    pub(crate) fn contrastive_pos() -> f64 {
        ContrastiveLoss::default().pos_margin
    }
    pub(crate) fn contrastive_neg() -> f64 {
        ContrastiveLoss::default().neg_margin
    }
    pub(crate) fn ms_alpha() -> f64 {
        MultiSimilarityLoss::default().alpha
    }
    pub(crate) fn ms_beta() -> f64 {
        MultiSimilarityLoss::default().beta
    }
    pub(crate) fn ms_base() -> f64 {
        MultiSimilarityLoss::default().base
    }
    pub(crate) fn circle_m() -> f64 {
        CircleLoss::default().m
    }
    pub(crate) fn circle_gamma() -> f64 {
        CircleLoss::default().gamma
    }
    pub(crate) fn lifted_pos() -> f64 {
        LiftedStructureLoss::default().pos_margin
    }
    pub(crate) fn lifted_neg() -> f64 {
        LiftedStructureLoss::default().neg_margin
    }
    pub(crate) fn batch_all_margin() -> f64 {
        BatchAllTripletLoss::default().margin
    }
}
