//! NumPy's legacy random generator in Rust, bit for bit: the MT19937 generator and the
//! `RandomState` methods that scikit-learn's `shuffle` / `KFold` and NumPy's `choice` use. Needed
//! to draw the papers' authors' exact few-shot samples (`protocol::numpy_kfold`).

mod mt19937;
mod random_state;

pub use mt19937::Mt19937;
pub use random_state::RandomState;
