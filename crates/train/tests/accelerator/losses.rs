//! The loss parity fixtures of dmlft-losses (loss value, gradients of the embeddings and of the
//! loss parameters, mined tuples, against pytorch-metric-learning in float64) on the accelerator,
//! through the same harness the CPU test uses: every loss, in [`crate::LOSS_COVERAGE`] (on
//! lavapipe one case per loss, since each case's new kernels take seconds to compile there).

#[path = "../../../losses/tests/parity_cases/mod.rs"]
pub mod parity_cases;

use crate::{device_or_skip, loss_tolerance, Gpu, LOSS_COVERAGE};

#[test]
fn every_loss_matches_the_reference() {
    let Some(device) = device_or_skip() else {
        return;
    };
    parity_cases::check_cases::<Gpu>(&device, &loss_tolerance, LOSS_COVERAGE);
}
