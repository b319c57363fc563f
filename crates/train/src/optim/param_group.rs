//! Which parameter group each parameter belongs to and whether it is exempt from weight decay,
//! decided from the module tree's types, as transformers' `get_parameter_names(model,
//! ALL_LAYERNORM_LAYERS)` does, never from substrings of paths:
//!
//! - the group is the typed submodule the parameter lives in: [`Trainable`]'s `model.encoder`,
//!   `model.head` or `objective` (the loss parameters);
//! - the parameters of a normalisation module (burn's `LayerNorm`, known by its type) and every
//!   field named `bias` are the ones common practice exempts from weight decay.
//!
//! A parameter of the trainable module outside those three submodules is an error, not a silent
//! default.

use std::collections::HashMap;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::error::TrainError;
use crate::trainable::Trainable;

/// The three learning-rate groups a researcher can tune separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamGroup {
    Encoder,
    Head,
    Loss,
}

impl ParamGroup {
    /// The group's name in curves and records (`encoder`, `head`, `loss`).
    pub fn name(self) -> &'static str {
        match self {
            ParamGroup::Encoder => "encoder",
            ParamGroup::Head => "head",
            ParamGroup::Loss => "loss",
        }
    }
}

/// How the optimizer treats one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamClass {
    pub group: ParamGroup,
    /// A bias or a normalisation weight: no weight decay unless `decay_bias_and_norm`.
    pub bias_or_norm: bool,
}

/// Container types (burn's `"Struct:<TypeName>"`) of normalisation modules, whose parameters
/// (scale and shift) are exempt from weight decay like biases.
const NORM_MODULE_TYPES: &[&str] = &["Struct:LayerNorm"];

/// The class of every parameter of a module, by parameter id.
#[derive(Debug, Clone, Default)]
pub struct ParamGroups {
    classes: HashMap<ParamId, ParamClass>,
}

impl ParamGroups {
    /// Every parameter of `module` in `group`.
    pub fn add<B: Backend, M: Module<B>>(mut self, module: &M, group: ParamGroup) -> Self {
        let mut visitor = Classify {
            group,
            stack: Vec::new(),
            out: &mut self.classes,
        };
        module.visit(&mut visitor);
        self
    }

    /// The groups of a [`Trainable`]: its encoder, head and loss parameters. Fails, naming the
    /// parameter, when the module holds one outside those submodules.
    pub fn of_trainable<B: Backend>(trainable: &Trainable<B>) -> Result<Self, TrainError> {
        let groups = Self::default()
            .add(&trainable.model.encoder, ParamGroup::Encoder)
            .add(&trainable.model.head, ParamGroup::Head)
            .add(&trainable.objective, ParamGroup::Loss);
        let mut all = Paths::default();
        trainable.visit(&mut all);
        if let Some((_, path)) = all
            .paths
            .iter()
            .find(|(id, _)| !groups.classes.contains_key(id))
        {
            return Err(TrainError::UnknownParameter { path: path.clone() });
        }
        Ok(groups)
    }

    /// The class of parameter `id`, if the module it was built from has it.
    pub fn class(&self, id: ParamId) -> Option<ParamClass> {
        self.classes.get(&id).copied()
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }
}

/// Records each float parameter's class from the field that holds it and that field's owner type.
struct Classify<'a> {
    group: ParamGroup,
    /// `(field name, type of the struct that has the field)` from the root down.
    stack: Vec<(String, String)>,
    out: &'a mut HashMap<ParamId, ParamClass>,
}

impl<B: Backend> ModuleVisitor<B> for Classify<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.stack
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let (field, owner) = self
            .stack
            .last()
            .map_or(("", ""), |(f, o)| (f.as_str(), o.as_str()));
        let bias_or_norm = field == "bias" || NORM_MODULE_TYPES.contains(&owner);
        self.out.insert(
            param.id,
            ParamClass {
                group: self.group,
                bias_or_norm,
            },
        );
    }
}

/// Every float parameter's dotted path, for naming an unclassified one.
#[derive(Default)]
struct Paths {
    stack: Vec<String>,
    paths: Vec<(ParamId, String)>,
}

impl<B: Backend> ModuleVisitor<B> for Paths {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.paths.push((param.id, self.stack.join(".")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::nn::{LayerNormConfig, LinearConfig};

    type B = NdArray;

    #[test]
    fn burn_layer_norm_parameters_are_norm_weights_and_linear_biases_are_biases() {
        let device = Default::default();
        let norm = LayerNormConfig::new(4).init::<B>(&device);
        let linear = LinearConfig::new(4, 3).init::<B>(&device);
        let groups = ParamGroups::default()
            .add(&norm, ParamGroup::Encoder)
            .add(&linear, ParamGroup::Head);
        let class = |id| groups.class(id).unwrap();
        assert!(class(norm.gamma.id).bias_or_norm, "LayerNorm scale");
        assert!(class(norm.beta.as_ref().unwrap().id).bias_or_norm);
        assert!(class(linear.bias.as_ref().unwrap().id).bias_or_norm);
        assert_eq!(
            class(linear.weight.id),
            ParamClass {
                group: ParamGroup::Head,
                bias_or_norm: false
            }
        );
    }
}
