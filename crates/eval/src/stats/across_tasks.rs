//! A method against the baseline over several tasks, the papers' question ("does CE + DML beat
//! CE on average over the tasks?"): the mean over tasks of the per-task mean paired difference,
//! its 95% interval two ways (a hierarchical bootstrap that resamples the seeds within each task
//! with the tasks fixed, and the Student t interval over the task means), the paired t and
//! Wilcoxon tests over tasks, and the count of tasks ahead / tied / behind.

use super::{
    check_finite, mean, paired_t_test, summarize, wilcoxon_signed_rank, ConfidenceInterval,
    StatsError, TTest, Wilcoxon,
};
use crate::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// Bootstrap resamples of [`compare_across_tasks`]: the 2.5% quantile's Monte Carlo error is
/// then about 3% of the bootstrap standard error.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
/// Fixed seed, so that a report is the same every time it is built.
pub const BOOTSTRAP_SEED: u64 = 20_221_115;

/// One method against the baseline over tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcrossTasks {
    pub n_tasks: usize,
    /// Per task, the mean of the paired differences (candidate - baseline), in input order.
    pub task_mean_diffs: Vec<f64>,
    /// Mean over tasks of `task_mean_diffs` (every task weighs the same).
    pub mean_diff: f64,
    /// Percentile interval of the hierarchical bootstrap (seeds resampled within each task,
    /// tasks fixed): the uncertainty from the seeds of these tasks.
    pub bootstrap_interval: ConfidenceInterval,
    /// Student t interval over the task means: the tasks taken as a sample of tasks. `None`
    /// with fewer than 2 tasks.
    pub t_interval: Option<ConfidenceInterval>,
    /// Paired t-test over tasks (one-sample on `task_mean_diffs`).
    pub t_test: Option<TTest>,
    /// Wilcoxon signed-rank test over tasks.
    pub wilcoxon: Option<Wilcoxon>,
    pub tasks_ahead: usize,
    pub tasks_tied: usize,
    pub tasks_behind: usize,
}

/// Compares over tasks from the paired differences of each task (one value per seed or fold
/// present for both), with [`BOOTSTRAP_RESAMPLES`] resamples from [`BOOTSTRAP_SEED`].
pub fn compare_across_tasks(diffs_per_task: &[Vec<f64>]) -> Result<AcrossTasks, StatsError> {
    let bootstrap_interval =
        hierarchical_bootstrap(diffs_per_task, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, 0.95)?;
    let task_mean_diffs: Vec<f64> = diffs_per_task.iter().map(|d| mean(d)).collect();
    let n_tasks = task_mean_diffs.len();
    Ok(AcrossTasks {
        n_tasks,
        mean_diff: mean(&task_mean_diffs),
        bootstrap_interval,
        t_interval: summarize(&task_mean_diffs)?.ci,
        t_test: paired_t_test(&task_mean_diffs),
        wilcoxon: wilcoxon_signed_rank(&task_mean_diffs),
        tasks_ahead: task_mean_diffs.iter().filter(|&&d| d > 0.0).count(),
        tasks_tied: task_mean_diffs.iter().filter(|&&d| d == 0.0).count(),
        tasks_behind: task_mean_diffs.iter().filter(|&&d| d < 0.0).count(),
        task_mean_diffs,
    })
}

/// Percentile interval at `level` of the mean over tasks of the per-task means, each resample
/// drawing every task's values with replacement (as many as it has) and keeping the tasks
/// fixed. Quantiles interpolate linearly between order statistics (numpy's default).
pub fn hierarchical_bootstrap(
    diffs_per_task: &[Vec<f64>],
    resamples: usize,
    seed: u64,
    level: f64,
) -> Result<ConfidenceInterval, StatsError> {
    if diffs_per_task.is_empty() || resamples == 0 {
        return Err(StatsError::Empty);
    }
    for task in diffs_per_task {
        check_finite(task)?;
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::ConfidenceLevel(level));
    }
    let mut rng = SplitMix64::new(seed);
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            let total: f64 = diffs_per_task
                .iter()
                .map(|d| {
                    let n = d.len();
                    let sum: f64 = (0..n).map(|_| d[rng.below(n)]).sum();
                    sum / n as f64
                })
                .sum();
            total / diffs_per_task.len() as f64
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    Ok(ConfidenceInterval {
        level,
        low: quantile_sorted(&stats, (1.0 - level) / 2.0),
        high: quantile_sorted(&stats, (1.0 + level) / 2.0),
    })
}

/// numpy's `percentile(method="linear")` of sorted values at `p` in [0, 1].
fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_as_numpy() {
        // np.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) = 1.075, 2.5, 3.925
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile_sorted(&v, 0.025) - 1.075).abs() < 1e-12);
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert!((quantile_sorted(&v, 0.975) - 3.925).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_is_reproducible_and_seed_dependent() {
        let tasks = vec![vec![0.1, -0.2, 0.3, 0.05], vec![1.0, 0.5, 0.7]];
        let a = hierarchical_bootstrap(&tasks, 2000, 5, 0.95).unwrap();
        assert_eq!(a, hierarchical_bootstrap(&tasks, 2000, 5, 0.95).unwrap());
        assert_ne!(a, hierarchical_bootstrap(&tasks, 2000, 6, 0.95).unwrap());
        // a task with one seed and constant tasks contribute no spread
        let fixed = vec![vec![0.2], vec![0.4, 0.4]];
        let ci = hierarchical_bootstrap(&fixed, 100, 1, 0.95).unwrap();
        assert!((ci.low - 0.3).abs() < 1e-15 && (ci.high - 0.3).abs() < 1e-15);
    }

    #[test]
    fn counts_tasks_and_rejects_bad_input() {
        let r = compare_across_tasks(&[vec![0.1, 0.2], vec![0.0, 0.0], vec![-0.3]]).unwrap();
        assert_eq!((r.tasks_ahead, r.tasks_tied, r.tasks_behind), (1, 1, 1));
        assert!((r.mean_diff - (0.15 - 0.3) / 3.0).abs() < 1e-15);
        assert_eq!(compare_across_tasks(&[]), Err(StatsError::Empty));
        assert_eq!(compare_across_tasks(&[vec![]]), Err(StatsError::Empty));
        assert!(matches!(
            compare_across_tasks(&[vec![f64::NAN]]),
            Err(StatsError::NonFinite { .. })
        ));
        let one = compare_across_tasks(&[vec![0.1, 0.3]]).unwrap();
        assert_eq!((one.t_interval, one.t_test), (None, None));
    }
}
