//! Parity with pytorch-metric-learning / sentence-transformers / torch on the CPU (burn-flex):
//! every fixture of `scripts/make_loss_fixtures.py` (loss value, gradients of the embeddings and
//! parameters, mined tuples) and the papers' shape. The harness is `parity_cases`, which
//! dmlft-train's wgpu tests run on burn-wgpu too.

mod parity_cases;

use burn::backend::{Autodiff, Flex};

type B = Autodiff<Flex>;

#[test]
fn losses_match_reference_implementations() {
    parity_cases::check_all_cases::<B>(&Default::default(), parity_cases::CPU);
}

#[test]
fn papers_shape_matches_reference() {
    parity_cases::check_papers_shape::<B>(&Default::default(), parity_cases::CPU);
}
