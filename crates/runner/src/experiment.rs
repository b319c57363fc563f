//! A study from code, without a grid file: the builder resolves to exactly the cells (same
//! specs, same ids, same order) that the equivalent grid file expands to, because both build
//! them with [`Cell::new`], [`InferenceMode::runnable`] and [`ProtocolSpec::cell_folds`],
//! and both ask the contract types' owners to validate them. Defaults are the specs' own
//! (`TrainSpec::default()`, `ObjectiveSpec::default()`, ...), as an omitted grid key. Data can
//! come from memory too ([`Experiment::examples`]: examples and label names).
//!
//! With [`Experiment::output`] the study runs into a results folder exactly as `dmlft run`
//! does (one record per cell, resumable, locked, `dmlft report` and [`crate::report::run`]
//! read it):
//!
//! ```no_run
//! use dmlft::prelude::*;
//! use dmlft::report;
//!
//! let study = Experiment::new("models/all-MiniLM-L6-v2")
//!     .dataset(TaskName::Sst2)
//!     .per_class(16)
//!     .loss("ce", ObjectiveSpec::default())
//!     .seeds(0..5)
//!     .output("results/sst2-ce");
//! let run = study.run_into(&RunOptions::new(Device::Cpu).jobs(2))?;
//! assert_eq!(run.summary.failures(), 0);
//! let report = report::run(study.output_dir(), &ReportOptions::default())?;
//! println!("{}", report.markdown);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```
//! use dmlft::prelude::*;
//!
//! let soft_triple = DmlLossSpec::SoftTriple(SoftTripleConfig::default());
//! let study = Experiment::new("models/all-MiniLM-L6-v2")
//!     .dataset(TaskName::Sst2)
//!     .per_class(16)
//!     .loss("ce", ObjectiveSpec::default())
//!     .loss("ce+softtriple", ObjectiveSpec::ce_plus(soft_triple, 0.4))
//!     .seeds(0..5);
//! let cells = study.cells()?;
//! assert_eq!(cells.len(), 2 * 5);
//! assert_eq!((cells[0].loss(), cells[0].shots(), cells[0].seed()), ("ce", 16, 0));
//! assert_eq!(cells[5].loss(), "ce+softtriple");
//! // `study.run(&RunOptions::new(Device::Cpu))` trains and evaluates every cell in this order.
//! # Ok::<(), dmlft::train::TrainError>(())
//! ```

use crate::exec::{
    run_study, run_study_with, CellExecutor, GridEvent, RunOptions, RunSummary, StudyError,
};
use crate::grid::locate::Locator;
use crate::grid::schema::GridContext;
use crate::grid::{data_check, Cell, CellAxis, Grid, GridError};
use crate::store::{CellRecord, ResultsStore, Stored};
use dmlft_data::memory::{write_memory_dataset, MemoryDataset};
use dmlft_data::spec::{DatasetSpec, ProtocolSpec, SplitRequest, TaskName};
use dmlft_data::Example;
use dmlft_losses::spec::ObjectiveSpec;
use dmlft_model::spec::ModelSpec;
use dmlft_train::setfit::SetFitSpec;
use dmlft_train::spec::{CellSpec, InferenceMode, TrainSpec};
use dmlft_train::{run_cell, CellOptions, CellResult, TrainError};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A dataset of a study: a spec (SentEval, files), or examples in memory (written to files
/// when the cells are made, see [`dmlft_data::memory`]).
#[derive(Debug, Clone)]
enum DatasetSource {
    Spec(DatasetSpec),
    Memory {
        train: Vec<Example>,
        test: Option<Vec<Example>>,
        label_names: Vec<String>,
    },
}

/// A study: datasets x loss variants x shots x seeds (x folds), as a grid file without swept
/// settings beyond those.
#[derive(Debug, Clone)]
pub struct Experiment {
    model: ModelSpec,
    datasets: Vec<(String, DatasetSource)>,
    data_root: PathBuf,
    memory_dir: PathBuf,
    protocol: ProtocolSpec,
    shots: Vec<usize>,
    seeds: Vec<u64>,
    /// Each variant's name, objective and, for a SetFit variant, its settings.
    losses: Vec<(String, ObjectiveSpec, Option<SetFitSpec>)>,
    train: TrainSpec,
    inference: Vec<InferenceMode>,
    eval_limit: Option<usize>,
    /// The results folder of [`Self::run_into`] and the grid's name in its records.
    output: PathBuf,
    name: String,
    /// What [`Self::run_into`] runs cells with; `None`: training ([`run_study`]).
    executor: Option<Executor>,
}

/// A caller's executor (a test double, or their own way of running a cell).
#[derive(Clone)]
struct Executor(Arc<dyn CellExecutor>);

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Executor(..)")
    }
}

/// Why [`Experiment::run_into`] stopped (a cell that fails is a `failed` record instead).
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error(transparent)]
    Cells(#[from] TrainError),
    /// The data checks `dmlft plan` runs (files, model, class sizes) found a problem.
    #[error(transparent)]
    Data(#[from] GridError),
    #[error(transparent)]
    Study(#[from] StudyError),
}

/// What [`Experiment::run_into`] did, and every record the folder holds for the study's cells.
#[derive(Debug)]
pub struct StudyRun {
    pub summary: RunSummary,
    /// In cell order; cells without a record (not run, locked by another runner) are left out.
    pub records: Vec<CellRecord>,
}

impl Experiment {
    /// A study of the model at `source` (a folder or a Hugging Face id) with every default of a
    /// grid file that names only the model.
    pub fn new(source: impl Into<String>) -> Self {
        let model: ModelSpec =
            serde_json::from_value(serde_json::json!({ "source": source.into() }))
                .expect("a model source is the only required field");
        Self {
            model,
            datasets: Vec::new(),
            data_root: dmlft_data::senteval::resolve_data_root(None),
            memory_dir: std::env::temp_dir().join("dmlft-memory"),
            protocol: ProtocolSpec::PerClass { dev_shots: 0 },
            shots: Vec::new(),
            seeds: vec![0],
            losses: Vec::new(),
            train: TrainSpec::default(),
            inference: vec![InferenceMode::Head],
            eval_limit: None,
            output: PathBuf::from("results/experiment"),
            name: "experiment".into(),
            executor: None,
        }
    }

    /// The results folder of [`Self::run_into`] (a grid's `output`; default
    /// `results/experiment`).
    pub fn output(mut self, dir: impl Into<PathBuf>) -> Self {
        self.output = dir.into();
        self
    }

    pub fn output_dir(&self) -> &Path {
        &self.output
    }

    /// Runs the cells of [`Self::run_into`] with `executor` instead of training them (e.g.
    /// [`crate::exec::FakeExecutor`] in tests): the same folder, records, locks and resume.
    pub fn executor(mut self, executor: Arc<dyn CellExecutor>) -> Self {
        self.executor = Some(Executor(executor));
        self
    }

    /// The study's name in its records and reports (a grid's `name`; default `experiment`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds a SentEval task (read from the data root).
    pub fn dataset(mut self, task: TaskName) -> Self {
        self.datasets.push((
            task.as_str().to_string(),
            DatasetSource::Spec(DatasetSpec::SentEval(task)),
        ));
        self
    }

    /// Adds a dataset from memory: labelled examples (label `i` is `label_names[i]`) and an
    /// optional test set (without one, the protocol holds one out, as for files). The cells
    /// read it from JSONL files that [`Self::cells`] writes under the memory folder.
    pub fn examples(
        mut self,
        name: impl Into<String>,
        train: Vec<Example>,
        test: Option<Vec<Example>>,
        label_names: Vec<String>,
    ) -> Self {
        self.datasets.push((
            name.into(),
            DatasetSource::Memory {
                train,
                test,
                label_names,
            },
        ));
        self
    }

    /// Where datasets from memory are written (default: `dmlft-memory` in the temp folder);
    /// the files are named by their content, so the same examples reuse the same files.
    pub fn memory_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.memory_dir = dir.into();
        self
    }

    /// Where the SentEval folders are (default: dmlft-data's, as `dmlft run`).
    pub fn data_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.data_root = root.into();
        self
    }

    /// The LM-BFF / SetFit protocol with `shots` examples per class (adds to the shots list).
    pub fn per_class(mut self, shots: usize) -> Self {
        self.protocol = ProtocolSpec::PerClass { dev_shots: 0 };
        self.shots.push(shots);
        self
    }

    /// Any protocol (k-fold: every fold is a cell).
    pub fn protocol(mut self, protocol: ProtocolSpec) -> Self {
        self.protocol = protocol;
        self
    }

    /// Adds a sample size.
    pub fn shots(mut self, shots: usize) -> Self {
        self.shots.push(shots);
        self
    }

    /// Adds a loss variant named `name` (its name in results and reports).
    pub fn loss(mut self, name: impl Into<String>, objective: ObjectiveSpec) -> Self {
        self.losses.push((name.into(), objective, None));
        self
    }

    /// Adds a SetFit variant named `name` (a grid's `method = "setfit"` with `spec` as its
    /// `setfit` table).
    pub fn setfit(mut self, name: impl Into<String>, spec: SetFitSpec) -> Self {
        self.losses
            .push((name.into(), ObjectiveSpec::default(), Some(spec)));
        self
    }

    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        self.seeds = seeds.into_iter().collect();
        self
    }

    pub fn model(mut self, model: ModelSpec) -> Self {
        self.model = model;
        self
    }

    pub fn train(mut self, train: TrainSpec) -> Self {
        self.train = train;
        self
    }

    pub fn inference(mut self, modes: Vec<InferenceMode>) -> Self {
        self.inference = modes;
        self
    }

    pub fn eval_limit(mut self, limit: usize) -> Self {
        self.eval_limit = Some(limit);
        self
    }

    /// The cells, in the grid's order (dataset, loss, shots, seed, fold), each validated by
    /// the owners of its parts.
    pub fn cells(&self) -> Result<Vec<Cell>, TrainError> {
        let missing = |what: &str| TrainError::InvalidSetting {
            key: what.into(),
            value: "none".into(),
            valid: format!("at least one (add one with `.{what}(..)`)"),
        };
        if self.datasets.is_empty() {
            return Err(missing("dataset"));
        }
        if self.shots.is_empty() {
            return Err(missing("shots"));
        }
        if self.losses.is_empty() {
            return Err(missing("loss"));
        }
        let mut cells = Vec::new();
        for (dataset_name, source) in &self.datasets {
            let dataset = self.resolve(dataset_name, source)?;
            for (loss_name, objective, setfit) in &self.losses {
                for &shots in &self.shots {
                    for &seed in &self.seeds {
                        for fold in self.protocol.cell_folds() {
                            let spec = CellSpec {
                                dataset_name: dataset_name.clone(),
                                dataset: dataset.clone(),
                                data_root: self.data_root.clone(),
                                split: SplitRequest {
                                    protocol: self.protocol.clone(),
                                    shots,
                                    seed,
                                    fold,
                                },
                                model: self.model.clone(),
                                loss_name: loss_name.clone(),
                                objective: objective.clone(),
                                train: self.train.clone(),
                                inference: InferenceMode::runnable(
                                    &self.inference,
                                    objective.has_proxies(),
                                ),
                                eval_limit: self.eval_limit,
                                setfit: setfit.clone(),
                                probe: None,
                            };
                            spec.validate()?;
                            let axes = CellAxis::of_cell(&spec);
                            let mut cell = Cell::new(spec, axes, loss_name.clone());
                            cell.index = cells.len();
                            cells.push(cell);
                        }
                    }
                }
            }
        }
        Ok(cells)
    }

    /// The dataset a source stands for (examples from memory are written to files first).
    fn resolve(&self, name: &str, source: &DatasetSource) -> Result<DatasetSpec, TrainError> {
        Ok(match source {
            DatasetSource::Spec(spec) => spec.clone(),
            DatasetSource::Memory {
                train,
                test,
                label_names,
            } => DatasetSpec::Custom(write_memory_dataset(
                &self.memory_dir,
                &MemoryDataset {
                    name,
                    train,
                    test: test.as_deref(),
                    label_names,
                },
            )?),
        })
    }

    /// The grid this study is: its cells, with the data checks of `dmlft plan` run (dataset
    /// files, model files, class sizes) and each dataset's fingerprint taken, as `dmlft run`
    /// needs them.
    pub fn grid(&self) -> Result<Grid, ExperimentError> {
        let cells = self.cells()?;
        let mut grid = Grid {
            name: self.name.clone(),
            file: PathBuf::from(format!("<experiment {}>", self.name)),
            text: self.description(&cells),
            output: self.output.clone(),
            data_root: self.data_root.clone(),
            device: Default::default(),
            swept: Vec::new(),
            losses: self.losses.iter().map(|(name, ..)| name.clone()).collect(),
            cells,
            data_fingerprints: BTreeMap::new(),
        };
        // The checks name keys of a grid file; here they stand for the builder's calls.
        let ctx = GridContext {
            file: grid.file.clone(),
            locator: Locator::default(),
        };
        grid.data_fingerprints = data_check::check(&ctx, &grid)?;
        Ok(grid)
    }

    /// What the results folder keeps as `grid.toml` for a study from code: a comment and each
    /// cell's resolved spec (TOML comments: no grid file can re-create a builder's study).
    fn description(&self, cells: &[Cell]) -> String {
        let mut text = format!(
            "# Study `{}` built from code (dmlft::experiment::Experiment), not a grid file.\n# Its {} cells, each resolved spec as JSON:\n",
            self.name,
            cells.len()
        );
        for cell in cells {
            let spec = serde_json::to_string(&cell.spec).unwrap_or_default();
            text.push_str(&format!("# {} {spec}\n", cell.id));
        }
        text
    }

    /// Runs the cells not done yet into the [`Self::output`] folder, exactly as `dmlft run`
    /// does with `opts` (device, jobs, shard, limit, retries, saved models, progress callback,
    /// cancel flag): a record per cell written atomically, cells done earlier skipped, a failing
    /// cell recorded as `failed` while the others go on. Returns what ran and every record of the
    /// study's cells.
    pub fn run_into(&self, opts: &RunOptions) -> Result<StudyRun, ExperimentError> {
        let grid = self.grid()?;
        let summary = match &self.executor {
            Some(Executor(executor)) => run_study_with(&grid, opts, executor.clone())?,
            None => run_study(&grid, opts)?,
        };
        // run_study made the folder
        let store = ResultsStore::open(&grid.output);
        let records = grid
            .cells
            .iter()
            .filter_map(|cell| match store.read(&cell.id) {
                Stored::Record(r) => Some(*r),
                _ => None,
            })
            .collect();
        Ok(StudyRun { summary, records })
    }

    /// Trains and evaluates every cell in memory on `opts.device`, in order, writing nothing,
    /// with `opts.progress` told of each cell's events; the first failure stops the study, and
    /// so does `opts.cancel` ([`TrainError::Cancelled`]) after the current training step. The
    /// options of a results folder (jobs, shard, limit, retries, saved models) do not apply.
    pub fn run(&self, opts: &RunOptions) -> Result<Vec<(Cell, CellResult)>, TrainError> {
        let cells = self.cells()?;
        opts.report(GridEvent::Queued { cells: cells.len() });
        let mut results = Vec::with_capacity(cells.len());
        for cell in cells {
            if opts.cancelled() {
                return Err(TrainError::Cancelled { step: 0 });
            }
            let id = cell.id.clone();
            opts.report(GridEvent::Started {
                cell_id: id.clone(),
            });
            let sink = |event| {
                opts.report(GridEvent::Cell {
                    cell_id: id.clone(),
                    event,
                })
            };
            let mut options = CellOptions::new(opts.device, &opts.cancel);
            if opts.progress.is_some() {
                options.progress = Some(&sink);
            }
            let result = run_cell(&cell.spec, &options);
            opts.report(GridEvent::Finished {
                cell_id: id.clone(),
                ok: result.is_ok(),
            });
            results.push((cell, result?));
        }
        Ok(results)
    }
}
