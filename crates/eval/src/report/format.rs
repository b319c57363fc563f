//! The column set shared by every renderer and the human-readable number formats of the
//! Markdown and LaTeX tables (percent with 2 decimals for proportions; p-values with 4).

use super::{Report, ReportRow, RowKind};
use crate::stats::{smallest_exact_p, MIN_TTEST_PAIRS};

/// Machine names of the columns (CSV header, in order; CSV splits wins/ties/losses in three).
pub(crate) const COLUMNS: [&str; 16] = [
    "dataset",
    "shots",
    "loss",
    "mode",
    "n",
    "mean",
    "std",
    "std_pop",
    "median",
    "ci_low",
    "ci_high",
    "diff_vs_baseline",
    "p_ttest",
    "p_wilcoxon",
    "p_holm",
    "wins/ties/losses",
];

/// Human headers for Markdown / LaTeX, same order as [`COLUMNS`].
pub(crate) fn human_headers(report: &Report) -> Vec<String> {
    let unit = if report.percent { " (%)" } else { "" };
    vec![
        "dataset".into(),
        "shots".into(),
        "loss".into(),
        "mode".into(),
        "n".into(),
        format!("mean{unit}"),
        "std (sample)".into(),
        "std_pop (population)".into(),
        "median".into(),
        "CI95 low".into(),
        "CI95 high".into(),
        if report.baseline_loss.is_empty() {
            "diff vs baseline".into()
        } else {
            format!("diff vs {}", report.baseline_loss)
        },
        "p t-test".into(),
        "p Wilcoxon".into(),
        "p Holm".into(),
        "wins/ties/losses".into(),
    ]
}

/// Cells of one row for Markdown / LaTeX; `None` is an undefined value.
pub(crate) fn human_cells(report: &Report, row: &ReportRow) -> Vec<Option<String>> {
    let value = |v: f64| {
        if report.percent {
            format!("{:.2}", v * 100.0)
        } else {
            format!("{v:.4}")
        }
    };
    let diff = |v: f64| {
        if report.percent {
            format!("{:+.2}", v * 100.0)
        } else {
            format!("{v:+.4}")
        }
    };
    let c = row.comparison.as_ref();
    // a compared cell row whose test could not be computed says so; "-" is "not compared"
    let test = |p: Option<f64>| match (p, row.kind, c) {
        (Some(p), _, _) => Some(p_value(p)),
        (None, RowKind::Cell, Some(_)) => Some(NOT_APPLICABLE.to_string()),
        (None, _, _) => None,
    };
    vec![
        Some(row.dataset.clone()),
        Some(row.shots.to_string()),
        Some(row.loss.clone()),
        Some(row.mode.to_string()),
        Some(row.n.to_string()),
        Some(value(row.mean)),
        row.std.map(value),
        row.std_pop.map(value),
        row.median.map(value),
        row.ci_low.map(value),
        row.ci_high.map(value),
        c.map(|c| diff(c.mean_diff)),
        test(c.and_then(|c| c.p_ttest)),
        test(c.and_then(|c| c.p_wilcoxon)),
        test(c.and_then(|c| c.p_holm)),
        c.map(|c| format!("{}/{}/{}", c.wins, c.ties, c.losses)),
    ]
}

/// The raw numbers of one row in [`COLUMNS`] order (proportions stay proportions; text
/// columns and wins/ties/losses are `None`), for pages that sort by value.
pub(crate) fn raw_cells(row: &ReportRow) -> Vec<Option<f64>> {
    let c = row.comparison.as_ref();
    vec![
        None,
        Some(row.shots as f64),
        None,
        None,
        Some(row.n as f64),
        Some(row.mean),
        row.std,
        row.std_pop,
        row.median,
        row.ci_low,
        row.ci_high,
        c.map(|c| c.mean_diff),
        c.and_then(|c| c.p_ttest),
        c.and_then(|c| c.p_wilcoxon),
        c.and_then(|c| c.p_holm),
        c.map(|c| c.wins as f64),
    ]
}

/// A test that cannot be computed (too few pairs, constant differences).
pub const NOT_APPLICABLE: &str = "n/a";

/// How many pairs the tests need to mean anything, for the report's header.
pub(crate) fn test_requirements() -> String {
    let wilcoxon_n = (1..64).find(|&n| smallest_exact_p(n) < 0.05).unwrap_or(64);
    format!(
        "the t-test needs at least {MIN_TTEST_PAIRS} pairs (seeds x folds) whose differences vary, \
         else it is {NOT_APPLICABLE}; the exact Wilcoxon p cannot go below 2/2^n with n pairs, so \
         p < 0.05 needs at least {wilcoxon_n}"
    )
}

/// One line saying what the table shows.
pub(crate) fn caption(report: &Report) -> String {
    let source = match report.holm_source {
        super::HolmSource::TTest => "paired t-test",
        super::HolmSource::Wilcoxon => "Wilcoxon",
    };
    let nothing_compared = !report.rows.iter().any(|r| r.comparison.is_some());
    if report.baseline_loss.is_empty() || nothing_compared {
        return format!(
            "{}{}; {}: every method's own results, no comparison; CI95 is the Student t \
             interval of the mean over seeds/folds{}",
            report.metric.describe(),
            if report.percent { " (%)" } else { "" },
            if report.baseline_loss.is_empty() {
                "no baseline".to_string()
            } else {
                format!(
                    "nothing to compare with baseline `{}`",
                    report.baseline_loss
                )
            },
            if report.percent {
                ", clipped to [0, 100]"
            } else {
                ""
            },
        );
    }
    format!(
        "{}{}; baseline `{}`; CI95 is the Student t interval of the mean over seeds/folds{}; \
         differences are loss minus baseline, paired by seed/fold; Holm correction of the \
         {source} p-values within each family ({}); {} unpaired runs dropped; {}",
        report.metric.describe(),
        if report.percent { " (%)" } else { "" },
        report.baseline_loss,
        if report.percent {
            ", clipped to [0, 100]"
        } else {
            ""
        },
        report.holm_family_text(),
        report.unpaired_dropped,
        test_requirements()
    )
}

fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "<0.0001".to_string()
    } else {
        format!("{p:.4}")
    }
}
