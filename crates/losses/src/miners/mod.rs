//! Miners choose the pairs or triplets a tuple loss uses, from distances of the detached
//! embeddings (mining is not differentiable), as PML's miners do.

mod batch_hard;
mod multi_similarity;
mod triplet_margin;

pub use batch_hard::BatchHardMiner;
pub use multi_similarity::MultiSimilarityMiner;
pub use triplet_margin::TripletMarginMiner;

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::distance::Distance;
use crate::error::LossError;
use crate::numerics::{host_floats, host_ints};
use crate::spec::MinerSpec;
use crate::tuples::IndexTuple;

/// Any of the miners, built from a [`MinerSpec`].
#[derive(Debug, Clone, PartialEq)]
pub enum Miner {
    BatchHard(BatchHardMiner),
    TripletMargin(TripletMarginMiner),
    MultiSimilarity(MultiSimilarityMiner),
}

impl Miner {
    pub fn from_spec(spec: &MinerSpec) -> Result<Self, LossError> {
        spec.validate()?;
        Ok(match *spec {
            MinerSpec::BatchHard => Miner::BatchHard(BatchHardMiner::default()),
            MinerSpec::TripletMargin { margin, triplets } => {
                Miner::TripletMargin(TripletMarginMiner {
                    margin,
                    triplets,
                    distance: Distance::PML_DEFAULT,
                })
            }
            MinerSpec::MultiSimilarity { epsilon } => {
                Miner::MultiSimilarity(MultiSimilarityMiner {
                    epsilon,
                    distance: Distance::Cosine,
                })
            }
        })
    }

    fn distance(&self) -> Distance {
        match self {
            Miner::BatchHard(m) => m.distance,
            Miner::TripletMargin(m) => m.distance,
            Miner::MultiSimilarity(m) => m.distance,
        }
    }

    /// Mines index tuples from `embeddings` [N, D] (detached here) and `labels` [N]. Fails only
    /// when the triplet-margin miner would have to list more than [`crate::tuples::MAX_TRIPLETS`].
    pub fn mine<B: Backend>(
        &self,
        embeddings: Tensor<B, 2>,
        labels: &Tensor<B, 1, Int>,
    ) -> Result<IndexTuple, LossError> {
        let emb = embeddings.detach();
        let n = emb.dims()[0];
        let mat = host_floats(&self.distance().self_matrix(emb));
        let labels = host_ints(labels);
        self.mine_host(&mat, n, &labels)
    }

    /// Mining on a host distance matrix (row-major `[n, n]`).
    pub(crate) fn mine_host(
        &self,
        mat: &[f32],
        n: usize,
        labels: &[i64],
    ) -> Result<IndexTuple, LossError> {
        Ok(match self {
            Miner::BatchHard(m) => IndexTuple::Triplets(m.mine(mat, n, labels)),
            Miner::TripletMargin(m) => IndexTuple::Triplets(m.mine(mat, n, labels)?),
            Miner::MultiSimilarity(m) => IndexTuple::Pairs(m.mine(mat, n, labels)),
        })
    }
}
