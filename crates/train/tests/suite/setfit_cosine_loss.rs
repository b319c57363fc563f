//! SetFit's body loss against sentence-transformers' CosineSimilarityLoss (fixture
//! tests/fixtures/setfit/cosine_loss.*): the loss and its gradients with respect to both
//! embeddings, on random rows (a self-pair row with zero gradient, an opposite row of another
//! norm) and on real MiniLM embeddings of SetFit's first SST2 pairs.

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use dmlft_train::setfit::cosine_loss::cosine_similarity_loss;

use crate::setfit_fixture::{max_abs_diff, Fixture};

fn tensor<B: Backend>(shape: &[usize], values: &[f64], device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [shape[0], shape[1]]),
        device,
    )
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().iter::<f64>().collect()
}

/// Max |loss - ref| and max |grad - ref| / max |ref grad| over the cases on backend `B`.
fn errors<B: burn::tensor::backend::AutodiffBackend>() -> (f64, f64) {
    let fx = Fixture::open("cosine_loss");
    let device = B::Device::default();
    let (mut loss_err, mut grad_err) = (0.0f64, 0.0f64);
    for case in fx.cases() {
        let name = case["name"].as_str().unwrap();
        let (su, u) = fx.array(&format!("{name}.u"));
        let (sv, v) = fx.array(&format!("{name}.v"));
        let labels: Vec<f64> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let u = tensor::<B>(&su, &u, &device).require_grad();
        let v = tensor::<B>(&sv, &v, &device).require_grad();
        let y = Tensor::<B, 1>::from_data(TensorData::new(labels.clone(), [labels.len()]), &device);
        let loss = cosine_similarity_loss(u.clone(), v.clone(), y);
        let value = values(loss.clone())[0];
        let grads = loss.backward();
        let gu = values(u.grad(&grads).unwrap());
        let gv = values(v.grad(&grads).unwrap());
        loss_err = loss_err.max((value - case["loss"].as_f64().unwrap()).abs());
        let (ru, rv) = (
            fx.array(&format!("{name}.grad_u")).1,
            fx.array(&format!("{name}.grad_v")).1,
        );
        let scale = ru.iter().chain(&rv).fold(0.0f64, |m, v| m.max(v.abs()));
        grad_err = grad_err
            .max(max_abs_diff(&gu, &ru) / scale)
            .max(max_abs_diff(&gv, &rv) / scale);
    }
    (loss_err, grad_err)
}

#[test]
fn loss_and_gradients_match_sentence_transformers() {
    // f32 inputs and arithmetic against float64 references: f32 rounding only.
    let (loss, grad) = errors::<Autodiff<NdArray>>();
    assert!(loss < 1e-6, "loss differs by {loss:e}");
    assert!(
        grad < 1e-5,
        "gradients differ by {grad:e} (relative to the largest)"
    );
}
