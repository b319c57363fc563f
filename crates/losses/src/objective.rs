//! The training objective built from an [`ObjectiveSpec`]: `ce_weight * CE(logits) +
//! sum_i weight_i * DML_i(selected embeddings)`. A burn `Module` whose parameters are exactly the
//! loss parameters (proxies, centers, class weights), so that a trainer can give them their own
//! parameter group.

use std::marker::PhantomData;

use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};

pub use crate::catalog::{DmlLoss, TupleLoss};
use crate::error::LossError;
use crate::init::derive_seed;
use crate::losses::CrossEntropyLoss;
use crate::miners::Miner;
use crate::numerics::host_ints;
use crate::select::select_embeddings;
use crate::spec::{EmbeddingSelection, ObjectiveSpec};

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

impl<B: Backend> DmlLoss<B> {
    /// Class scores `[N, C]` (larger = more likely) of proxy-based losses; `None` for tuple losses.
    pub fn class_scores(&self, embeddings: Tensor<B, 2>) -> Option<Tensor<B, 2>> {
        self.proxy().map(|p| p.class_scores(embeddings))
    }

    /// The trained parameter of the loss (`"proxies"`, `"centers"` or `"weights"`) and its value,
    /// `None` for tuple losses; what a saved model keeps for proxy inference.
    pub fn parameter(&self) -> Option<(&'static str, Tensor<B, 2>)> {
        self.proxy().map(|p| p.parameter())
    }

    /// The trained class representatives as rows `[R, D]` in the embedding space, with the class
    /// of each row: one proxy (ProxyAnchor, ProxyNCA) or weight column (NormalizedSoftmax,
    /// ArcFace, CosFace) per class, `centers_per_class` SoftTriple centers per class (row
    /// `c*K + k` is center k of class c). `None` for tuple losses.
    pub fn class_proxies(&self) -> Option<(Tensor<B, 2>, Vec<usize>)> {
        let (rows, per_class) = self.proxy()?.class_rows();
        let n = rows.dims()[0];
        Some((rows, (0..n).map(|r| r / per_class.max(1)).collect()))
    }

    /// The loss with its parameter replaced by `value`, which must have the shape of the current
    /// one (same loss kind, classes and embedding size).
    pub fn with_parameter(mut self, value: Tensor<B, 2>) -> Result<Self, LossError> {
        let Some(proxy) = self.proxy_mut() else {
            return Err(LossError::Shape(
                "this loss has no parameter to load (a tuple loss)".into(),
            ));
        };
        let (name, current) = proxy.parameter();
        if current.dims() != value.dims() {
            return Err(LossError::Shape(format!(
                "{name} of shape {:?} given, the loss expects {:?}",
                value.dims(),
                current.dims()
            )));
        }
        proxy.set_parameter(value);
        Ok(self)
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
        // Each loss's hyperparameters are checked once, where `DmlLoss::new` builds it.
        spec.validate_weights()?;
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
