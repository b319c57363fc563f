//! `dmlft report RESULTS_DIR`: turns every done cell record into one `dmlft_eval` run record per
//! inference mode, aggregates them with `dmlft_eval::report::aggregate` (mean, std, CI, paired
//! tests against the baseline, Holm correction) and renders Markdown (stdout and file), CSV,
//! LaTeX and JSON, plus plots with `--plots` and one self-contained HTML page with `--html`
//! (figures and page drawn by `dmlft_eval`; see [`figures`]). Cells that differ in swept settings (e.g. the
//! learning rate) are reported as separate sections, each compared with the baseline loss at the
//! same settings.
//!
//! Nothing is left out silently: failed cells are counted per row and listed (a section where
//! every cell failed still appears), record files that cannot be read are named, and records of
//! one dataset computed on different data are refused (unless allowed). Records that the folder's
//! `grid.toml` has replaced by a newer cell of the same run are left out with a warning
//! ([`superseded`]).

pub mod compute;
pub mod failures;
pub mod figures;
#[cfg(feature = "mlflow")]
pub mod mlflow;
pub mod paper;
pub mod select;
pub mod superseded;

use crate::store::data_change::check_consistent;
use crate::store::{CellRecord, CellStatus, DataChanged, ResultsStore, StoreError};
use dmlft_eval::report::{
    aggregate_with, aggregate_without_baseline, render_csv, render_json, render_latex,
    render_markdown as render_markdown_table, AggregateOptions, HolmFamily, HolmSource, Report,
    RunRecord,
};
use failures::FailedCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    Md,
    Csv,
    Tex,
    Json,
}

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub baseline: Option<String>,
    pub metric: dmlft_eval::Metric,
    pub formats: Vec<Format>,
    pub plots: bool,
    /// Also write `report.html` (one self-contained page with tables and figures).
    pub html: bool,
    pub out: Option<PathBuf>,
    /// Report records of one dataset computed on different data (different fingerprints).
    pub allow_data_change: bool,
    /// A swept setting to choose on the dev examples ([`select`]); `None` reports every value.
    pub select: Option<String>,
    /// The comparisons each Holm correction runs over.
    pub holm_family: HolmFamily,
}

/// `dmlft report`'s defaults: accuracy, every table format, no plots or HTML, the folder's
/// `report/`.
impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            baseline: None,
            metric: dmlft_eval::Metric::Accuracy,
            formats: vec![Format::Md, Format::Csv, Format::Tex, Format::Json],
            plots: false,
            html: false,
            out: None,
            allow_data_change: false,
            select: None,
            holm_family: HolmFamily::All,
        }
    }
}

/// What `dmlft report` prints and writes.
#[derive(Debug)]
pub struct ReportOutput {
    pub markdown: String,
    pub written: Vec<PathBuf>,
    /// For stderr: failed cells, unreadable records, data kept despite a change.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataChanged(#[from] Box<DataChanged>),
    #[error("{}: no such results folder (give the grid's `output`, e.g. results/<grid name>)", .0.display())]
    Missing(PathBuf),
    #[error("{0}: no done or failed cell to report (run the grid first){1}")]
    Empty(PathBuf, String),
    // The cause is printed after it, by the error chain (`error_chain::report`).
    #[error("cannot report {}{section}", dir.display())]
    Eval {
        dir: PathBuf,
        section: String,
        #[source]
        source: dmlft_eval::report::ReportError,
    },
    #[error("cannot draw a plot")]
    Plot(#[from] dmlft_eval::plots::PlotError),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("writing {0}: {1}")]
    Render(&'static str, String),
    // not `source`: thiserror would chain it and the message would be printed twice
    #[error("{}: {error}", dir.display())]
    Select {
        dir: PathBuf,
        error: select::SelectError,
    },
}

/// Why a report has no comparisons when no loss can be the baseline.
const NO_BASELINE: &str = "no baseline loss (no `ce`, and every loss has DML terms): every \
     method's results are reported without comparisons; give --baseline LOSS to compare";

/// Swept settings of a record (beyond dataset / loss / shots / seed / fold) as `key=value`s.
pub fn settings_label(r: &CellRecord) -> String {
    settings_of(&r.axes)
}

/// The swept settings among `axes` (not dataset, loss, shots, seed or fold), as `key=value`s.
pub fn settings_of(axes: &BTreeMap<String, String>) -> String {
    axes.iter()
        .filter(|(k, _)| !crate::grid::CellAxis::is_builtin(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The grid of a results folder as its last run copied it (`grid.toml`), expanded without the
/// data checks; `None` when there is none or it does not parse (a study built from code, a grid
/// of another dmlft version).
fn grid_of_results(results_dir: &Path) -> Option<crate::grid::Grid> {
    let path = results_dir.join("grid.toml");
    let text = std::fs::read_to_string(&path).ok()?;
    crate::grid::parse_grid(&text, &path, &crate::grid::LoadOptions::default()).ok()
}

/// What a record's runs are paired by across methods: its seed, and its fold when it has one.
pub fn pair_key(r: &CellRecord) -> String {
    match r.cell.split.fold {
        Some(f) => format!("seed={} fold={f}", r.cell.split.seed),
        None => format!("seed={}", r.cell.split.seed),
    }
}

/// One run record per (done cell, inference mode), grouped by swept settings.
pub fn run_records(records: &BTreeMap<String, CellRecord>) -> BTreeMap<String, Vec<RunRecord>> {
    let mut out: BTreeMap<String, Vec<RunRecord>> = BTreeMap::new();
    for r in records.values().filter(|r| r.status == CellStatus::Done) {
        let Some(result) = &r.result else { continue };
        let pair_key = pair_key(r);
        for (mode, m) in &result.metrics {
            let metrics = m.scalars_for(&r.cell.dataset_name);
            out.entry(settings_label(r)).or_default().push(RunRecord {
                dataset: r.cell.dataset_name.clone(),
                shots: r.cell.split.shots,
                loss: r.cell.loss_name.clone(),
                mode: *mode,
                pair_key: pair_key.clone(),
                metrics,
            });
        }
    }
    out
}

/// Default baseline: `ce` if present, else the first fine-tuned loss (by name) without DML terms,
/// else the first SetFit or linear-probe variant. Failed cells count: the baseline does not change because its
/// cells failed.
pub fn default_baseline(records: &BTreeMap<String, CellRecord>) -> Option<String> {
    let mut done: Vec<&CellRecord> = records.values().collect();
    done.sort_by(|a, b| a.cell.loss_name.cmp(&b.cell.loss_name));
    if done.iter().any(|r| r.cell.loss_name == "ce") {
        return Some("ce".into());
    }
    done.iter()
        .find(|r| {
            r.cell.objective.dml.is_empty() && r.cell.setfit.is_none() && r.cell.probe.is_none()
        })
        .or_else(|| done.iter().find(|r| r.cell.objective.dml.is_empty()))
        .map(|r| r.cell.loss_name.clone())
}

/// One settings section: its runs (done cells) and its failed cells.
#[derive(Default)]
struct Section {
    runs: Vec<RunRecord>,
    failed: Vec<FailedCell>,
    /// Done cells per (dataset, shots, loss).
    done: BTreeMap<(String, usize, String), usize>,
}

/// Groups the records by swept settings: each section's runs, done counts and failed cells.
fn group_sections(records: &BTreeMap<String, CellRecord>) -> BTreeMap<String, Section> {
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    for (settings, runs) in run_records(records) {
        sections.entry(settings).or_default().runs = runs;
    }
    for r in records.values() {
        let section = sections.entry(settings_label(r)).or_default();
        let key = (
            r.cell.dataset_name.clone(),
            r.cell.split.shots,
            r.cell.loss_name.clone(),
        );
        match r.status {
            CellStatus::Done => *section.done.entry(key).or_default() += 1,
            CellStatus::Failed => section.failed.push(FailedCell::of(r)),
        }
    }
    sections
}

/// The baseline loss: `--baseline` (which some cell must have), else [`default_baseline`];
/// empty, with a warning, when there is none.
fn resolve_baseline(
    results_dir: &Path,
    records: &BTreeMap<String, CellRecord>,
    opts: &ReportOptions,
    warnings: &mut Vec<String>,
) -> Result<String, ReportError> {
    // No baseline (no `ce`, every loss with DML terms): every method's results, no comparison.
    let baseline = opts.baseline.clone().or_else(|| default_baseline(records));
    // a --baseline that no cell has is a typo, whichever cells failed
    if let Some(baseline) = &baseline {
        if !records.values().any(|r| &r.cell.loss_name == baseline) {
            let losses: BTreeSet<&str> = records
                .values()
                .map(|r| r.cell.loss_name.as_str())
                .collect();
            return Err(ReportError::Eval {
                dir: results_dir.to_path_buf(),
                section: String::new(),
                source: dmlft_eval::report::ReportError::UnknownBaseline {
                    baseline: baseline.clone(),
                    available: losses.into_iter().collect::<Vec<_>>().join(", "),
                },
            });
        }
    }
    if baseline.is_none() {
        warnings.push(NO_BASELINE.to_string());
    }
    Ok(baseline.unwrap_or_default())
}

/// (settings, its report if any cell is done, its failure rows) of every section.
type SectionReports = Vec<(String, Option<Report>, Vec<failures::FailureRow>)>;

/// Aggregates every section, compared with the baseline where it has runs.
fn aggregate_sections(
    results_dir: &Path,
    sections: &BTreeMap<String, Section>,
    options: &AggregateOptions,
) -> Result<SectionReports, ReportError> {
    let baseline = options.baseline_loss.as_str();
    let mut reports: SectionReports = Vec::new();
    for (settings, section) in sections {
        let eval_error = |source| ReportError::Eval {
            dir: results_dir.to_path_buf(),
            section: if settings.is_empty() {
                String::new()
            } else {
                format!(" (settings {settings})")
            },
            source,
        };
        let report = if section.runs.is_empty() {
            None
        } else if section.runs.iter().any(|r| r.loss == baseline) {
            Some(aggregate_with(&section.runs, options).map_err(eval_error)?)
        } else {
            let mut report =
                aggregate_without_baseline(&section.runs, options).map_err(eval_error)?;
            if baseline.is_empty() {
                // the generic "baseline has no runs" line would name an empty baseline
                report.warnings = vec![NO_BASELINE.to_string()];
            }
            Some(report)
        };
        reports.push((
            settings.clone(),
            report,
            failures::rows(&section.failed, &section.done),
        ));
    }
    Ok(reports)
}

/// Each section's lead by settings.
type Leads = BTreeMap<String, paper::Lead>;

/// Each section's lead (paper tables, comparison over tasks, ranks) and the table files.
fn section_leads(
    results_dir: &Path,
    records: &BTreeMap<String, CellRecord>,
    reports: &SectionReports,
    sections: &BTreeMap<String, Section>,
    opts: &ReportOptions,
    baseline: &str,
    grid: Option<&crate::grid::Grid>,
) -> Result<(Leads, Vec<(String, String)>), ReportError> {
    let suffix_of = |settings: &str| {
        let with_runs: Vec<&String> = reports
            .iter()
            .filter(|(_, r, _)| r.is_some())
            .map(|(s, _, _)| s)
            .collect();
        match with_runs.iter().position(|s| *s == settings) {
            Some(i) if with_runs.len() > 1 => format!("-{i}"),
            _ => String::new(),
        }
    };
    let mut leads = Leads::new();
    let mut lead_files = Vec::new();
    let class_counts = paper::test_class_counts(records);
    for (settings, report, _) in reports {
        let Some(report) = report else { continue };
        let mut lead = paper::lead(
            report,
            &sections[settings].runs,
            opts.metric,
            report
                .rows
                .iter()
                .any(|row| row.comparison.is_some())
                .then_some(baseline),
            grid,
            &class_counts,
            &suffix_of(settings),
        )
        .map_err(|source| ReportError::Eval {
            dir: results_dir.to_path_buf(),
            section: format!(" (settings {settings})"),
            source,
        })?;
        lead_files.append(&mut lead.files);
        leads.insert(settings.clone(), lead);
    }
    Ok((leads, lead_files))
}

/// Builds the report; returns the Markdown (for stdout), the files written and the warnings.
/// The stages: [`load`] the records, [`select`] the ones to report, [`aggregate`] them,
/// [`render_markdown`], and [`write_outputs`].
pub fn run(results_dir: &Path, opts: &ReportOptions) -> Result<ReportOutput, ReportError> {
    let mut loaded = load(results_dir)?;
    let selected = select(results_dir, &mut loaded, opts)?;
    let study = aggregate(results_dir, &loaded, &selected, opts)?;
    let markdown = render_markdown(&loaded, &selected, &study);
    let mut warnings = loaded.warnings.clone();
    warnings.extend(study.warnings.iter().cloned());
    let written = write_outputs(
        results_dir,
        opts,
        &loaded,
        &selected,
        &study,
        &markdown,
        &mut warnings,
    )?;
    Ok(ReportOutput {
        markdown,
        written,
        warnings,
    })
}

/// Stage 1: every record of the folder, its grid, and what was left out.
struct Loaded {
    store: ResultsStore,
    scan: crate::store::Scan,
    grid: Option<crate::grid::Grid>,
    warnings: Vec<String>,
}

/// Reads the folder: its records (those a newer cell of the same run replaced left out, with a
/// warning) and its grid; unreadable record files are warnings.
fn load(results_dir: &Path) -> Result<Loaded, ReportError> {
    if !results_dir.is_dir() {
        return Err(ReportError::Missing(results_dir.to_path_buf()));
    }
    let store = ResultsStore::open(results_dir);
    let mut scan = store.scan()?;
    let grid = grid_of_results(results_dir);
    let left_out = match &grid {
        Some(grid) => {
            let ids = grid.cells.iter().map(|c| c.id.clone()).collect();
            superseded::leave_out(&mut scan.records, &ids)
        }
        None => Vec::new(),
    };
    let mut warnings: Vec<String> = scan
        .unreadable
        .iter()
        .map(|u| {
            format!(
                "unreadable record {u}; left out of this report (`dmlft run` runs its cell again)"
            )
        })
        .collect();
    if !left_out.is_empty() {
        warnings.push(superseded::warning(&left_out));
    }
    Ok(Loaded {
        store,
        scan,
        grid,
        warnings,
    })
}

/// Stage 2: the records to report (`--select`'s choice, or all) and how they were chosen.
struct Selected {
    /// `None`: every record of the folder.
    kept: Option<BTreeMap<String, CellRecord>>,
    selection: Option<select::Selection>,
}

impl Selected {
    fn records<'a>(&'a self, loaded: &'a Loaded) -> &'a BTreeMap<String, CellRecord> {
        self.kept.as_ref().unwrap_or(&loaded.scan.records)
    }
}

/// Chooses on dev (`--select`) and refuses records of one dataset computed on different data
/// (unless allowed: then a warning).
fn select(
    results_dir: &Path,
    loaded: &mut Loaded,
    opts: &ReportOptions,
) -> Result<Selected, ReportError> {
    let selected = match &opts.select {
        Some(axis) => {
            let expected = loaded.grid.as_ref().map(|g| g.cells.as_slice());
            let (kept, selection) = select::select_on_dev(
                &loaded.scan.records,
                axis,
                opts.metric,
                expected,
                opts.baseline.as_deref(),
            )
            .map_err(|error| ReportError::Select {
                dir: results_dir.to_path_buf(),
                error,
            })?;
            Selected {
                kept: Some(kept),
                selection: Some(selection),
            }
        }
        None => Selected {
            kept: None,
            selection: None,
        },
    };
    let records = selected.records(loaded);
    let with_paths: Vec<(PathBuf, &CellRecord)> = records
        .iter()
        .map(|(id, r)| (loaded.store.record_path(id), r))
        .collect();
    if let Err(changed) = check_consistent(with_paths.iter().map(|(p, r)| (p.as_path(), *r))) {
        if !opts.allow_data_change {
            return Err(changed.into());
        }
        let warning = format!("{changed} (kept: --allow-data-change)");
        loaded.warnings.push(warning);
    }
    Ok(selected)
}

/// Stage 3: the statistics of every settings section and their leads.
struct Study {
    sections: BTreeMap<String, Section>,
    reports: SectionReports,
    all_failed: Vec<FailedCell>,
    leads: Leads,
    lead_files: Vec<(String, String)>,
    warnings: Vec<String>,
}

/// Groups the records into settings sections, resolves the baseline and aggregates each
/// section (statistics, paper tables, comparison over tasks).
fn aggregate(
    results_dir: &Path,
    loaded: &Loaded,
    selected: &Selected,
    opts: &ReportOptions,
) -> Result<Study, ReportError> {
    let records = selected.records(loaded);
    let sections = group_sections(records);
    if sections.is_empty() {
        let unreadable = &loaded.scan.unreadable;
        let why = if unreadable.is_empty() {
            String::new()
        } else {
            format!(
                "; {} record file(s) cannot be read: {}",
                unreadable.len(),
                unreadable
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        return Err(ReportError::Empty(results_dir.to_path_buf(), why));
    }
    let mut warnings = Vec::new();
    let baseline = resolve_baseline(results_dir, records, opts, &mut warnings)?;
    let options = AggregateOptions {
        baseline_loss: baseline.clone(),
        metric: opts.metric,
        holm_source: HolmSource::TTest,
        holm_family: opts.holm_family,
    };
    let reports = aggregate_sections(results_dir, &sections, &options)?;
    let all_failed: Vec<FailedCell> = sections
        .values()
        .flat_map(|s| s.failed.iter().cloned())
        .collect();
    if !all_failed.is_empty() {
        warnings.push(format!(
            "{} of {} cells failed; the report lists them under \"Failed cells\" (`dmlft run --retry-failed GRID` runs them again)",
            all_failed.len(),
            records.len()
        ));
    }
    let (leads, lead_files) = section_leads(
        results_dir,
        records,
        &reports,
        &sections,
        opts,
        &baseline,
        loaded.grid.as_ref(),
    )?;
    Ok(Study {
        sections,
        reports,
        all_failed,
        leads,
        lead_files,
        warnings,
    })
}

impl Study {
    /// Every section rendered by `render`, under `heading` when it has settings; a section
    /// without done cells by `none_done`, its failed cells by `failed`.
    fn render_sections(
        &self,
        render: &dyn Fn(&Report) -> String,
        heading: &dyn Fn(&str) -> String,
        failed: &dyn Fn(&[failures::FailureRow]) -> String,
        none_done: &dyn Fn(usize) -> String,
    ) -> String {
        let mut text = String::new();
        for (settings, report, rows) in &self.reports {
            if !settings.is_empty() {
                text.push_str(&heading(settings));
            }
            match report {
                Some(report) => text.push_str(&render(report)),
                None => text.push_str(&none_done(rows.iter().map(|r| r.failed).sum())),
            }
            if !rows.is_empty() {
                text.push('\n');
                text.push_str(&failed(rows));
            }
            text.push('\n');
        }
        text
    }

    /// The sections with a report (some cell done).
    fn with_report(&self) -> Vec<(&String, &Report)> {
        self.reports
            .iter()
            .filter_map(|(s, r, _)| r.as_ref().map(|r| (s, r)))
            .collect()
    }

    /// The file-name suffix of the `i`th section with a report: none when it is the only one.
    fn suffix(&self, i: usize) -> String {
        if self.with_report().len() == 1 {
            String::new()
        } else {
            format!("-{i}")
        }
    }

    /// The LaTeX of every section's "all statistics" table and the failed cells.
    fn latex(&self) -> String {
        let mut tex = self.render_sections(
            &|r| render_latex(r),
            &|s| format!("% settings: {}\n", dmlft_eval::report::one_line(s)),
            &|_| String::new(),
            &|n| format!("% no cell of these settings is done: all {n} failed\n"),
        );
        if !self.all_failed.is_empty() {
            tex.push_str(&failures::latex_list(&self.all_failed));
        }
        tex
    }
}

/// Stage 4: report.md (also printed): the dev selection, each section's lead (paper tables,
/// comparison over tasks) then its statistics, the failed cells, the compute.
fn render_markdown(loaded: &Loaded, selected: &Selected, study: &Study) -> String {
    let lead_of = |settings: &str| {
        study
            .leads
            .get(settings)
            .map(|l| l.markdown.clone())
            .unwrap_or_default()
    };
    let heading = |s: &str| format!("### Settings: {}\n\n", dmlft_eval::report::one_line(s));
    let mut markdown = String::new();
    if let Some(selection) = &selected.selection {
        markdown.push_str(&select::markdown(selection));
    }
    let mut body = study.render_sections(
        &|r| render_markdown_table(r),
        &heading,
        &failures::markdown_rows,
        &|n| format!("No cell of these settings is done: all {n} failed.\n"),
    );
    // the paper tables lead (one section: at the top; several: under each heading)
    if study.reports.len() == 1 {
        markdown.push_str(&lead_of(&study.reports[0].0));
        markdown.push_str("## All statistics\n\n");
    } else {
        for (settings, _, _) in &study.reports {
            let heading = heading(settings);
            if let Some(at) = body.find(&heading) {
                body.insert_str(at + heading.len(), &lead_of(settings));
            }
        }
    }
    markdown.push_str(&body);
    if !study.all_failed.is_empty() {
        markdown.push_str(&failures::markdown_list(&study.all_failed));
    }
    // what the whole folder cost, every record counted (also the values --select left out)
    markdown.push_str(&compute::markdown(&loaded.scan.records));
    markdown
}

/// The report folder and the files written into it.
struct Writer {
    out_dir: PathBuf,
    written: Vec<PathBuf>,
}

impl Writer {
    fn write(&mut self, name: &str, text: &str) -> Result<(), ReportError> {
        std::fs::create_dir_all(&self.out_dir)
            .map_err(|e| ReportError::Write(self.out_dir.clone(), e))?;
        let path = self.out_dir.join(name);
        crate::store::write_atomic(&path, text.as_bytes())
            .map_err(|e| ReportError::Write(path.clone(), e))?;
        self.written.push(path);
        Ok(())
    }

    fn json(
        &mut self,
        name: &'static str,
        value: &impl serde::Serialize,
    ) -> Result<(), ReportError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| ReportError::Render(name, e.to_string()))?;
        self.write(name, &text)
    }
}

/// Stage 5: the chosen formats, the paper table files, runs.json, selection.json, the HTML
/// page and the plots, into `--out` (default: the folder's `report/`).
fn write_outputs(
    results_dir: &Path,
    opts: &ReportOptions,
    loaded: &Loaded,
    selected: &Selected,
    study: &Study,
    markdown: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut out = Writer {
        out_dir: opts
            .out
            .clone()
            .unwrap_or_else(|| results_dir.join("report")),
        written: Vec::new(),
    };
    let with_report = study.with_report();
    for format in &opts.formats {
        match format {
            Format::Md => out.write("report.md", markdown)?,
            Format::Tex => out.write("report.tex", &study.latex())?,
            // one file per settings section for the machine-readable formats
            Format::Csv | Format::Json => {
                for (i, (settings, report)) in with_report.iter().enumerate() {
                    let eval_err = |source| ReportError::Eval {
                        dir: results_dir.to_path_buf(),
                        section: format!(" (settings {settings})"),
                        source,
                    };
                    let (ext, text) = match format {
                        Format::Csv => ("csv", render_csv(report).map_err(eval_err)?),
                        _ => ("json", render_json(report).map_err(eval_err)?),
                    };
                    out.write(&format!("report{}.{ext}", study.suffix(i)), &text)?;
                }
                if !study.all_failed.is_empty() {
                    if *format == Format::Csv {
                        let text = failures::csv_list(&study.all_failed)
                            .map_err(|e| ReportError::Render("failed.csv", e.to_string()))?;
                        out.write("failed.csv", &text)?;
                    } else {
                        out.json("failed.json", &study.all_failed)?;
                    }
                }
            }
        }
    }
    for (name, text) in &study.lead_files {
        out.write(name, text)?;
    }
    let runs_json: Vec<serde_json::Value> = study
        .sections
        .iter()
        .map(
            |(settings, section)| serde_json::json!({ "settings": settings, "runs": section.runs }),
        )
        .collect();
    out.json("runs.json", &runs_json)?;
    if let Some(selection) = &selected.selection {
        out.json("selection.json", selection)?;
        if opts.formats.contains(&Format::Csv) {
            let text = dmlft_eval::report::sensitivity_csv(&select::sensitivity(selection))
                .map_err(|e| ReportError::Render("sensitivity.csv", e.to_string()))?;
            out.write("sensitivity.csv", &text)?;
        }
    }
    let records = selected.records(loaded);
    let training = figures::training_runs(records);
    let no_training = Vec::new();
    let training_of = |settings: &str| training.get(settings).unwrap_or(&no_training);
    if opts.html {
        let page_sections = study
            .reports
            .iter()
            .map(|(settings, report, _)| figures::PageSection {
                settings,
                report: report.as_ref(),
                runs: &study.sections[settings].runs,
                training: training_of(settings),
                lead: study.leads.get(settings).map_or("", |l| l.html.as_str()),
            })
            .collect();
        let selection_markdown = selected
            .selection
            .as_ref()
            .map(select::markdown)
            .unwrap_or_default();
        let compute_markdown = compute::markdown(&loaded.scan.records);
        let extras = dmlft_eval::report::HtmlExtras {
            selected_axis: selected.selection.as_ref().map(|s| s.axis.as_str()),
            selection_markdown: &selection_markdown,
            compute_markdown: &compute_markdown,
        };
        let page = figures::html_page(
            results_dir,
            &out.out_dir,
            records,
            page_sections,
            &study.all_failed,
            warnings,
            extras,
        )?;
        out.write("report.html", &page)?;
    }
    if opts.plots {
        for lead in study.leads.values() {
            for (stem, diagram) in &lead.cd_diagrams {
                let files = dmlft_eval::plots::plot_cd_diagram(
                    diagram,
                    &out.out_dir.join(stem),
                    &dmlft_eval::plots::PlotOptions::default(),
                )?;
                out.written.extend([files.svg, files.png]);
            }
        }
        for (i, (settings, report)) in with_report.iter().enumerate() {
            let (files, plot_warnings) = figures::write_plots(
                &out.out_dir,
                &study.suffix(i),
                report,
                &study.sections[*settings].runs,
                training_of(settings),
                &dmlft_eval::report::reference_levels(
                    &paper::test_class_counts(records),
                    report.metric,
                ),
            )?;
            out.written.extend(files);
            for w in plot_warnings {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
        }
    }
    Ok(out.written)
}
