//! Parameter groups come from the module tree's types: every loss with parameters puts them in
//! the loss group with weight decay, every encoder LayerNorm weight and bias and every linear
//! bias is exempt from decay (with `decay_bias_and_norm = false`), and the head is its own group.

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use dmlft_losses::losses::{NormalizedSoftmaxConfig, ProxyNcaConfig};
use dmlft_losses::spec::{DmlLossKind, DmlLossSpec, EmbeddingSelection, ObjectiveSpec};
use dmlft_losses::Objective;
use dmlft_model::{EncoderConfig, ModelFamily, SequenceClassifier};
use dmlft_pooling::Pooling;
use dmlft_train::optim::{AdamW, AdamWConfig, GroupLrs, ParamClass, ParamGroup, ParamGroups};
use dmlft_train::Trainable;

type B = Autodiff<NdArray>;

const HIDDEN: usize = 8;
const CLASSES: usize = 3;

/// Every loss kind that has parameters, with default hyperparameters.
fn parameterised_losses() -> Vec<DmlLossSpec> {
    DmlLossKind::ALL
        .iter()
        .filter(|k| k.has_proxies())
        .map(|k| serde_json::from_str(&format!(r#"{{"kind": "{}"}}"#, k.name())).unwrap())
        .collect()
}

fn trainable(loss: DmlLossSpec, family: ModelFamily) -> Trainable<B> {
    let device = Default::default();
    let config = EncoderConfig::synthetic(family, HIDDEN, 2, 2, 16, 50, 40).unwrap();
    let model = SequenceClassifier::random(&config, CLASSES, 1, &device);
    let spec = ObjectiveSpec::ce_plus(loss, 0.5)
        .with_embeddings(EmbeddingSelection::Pooled(Pooling::First));
    let objective = Objective::new(&spec, CLASSES, HIDDEN, 2, &device).unwrap();
    Trainable { model, objective }
}

/// Parameter ids with their dotted path.
#[derive(Default)]
struct Ids {
    stack: Vec<String>,
    ids: Vec<(ParamId, String)>,
}

impl<Bk: Backend> ModuleVisitor<Bk> for Ids {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.stack.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.stack.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Bk, D>>) {
        self.ids.push((param.id, self.stack.join(".")));
    }
}

fn ids<M: Module<B>>(module: &M) -> Vec<(ParamId, String)> {
    let mut v = Ids::default();
    module.visit(&mut v);
    v.ids
}

#[test]
fn loss_parameters_land_in_the_loss_group_with_weight_decay() {
    let losses = parameterised_losses();
    assert_eq!(losses.len(), 6);
    for loss in losses {
        let kind = loss.kind();
        let t = trainable(loss, ModelFamily::Roberta);
        let groups = ParamGroups::of_trainable(&t).unwrap();
        let params = ids(&t.objective);
        assert!(!params.is_empty(), "{kind}: no loss parameters");
        for (id, path) in params {
            assert_eq!(
                groups.class(id),
                Some(ParamClass {
                    group: ParamGroup::Loss,
                    bias_or_norm: false
                }),
                "{kind}: objective.{path}"
            );
        }
    }
}

#[test]
fn every_encoder_layer_norm_and_bias_is_exempt_and_the_head_is_its_own_group() {
    for family in [ModelFamily::Bert, ModelFamily::Roberta] {
        let t = trainable(
            DmlLossSpec::ProxyNca(ProxyNcaConfig { softmax_scale: 1.0 }),
            family,
        );
        let groups = ParamGroups::of_trainable(&t).unwrap();
        let encoder = ids(&t.model.encoder);
        let mut norms = 0;
        for (id, path) in &encoder {
            let class = groups.class(*id).unwrap();
            assert_eq!(class.group, ParamGroup::Encoder, "{path}");
            let expected = path.contains("layer_norm") || path.ends_with("bias");
            norms += usize::from(path.contains("layer_norm"));
            assert_eq!(class.bias_or_norm, expected, "{family:?} encoder.{path}");
        }
        // Embeddings' LayerNorm and two per layer, each with a weight and a bias.
        assert_eq!(norms, (1 + 2 * 2) * 2, "{family:?}");
        for (id, path) in ids(&t.model.head) {
            let class = groups.class(id).unwrap();
            assert_eq!(class.group, ParamGroup::Head, "{path}");
            assert_eq!(class.bias_or_norm, path.ends_with("bias"), "head.{path}");
        }
        assert_eq!(groups.len(), ids(&t).len());
    }
}

/// The bug of the path-substring rule: `NormalizedSoftmax` in a path read as "a norm", so its
/// class weights lost weight decay. With a zero gradient an AdamW step only decays, so the
/// class weights must shrink by exactly `1 - lr * wd` while LayerNorm weights stay put.
#[test]
fn normalized_softmax_class_weights_are_decayed_and_layer_norms_are_not() {
    let t = trainable(
        DmlLossSpec::NormalizedSoftmax(NormalizedSoftmaxConfig { temperature: 0.05 }),
        ModelFamily::Bert,
    );
    let before_weights = flat(&t.objective);
    let before_norm = t.model.encoder.embeddings.layer_norm.gamma.val();
    let config = AdamWConfig {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.1,
        decay_bias_and_norm: false,
    };
    let mut optim = AdamW::<B>::new(config, ParamGroups::of_trainable(&t).unwrap());
    let loss = zero_loss(&t);
    let mut grads = GradientsParams::from_grads(loss.backward(), &t);
    let lrs = GroupLrs {
        encoder: 0.5,
        head: 0.5,
        loss: 0.5,
    };
    let t = optim.step(t, &mut grads, lrs, 1.0).unwrap();
    let after_weights = flat(&t.objective);
    for (a, b) in after_weights.iter().zip(&before_weights) {
        assert!((a - b * (1.0 - 0.5 * 0.1)).abs() < 1e-6, "{a} vs {b}");
    }
    let after_norm = t.model.encoder.embeddings.layer_norm.gamma.val();
    assert_eq!(
        after_norm.into_data().to_vec::<f32>().unwrap(),
        before_norm.into_data().to_vec::<f32>().unwrap()
    );
}

fn flat<M: Module<B>>(module: &M) -> Vec<f32> {
    #[derive(Default)]
    struct Values(Vec<f32>);
    impl ModuleVisitor<B> for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0
                .extend(param.val().into_data().to_vec::<f32>().unwrap());
        }
    }
    let mut v = Values::default();
    module.visit(&mut v);
    v.0
}

/// `sum(0 * p)` over every parameter: a gradient of zeros for each.
fn zero_loss(t: &Trainable<B>) -> Tensor<B, 1> {
    #[derive(Default)]
    struct Sum(Option<Tensor<B, 1>>);
    impl ModuleVisitor<B> for Sum {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let term = param.val().mul_scalar(0.0).sum();
            self.0 = Some(match self.0.take() {
                Some(s) => s + term,
                None => term,
            });
        }
    }
    let mut s = Sum::default();
    t.visit(&mut s);
    s.0.unwrap()
}
