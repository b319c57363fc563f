//! What a cell builds before it trains: its task and few-shot split, the evaluation examples, the
//! tokenizer, and on the method's request the classifier with a new head and the objective with
//! new loss parameters (fine-tuning) or the encoder alone (SetFit), each drawn from its own stream
//! of the cell seed. `run_cell` trains it; the examples that check initialisation against a
//! reference build exactly the same thing.

use std::path::PathBuf;

use burn::tensor::backend::Backend;
use dmlft_data::rng::{stream, SplitRng};
use dmlft_data::{load_task, sample_split, Example, FewShotSplit, Task, TextTokenizer};
use dmlft_losses::Objective;
use dmlft_model::checkpoint::CONFIG_FILE;
use dmlft_model::{
    load_classifier, load_encoder, resolve_source, Encoder, EncoderConfig, SequenceClassifier,
};

use crate::error::TrainError;
use crate::spec::{CellSpec, InferenceMode};

/// A cell's inputs: what every method trains and evaluates on. The modules are built by the
/// method ([`CellSetup::classifier`], [`CellSetup::encoder`]).
pub struct CellSetup {
    pub task: Task,
    pub split: FewShotSplit,
    /// What the cell evaluates on: `split.eval`, capped by `eval_limit` (a seeded subset).
    pub eval: Vec<Example>,
    /// The folder of the pretrained model (weights and tokenizer files).
    pub model_dir: PathBuf,
    /// Its `config.json`.
    pub config: EncoderConfig,
    pub tokenizer: TextTokenizer,
}

impl CellSetup {
    /// Loads and samples the data and the model's tokenizer and config of `cell`. Fails before
    /// any training when an inference mode needs proxies the objective does not have.
    pub fn new(cell: &CellSpec) -> Result<Self, TrainError> {
        if let Some(mode) = cell.inference.iter().find(|m| m.needs_proxies()) {
            if !cell.objective.has_proxies() {
                return Err(TrainError::NoProxies {
                    mode: *mode,
                    loss: cell.loss_name.clone(),
                });
            }
        }
        let seed = cell.split.seed;
        let model_dir = resolve_source(&cell.model.source)?;
        // Before anything is tokenized: an input longer than the position table would index past
        // it inside the backend (a panic, not an error).
        let config_file = model_dir.join(CONFIG_FILE);
        let config = EncoderConfig::from_file(&config_file)?;
        config.check_max_length(cell.model.max_length, &config_file.display().to_string())?;
        let task = load_task(&cell.dataset, &cell.data_root)?;
        let split = sample_split(&task, &cell.split)?;
        check_knn_k(cell, split.train.len())?;
        let eval = eval_subset(split.eval.clone(), cell.eval_limit, seed);
        let tokenizer = TextTokenizer::from_dir(&model_dir)?
            .for_model(config.vocab_size, config.type_vocab_size);
        Ok(Self {
            task,
            split,
            eval,
            model_dir,
            config,
            tokenizer,
        })
    }

    /// The classifier with a new head and the objective with new loss parameters, each drawn
    /// from its own stream of the cell seed.
    pub fn classifier<B: Backend>(
        &self,
        cell: &CellSpec,
        device: &B::Device,
    ) -> Result<(SequenceClassifier<B>, Objective<B>), TrainError> {
        let seed = cell.split.seed;
        let num_classes = self.task.num_classes();
        B::seed(device, SplitRng::derived_seed(seed, stream::BACKEND));
        let (model, _report) = load_classifier::<B>(
            &self.model_dir,
            num_classes,
            SplitRng::derived_seed(seed, stream::HEAD_INIT),
            cell.model.dropout,
            device,
        )?;
        let objective = Objective::<B>::new(
            &cell.objective,
            num_classes,
            self.config.hidden_size,
            SplitRng::derived_seed(seed, stream::LOSS_INIT),
            device,
        )?;
        Ok((model, objective))
    }

    /// The pretrained encoder alone (a checkpoint's classification head is ignored).
    pub fn encoder<B: Backend>(
        &self,
        cell: &CellSpec,
        device: &B::Device,
    ) -> Result<Encoder<B>, TrainError> {
        B::seed(
            device,
            SplitRng::derived_seed(cell.split.seed, stream::BACKEND),
        );
        Ok(load_encoder::<B>(&self.model_dir, cell.model.dropout, device)?.0)
    }
}

/// kNN votes among at most the training examples there are: refused before any training.
fn check_knn_k(cell: &CellSpec, n_train: usize) -> Result<(), TrainError> {
    for (i, mode) in cell.inference.iter().enumerate() {
        if let InferenceMode::Knn { k } = mode {
            if *k > n_train {
                return Err(TrainError::InvalidSetting {
                    key: format!("inference.{i}.k"),
                    value: k.to_string(),
                    valid: format!("at most the cell's {n_train} training examples"),
                });
            }
        }
    }
    Ok(())
}

/// The evaluation examples, capped at `limit` by a seeded subset kept in pool order (the same
/// subset for the same seed, so analyses can evaluate exactly what a cell evaluated).
pub fn eval_subset(eval: Vec<Example>, limit: Option<usize>, seed: u64) -> Vec<Example> {
    match limit {
        Some(limit) if limit < eval.len() => {
            let mut order: Vec<usize> = (0..eval.len()).collect();
            SplitRng::new(seed, stream::EVAL_SUBSET).shuffle(&mut order);
            let mut keep = order[..limit].to_vec();
            keep.sort_unstable();
            keep.into_iter().map(|i| eval[i].clone()).collect()
        }
        _ => eval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Vec<Example> {
        (0..n).map(|i| Example::new(format!("t{i}"), 0)).collect()
    }

    fn kept(n: usize, limit: usize, seed: u64) -> Vec<String> {
        eval_subset(pool(n), Some(limit), seed)
            .into_iter()
            .map(|e| e.text)
            .collect()
    }

    #[test]
    fn eval_subset_is_seeded_in_pool_order_and_matches_the_python_reference() {
        // scripts/fewshot_split_reference.py: eval_subset(10, 4, 7), eval_subset(20, 5, 1).
        assert_eq!(kept(10, 4, 7), ["t2", "t4", "t5", "t6"]);
        assert_eq!(kept(20, 5, 1), ["t3", "t8", "t9", "t17", "t18"]);
        assert_eq!(eval_subset(pool(3), Some(5), 1).len(), 3);
        assert_eq!(eval_subset(pool(3), None, 1).len(), 3);
    }
}
