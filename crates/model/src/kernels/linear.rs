//! A linear layer over the tokens of a `[batch, seq, d_in]` tensor as one 2-D matrix product.
//!
//! burn's `Linear` on a 3-D input broadcasts the weight over the batch: `batch` small products
//! forward and, backward, a `[batch, d_in, d_out]` weight gradient that is then summed over the
//! batch (16x the memory of the gradient, and a reduction pass). Flattening the tokens first
//! gives one `[batch * seq, d_in] x [d_in, d_out]` product each way, which also parallelises
//! better. The reshapes are free on contiguous tensors. Same values on every backend.

use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

pub fn linear_tokens<B: Backend>(linear: &Linear<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [batch, seq, d_in] = x.dims();
    let out = linear.forward(x.reshape([batch * seq, d_in]));
    let d_out = out.dims()[1];
    out.reshape([batch, seq, d_out])
}
