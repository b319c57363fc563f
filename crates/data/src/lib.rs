//! dmlft-data: SentEval task loaders, custom datasets, few-shot protocols and samplers,
//! tokenization and batching. Knows nothing of models or losses.
//!
//! A task's pools, a seeded few-shot sample of them, and the training batches of that sample
//! (run as a doctest on the demo MR set committed under `datasets/demo`):
//!
//! ```
//! use dmlft_data::{load_task, sample_split, BatchSampler, BatchStream};
//! use dmlft_data::{DatasetSpec, ProtocolSpec, SplitRequest, TaskName};
//!
//! let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/demo");
//! let task = load_task(&DatasetSpec::SentEval(TaskName::Mr), root.as_ref())?;
//! let request = SplitRequest {
//!     protocol: ProtocolSpec::PerClass { dev_shots: 0 },
//!     shots: 8,
//!     seed: 1,
//!     fold: None,
//! };
//! let split = sample_split(&task, &request)?;
//! assert_eq!(split.train.len(), 16); // 8 per class, 2 classes
//!
//! // Batches of 4 with 2 examples of each of 2 classes, as DML losses need.
//! let labels: Vec<usize> = split.train.iter().map(|e| e.label).collect();
//! let mut batches = BatchStream::new(BatchSampler::MPerClass { m: 2 }, &labels, 4, request.seed)?;
//! let batch = batches.next_batch();
//! let mut classes: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
//! classes.sort();
//! assert_eq!(classes, [0, 0, 1, 1]);
//! # Ok::<(), dmlft_data::DataError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(unreachable_pub)]
pub mod authors;
pub mod batch;
pub mod custom;
pub mod error;
pub mod example;
pub mod fingerprint;
pub mod hf;
pub mod load;
pub mod memory;
pub mod numpy;
mod parquet_file;
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
pub use load::load_task;
pub use protocol::{sample_split, FewShotSplit};
pub use spec::{
    AuthorsPoolSpec, CustomDatasetSpec, DatasetSpec, FileFormat, HfDatasetSpec, KfoldRng,
    PoolChoice, ProtocolSpec, SplitRequest, TaskName,
};
pub use stats::{task_stats, TaskStats};
pub use task::{Task, DEV, TEST, TRAIN};
pub use tokenize::{EncodedBatch, TextTokenizer, TokenizerFamily};
pub use verify::{verify_checksums, VerifyReport};
