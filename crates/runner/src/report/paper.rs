//! The lead of each settings section: the paper tables (one per shots count and metric, as
//! Markdown in the report and as `\input`-able LaTeX and CSV files) and the comparison over
//! tasks with the methods' ranks, for accuracy and macro-F1 (the records hold both).

use dmlft_eval::plots::{cd_diagram_svg, CdDiagram, PlotOptions};
use dmlft_eval::report::{
    across_summary, holm_power_line, paper_tables, PaperOptions, Report, ReportError, RunRecord,
    PAPER_TASK_ORDER,
};
use dmlft_eval::{InferenceMode, Metric};

/// The metrics of the tables, averages and ranks: the report's, then accuracy and macro-F1
/// beside it (a collapsed classifier's accuracy can look fine; its macro-F1 cannot), each where
/// every run has it.
fn metrics(runs: &[RunRecord], first: Metric) -> Vec<Metric> {
    let mut out = vec![first];
    for m in [Metric::Accuracy, Metric::MacroF1] {
        if !out.contains(&m) && runs.iter().all(|r| r.metrics.contains_key(&m)) {
            out.push(m);
        }
    }
    out
}

/// Per task, the class counts of its distinct test sets (one per seed and fold where the test
/// set is a seeded subset), from the head predictions' per-class supports of the done cells.
/// With `dmlft_eval::report::reference_levels` it gives each task's majority-class and chance
/// levels (the tables' reference rows; the figures' reference lines).
pub fn test_class_counts(
    records: &std::collections::BTreeMap<String, crate::store::CellRecord>,
) -> std::collections::BTreeMap<String, Vec<Vec<usize>>> {
    let mut sets: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, Vec<usize>>,
    > = Default::default();
    for r in records.values() {
        let Some(metrics) = r
            .result
            .as_ref()
            .and_then(|res| res.metrics.get(&InferenceMode::Head))
        else {
            continue;
        };
        let counts: Vec<usize> = metrics.per_class.iter().map(|c| c.support).collect();
        sets.entry(r.cell.dataset_name.clone())
            .or_default()
            .entry(super::pair_key(r))
            .or_insert(counts);
    }
    sets.into_iter()
        .map(|(task, by_key)| (task, by_key.into_values().collect()))
        .collect()
}

/// Per task, (majority class, chance) of its test sets for `metric`, from the done cells of
/// `records`: what the tables' reference rows show, for the figures' reference lines.
pub fn reference_levels(
    records: &std::collections::BTreeMap<String, crate::store::CellRecord>,
    metric: Metric,
) -> std::collections::BTreeMap<String, (f64, f64)> {
    dmlft_eval::report::reference_levels(&test_class_counts(records), metric)
}

/// A section's lead in each format, and its table files.
pub(super) struct Lead {
    pub markdown: String,
    pub html: String,
    /// (file name, text): each name ends in the section's suffix before its extension.
    pub files: Vec<(String, String)>,
    /// (file stem, diagram) of the critical-difference diagrams, for `--plots`.
    pub cd_diagrams: Vec<(String, CdDiagram)>,
}

/// The lead of one settings section.
pub(super) fn lead(
    report: &Report,
    runs: &[RunRecord],
    metric: Metric,
    baseline: Option<&str>,
    grid: Option<&crate::grid::Grid>,
    test_class_counts: &std::collections::BTreeMap<String, Vec<Vec<usize>>>,
    suffix: &str,
) -> Result<Lead, ReportError> {
    let mut task_order: Vec<String> = PAPER_TASK_ORDER.iter().map(|t| t.to_string()).collect();
    let mut loss_order = Vec::new();
    if let Some(grid) = grid {
        for cell in &grid.cells {
            if !task_order.contains(&cell.spec.dataset_name) {
                task_order.push(cell.spec.dataset_name.clone());
            }
        }
        loss_order = grid.losses.clone();
    }
    let options = PaperOptions {
        baseline: baseline.map(str::to_string),
        loss_order: loss_order.clone(),
        task_order: task_order.clone(),
        test_class_counts: test_class_counts.clone(),
    };
    let mut markdown = String::from("## Paper tables\n\n");
    let mut html = String::from("<h3>Paper tables</h3>\n");
    let mut files = Vec::new();
    let mut summaries = String::new();
    let mut summaries_html = String::new();
    let mut cd_diagrams = Vec::new();
    for m in metrics(runs, metric) {
        let tables = paper_tables(runs, m, &options)?;
        for table in &tables {
            markdown.push_str(&table.render_markdown());
            markdown.push('\n');
            html.push_str(&table.render_html());
            let stem = format!("{}{suffix}", table.file_stem());
            // a table wider than 5 tasks does not fit a column at a readable size
            files.push((
                format!("{stem}.tex"),
                table.render_latex(table.tasks.len() > 5),
            ));
            files.push((format!("{stem}.csv"), table.render_csv()?));
        }
        let tasks = tables.first().map(|t| t.tasks.clone()).unwrap_or_default();
        let summary = across_summary(runs, m, baseline, &tasks, &loss_order)?;
        summaries.push_str(&summary.render_markdown());
        summaries_html.push_str(&summary.render_html());
        if let Some(ranking) = &summary.ranking {
            let diagram = CdDiagram {
                title: format!(
                    "Average ranks over {} blocks ({m}, head); Nemenyi CD at 5%",
                    ranking.friedman.n_blocks
                ),
                methods: ranking.methods.clone(),
                average_ranks: ranking.friedman.average_ranks.clone(),
                critical_difference: ranking.critical_difference,
            };
            // drawn inline on the page; a diagram that cannot be drawn is only left out
            if let Ok(svg) = cd_diagram_svg(&diagram, &PlotOptions::default()) {
                summaries_html.push_str(&format!("<figure>{svg}</figure>\n"));
            }
            let stem = format!("cd-diagram-{}{suffix}", m.as_str().replace('_', "-"));
            cd_diagrams.push((stem, diagram));
        }
    }
    markdown.push_str(&summaries);
    html.push_str(&summaries_html);
    if let Some(line) = holm_power_line(report) {
        markdown.push_str(&format!("{line}\n\n"));
        html.push_str(&format!(
            "<p class=\"caption\">{}</p>\n",
            dmlft_eval::analysis::explain_html::escape(&line)
        ));
    }
    html.push_str("<h3>All statistics</h3>\n");
    Ok(Lead {
        markdown,
        html,
        files,
        cd_diagrams,
    })
}
