//! dmlft-data: SentEval task loaders, custom datasets, few-shot protocols and samplers,
//! tokenization and batching. Knows nothing of models or losses.
//!
//! ```no_run
//! use dmlft_data::{load_task, sample_split, DatasetSpec, ProtocolSpec, SplitRequest, TaskName};
//! let task = load_task(&DatasetSpec::SentEval(TaskName::Mr), "datasets/demo".as_ref()).unwrap();
//! let request = SplitRequest {
//!     protocol: ProtocolSpec::PerClass { dev_shots: 0 },
//!     shots: 8,
//!     seed: 1,
//!     fold: None,
//! };
//! let split = sample_split(&task, &request).unwrap();
//! assert_eq!(split.train.len(), 16);
//! ```
#![warn(unreachable_pub)]
pub mod authors;
pub mod batch;
pub mod custom;
pub mod error;
pub mod example;
pub mod fingerprint;
pub mod memory;
pub mod numpy;
pub mod protocol;
pub mod rng;
pub mod senteval;
pub mod spec;
pub mod stats;
pub mod task;
pub mod tokenize;
pub mod verify;

pub use batch::{epoch_order, BatchPlan, BatchSampler, BatchStream};
pub use error::DataError;
pub use example::Example;
pub use fingerprint::{data_files, fingerprint, DataFile};
pub use protocol::{sample_split, FewShotSplit};
pub use spec::{
    AuthorsPoolSpec, CustomDatasetSpec, DatasetSpec, FileFormat, KfoldRng, PoolChoice,
    ProtocolSpec, SplitRequest, TaskName,
};
pub use stats::{task_stats, TaskStats};
pub use task::{load_task, Task, DEV, TEST, TRAIN};
pub use tokenize::{EncodedBatch, TextTokenizer, TokenizerFamily};
pub use verify::{verify_checksums, VerifyReport};
