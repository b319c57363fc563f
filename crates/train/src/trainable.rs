//! The one module the optimizer updates: the classifier and the loss parameters. Its field
//! names are what [`crate::optim::ParamGroup`] reads to tell the encoder, the head and the loss
//! parameters apart.

use burn::module::Module;
use burn::tensor::backend::Backend;
use dmlft_losses::Objective;
use dmlft_model::SequenceClassifier;

#[derive(Module, Debug)]
pub struct Trainable<B: Backend> {
    pub model: SequenceClassifier<B>,
    pub objective: Objective<B>,
}
