//! The encoder's hot operations, each as one function over burn tensors of any backend.
//!
//! On burn's CPU backend Flex (inference) and on `Autodiff<Flex>` (training) these run this
//! module's own kernels: one pass over the data per direction, vectorised, split across rayon's
//! threads, with a hand-written backward registered through burn-autodiff's `Backward` trait.
//! On every other backend (NdArray, CUDA, half precision) they run the plain burn ops they
//! replace, which are also the reference the kernels are tested against
//! (`tests/kernels.rs`). Why: burn's op-by-op autodiff allocates and walks memory once per
//! elementwise op (LayerNorm alone is nine ops forward and more backward), and Flex's GELU
//! calls a scalar `erff` per element; see docs/SPEED.md for the measured effect.
//!
//! [`set_fused_kernels`]`(false)` (or `DMLFT_FUSED_KERNELS=0`) routes everything to the plain
//! ops, for A/B measurements.

mod adamw;
mod attention;
mod gelu;
mod gemm;
mod layer_norm;
mod linear;
mod route;
pub(crate) mod vector_math;

pub use adamw::{adamw_update, AdamWStep};
pub use attention::attention_context;
pub use gelu::gelu;
pub use layer_norm::add_layer_norm;
pub use linear::{linear_rows, linear_tokens};
pub use route::{fused_kernels, set_fused_kernels};
pub use vector_math::{exp_nonpositive, normal_cdf_and_pdf, simd_level, SimdLevel};
