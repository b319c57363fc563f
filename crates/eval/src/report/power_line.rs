//! What the per-row tests of a report can detect at all: the Holm family's size and the pairs
//! per row bound the smallest effect any row can be significant with.

use super::{HolmSource, Report, SIGNIFICANCE_LEVEL};
use crate::stats::{detectable_d_z, smallest_exact_p};

/// Power at which the detectable effect is given.
const POWER: f64 = 0.8;

/// One line on the power of the Holm family: the smallest d_z that a row's paired t-test finds
/// with 80% power at Holm's first step (the most lenient level any row gets, 5% over the family
/// size) and uncorrected, and, for the Wilcoxon test, whether any row can be significant at
/// all. `None` without a compared row.
pub fn holm_power_line(report: &Report) -> Option<String> {
    let n = report
        .rows
        .iter()
        .filter_map(|r| r.comparison.as_ref())
        .filter(|c| c.p_holm.is_some())
        .map(|c| c.n_pairs)
        .max()?;
    // the largest family is the strictest: its first step is the level quoted
    let m = report.holm_family_sizes().into_values().max()?;
    let first_step = SIGNIFICANCE_LEVEL / m as f64;
    let mut line = format!(
        "Power: Holm's correction runs over families of up to {m} comparison{} ({}), so even \
         the row with the smallest p of the largest family is tested at {first_step:.2e}.",
        if m == 1 { "" } else { "s" },
        report.holm_family_text()
    );
    match report.holm_source {
        HolmSource::TTest => {
            let corrected = detectable_d_z(n, first_step, POWER);
            let plain = detectable_d_z(n, SIGNIFICANCE_LEVEL, POWER);
            if let (Some(c), Some(p)) = (corrected, plain) {
                line.push_str(&format!(
                    " With {n} pairs, the paired t-test finds a difference with 80% power only \
                     when it is {c:.2} standard deviations of the paired differences (Cohen's \
                     d_z) or more ({p:.2} uncorrected)."
                ));
            }
        }
        HolmSource::Wilcoxon => {
            let floor = smallest_exact_p(n);
            if floor >= first_step {
                line.push_str(&format!(
                    " Warning: with at most {n} pairs the exact Wilcoxon p cannot go below \
                     {floor:.4}: no row can be significant after the correction."
                ));
            }
        }
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{aggregate_with, AggregateOptions, HolmFamily, RunRecord};
    use crate::{InferenceMode, Metric};
    use std::collections::BTreeMap;

    fn records(n_seeds: usize) -> Vec<RunRecord> {
        let mut out = Vec::new();
        for loss in ["ce", "a", "b"] {
            for seed in 0..n_seeds {
                // the differences vary (0.003, 0.005, 0.007, ...), so the t-test applies
                let gain = 0.003 + 0.002 * (seed % 3) as f64;
                let acc = 0.5 + 0.01 * seed as f64 + if loss == "ce" { 0.0 } else { gain };
                out.push(RunRecord {
                    dataset: "mr".into(),
                    shots: 8,
                    loss: loss.into(),
                    mode: InferenceMode::Head,
                    pair_key: format!("seed={seed}"),
                    metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
                });
            }
        }
        out
    }

    fn report(n_seeds: usize, holm_source: HolmSource) -> Report {
        report_in(n_seeds, holm_source, HolmFamily::All)
    }

    fn report_in(n_seeds: usize, holm_source: HolmSource, holm_family: HolmFamily) -> Report {
        let options = AggregateOptions {
            baseline_loss: "ce".into(),
            metric: Metric::Accuracy,
            holm_source,
            holm_family,
        };
        aggregate_with(&records(n_seeds), &options).unwrap()
    }

    #[test]
    fn names_the_family_and_the_detectable_effect() {
        let line = holm_power_line(&report(5, HolmSource::TTest)).unwrap();
        let dz = detectable_d_z(5, 0.025, 0.8).unwrap();
        assert!(line.contains("up to 2 comparisons"), "{line}");
        assert!(line.contains("family: all 2 comparisons"), "{line}");
        assert!(
            line.contains(&format!("{dz:.2} standard deviations")),
            "{line}"
        );
        // one family per method: each of the two rows is tested at 5% alone
        let line = holm_power_line(&report_in(5, HolmSource::TTest, HolmFamily::PerMethod));
        let line = line.unwrap();
        assert!(line.contains("up to 1 comparison "), "{line}");
        assert!(line.contains("tested at 5.00e-2"), "{line}");
    }

    #[test]
    fn warns_when_the_wilcoxon_family_cannot_reject() {
        // 5 pairs: smallest p 0.0625 > 0.025
        let line = holm_power_line(&report(5, HolmSource::Wilcoxon)).unwrap();
        assert!(line.contains("no row can be significant"), "{line}");
        // 8 pairs: 2 / 256 < 0.025
        let line = holm_power_line(&report(8, HolmSource::Wilcoxon)).unwrap();
        assert!(!line.contains("Warning"), "{line}");
    }
}
