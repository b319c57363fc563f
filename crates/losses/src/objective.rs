//! The training objective built from an [`ObjectiveSpec`]: `ce_weight * CE(logits) +
//! sum_i weight_i * DML_i(selected embeddings)`. A burn `Module` whose parameters are exactly the
//! loss parameters (proxies, centers, class weights), so that a trainer can give them their own
//! parameter group.

use std::marker::PhantomData;

use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};

use crate::distance::Distance;
use crate::error::LossError;
use crate::init::derive_seed;
use crate::losses::*;
use crate::miners::Miner;
use crate::numerics::host_ints;
use crate::select::select_embeddings;
use crate::spec::{DmlLossSpec, EmbeddingSelection, ObjectiveSpec};
use crate::tuples::IndexTuple;

/// A loss without parameters, with its optional miner.
#[derive(Debug, Clone, PartialEq)]
pub enum TupleLoss {
    SupCon(SupConLoss),
    NtXent(NtXentLoss),
    NPairs(NPairsLoss),
    TripletMargin(TripletMarginLoss),
    Contrastive(ContrastiveLoss),
    MultiSimilarity(MultiSimilarityLoss),
    Circle(CircleLoss),
    LiftedStructure(LiftedStructureLoss),
    BatchAllTriplet(BatchAllTripletLoss),
}

impl TupleLoss {
    /// Loss on `embeddings` [N, D] with the pairs / triplets of `tuple` (miner output) where the
    /// loss takes them, else all of the batch's.
    pub fn forward<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        tuple: Option<&IndexTuple>,
    ) -> Result<Tensor<B, 1>, LossError> {
        match self {
            TupleLoss::SupCon(l) => l.forward(embeddings, labels),
            TupleLoss::NtXent(l) => l.forward(embeddings, labels),
            TupleLoss::NPairs(l) => l.forward(embeddings, labels),
            TupleLoss::TripletMargin(l) => l.forward(embeddings, labels, tuple),
            TupleLoss::Contrastive(l) => l.forward(embeddings, labels, tuple),
            TupleLoss::MultiSimilarity(l) => l.forward(embeddings, labels, tuple),
            TupleLoss::Circle(l) => l.forward(embeddings, labels),
            TupleLoss::LiftedStructure(l) => l.forward(embeddings, labels),
            TupleLoss::BatchAllTriplet(l) => l.forward(embeddings, labels),
        }
    }
}

/// A parameter-free loss as a module (it has no parameters to report).
#[derive(Module, Debug)]
pub struct TupleTerm<B: Backend> {
    #[module(skip)]
    pub loss: TupleLoss,
    #[module(skip)]
    pub miner: Option<Miner>,
    marker: PhantomData<B>,
}

impl<B: Backend> TupleTerm<B> {
    pub fn new(loss: TupleLoss, miner: Option<Miner>) -> Self {
        Self {
            loss,
            miner,
            marker: PhantomData,
        }
    }

    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        let tuple = self
            .miner
            .as_ref()
            .map(|m| m.mine(embeddings.clone(), &labels))
            .transpose()?;
        self.loss.forward(embeddings, labels, tuple.as_ref())
    }
}

/// One DML loss of the objective.
#[derive(Module, Debug)]
pub enum DmlLoss<B: Backend> {
    SoftTriple(SoftTripleLoss<B>),
    ProxyAnchor(ProxyAnchorLoss<B>),
    ProxyNca(ProxyNcaLoss<B>),
    NormalizedSoftmax(NormalizedSoftmaxLoss<B>),
    ArcFace(ArcFaceLoss<B>),
    CosFace(CosFaceLoss<B>),
    Tuple(TupleTerm<B>),
}

impl<B: Backend> DmlLoss<B> {
    /// Builds the loss of `spec`; parameters are drawn with `seed` as PML initialises them.
    pub fn new(
        spec: &DmlLossSpec,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<Self, LossError> {
        spec.validate()?;
        let miner =
            |m: &Option<crate::spec::MinerSpec>| m.as_ref().map(Miner::from_spec).transpose();
        let distance = |d: &Option<crate::spec::DistanceSpec>| {
            d.map(Distance::from).unwrap_or(Distance::PML_DEFAULT)
        };
        let tuple = |loss, miner| DmlLoss::Tuple(TupleTerm::new(loss, miner));
        Ok(match spec {
            &DmlLossSpec::SoftTriple {
                centers_per_class,
                la,
                gamma,
                margin,
                tau,
            } => DmlLoss::SoftTriple(
                SoftTripleConfig {
                    centers_per_class,
                    la,
                    gamma,
                    margin,
                    tau,
                }
                .init(num_classes, embedding_dim, seed, device)?,
            ),
            &DmlLossSpec::ProxyAnchor { alpha, margin } => {
                DmlLoss::ProxyAnchor(ProxyAnchorConfig { alpha, margin }.init(
                    num_classes,
                    embedding_dim,
                    seed,
                    device,
                )?)
            }
            &DmlLossSpec::ProxyNca { softmax_scale } => DmlLoss::ProxyNca(
                ProxyNcaConfig { softmax_scale }.init(num_classes, embedding_dim, seed, device)?,
            ),
            &DmlLossSpec::NormalizedSoftmax { temperature } => {
                DmlLoss::NormalizedSoftmax(NormalizedSoftmaxConfig { temperature }.init(
                    num_classes,
                    embedding_dim,
                    seed,
                    device,
                )?)
            }
            &DmlLossSpec::ArcFace { margin, scale } => DmlLoss::ArcFace(
                ArcFaceConfig {
                    margin_degrees: margin,
                    scale,
                    monotonic: true,
                }
                .init(num_classes, embedding_dim, seed, device)?,
            ),
            &DmlLossSpec::CosFace { margin, scale } => DmlLoss::CosFace(
                CosFaceConfig { margin, scale }.init(num_classes, embedding_dim, seed, device)?,
            ),
            &DmlLossSpec::SupCon { temperature } => {
                tuple(TupleLoss::SupCon(SupConLoss { temperature }), None)
            }
            &DmlLossSpec::NtXent { temperature } => {
                tuple(TupleLoss::NtXent(NtXentLoss { temperature }), None)
            }
            DmlLossSpec::NPairs => tuple(TupleLoss::NPairs(NPairsLoss), None),
            DmlLossSpec::TripletMargin {
                margin,
                smooth_loss,
                distance: d,
                miner: m,
            } => tuple(
                TupleLoss::TripletMargin(TripletMarginLoss {
                    margin: *margin,
                    smooth_loss: *smooth_loss,
                    distance: distance(d),
                }),
                miner(m)?,
            ),
            DmlLossSpec::Contrastive {
                pos_margin,
                neg_margin,
                distance: d,
                miner: m,
            } => tuple(
                TupleLoss::Contrastive(ContrastiveLoss {
                    pos_margin: *pos_margin,
                    neg_margin: *neg_margin,
                    distance: distance(d),
                }),
                miner(m)?,
            ),
            DmlLossSpec::MultiSimilarity {
                alpha,
                beta,
                base,
                miner: m,
            } => tuple(
                TupleLoss::MultiSimilarity(MultiSimilarityLoss {
                    alpha: *alpha,
                    beta: *beta,
                    base: *base,
                    distance: Distance::Cosine,
                }),
                miner(m)?,
            ),
            &DmlLossSpec::Circle { m, gamma } => {
                tuple(TupleLoss::Circle(CircleLoss { m, gamma }), None)
            }
            &DmlLossSpec::LiftedStructure {
                pos_margin,
                neg_margin,
            } => tuple(
                TupleLoss::LiftedStructure(LiftedStructureLoss {
                    pos_margin,
                    neg_margin,
                    distance: Distance::PML_DEFAULT,
                }),
                None,
            ),
            &DmlLossSpec::BatchAllTriplet { margin } => tuple(
                TupleLoss::BatchAllTriplet(BatchAllTripletLoss { margin }),
                None,
            ),
        })
    }

    pub fn forward(
        &self,
        embeddings: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<Tensor<B, 1>, LossError> {
        match self {
            DmlLoss::SoftTriple(l) => l.forward(embeddings, labels),
            DmlLoss::ProxyAnchor(l) => l.forward(embeddings, labels),
            DmlLoss::ProxyNca(l) => l.forward(embeddings, labels),
            DmlLoss::NormalizedSoftmax(l) => l.forward(embeddings, labels),
            DmlLoss::ArcFace(l) => l.forward(embeddings, labels),
            DmlLoss::CosFace(l) => l.forward(embeddings, labels),
            DmlLoss::Tuple(l) => l.forward(embeddings, labels),
        }
    }

    /// Class scores `[N, C]` (larger = more likely) of proxy-based losses; `None` for tuple losses.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Option<Tensor<B, 2>> {
        match self {
            DmlLoss::SoftTriple(l) => Some(l.class_scores(embeddings)),
            DmlLoss::ProxyAnchor(l) => Some(l.class_scores(embeddings)),
            DmlLoss::ProxyNca(l) => Some(l.class_scores(embeddings)),
            DmlLoss::NormalizedSoftmax(l) => Some(l.class_scores(embeddings)),
            DmlLoss::ArcFace(l) => Some(l.class_scores(embeddings)),
            DmlLoss::CosFace(l) => Some(l.class_scores(embeddings)),
            DmlLoss::Tuple(_) => None,
        }
    }
}

impl<B: Backend> DmlLoss<B> {
    /// The trained parameter of the loss (`"proxies"`, `"centers"` or `"weights"`) and its value,
    /// `None` for tuple losses; what a saved model keeps for proxy inference.
    pub fn parameter(&self) -> Option<(&'static str, Tensor<B, 2>)> {
        match self {
            DmlLoss::SoftTriple(l) => Some(("centers", l.centers.val())),
            DmlLoss::ProxyAnchor(l) => Some(("proxies", l.proxies.val())),
            DmlLoss::ProxyNca(l) => Some(("proxies", l.proxies.val())),
            DmlLoss::NormalizedSoftmax(l) => Some(("weights", l.weights.val())),
            DmlLoss::ArcFace(l) => Some(("weights", l.weights.val())),
            DmlLoss::CosFace(l) => Some(("weights", l.weights.val())),
            DmlLoss::Tuple(_) => None,
        }
    }

    /// The trained class representatives as rows `[R, D]` in the embedding space, with the class
    /// of each row: one proxy (ProxyAnchor, ProxyNCA) or weight column (NormalizedSoftmax,
    /// ArcFace, CosFace) per class, `centers_per_class` SoftTriple centers per class (row
    /// `c*K + k` is center k of class c). `None` for tuple losses.
    pub fn class_proxies(&self) -> Option<(Tensor<B, 2>, Vec<usize>)> {
        let per_class = |rows: Tensor<B, 2>, k: usize| {
            let n = rows.dims()[0];
            (rows, (0..n).map(|r| r / k.max(1)).collect())
        };
        match self {
            DmlLoss::SoftTriple(l) => {
                Some(per_class(l.centers.val().transpose(), l.centers_per_class))
            }
            DmlLoss::ProxyAnchor(l) => Some(per_class(l.proxies.val(), 1)),
            DmlLoss::ProxyNca(l) => Some(per_class(l.proxies.val(), 1)),
            DmlLoss::NormalizedSoftmax(l) => Some(per_class(l.weights.val().transpose(), 1)),
            DmlLoss::ArcFace(l) => Some(per_class(l.weights.val().transpose(), 1)),
            DmlLoss::CosFace(l) => Some(per_class(l.weights.val().transpose(), 1)),
            DmlLoss::Tuple(_) => None,
        }
    }

    /// The loss with its parameter replaced by `value`, which must have the shape of the current
    /// one (same loss kind, classes and embedding size).
    pub fn with_parameter(self, value: Tensor<B, 2>) -> Result<Self, LossError> {
        let Some((name, current)) = self.parameter() else {
            return Err(LossError::Shape(
                "this loss has no parameter to load (a tuple loss)".into(),
            ));
        };
        if current.dims() != value.dims() {
            return Err(LossError::Shape(format!(
                "{name} of shape {:?} given, the loss expects {:?}",
                value.dims(),
                current.dims()
            )));
        }
        let set = |p: burn::module::Param<Tensor<B, 2>>| p.map(|_| value);
        Ok(match self {
            DmlLoss::SoftTriple(mut l) => {
                l.centers = set(l.centers);
                DmlLoss::SoftTriple(l)
            }
            DmlLoss::ProxyAnchor(mut l) => {
                l.proxies = set(l.proxies);
                DmlLoss::ProxyAnchor(l)
            }
            DmlLoss::ProxyNca(mut l) => {
                l.proxies = set(l.proxies);
                DmlLoss::ProxyNca(l)
            }
            DmlLoss::NormalizedSoftmax(mut l) => {
                l.weights = set(l.weights);
                DmlLoss::NormalizedSoftmax(l)
            }
            DmlLoss::ArcFace(mut l) => {
                l.weights = set(l.weights);
                DmlLoss::ArcFace(l)
            }
            DmlLoss::CosFace(mut l) => {
                l.weights = set(l.weights);
                DmlLoss::CosFace(l)
            }
            DmlLoss::Tuple(t) => DmlLoss::Tuple(t),
        })
    }
}

/// One weighted DML term of the objective.
#[derive(Module, Debug)]
pub struct DmlTerm<B: Backend> {
    pub loss: DmlLoss<B>,
    #[module(skip)]
    pub name: String,
    #[module(skip)]
    pub weight: f64,
    #[module(skip)]
    pub selection: EmbeddingSelection,
}

/// What the objective computed: the weighted total and each unweighted part.
#[derive(Debug, Clone)]
pub struct ObjectiveOutput<B: Backend> {
    pub total: Tensor<B, 1>,
    pub ce: Tensor<B, 1>,
    /// `(name, unweighted loss)` per DML term, in spec order.
    pub dml_terms: Vec<(String, Tensor<B, 1>)>,
}

#[derive(Module, Debug)]
pub struct Objective<B: Backend> {
    pub terms: Vec<DmlTerm<B>>,
    #[module(skip)]
    pub ce_weight: f64,
    #[module(skip)]
    pub cross_entropy: CrossEntropyLoss,
    #[module(skip)]
    pub num_classes: usize,
}

impl<B: Backend> Objective<B> {
    /// Validates `spec` and builds every term; term i's parameters are drawn from a seed derived
    /// from `(seed, i)`.
    pub fn new(
        spec: &ObjectiveSpec,
        num_classes: usize,
        embedding_dim: usize,
        seed: u64,
        device: &B::Device,
    ) -> Result<Self, LossError> {
        spec.validate()?;
        if num_classes < 1 {
            return Err(LossError::invalid("num_classes", num_classes, ">= 1"));
        }
        let mut terms = Vec::with_capacity(spec.dml.len());
        for (i, term) in spec.dml.iter().enumerate() {
            let kind = term.loss.kind().name();
            let repeated = spec
                .dml
                .iter()
                .filter(|t| t.loss.kind() == term.loss.kind())
                .count()
                > 1;
            let name = if repeated {
                format!("{kind}-{i}")
            } else {
                kind.to_string()
            };
            let loss = DmlLoss::new(
                &term.loss,
                num_classes,
                embedding_dim,
                derive_seed(seed, i as u64),
                device,
            )
            .map_err(|e| e.within(&format!("dml.{i}.loss.")))?;
            terms.push(DmlTerm {
                loss,
                name,
                weight: term.weight,
                selection: term.embeddings,
            });
        }
        Ok(Self {
            terms,
            ce_weight: spec.ce_weight,
            cross_entropy: CrossEntropyLoss::new(spec.label_smoothing)?,
            num_classes,
        })
    }

    /// `logits` [B, C], `token_states` [B, T, H], `attention_mask` [B, T] (1 = token, 0 = pad),
    /// `labels` [B].
    pub fn forward(
        &self,
        logits: Tensor<B, 2>,
        token_states: Tensor<B, 3>,
        attention_mask: Tensor<B, 2, Int>,
        labels: Tensor<B, 1, Int>,
    ) -> Result<ObjectiveOutput<B>, LossError> {
        let host = host_ints(&labels);
        if let Some(&bad) = host
            .iter()
            .find(|&&l| l < 0 || l as usize >= self.num_classes)
        {
            return Err(LossError::LabelOutOfRange {
                label: bad,
                num_classes: self.num_classes,
            });
        }
        let ce = self.cross_entropy.forward(logits, labels.clone())?;
        let mut total = ce.clone().mul_scalar(self.ce_weight);
        let mut dml_terms = Vec::with_capacity(self.terms.len());
        for term in &self.terms {
            let (emb, emb_labels) = select_embeddings(
                term.selection,
                token_states.clone(),
                attention_mask.clone(),
                labels.clone(),
            )?;
            let value = term.loss.forward(emb, emb_labels)?;
            total = total + value.clone().mul_scalar(term.weight);
            dml_terms.push((term.name.clone(), value));
        }
        Ok(ObjectiveOutput {
            total,
            ce,
            dml_terms,
        })
    }

    /// The class representatives of the first proxy-based term (the one [`Self::class_scores`]
    /// uses), its name, and the class of each row (see [`DmlLoss::class_proxies`]).
    pub fn class_proxies(&self) -> Option<(String, Tensor<B, 2>, Vec<usize>)> {
        self.terms.iter().find_map(|t| {
            t.loss
                .class_proxies()
                .map(|(rows, classes)| (t.name.clone(), rows, classes))
        })
    }

    /// Class scores `[N, C]` of the first proxy-based term for `embeddings` (e.g. first-token
    /// states), or `None` when no term has proxies.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Option<Tensor<B, 2>> {
        self.terms
            .iter()
            .find_map(|t| t.loss.class_scores(embeddings.clone()))
    }
}

impl<B: Backend> Objective<B> {
    /// The trained loss parameters, named `dml.{i}.{parameter}` by term index (e.g.
    /// `dml.0.centers`), in term order; terms without parameters are absent.
    pub fn named_parameters(&self) -> Vec<(String, Tensor<B, 2>)> {
        self.terms
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                t.loss
                    .parameter()
                    .map(|(name, value)| (format!("dml.{i}.{name}"), value))
            })
            .collect()
    }

    /// The objective with the parameters `lookup(name)` gives for each name of
    /// [`Self::named_parameters`]; a missing name or a wrong shape is an error naming it.
    pub fn with_named_parameters(
        mut self,
        mut lookup: impl FnMut(&str) -> Option<Tensor<B, 2>>,
    ) -> Result<Self, LossError> {
        let names: Vec<(usize, String)> = self
            .terms
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.loss.parameter().map(|(n, _)| (i, format!("dml.{i}.{n}"))))
            .collect();
        let mut terms: Vec<Option<DmlTerm<B>>> = self.terms.drain(..).map(Some).collect();
        for (i, name) in names {
            let value = lookup(&name)
                .ok_or_else(|| LossError::Shape(format!("no tensor `{name}` given")))?;
            let term = terms[i].take().expect("each term is visited once");
            let loss = term
                .loss
                .with_parameter(value)
                .map_err(|e| LossError::Shape(format!("`{name}`: {e}")))?;
            terms[i] = Some(DmlTerm { loss, ..term });
        }
        self.terms = terms.into_iter().map(|t| t.expect("put back")).collect();
        Ok(self)
    }
}
