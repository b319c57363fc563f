//! Grouping of run records and the statistics of each group.

use super::{ReportError, RunRecord};
use crate::inference_mode::InferenceMode;
use crate::metric::Metric;
use crate::stats::{compare_by_key, holm_adjust, summarize};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Which p-value the Holm correction adjusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolmSource {
    /// Paired t-test (the default: with 4-10 runs the Wilcoxon test cannot reach small p;
    /// its smallest two-sided exact p for n = 5 is 0.0625).
    TTest,
    Wilcoxon,
}

/// Which comparisons one Holm correction runs over (`dmlft report --holm-family`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum HolmFamily {
    /// Every comparison of the report, one family.
    #[default]
    All,
    /// One family per method (loss and inference mode), over its tasks and shots.
    PerMethod,
    /// The head predictions of every method are the primary family; the other modes' (proxy,
    /// mixed, kNN, centroid) a secondary family of their own, shown apart.
    Primary,
}

/// The name of the primary family ([`HolmFamily::Primary`]).
const PRIMARY: &str = "primary";
/// The name of the secondary family ([`HolmFamily::Primary`]).
const SECONDARY: &str = "secondary";

impl HolmFamily {
    /// The family a comparison of `loss` in `mode` belongs to.
    pub fn of(self, loss: &str, mode: InferenceMode) -> String {
        match self {
            HolmFamily::All => "all".to_string(),
            HolmFamily::PerMethod => match mode {
                InferenceMode::Head => loss.to_string(),
                mode => format!("{loss} ({mode})"),
            },
            HolmFamily::Primary if mode == InferenceMode::Head => PRIMARY.to_string(),
            HolmFamily::Primary => SECONDARY.to_string(),
        }
    }

    /// Whether rows in `mode` are secondary (shown apart): every mode but the head's under
    /// `primary`.
    pub fn is_secondary(self, mode: InferenceMode) -> bool {
        self == HolmFamily::Primary && mode != InferenceMode::Head
    }
}

/// Settings of [`aggregate_with`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateOptions {
    pub baseline_loss: String,
    pub metric: Metric,
    pub holm_source: HolmSource,
    #[serde(default)]
    pub holm_family: HolmFamily,
}

/// A row of the report: one group of runs, or the average over datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// One dataset x shots x loss x mode group; `n` counts runs.
    Cell,
    /// Mean over datasets of the cell means for one shots x loss x mode; `n` counts
    /// datasets; std / median / CI are not defined for it.
    Average,
}

/// Comparison of a row with the baseline loss (same dataset, shots, mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowComparison {
    /// Pairs used (cell rows) or datasets with a comparison (average rows).
    pub n_pairs: usize,
    /// Runs without a partner in the other group, dropped (cell rows).
    pub unpaired: usize,
    /// Mean of candidate - baseline (cell); mean over datasets of that (average).
    pub mean_diff: f64,
    pub p_ttest: Option<f64>,
    pub p_wilcoxon: Option<f64>,
    /// Holm-adjusted p of [`HolmSource`] over the row's [`HolmFamily`].
    pub p_holm: Option<f64>,
    /// Pairs (cell) or datasets (average, by mean difference) where the loss is higher /
    /// equal / lower than the baseline.
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
}

/// One line of the report tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub kind: RowKind,
    /// The dataset, or `"(average)"` for average rows.
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    pub mode: InferenceMode,
    pub n: usize,
    pub mean: f64,
    /// Sample std (ddof 1).
    pub std: Option<f64>,
    /// Population std (ddof 0).
    pub std_pop: Option<f64>,
    pub median: Option<f64>,
    /// Student t interval (95%) of the mean; for a proportion clipped to [0, 1], which the
    /// t interval of a few seeds can overshoot.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// `None` for the baseline's own rows and where the baseline has no runs.
    pub comparison: Option<RowComparison>,
}

impl ReportRow {
    /// Whether the row's Holm-adjusted p is below [`super::SIGNIFICANCE_LEVEL`].
    pub fn significant(&self) -> bool {
        self.comparison
            .as_ref()
            .and_then(|c| c.p_holm)
            .is_some_and(|p| p < super::SIGNIFICANCE_LEVEL)
    }
}

/// Everything `dmlft report` prints for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub metric: Metric,
    pub baseline_loss: String,
    pub holm_source: HolmSource,
    /// The comparisons each Holm correction runs over.
    #[serde(default)]
    pub holm_family: HolmFamily,
    /// Whether the metric is a proportion shown in percent (accuracy, F1, ...).
    pub percent: bool,
    /// Cell rows (sorted by dataset, shots, mode, baseline first then loss), then averages.
    pub rows: Vec<ReportRow>,
    /// Runs dropped from comparisons for lack of a partner, over the whole report.
    pub unpaired_dropped: usize,
    /// Non-fatal problems (e.g. a group whose baseline has no runs).
    pub warnings: Vec<String>,
}

/// Name of the dataset column on average rows.
pub const AVERAGE_LABEL: &str = "(average)";

/// [`aggregate_with`] with the Holm correction on the paired t-test.
pub fn aggregate(
    records: &[RunRecord],
    baseline_loss: &str,
    metric: Metric,
) -> Result<Report, ReportError> {
    aggregate_with(
        records,
        &AggregateOptions {
            baseline_loss: baseline_loss.to_string(),
            metric,
            holm_source: HolmSource::TTest,
            holm_family: HolmFamily::All,
        },
    )
}

/// Group key: dataset, shots, mode, then the loss ordered baseline first.
pub(super) type GroupKey = (String, usize, InferenceMode, (bool, String));

/// Builds the report.
pub fn aggregate_with(
    records: &[RunRecord],
    options: &AggregateOptions,
) -> Result<Report, ReportError> {
    let baseline = options.baseline_loss.as_str();
    if !records.is_empty() && !records.iter().any(|r| r.loss == baseline) {
        let losses: BTreeSet<&str> = records.iter().map(|r| r.loss.as_str()).collect();
        return Err(ReportError::UnknownBaseline {
            baseline: baseline.to_string(),
            available: losses.into_iter().collect::<Vec<_>>().join(", "),
        });
    }
    build(records, options)
}

/// The report of runs among which the baseline has none (e.g. every baseline cell failed): the
/// summaries of every group, no comparison, and one warning saying why.
pub fn aggregate_without_baseline(
    records: &[RunRecord],
    options: &AggregateOptions,
) -> Result<Report, ReportError> {
    let mut report = build(records, options)?;
    report.warnings.retain(|w| !w.contains("has no runs"));
    report.warnings.push(format!(
        "baseline `{}` has no runs here: nothing is compared",
        options.baseline_loss
    ));
    Ok(report)
}

fn build(records: &[RunRecord], options: &AggregateOptions) -> Result<Report, ReportError> {
    let baseline = options.baseline_loss.as_str();
    let groups = group_values(records, options.metric, baseline)?;

    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    let mut unpaired_dropped = 0;
    let mut noted_head_fallback = false;
    for ((dataset, shots, mode, (is_candidate, loss)), values) in &groups {
        let v: Vec<f64> = values.values().copied().collect();
        let summary = summarize(&v).expect("groups are non-empty and finite");
        // a proportion cannot leave [0, 1]; the t interval of 2-5 seeds can
        let bound = |x: f64| {
            if options.metric.is_proportion() {
                x.clamp(0.0, 1.0)
            } else {
                x
            }
        };
        let comparison = if !*is_candidate {
            None
        } else {
            let base_key = (
                dataset.clone(),
                *shots,
                *mode,
                (false, baseline.to_string()),
            );
            // A baseline without proxies (plain CE) has only head predictions: proxy / mix rows
            // of the other losses are compared with them, which is the papers' question
            // ("does CE + DML with proxy inference beat CE?").
            let head_key = (
                dataset.clone(),
                *shots,
                InferenceMode::Head,
                (false, baseline.to_string()),
            );
            let base = groups.get(&base_key).or_else(|| {
                let fallback = groups.get(&head_key);
                if fallback.is_some() && !noted_head_fallback {
                    noted_head_fallback = true;
                    warnings.push(format!(
                        "rows in modes the baseline `{baseline}` lacks (e.g. {mode}) are compared \
                         with the baseline's `{}` predictions",
                        InferenceMode::Head
                    ));
                }
                fallback
            });
            match base {
                None => {
                    warnings.push(format!(
                        "{dataset}/{shots}-shot/{mode}: baseline `{baseline}` has no runs, \
                         `{loss}` is not compared"
                    ));
                    None
                }
                Some(base) => {
                    let keyed = compare_by_key(values, base).expect("finite values");
                    unpaired_dropped += keyed.unpaired_keys.len();
                    if keyed.comparison.is_none() {
                        warnings.push(format!(
                            "{dataset}/{shots}-shot/{mode}: `{loss}` shares no pair key with \
                             the baseline"
                        ));
                    }
                    keyed.comparison.map(|c| RowComparison {
                        n_pairs: c.n_pairs,
                        unpaired: keyed.unpaired_keys.len(),
                        mean_diff: c.mean_diff,
                        // a p of 0 from constant differences, or a test on 2 pairs, would
                        // read as significant: n/a instead (and out of the Holm family)
                        p_ttest: c.t_test.filter(|t| t.is_applicable()).map(|t| t.p_value),
                        p_wilcoxon: c.wilcoxon.map(|w| w.p_value),
                        p_holm: None,
                        wins: c.wins,
                        ties: c.ties,
                        losses: c.losses,
                    })
                }
            }
        };
        rows.push(ReportRow {
            kind: RowKind::Cell,
            dataset: dataset.clone(),
            shots: *shots,
            loss: loss.clone(),
            mode: *mode,
            n: summary.n,
            mean: summary.mean,
            std: summary.std,
            std_pop: Some(summary.std_pop),
            median: Some(summary.median),
            ci_low: summary.ci.map(|c| bound(c.low)),
            ci_high: summary.ci.map(|c| bound(c.high)),
            comparison,
        });
    }
    apply_holm(&mut rows, options.holm_source, options.holm_family);
    let averages = average_rows(&rows, baseline);
    rows.extend(averages);
    // secondary rows shown apart: after the primary ones (stable, so in group order)
    rows.sort_by_key(|r| (r.kind, options.holm_family.is_secondary(r.mode)));
    Ok(Report {
        metric: options.metric,
        baseline_loss: baseline.to_string(),
        holm_source: options.holm_source,
        holm_family: options.holm_family,
        percent: options.metric.is_proportion(),
        rows,
        unpaired_dropped,
        warnings,
    })
}

/// Validates the records and groups the metric values by group, then by pair key.
pub(super) fn group_values(
    records: &[RunRecord],
    metric: Metric,
    baseline: &str,
) -> Result<BTreeMap<GroupKey, BTreeMap<String, f64>>, ReportError> {
    if records.is_empty() {
        return Err(ReportError::NoRecords);
    }
    let mut groups: BTreeMap<GroupKey, BTreeMap<String, f64>> = BTreeMap::new();
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
                    .map(ToString::to_string)
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
        let key = (
            r.dataset.clone(),
            r.shots,
            r.mode,
            (r.loss != baseline, r.loss.clone()),
        );
        if groups
            .entry(key)
            .or_default()
            .insert(r.pair_key.clone(), value)
            .is_some()
        {
            return Err(ReportError::Duplicate { run: r.describe() });
        }
    }
    Ok(groups)
}

/// Holm within each family over every comparison with a defined p-value of the chosen source.
fn apply_holm(rows: &mut [ReportRow], source: HolmSource, family_of: HolmFamily) {
    let pick = |c: &RowComparison| match source {
        HolmSource::TTest => c.p_ttest,
        HolmSource::Wilcoxon => c.p_wilcoxon,
    };
    let mut families: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(p) = r.comparison.as_ref().and_then(pick) {
            families
                .entry(family_of.of(&r.loss, r.mode))
                .or_default()
                .push((i, p));
        }
    }
    for family in families.values() {
        let p: Vec<f64> = family.iter().map(|&(_, p)| p).collect();
        for (&(i, _), adjusted) in family.iter().zip(holm_adjust(&p)) {
            if let Some(c) = rows[i].comparison.as_mut() {
                c.p_holm = Some(adjusted);
            }
        }
    }
}

impl Report {
    /// The size of each Holm family (comparisons with a Holm p), by family name.
    pub fn holm_family_sizes(&self) -> BTreeMap<String, usize> {
        let mut sizes = BTreeMap::new();
        for r in &self.rows {
            if r.comparison.as_ref().is_some_and(|c| c.p_holm.is_some()) {
                *sizes
                    .entry(self.holm_family.of(&r.loss, r.mode))
                    .or_default() += 1;
            }
        }
        sizes
    }

    /// The Holm family in words, with its size(s), for captions.
    pub fn holm_family_text(&self) -> String {
        let sizes = self.holm_family_sizes();
        let size = |name: &str| sizes.get(name).copied().unwrap_or(0);
        match self.holm_family {
            HolmFamily::All => format!("family: all {} comparisons", size("all")),
            HolmFamily::PerMethod => format!(
                "family: per method (loss and mode), {} families of {} comparisons at most",
                sizes.len(),
                sizes.values().copied().max().unwrap_or(0)
            ),
            HolmFamily::Primary => format!(
                "family: primary, the {} comparisons of head predictions; the {} proxy / mixed / \
                 kNN / centroid rows are a secondary family, listed apart",
                size(PRIMARY),
                size(SECONDARY)
            ),
        }
    }
}

/// Per shots x loss x mode: mean over datasets of the cell means, and of the mean
/// differences to the baseline where they exist (the papers' "average" column).
fn average_rows(cells: &[ReportRow], baseline: &str) -> Vec<ReportRow> {
    // shots, mode, loss ordered baseline first
    type AverageKey = (usize, InferenceMode, (bool, String));
    let mut by_key: BTreeMap<AverageKey, Vec<&ReportRow>> = BTreeMap::new();
    for row in cells {
        let key = (
            row.shots,
            row.mode,
            (row.loss != baseline, row.loss.clone()),
        );
        by_key.entry(key).or_default().push(row);
    }
    by_key
        .into_iter()
        .map(|((shots, mode, (_, loss)), rows)| {
            let mean = rows.iter().map(|r| r.mean).sum::<f64>() / rows.len() as f64;
            let diffs: Vec<f64> = rows
                .iter()
                .filter_map(|r| r.comparison.as_ref().map(|c| c.mean_diff))
                .collect();
            let comparison = (!diffs.is_empty()).then(|| RowComparison {
                n_pairs: diffs.len(),
                unpaired: 0,
                mean_diff: diffs.iter().sum::<f64>() / diffs.len() as f64,
                p_ttest: None,
                p_wilcoxon: None,
                p_holm: None,
                wins: diffs.iter().filter(|&&d| d > 0.0).count(),
                ties: diffs.iter().filter(|&&d| d == 0.0).count(),
                losses: diffs.iter().filter(|&&d| d < 0.0).count(),
            });
            ReportRow {
                kind: RowKind::Average,
                dataset: AVERAGE_LABEL.to_string(),
                shots,
                loss,
                mode,
                n: rows.len(),
                mean,
                std: None,
                std_pop: None,
                median: None,
                ci_low: None,
                ci_high: None,
                comparison,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(dataset: &str, loss: &str, seed: &str, acc: f64) -> RunRecord {
        RunRecord {
            dataset: dataset.into(),
            shots: 8,
            loss: loss.into(),
            mode: InferenceMode::Head,
            pair_key: seed.into(),
            metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
        }
    }

    #[test]
    fn groups_compares_and_averages() {
        let records = vec![
            rec("mr", "ce", "1", 0.80),
            rec("mr", "ce", "2", 0.82),
            rec("mr", "ce", "3", 0.81),
            rec("mr", "triplet", "1", 0.85),
            rec("mr", "triplet", "2", 0.84),
            rec("mr", "triplet", "4", 0.90), // no partner: dropped from the comparison
            rec("cr", "ce", "1", 0.70),
            rec("cr", "triplet", "1", 0.69),
        ];
        let report = aggregate(&records, "ce", Metric::Accuracy).unwrap();
        assert!(report.percent);
        let names: Vec<(&str, &str, RowKind)> = report
            .rows
            .iter()
            .map(|r| (r.dataset.as_str(), r.loss.as_str(), r.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("cr", "ce", RowKind::Cell),
                ("cr", "triplet", RowKind::Cell),
                ("mr", "ce", RowKind::Cell),
                ("mr", "triplet", RowKind::Cell),
                (AVERAGE_LABEL, "ce", RowKind::Average),
                (AVERAGE_LABEL, "triplet", RowKind::Average),
            ]
        );
        let mr = report.rows[3].comparison.as_ref().unwrap();
        assert_eq!((mr.n_pairs, mr.unpaired, mr.wins, mr.losses), (2, 2, 2, 0));
        assert!((mr.mean_diff - 0.035).abs() < 1e-12);
        // 2 pairs (mr) and 1 pair (cr): no t-test means anything, so none enters the Holm
        // family; the Wilcoxon p is still there.
        assert_eq!((mr.p_ttest, mr.p_holm), (None, None));
        assert!(mr.p_wilcoxon.is_some());
        assert_eq!(report.rows[1].comparison.as_ref().unwrap().p_holm, None);
        assert_eq!(report.unpaired_dropped, 2);
        let avg = &report.rows[5];
        assert_eq!(avg.n, 2);
        let diff = avg.comparison.as_ref().unwrap();
        assert!((diff.mean_diff - (0.035 - 0.01) / 2.0).abs() < 1e-12);
        assert_eq!((diff.wins, diff.losses), (1, 1));
        assert!((avg.mean - (0.69 + (0.85 + 0.84 + 0.90) / 3.0) / 2.0).abs() < 1e-12);
        assert!(report.rows[0].comparison.is_none());
    }

    #[test]
    fn user_mistakes_are_named() {
        let records = vec![rec("mr", "ce", "1", 0.8), rec("mr", "ce", "1", 0.9)];
        let err = aggregate(&records, "ce", Metric::Accuracy).unwrap_err();
        assert_eq!(
            err.to_string(),
            "run mr/8-shot/ce/head/1 appears twice (same dataset, shots, loss, mode and pair key)"
        );
        let err = aggregate(&records[..1], "supcon", Metric::Accuracy).unwrap_err();
        assert!(err.to_string().contains("losses present: ce"), "{err}");
        let err = aggregate(&records[..1], "ce", Metric::MacroF1).unwrap_err();
        assert!(err.to_string().contains("(it has: accuracy)"), "{err}");
        assert!(matches!(
            aggregate(&[], "ce", Metric::Accuracy),
            Err(ReportError::NoRecords)
        ));
        let nan = vec![rec("mr", "ce", "1", f64::NAN)];
        assert!(matches!(
            aggregate(&nan, "ce", Metric::Accuracy),
            Err(ReportError::NonFinite { .. })
        ));
    }

    #[test]
    fn without_baseline_runs_the_groups_are_summarised_uncompared() {
        let records = vec![rec("mr", "supcon", "1", 0.8), rec("mr", "supcon", "2", 0.9)];
        let options = AggregateOptions {
            baseline_loss: "ce".into(),
            metric: Metric::Accuracy,
            holm_source: HolmSource::TTest,
            holm_family: HolmFamily::All,
        };
        assert!(matches!(
            aggregate_with(&records, &options),
            Err(ReportError::UnknownBaseline { .. })
        ));
        let report = aggregate_without_baseline(&records, &options).unwrap();
        assert_eq!(report.rows[0].n, 2);
        assert!(report.rows.iter().all(|r| r.comparison.is_none()));
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.warnings[0].contains("nothing is compared"));
    }

    #[test]
    fn missing_baseline_group_is_a_warning() {
        let mut other = rec("cr", "triplet", "1", 0.7);
        other.shots = 16;
        let records = vec![rec("mr", "ce", "1", 0.8), other];
        let report = aggregate(&records, "ce", Metric::Accuracy).unwrap();
        assert_eq!(report.warnings.len(), 1);
        assert!(report.warnings[0].contains("cr/16-shot/head"));
    }

    /// ce, a (head and proxy) and b on two datasets, 5 seeds each, differences that vary.
    fn family_records() -> Vec<RunRecord> {
        let mut out = Vec::new();
        for (d, dataset) in ["mr", "cr"].iter().enumerate() {
            for (l, loss) in ["ce", "a", "b"].iter().enumerate() {
                for seed in 0..5 {
                    let acc = 0.6 + 0.01 * (seed * seed) as f64 * (l + d + 1) as f64 / 7.0;
                    let mut r = rec(dataset, loss, &seed.to_string(), acc);
                    out.push(r.clone());
                    if *loss == "a" {
                        r.mode = InferenceMode::Proxy;
                        r.metrics
                            .insert(Metric::Accuracy, acc - 0.002 * seed as f64);
                        out.push(r);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn holm_runs_within_the_chosen_family() {
        let records = family_records();
        let with = |holm_family| {
            let options = AggregateOptions {
                baseline_loss: "ce".into(),
                metric: Metric::Accuracy,
                holm_source: HolmSource::TTest,
                holm_family,
            };
            aggregate_with(&records, &options).unwrap()
        };
        let cells = |r: &Report| -> Vec<(String, String, InferenceMode, f64, f64)> {
            r.rows
                .iter()
                .filter_map(|row| {
                    let c = row.comparison.as_ref()?;
                    Some((
                        row.dataset.clone(),
                        row.loss.clone(),
                        row.mode,
                        c.p_ttest?,
                        c.p_holm?,
                    ))
                })
                .collect()
        };
        // each family's Holm p is Holm over that family's raw p alone
        let check = |r: &Report, family: &dyn Fn(&str, InferenceMode) -> String| {
            let rows = cells(r);
            assert_eq!(rows.len(), 6, "2 datasets x (a head, a proxy, b head)");
            for (_, loss, mode, _, holm) in &rows {
                let members: Vec<&(String, String, InferenceMode, f64, f64)> = rows
                    .iter()
                    .filter(|(_, l, m, _, _)| family(l, *m) == family(loss, *mode))
                    .collect();
                let raw: Vec<f64> = members.iter().map(|m| m.3).collect();
                let adjusted = holm_adjust(&raw);
                let at = members
                    .iter()
                    .position(|m| m.1 == *loss && m.2 == *mode && m.4 == *holm)
                    .unwrap();
                assert_eq!(adjusted[at], *holm);
            }
        };
        let all = with(HolmFamily::All);
        check(&all, &|_, _| String::new());
        assert_eq!(
            all.holm_family_sizes().into_values().collect::<Vec<_>>(),
            [6]
        );
        let per_method = with(HolmFamily::PerMethod);
        check(&per_method, &|l, m| format!("{l}{m}"));
        assert_eq!(per_method.holm_family_sizes().len(), 3);
        assert!(crate::report::format::caption(&per_method).contains("3 families of 2 comparisons"));
        let primary = with(HolmFamily::Primary);
        check(&primary, &|_, m| (m == InferenceMode::Head).to_string());
        assert!(crate::report::format::caption(&primary)
            .contains("the 4 comparisons of head predictions"));
        // the secondary rows come after every primary cell row
        let modes: Vec<InferenceMode> = primary
            .rows
            .iter()
            .filter(|r| r.kind == RowKind::Cell)
            .map(|r| r.mode)
            .collect();
        let first_proxy = modes
            .iter()
            .position(|m| *m == InferenceMode::Proxy)
            .unwrap();
        assert!(modes[first_proxy..]
            .iter()
            .all(|m| *m == InferenceMode::Proxy));
        assert_ne!(
            cells(&all),
            cells(&primary),
            "the families change the Holm p"
        );
    }

    #[test]
    fn intervals_of_proportions_stay_within_0_and_1() {
        // two seeds far apart: the t interval (t = 12.7) runs far past 1 and below 0
        let records = vec![rec("mr", "ce", "1", 0.55), rec("mr", "ce", "2", 0.99)];
        let report = aggregate(&records, "ce", Metric::Accuracy).unwrap();
        assert_eq!(
            (report.rows[0].ci_low, report.rows[0].ci_high),
            (Some(0.0), Some(1.0))
        );
        assert!(crate::report::format::caption(&report).contains("clipped to [0, 100]"));
    }
}
