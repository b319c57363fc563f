//! The papers' result tables: one per (shots, metric), methods as rows (the grid's order,
//! baseline first), tasks as columns (the papers' order for SentEval, else the given order),
//! then the average over tasks; each cell `mean (std)` over seeds (and folds), the best of a
//! column in bold and the second underlined, as Markdown, HTML, CSV and LaTeX.

use super::{latex_escape, ReportError, RunRecord};
use crate::inference_mode::InferenceMode;
use crate::metric::Metric;
use crate::stats::summarize;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The SentEval tasks in the order of the papers' tables (2211.15195, 2211.15202).
pub const PAPER_TASK_ORDER: [&str; 7] = ["mr", "cr", "subj", "mpqa", "sst2", "trec", "mrpc"];

/// A cell's standing in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Highlight {
    /// Best value of its column (ties share it).
    Best,
    /// Second best value of its column.
    Second,
}

/// One `mean (std)` cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperCell {
    pub n: usize,
    pub mean: f64,
    /// Sample std (ddof 1); `None` with one run.
    pub std: Option<f64>,
    pub highlight: Option<Highlight>,
}

/// One method's row: a loss and the inference mode its predictions come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperRow {
    pub loss: String,
    pub mode: InferenceMode,
    pub is_baseline: bool,
    /// One per task of [`PaperTable::tasks`]; `None` where the method has no run.
    pub cells: Vec<Option<PaperCell>>,
    /// Mean over tasks of the cell means; `None` unless every task has a cell.
    pub average: Option<f64>,
    pub average_highlight: Option<Highlight>,
}

/// One table: a shots count and a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperTable {
    pub shots: usize,
    pub metric: Metric,
    pub percent: bool,
    pub tasks: Vec<String>,
    pub rows: Vec<PaperRow>,
    /// Fewest and most runs behind one cell.
    pub runs_per_cell: (usize, usize),
    /// Majority class and chance, where the test sets' class counts are known.
    pub references: Vec<ReferenceRow>,
}

/// Which rows and in what order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaperOptions {
    /// Put first and never compared with itself.
    pub baseline: Option<String>,
    /// Losses in the grid's order; losses not listed follow by name.
    pub loss_order: Vec<String>,
    /// Tasks for grids that are not SentEval's (the papers' order comes first regardless).
    pub task_order: Vec<String>,
    /// Per task, the class counts of its test sets (one entry per distinct test set, e.g. per
    /// seed where the test set is a seeded subset): the majority-class and chance rows.
    pub test_class_counts: BTreeMap<String, Vec<Vec<usize>>>,
}

/// A reference row: what a classifier that learned nothing scores on each test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRow {
    pub label: String,
    /// One per task; `None` where the test sets' class counts are unknown.
    pub values: Vec<Option<f64>>,
    pub average: Option<f64>,
}

/// The reference values of one test set of `task` with class counts `counts` for `metric`:
/// always predicting the majority class, and predicting uniformly at random (expected value).
/// `None` where undefined (fewer than two classes; the positive class's F1 of a multi-class
/// task). Public so that figures draw the same lines as the tables.
pub fn reference_values(counts: &[usize], metric: Metric, task: &str) -> Option<(f64, f64)> {
    let n: usize = counts.iter().sum();
    let k = counts.len() as f64;
    if n == 0 || counts.len() < 2 {
        return None;
    }
    let share: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
    let p = share.iter().copied().fold(0.0, f64::max);
    // majority: precision p and recall 1 on its class, 0 elsewhere; uniform guessing: per
    // class precision = its share, recall = 1/k
    let f1_majority = 2.0 * p / (1.0 + p);
    let f1_chance: Vec<f64> = share
        .iter()
        .map(|&q| {
            if q > 0.0 {
                2.0 * q / k / (q + 1.0 / k)
            } else {
                0.0
            }
        })
        .collect();
    Some(match metric.conventional(task) {
        Metric::Accuracy => (p, 1.0 / k),
        Metric::MacroF1 => (f1_majority / k, f1_chance.iter().sum::<f64>() / k),
        Metric::WeightedF1 => (
            p * f1_majority,
            share.iter().zip(&f1_chance).map(|(q, f)| q * f).sum(),
        ),
        // class 1's F1: the majority answer finds it only when it is the majority class
        Metric::PositiveF1 if counts.len() == 2 => (
            if counts[1] >= counts[0] {
                f1_majority
            } else {
                0.0
            },
            f1_chance[1],
        ),
        Metric::PositiveF1 | Metric::Task => return None,
    })
}

/// Builds one table per shots count for `metric`.
pub fn paper_tables(
    records: &[RunRecord],
    metric: Metric,
    options: &PaperOptions,
) -> Result<Vec<PaperTable>, ReportError> {
    // (shots) -> (loss, mode) -> task -> values
    type Values = BTreeMap<(String, InferenceMode), BTreeMap<String, Vec<f64>>>;
    let mut by_shots: BTreeMap<usize, Values> = BTreeMap::new();
    for r in records {
        let value = *r
            .metrics
            .get(&metric)
            .ok_or_else(|| ReportError::MissingMetric {
                run: r.describe(),
                metric,
                available: r
                    .metrics
                    .keys()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !value.is_finite() {
            return Err(ReportError::NonFinite {
                run: r.describe(),
                metric,
                value,
            });
        }
        by_shots
            .entry(r.shots)
            .or_default()
            .entry((r.loss.clone(), r.mode))
            .or_default()
            .entry(r.dataset.clone())
            .or_default()
            .push(value);
    }
    let tasks = task_order(records, &options.task_order);
    let mut tables = Vec::new();
    for (shots, methods) in by_shots {
        let mut keys: Vec<&(String, InferenceMode)> = methods.keys().collect();
        keys.sort_by_key(|(loss, mode)| (loss_rank(loss, options), *mode));
        let mut rows = Vec::new();
        let mut counts = BTreeSet::new();
        for key in keys {
            let per_task = &methods[key];
            let cells: Vec<Option<PaperCell>> = tasks
                .iter()
                .map(|t| {
                    per_task.get(t).map(|v| {
                        counts.insert(v.len());
                        let s = summarize(v).expect("non-empty finite values");
                        PaperCell {
                            n: s.n,
                            mean: s.mean,
                            std: s.std,
                            highlight: None,
                        }
                    })
                })
                .collect();
            let average = cells
                .iter()
                .map(|c| c.as_ref().map(|c| c.mean))
                .collect::<Option<Vec<f64>>>()
                .filter(|m| !m.is_empty())
                .map(|m| m.iter().sum::<f64>() / m.len() as f64);
            rows.push(PaperRow {
                loss: key.0.clone(),
                mode: key.1,
                is_baseline: options.baseline.as_deref() == Some(key.0.as_str()),
                cells,
                average,
                average_highlight: None,
            });
        }
        let percent = metric.is_proportion();
        highlight(&mut rows, tasks.len(), percent);
        tables.push(PaperTable {
            shots,
            metric,
            percent,
            references: reference_rows(&tasks, metric, &options.test_class_counts),
            tasks: tasks.clone(),
            rows,
            runs_per_cell: (
                counts.first().copied().unwrap_or(0),
                counts.last().copied().unwrap_or(0),
            ),
        });
    }
    Ok(tables)
}

/// Per task, (majority class, chance) for `metric`: the mean over the task's test sets of
/// [`reference_values`], from `counts` (per task, the class counts of each distinct test set).
/// A task whose value is undefined is left out. The reference lines of the tables and figures.
pub fn reference_levels(
    counts: &BTreeMap<String, Vec<Vec<usize>>>,
    metric: Metric,
) -> BTreeMap<String, (f64, f64)> {
    counts
        .iter()
        .filter_map(|(task, sets)| {
            let values: Vec<(f64, f64)> = sets
                .iter()
                .filter_map(|c| reference_values(c, metric, task))
                .collect();
            let n = values.len() as f64;
            (!values.is_empty()).then(|| {
                let (a, b) = values
                    .iter()
                    .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
                (task.clone(), (a / n, b / n))
            })
        })
        .collect()
}

/// The majority-class and chance rows (mean over each task's test sets); none when no task's
/// class counts are known.
fn reference_rows(
    tasks: &[String],
    metric: Metric,
    counts: &BTreeMap<String, Vec<Vec<usize>>>,
) -> Vec<ReferenceRow> {
    let levels = reference_levels(counts, metric);
    let per_task: Vec<Option<(f64, f64)>> = tasks.iter().map(|t| levels.get(t).copied()).collect();
    if per_task.iter().all(Option::is_none) {
        return Vec::new();
    }
    let row = |label: &str, pick: fn((f64, f64)) -> f64| {
        let values: Vec<Option<f64>> = per_task.iter().map(|v| v.map(pick)).collect();
        let average = values
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / v.len() as f64);
        ReferenceRow {
            label: label.to_string(),
            values,
            average,
        }
    };
    vec![
        row("majority class", |(m, _)| m),
        row("chance (uniform)", |(_, c)| c),
    ]
}

/// Position of a loss: the baseline, then the grid's order, then by name.
fn loss_rank(loss: &str, options: &PaperOptions) -> (usize, usize, String) {
    if options.baseline.as_deref() == Some(loss) {
        return (0, 0, String::new());
    }
    match options.loss_order.iter().position(|l| l == loss) {
        Some(i) => (1, i, String::new()),
        None => (2, 0, loss.to_string()),
    }
}

/// The tasks present: the papers' order first, then `given`'s, then by name.
fn task_order(records: &[RunRecord], given: &[String]) -> Vec<String> {
    let present: BTreeSet<&str> = records.iter().map(|r| r.dataset.as_str()).collect();
    let mut tasks: Vec<String> = Vec::new();
    let candidates = PAPER_TASK_ORDER
        .iter()
        .copied()
        .chain(given.iter().map(String::as_str))
        .chain(present.iter().copied());
    for t in candidates {
        if present.contains(t) && !tasks.iter().any(|x| x == t) {
            tasks.push(t.to_string());
        }
    }
    tasks
}

/// Marks the best and second value of every column, compared as displayed (2 decimals of a
/// percent, 4 otherwise), so that equal-looking values share a mark.
fn highlight(rows: &mut [PaperRow], n_tasks: usize, percent: bool) {
    let shown = |v: f64| {
        let scaled = if percent { v * 100.0 } else { v };
        let digits = if percent { 100.0 } else { 10_000.0 };
        (scaled * digits).round() as i64
    };
    let marks = |values: Vec<Option<f64>>| -> Vec<Option<Highlight>> {
        let distinct: BTreeSet<i64> = values.iter().flatten().map(|&v| shown(v)).collect();
        let mut top = distinct.iter().rev();
        let (best, second) = (top.next().copied(), top.next().copied());
        values
            .iter()
            .map(|v| {
                let s = shown((*v)?);
                if Some(s) == best {
                    Some(Highlight::Best)
                } else if Some(s) == second {
                    Some(Highlight::Second)
                } else {
                    None
                }
            })
            .collect()
    };
    for t in 0..n_tasks {
        let column = rows
            .iter()
            .map(|r| r.cells[t].as_ref().map(|c| c.mean))
            .collect();
        for (row, mark) in rows.iter_mut().zip(marks(column)) {
            if let Some(cell) = row.cells[t].as_mut() {
                cell.highlight = mark;
            }
        }
    }
    let averages = rows.iter().map(|r| r.average).collect();
    for (row, mark) in rows.iter_mut().zip(marks(averages)) {
        row.average_highlight = mark;
    }
}

impl PaperTable {
    fn value(&self, v: f64) -> String {
        if self.percent {
            format!("{:.2}", v * 100.0)
        } else {
            format!("{v:.4}")
        }
    }

    /// `mean (std)`, or `mean` with one run.
    fn cell_text(&self, cell: &PaperCell) -> String {
        match cell.std {
            Some(s) => format!("{} ({})", self.value(cell.mean), self.value(s)),
            None => self.value(cell.mean),
        }
    }

    /// Name of a row: the loss, and the mode when it is not the head's.
    pub fn method_label(row: &PaperRow) -> String {
        match row.mode {
            InferenceMode::Head => row.loss.clone(),
            mode => format!("{} ({mode})", row.loss),
        }
    }

    fn runs_text(&self) -> String {
        match self.runs_per_cell {
            (a, b) if a == b => format!("{a} runs"),
            (a, b) => format!("{a}-{b} runs"),
        }
    }

    /// What the table shows, for its caption.
    pub fn caption(&self) -> String {
        format!(
            "{} ({}), {}-shot: mean (sample std) over {} (seeds x folds) per task; Avg is the \
             mean over tasks of the task means, shown only for methods with every task. Bold: \
             best of the column, underlined: second (all rows, compared as shown). Rows in \
             parentheses use the proxy or mixed predictions of their loss.{}",
            self.metric.describe(),
            if self.percent { "%" } else { "value" },
            self.shots,
            self.runs_text(),
            if self.references.is_empty() {
                ""
            } else {
                " In italics, computed from the test sets' class counts: always predicting the \
                 majority class, and predicting uniformly at random (expected value)."
            }
        )
    }

    fn headers(&self) -> Vec<String> {
        let mut h = vec!["method".to_string()];
        h.extend(self.tasks.iter().map(|t| task_label(t)));
        h.push("Avg".into());
        h
    }

    /// Text of every row's cells with their marks, through `mark`.
    fn body(&self, mark: impl Fn(&str, Option<Highlight>) -> String) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|row| {
                let mut line = vec![Self::method_label(row)];
                for cell in &row.cells {
                    line.push(match cell {
                        Some(c) => mark(&self.cell_text(c), c.highlight),
                        None => "-".into(),
                    });
                }
                line.push(match row.average {
                    Some(a) => mark(&self.value(a), row.average_highlight),
                    None => "-".into(),
                });
                line
            })
            .collect()
    }

    /// Text of the reference rows: label, then one value per task, then the average.
    fn reference_lines(&self) -> Vec<Vec<String>> {
        self.references
            .iter()
            .map(|r| {
                let mut line = vec![r.label.clone()];
                line.extend(
                    r.values
                        .iter()
                        .chain(std::iter::once(&r.average))
                        .map(|v| v.map_or("-".to_string(), |v| self.value(v))),
                );
                line
            })
            .collect()
    }

    pub fn render_markdown(&self) -> String {
        let mut out = format!("{}\n\n", self.caption());
        let headers = self.headers();
        out.push_str(&format!("| {} |\n", headers.join(" | ")));
        out.push_str(&format!(
            "|{}\n",
            std::iter::once("---|")
                .chain(std::iter::repeat_n("---:|", headers.len() - 1))
                .collect::<String>()
        ));
        let body = self.body(|text, h| match h {
            Some(Highlight::Best) => format!("**{text}**"),
            Some(Highlight::Second) => format!("<u>{text}</u>"),
            None => text.to_string(),
        });
        for (row, line) in self.rows.iter().zip(body) {
            let mut line = line;
            line[0] = super::markdown_cell(&line[0]);
            if row.is_baseline {
                line[0] = format!("{} (baseline)", line[0]);
            }
            out.push_str(&format!("| {} |\n", line.join(" | ")));
        }
        for line in self.reference_lines() {
            let cells: Vec<String> = line.iter().map(|c| format!("*{c}*")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    pub fn render_html(&self) -> String {
        let esc = crate::analysis::explain_html::escape;
        let mut out = format!(
            "<table class=\"paper\">\n<caption>{}</caption>\n<thead><tr>",
            esc(&self.caption())
        );
        for h in self.headers() {
            out.push_str(&format!("<th>{}</th>", esc(&h)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        let body = self.body(|text, h| match h {
            Some(Highlight::Best) => format!("<b>{}</b>", esc(text)),
            Some(Highlight::Second) => format!("<u>{}</u>", esc(text)),
            None => esc(text),
        });
        for (row, line) in self.rows.iter().zip(body) {
            let class = if row.is_baseline {
                " class=\"baseline\""
            } else {
                ""
            };
            out.push_str(&format!("<tr{class}><th>{}</th>", esc(&line[0])));
            for cell in &line[1..] {
                out.push_str(&format!("<td>{cell}</td>"));
            }
            out.push_str("</tr>\n");
        }
        for line in self.reference_lines() {
            out.push_str(&format!(
                "<tr class=\"reference\"><th><i>{}</i></th>",
                esc(&line[0])
            ));
            for cell in &line[1..] {
                out.push_str(&format!("<td><i>{}</i></td>", esc(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }

    /// Full precision, one row per method: `<task>_mean`, `<task>_std`, `<task>_n`, then
    /// `avg_mean`; proportions stay proportions; missing values are empty.
    pub fn render_csv(&self) -> Result<String, ReportError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header = vec![
            "shots".to_string(),
            "metric".into(),
            "loss".into(),
            "mode".into(),
        ];
        header.push("baseline".into());
        for t in &self.tasks {
            header.extend([format!("{t}_mean"), format!("{t}_std"), format!("{t}_n")]);
        }
        header.push("avg_mean".into());
        writer.write_record(&header)?;
        let num = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        for row in &self.rows {
            let mut line = vec![
                self.shots.to_string(),
                self.metric.to_string(),
                row.loss.clone(),
                row.mode.to_string(),
                row.is_baseline.to_string(),
            ];
            for cell in &row.cells {
                line.push(num(cell.as_ref().map(|c| c.mean)));
                line.push(num(cell.as_ref().and_then(|c| c.std)));
                line.push(cell.as_ref().map_or_else(String::new, |c| c.n.to_string()));
            }
            line.push(num(row.average));
            writer.write_record(&line)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| ReportError::Csv(e.into_error().into()))?;
        Ok(String::from_utf8(bytes).expect("CSV of UTF-8 strings"))
    }

    /// A `table` (or `table*` when `wide`) that `\input` places: booktabs rules, the tabular
    /// scaled to the column (or text) width, the caption and a label
    /// `tab:<metric>-<shots>shot`. Needs `booktabs` and `graphicx`.
    pub fn render_latex(&self, wide: bool) -> String {
        let env = if wide { "table*" } else { "table" };
        let width = if wide { "\\textwidth" } else { "\\columnwidth" };
        let mut out = format!("\\begin{{{env}}}[t]\n\\centering\n");
        out.push_str(&format!(
            "\\caption{{{}}}\n\\label{{tab:{}-{}shot}}\n",
            latex_escape(&self.caption()),
            self.metric,
            self.shots
        ));
        out.push_str(&format!("\\resizebox{{{width}}}{{!}}{{%\n"));
        out.push_str(&format!(
            "\\begin{{tabular}}{{l{}}}\n\\toprule\n",
            "r".repeat(self.tasks.len() + 1)
        ));
        let headers: Vec<String> = self.headers().iter().map(|h| latex_escape(h)).collect();
        out.push_str(&format!("{} \\\\\n\\midrule\n", headers.join(" & ")));
        let body = self.body(|text, h| match h {
            Some(Highlight::Best) => format!("\\textbf{{{}}}", latex_escape(text)),
            Some(Highlight::Second) => format!("\\underline{{{}}}", latex_escape(text)),
            None => latex_escape(text),
        });
        for (row, line) in self.rows.iter().zip(body) {
            let mut line = line;
            line[0] = latex_escape(&line[0]);
            out.push_str(&format!("{} \\\\\n", line.join(" & ")));
            if row.is_baseline {
                out.push_str("\\midrule\n");
            }
        }
        let references = self.reference_lines();
        if !references.is_empty() {
            out.push_str("\\midrule\n");
        }
        for line in references {
            let cells: Vec<String> = line
                .iter()
                .map(|c| format!("\\textit{{{}}}", latex_escape(c)))
                .collect();
            out.push_str(&format!("{} \\\\\n", cells.join(" & ")));
        }
        out.push_str("\\bottomrule\n\\end{tabular}%\n}\n");
        out.push_str(&format!("\\end{{{env}}}\n"));
        out
    }

    /// File stem of the table's files: `paper-<metric>-<shots>shot`.
    pub fn file_stem(&self) -> String {
        format!(
            "paper-{}-{}shot",
            self.metric.as_str().replace('_', "-"),
            self.shots
        )
    }
}

/// Column header of a task: the papers' spelling for SentEval's (SST-2, MR, ...).
fn task_label(task: &str) -> String {
    match task {
        "sst2" => "SST-2".into(),
        t if PAPER_TASK_ORDER.contains(&t) => t.to_uppercase(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dataset: &str, shots: usize, loss: &str, seed: usize, acc: f64) -> RunRecord {
        RunRecord {
            dataset: dataset.into(),
            shots,
            loss: loss.into(),
            mode: InferenceMode::Head,
            pair_key: format!("seed={seed}"),
            metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
        }
    }

    fn records() -> Vec<RunRecord> {
        let mut r = Vec::new();
        for (loss, base) in [("a", 0.70), ("ce", 0.60), ("b", 0.80)] {
            for task in ["custom", "trec", "mr"] {
                for seed in 0..3 {
                    r.push(run(task, 8, loss, seed, base + 0.01 * seed as f64));
                }
            }
        }
        // b has no trec run at 4 shots: no average
        r.push(run("mr", 4, "b", 0, 0.5));
        r.push(run("mr", 4, "ce", 0, 0.5));
        r.push(run("trec", 4, "ce", 0, 0.4));
        r
    }

    fn options() -> PaperOptions {
        PaperOptions {
            baseline: Some("ce".into()),
            loss_order: vec!["b".into(), "a".into()],
            task_order: vec![],
            test_class_counts: BTreeMap::new(),
        }
    }

    #[test]
    fn orders_rows_and_columns_and_marks_best_and_second() {
        let tables = paper_tables(&records(), Metric::Accuracy, &options()).unwrap();
        assert_eq!(
            tables.iter().map(|t| t.shots).collect::<Vec<_>>(),
            vec![4, 8]
        );
        let t = &tables[1];
        assert_eq!(t.tasks, vec!["mr", "trec", "custom"]);
        let losses: Vec<&str> = t.rows.iter().map(|r| r.loss.as_str()).collect();
        assert_eq!(losses, vec!["ce", "b", "a"]);
        assert!(t.rows[0].is_baseline && !t.rows[1].is_baseline);
        assert_eq!(
            t.rows[1].cells[0].as_ref().unwrap().highlight,
            Some(Highlight::Best)
        );
        assert_eq!(t.rows[2].average_highlight, Some(Highlight::Second));
        assert_eq!(t.rows[0].average_highlight, None);
        assert!((t.rows[1].average.unwrap() - 0.81).abs() < 1e-12);
        assert_eq!(t.runs_per_cell, (3, 3));
        // 4 shots: ties share the mark; a method without every task has no average
        let t4 = &tables[0];
        let mr: Vec<_> = t4
            .rows
            .iter()
            .map(|r| r.cells[0].as_ref().unwrap().highlight)
            .collect();
        assert_eq!(mr, vec![Some(Highlight::Best), Some(Highlight::Best)]);
        assert_eq!(t4.rows[1].average, None);
        assert_eq!(t4.runs_per_cell, (1, 1));
    }

    #[test]
    fn renders_every_format() {
        let t = &paper_tables(&records(), Metric::Accuracy, &options()).unwrap()[1];
        let md = t.render_markdown();
        assert!(md.contains("| method | MR | TREC | custom | Avg |"), "{md}");
        assert!(md.contains("| ce (baseline) | 61.00 (1.00) |"), "{md}");
        assert!(
            md.contains("**81.00 (1.00)**") && md.contains("<u>71.00</u>"),
            "{md}"
        );
        let tex = t.render_latex(false);
        for needle in [
            "\\begin{table}[t]",
            "\\resizebox{\\columnwidth}{!}{%",
            "\\toprule",
            "\\textbf{81.00 (1.00)}",
            "\\underline{71.00}",
            "\\label{tab:accuracy-8shot}",
            "over 3 runs",
        ] {
            assert!(tex.contains(needle), "{needle} missing in\n{tex}");
        }
        assert!(t.render_latex(true).contains("\\begin{table*}[t]"));
        let html = t.render_html();
        assert!(
            html.contains("<tr class=\"baseline\"><th>ce</th>"),
            "{html}"
        );
        assert!(html.contains("<b>81.00 (1.00)</b>"));
        let csv = t.render_csv().unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            "shots,metric,loss,mode,baseline,mr_mean,mr_std,mr_n,trec_mean,trec_std,trec_n,\
             custom_mean,custom_std,custom_n,avg_mean"
        );
        assert!(lines
            .next()
            .unwrap()
            .starts_with("8,accuracy,ce,head,true,0.6"));
        assert_eq!(t.file_stem(), "paper-accuracy-8shot");
    }

    #[test]
    fn reference_rows_come_from_the_test_sets_class_counts() {
        let mut opts = options();
        // mr: two test sets (seeds), 3:1 and 1:1; trec: one of 6 classes
        opts.test_class_counts = BTreeMap::from([
            ("mr".to_string(), vec![vec![300, 100], vec![50, 50]]),
            ("trec".to_string(), vec![vec![10, 20, 30, 40, 50, 350]]),
        ]);
        let t = &paper_tables(&records(), Metric::Accuracy, &opts).unwrap()[1];
        let (majority, chance) = (&t.references[0], &t.references[1]);
        assert_eq!(
            majority.values,
            vec![Some((0.75 + 0.5) / 2.0), Some(0.7), None]
        );
        assert_eq!(chance.values[0], Some(0.5));
        assert!((chance.values[1].unwrap() - 1.0 / 6.0).abs() < 1e-15);
        assert_eq!(majority.average, None); // custom has no counts
        let md = t.render_markdown();
        assert!(
            md.contains("| *majority class* | *62.50* | *70.00* | *-* | *-* |"),
            "{md}"
        );
        assert!(t.render_latex(false).contains("\\textit{majority class}"));
        // macro-F1 of always answering the majority class p = 3/4 of 2 classes:
        // F1 = 2 * 0.75 / 1.75 on that class, 0 on the other
        let f1 = reference_values(&[300, 100], Metric::MacroF1, "mr").unwrap();
        assert!((f1.0 - 2.0 * 0.75 / 1.75 / 2.0).abs() < 1e-15);
        // uniform guessing on balanced classes: every class F1 = 1/k
        let f1 = reference_values(&[5, 5, 5, 5], Metric::MacroF1, "trec").unwrap();
        assert!((f1.1 - 0.25).abs() < 1e-15);
        assert_eq!(reference_values(&[7], Metric::Accuracy, "mr"), None);
        // MRPC's test set (578 negative, 1147 positive): GLUE's F1 of always answering
        // "paraphrase" is sklearn's f1_score(y, ones) = 2 * 1147 / (2 * 1147 + 578)
        let mrpc = [578, 1147];
        let (majority, chance) = reference_values(&mrpc, Metric::Task, "mrpc").unwrap();
        assert!((majority - 2.0 * 1147.0 / (2.0 * 1147.0 + 578.0)).abs() < 1e-15);
        let q = 1147.0 / 1725.0;
        assert!((chance - q / (q + 0.5)).abs() < 1e-15);
        assert_eq!(
            reference_values(&mrpc, Metric::Task, "mr"),
            reference_values(&mrpc, Metric::Accuracy, "mr")
        );
        assert_eq!(
            reference_values(&[10, 3], Metric::PositiveF1, "x")
                .unwrap()
                .0,
            0.0
        );
        assert_eq!(
            reference_values(&[5, 5, 5], Metric::PositiveF1, "trec"),
            None
        );
    }

    #[test]
    fn a_missing_metric_names_the_run() {
        let err = paper_tables(&records(), Metric::MacroF1, &options()).unwrap_err();
        assert!(
            err.to_string().contains("has no metric `macro_f1`"),
            "{err}"
        );
    }
}
