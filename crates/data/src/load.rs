//! The single entry point `load_task`: the dispatch from a dataset spec to its loader. Above the
//! loaders and [`Task`], which import nothing from here.

use crate::authors::load_authors_pool;
use crate::custom::load_custom;
use crate::error::DataError;
use crate::senteval::load_senteval;
use crate::spec::DatasetSpec;
use crate::task::Task;
use std::path::Path;

/// Loads a dataset. SentEval tasks are read from `data_root/<TASK>/...` in SentEval's own layout
/// (e.g. `data_root/MR/rt-polarity.pos`). Relative paths of a custom dataset are taken relative to
/// `data_root`; absolute paths are used as they are. A Hugging Face dataset's folder likewise; a
/// Hub dataset comes from the Hugging Face cache, downloaded first if needed (`crate::hf`).
pub fn load_task(spec: &DatasetSpec, data_root: &Path) -> Result<Task, DataError> {
    let task = match spec {
        DatasetSpec::SentEval(name) => load_senteval(*name, data_root)?,
        DatasetSpec::Custom(custom) => load_custom(custom, data_root)?,
        DatasetSpec::Authors(authors) => load_authors_pool(authors, data_root)?,
        DatasetSpec::Hf(hf) => crate::hf::load_hf(hf, data_root)?,
    };
    if task.is_empty() {
        return Err(DataError::EmptyDataset {
            name: task.name,
            what: "no example in any split".into(),
        });
    }
    Ok(task)
}
