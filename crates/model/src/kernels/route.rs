//! Which implementation an op takes for backend `B`, and the moves between a generic
//! `Tensor<B, D>` and the concrete Flex / Autodiff<Flex> primitives once `B` is known.
//!
//! burn has no specialisation; `TypeId` comparison plus an `Any` downcast of the primitive is the
//! safe way to reach the concrete type (every backend and primitive is `'static`).

use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicU8, Ordering};

use burn::backend::{Autodiff, Flex};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorPrimitive};

/// `Autodiff<Flex>`'s float primitive (burn-autodiff's `AutodiffTensor<Flex>`).
pub(crate) type AdTensor =
    <Autodiff<Flex> as burn::tensor::backend::BackendTypes>::FloatTensorPrimitive;
pub(crate) use burn::backend::flex::FlexTensor;

/// 0: not read yet, 1: fused, 2: plain.
static FUSED: AtomicU8 = AtomicU8::new(0);

/// Turns the fused kernels on (the default) or off for the whole process.
pub fn set_fused_kernels(on: bool) {
    FUSED.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// Whether the fused kernels are on: `DMLFT_FUSED_KERNELS=0` (or `false`, `off`) turns them off
/// at start-up, [`set_fused_kernels`] at any time.
pub fn fused_kernels() -> bool {
    match FUSED.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let on = std::env::var("DMLFT_FUSED_KERNELS").map_or(true, |v| env_switch(&v));
            set_fused_kernels(on);
            on
        }
    }
}

/// The value of `DMLFT_FUSED_KERNELS`: off for 0/false/off, on for 1/true/on/empty; anything
/// else keeps them on and says so once (a library cannot stop the program over it).
fn env_switch(value: &str) -> bool {
    match value.trim().to_ascii_lowercase().as_str() {
        "0" | "false" | "off" => false,
        "" | "1" | "true" | "on" => true,
        other => {
            tracing::warn!(
                "DMLFT_FUSED_KERNELS={other:?} is not one of 0, 1, false, true, off, on; \
                 the fused kernels stay on"
            );
            true
        }
    }
}

pub(crate) enum Route {
    /// `B` is `Autodiff<Flex>`: fused forward, hand-written backward.
    Autodiff,
    /// `B` is `Flex`: fused forward only.
    Inference,
    /// Any other backend, or fused kernels off: the plain burn ops.
    Plain,
}

/// The route for backend `B` and a tensor of `dtype` (the kernels are f32 only).
pub(crate) fn route<B: Backend>(dtype: DType) -> Route {
    if dtype != DType::F32 || !fused_kernels() {
        return Route::Plain;
    }
    let id = TypeId::of::<B>();
    if id == TypeId::of::<Autodiff<Flex>>() {
        Route::Autodiff
    } else if id == TypeId::of::<Flex>() {
        Route::Inference
    } else {
        Route::Plain
    }
}

/// Moves a value to a type that `route` proved identical.
fn same<T: 'static, U: 'static>(value: T) -> U {
    let boxed: Box<dyn Any> = Box::new(value);
    *boxed
        .downcast::<U>()
        .expect("kernels::route: the backend was checked by TypeId")
}

/// The concrete primitive `P` of a tensor of backend `B` (which must be `P`'s backend).
pub(crate) fn primitive<B: Backend, const D: usize, P: 'static>(tensor: Tensor<B, D>) -> P {
    same(tensor.into_primitive().tensor())
}

/// A tensor of backend `B` from its concrete primitive `P`.
pub(crate) fn tensor<B: Backend, const D: usize, P: 'static>(primitive: P) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(same::<P, B::FloatTensorPrimitive>(
        primitive,
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn env_switch_values() {
        for v in ["0", "false", "OFF", " off "] {
            assert!(!super::env_switch(v), "{v:?}");
        }
        for v in ["", "1", "true", "On", "maybe"] {
            assert!(super::env_switch(v), "{v:?}");
        }
    }
}
