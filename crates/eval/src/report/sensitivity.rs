//! Sensitivity of a dev selection: next to the value chosen on dev, each method's test result at
//! every value of the selected axis, so that a reader sees whether a method's sign against the
//! baseline depends on the choice. For a search's trials (many values, each a random point) the
//! compact form: the chosen trial's test result beside the best, median and worst trial's.
//! Markdown (report.md, and the HTML page through its Markdown sections) and CSV.

use serde::Serialize;

/// One method in one group (settings, dataset, shots): its result at each value of the axis.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityGroup {
    /// The other swept settings (`key=value`s), empty when there are none.
    pub settings: String,
    pub dataset: String,
    pub shots: usize,
    pub method: String,
    /// The value chosen on dev.
    pub chosen: String,
    /// In the axis's value order.
    pub values: Vec<SensitivityValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SensitivityValue {
    pub value: String,
    /// Mean test metric over the value's done cells (`None`: none done).
    pub test_mean: Option<f64>,
}

impl SensitivityGroup {
    fn test_at(&self, value: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|v| v.value == value)
            .and_then(|v| v.test_mean)
    }

    fn key(&self) -> (&str, &str, usize) {
        (&self.settings, &self.dataset, self.shots)
    }
}

/// A proportion in percent, as the report's tables show it.
fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |m| format!("{:.2}", 100.0 * m))
}

/// The signs of `deltas` (method minus baseline at the same value), in words.
fn sign_words(deltas: &[f64]) -> &'static str {
    if deltas.is_empty() {
        "-"
    } else if deltas.iter().all(|&d| d > 0.0) {
        "above at every value"
    } else if deltas.iter().all(|&d| d < 0.0) {
        "below at every value"
    } else {
        "**depends on the value**"
    }
}

/// The baseline's group beside `g` (same settings, dataset and shots), unless `g` is it.
fn baseline_of<'a>(
    groups: &'a [SensitivityGroup],
    g: &SensitivityGroup,
    baseline: Option<&str>,
) -> Option<&'a SensitivityGroup> {
    let name = baseline?;
    if g.method == name {
        return None;
    }
    groups
        .iter()
        .find(|b| b.method == name && b.key() == g.key())
}

/// The Markdown section: a table with one column per value of `axis` (the chosen value in bold,
/// the difference from `baseline` at the same value in parentheses, and whether its sign holds
/// at every value), or with `compact` the trials' summary. `metric` names the test metric.
pub fn sensitivity_markdown(
    groups: &[SensitivityGroup],
    axis: &str,
    metric: &str,
    mode: &str,
    baseline: Option<&str>,
    compact: bool,
) -> String {
    if groups.is_empty() {
        return String::new();
    }
    if compact {
        return compact_markdown(groups, metric, mode);
    }
    let mut columns: Vec<&str> = Vec::new();
    for g in groups {
        for v in &g.values {
            if !columns.contains(&v.value.as_str()) {
                columns.push(&v.value);
            }
        }
    }
    let vs = match baseline {
        Some(b) => format!("; in parentheses the difference from `{b}` at the same value, and whether its sign holds at every value"),
        None => String::new(),
    };
    let mut text = format!(
        "### Sensitivity to `{axis}`\n\nTest {metric} ({mode} mode, mean over seeds) of each method at every value of `{axis}`; **bold**: the value chosen on dev{vs}.\n\n| settings | dataset | shots | method | {} | vs baseline |\n| --- | --- | ---: | --- |{} --- |\n",
        columns.join(" | "),
        " ---: |".repeat(columns.len()),
    );
    for g in groups {
        let base = baseline_of(groups, g, baseline);
        let mut deltas = Vec::new();
        let cells: Vec<String> = columns
            .iter()
            .map(|&value| {
                let Some(present) = g.values.iter().find(|v| v.value == value) else {
                    return String::new();
                };
                let mut cell = pct(present.test_mean);
                if let (Some(m), Some(b)) = (present.test_mean, base.and_then(|b| b.test_at(value)))
                {
                    let d = m - b;
                    deltas.push(d);
                    cell.push_str(&format!(" ({:+.2})", 100.0 * d));
                }
                if value == g.chosen {
                    cell = format!("**{cell}**");
                }
                cell
            })
            .collect();
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            if g.settings.is_empty() {
                "-"
            } else {
                &g.settings
            },
            g.dataset,
            g.shots,
            g.method,
            cells.join(" | "),
            if base.is_some() {
                sign_words(&deltas)
            } else {
                "-"
            },
        ));
    }
    text.push('\n');
    text
}

/// The median of `xs` (sorted here; the mean of the middle two for an even count).
fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

fn compact_markdown(groups: &[SensitivityGroup], metric: &str, mode: &str) -> String {
    let mut text = format!(
        "### Sensitivity to the trial\n\nTest {metric} ({mode} mode, mean over seeds) of the trial chosen on dev beside the best, median and worst of each method's trials on test: a wide spread says the method's result depends on its hyperparameters more than the comparison does.\n\n| settings | dataset | shots | method | trials | chosen on dev | best | median | worst |\n| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n"
    );
    for g in groups {
        let mut tests: Vec<f64> = g.values.iter().filter_map(|v| v.test_mean).collect();
        let best = tests.iter().copied().reduce(f64::max);
        let worst = tests.iter().copied().reduce(f64::min);
        let mid = median(&mut tests);
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            if g.settings.is_empty() {
                "-"
            } else {
                &g.settings
            },
            g.dataset,
            g.shots,
            g.method,
            g.values.len(),
            pct(g.test_at(&g.chosen)),
            pct(best),
            pct(mid),
            pct(worst),
        ));
    }
    text.push('\n');
    text
}

/// One row per (group, value): settings, dataset, shots, method, value, chosen, test mean.
pub fn sensitivity_csv(groups: &[SensitivityGroup]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "settings",
        "dataset",
        "shots",
        "method",
        "value",
        "chosen",
        "test_mean",
    ])?;
    for g in groups {
        for v in &g.values {
            w.write_record([
                g.settings.as_str(),
                &g.dataset,
                &g.shots.to_string(),
                &g.method,
                &v.value,
                if v.value == g.chosen { "true" } else { "false" },
                &v.test_mean.map(|m| m.to_string()).unwrap_or_default(),
            ])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(method: &str, chosen: &str, tests: &[(&str, f64)]) -> SensitivityGroup {
        SensitivityGroup {
            settings: String::new(),
            dataset: "mr".into(),
            shots: 4,
            method: method.into(),
            chosen: chosen.into(),
            values: tests
                .iter()
                .map(|(v, t)| SensitivityValue {
                    value: v.to_string(),
                    test_mean: Some(*t),
                })
                .collect(),
        }
    }

    #[test]
    fn a_sign_that_flips_with_the_value_is_named() {
        let groups = vec![
            group("ce", "0.001", &[("0.001", 0.80), ("0.002", 0.70)]),
            // above ce at 0.002 only: the sign depends on the lr
            group("ce-pa", "0.002", &[("0.001", 0.75), ("0.002", 0.78)]),
            group("ce-st", "0.001", &[("0.001", 0.81), ("0.002", 0.71)]),
        ];
        let md = sensitivity_markdown(&groups, "lr", "accuracy", "head", Some("ce"), false);
        assert!(
            md.contains("| - | mr | 4 | ce | **80.00** | 70.00 | - |"),
            "{md}"
        );
        assert!(
            md.contains("| - | mr | 4 | ce-pa | 75.00 (-5.00) | **78.00 (+8.00)** | **depends on the value** |"),
            "{md}"
        );
        assert!(
            md.contains("| ce-st | **81.00 (+1.00)** | 71.00 (+1.00) | above at every value |"),
            "{md}"
        );
        let csv = sensitivity_csv(&groups).unwrap();
        assert!(csv.contains(",mr,4,ce-pa,0.002,true,0.78\n"), "{csv}");
    }

    #[test]
    fn trials_are_summarised_by_the_chosen_best_median_and_worst() {
        let groups = vec![group(
            "ce",
            "1[lr=0.01]",
            &[
                ("0[lr=0.1]", 0.5),
                ("1[lr=0.01]", 0.7),
                ("2[lr=0.2]", 0.9),
                ("3[lr=0.3]", 0.6),
            ],
        )];
        let md = sensitivity_markdown(&groups, "trial", "accuracy", "head", Some("ce"), true);
        assert!(
            md.contains("| - | mr | 4 | ce | 4 | 70.00 | 90.00 | 65.00 | 50.00 |"),
            "{md}"
        );
    }
}
