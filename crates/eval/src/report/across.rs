//! The papers' question, answered over tasks: per shots count, every method's head predictions
//! against the baseline's, averaged over tasks ([`compare_across_tasks`]: hierarchical
//! bootstrap and t intervals, t and Wilcoxon over tasks, tasks ahead, the smallest difference
//! the tasks can detect), and the methods' ranks over (task, shots) blocks (Friedman, Nemenyi
//! critical difference, Holm-corrected pairwise Wilcoxon).

use super::aggregate::group_values;
use super::{ReportError, RunRecord};
use crate::inference_mode::InferenceMode;
use crate::metric::Metric;
use crate::stats::{
    compare_across_tasks, detectable_d_z, friedman, nemenyi_critical_difference, nemenyi_p_values,
    wilcoxon_holm_p_values, AcrossTasks, Friedman, BOOTSTRAP_RESAMPLES,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Significance level of the tests, intervals and critical difference here.
const ALPHA: f64 = 0.05;
/// Power at which the smallest detectable difference is given.
const POWER: f64 = 0.8;

/// Per loss, per (task, shots), the head predictions' metric by pair key.
type HeadRuns<'a> = BTreeMap<&'a str, BTreeMap<(&'a str, usize), &'a BTreeMap<String, f64>>>;

/// One method against the baseline at one shots count, over the tasks both have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcrossTaskRow {
    pub shots: usize,
    pub loss: String,
    /// The tasks compared, in the tables' order.
    pub tasks: Vec<String>,
    pub result: AcrossTasks,
    /// The smallest mean difference over tasks that the paired t-test over these tasks
    /// detects with 80% power at 5%, given the observed spread of the task differences.
    pub detectable_diff: Option<f64>,
}

/// Ranks of the methods (head predictions) over the (task, shots) blocks where all have runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub methods: Vec<String>,
    /// `(task, shots)` of each block.
    pub blocks: Vec<(String, usize)>,
    pub friedman: Friedman,
    /// Nemenyi critical difference of average ranks at 5%.
    pub critical_difference: f64,
    pub nemenyi_p: Vec<Vec<f64>>,
    /// Pairwise Wilcoxon over blocks, Holm-corrected over the pairs.
    pub wilcoxon_holm_p: Vec<Vec<f64>>,
}

/// Everything of this module for one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcrossSummary {
    pub metric: Metric,
    pub percent: bool,
    pub baseline: Option<String>,
    pub rows: Vec<AcrossTaskRow>,
    /// `None` with fewer than 2 methods or 2 complete blocks.
    pub ranking: Option<Ranking>,
}

/// Builds the summary from the runs; `tasks` and `losses` give the display order (the paper
/// tables' order). Only head predictions enter (the primary mode of every method).
pub fn across_summary(
    records: &[RunRecord],
    metric: Metric,
    baseline: Option<&str>,
    tasks: &[String],
    losses: &[String],
) -> Result<AcrossSummary, ReportError> {
    let groups = group_values(records, metric, "")?;
    // (loss) -> (task, shots) -> pair key -> value, head mode only
    let mut head: HeadRuns = BTreeMap::new();
    for ((dataset, shots, mode, (_, loss)), values) in &groups {
        if *mode == InferenceMode::Head {
            head.entry(loss.as_str())
                .or_default()
                .insert((dataset.as_str(), *shots), values);
        }
    }
    let task_rank = |t: &str| tasks.iter().position(|x| x == t).unwrap_or(usize::MAX);
    let mut methods: Vec<&str> = head.keys().copied().collect();
    methods.sort_by_key(|l| {
        (
            Some(*l) != baseline,
            losses.iter().position(|x| x == l).unwrap_or(usize::MAX),
            l.to_string(),
        )
    });
    let shots_set: BTreeSet<usize> = records.iter().map(|r| r.shots).collect();

    let mut rows = Vec::new();
    if let Some(base) = baseline.and_then(|b| head.get(b)) {
        for &loss in methods.iter().filter(|&&l| Some(l) != baseline) {
            for &shots in &shots_set {
                let mut paired: Vec<(&str, Vec<f64>)> = Vec::new();
                for (&(task, s), cand) in &head[loss] {
                    let Some(b) = base.get(&(task, s)).filter(|_| s == shots) else {
                        continue;
                    };
                    let diffs: Vec<f64> = cand
                        .iter()
                        .filter_map(|(k, c)| b.get(k).map(|b| c - b))
                        .collect();
                    if !diffs.is_empty() {
                        paired.push((task, diffs));
                    }
                }
                if paired.is_empty() {
                    continue;
                }
                paired.sort_by_key(|(t, _)| (task_rank(t), t.to_string()));
                let diffs: Vec<Vec<f64>> = paired.iter().map(|(_, d)| d.clone()).collect();
                let result = compare_across_tasks(&diffs).expect("finite, non-empty values");
                let sd = crate::stats::summarize(&result.task_mean_diffs)
                    .expect("finite")
                    .std;
                let detectable_diff = sd
                    .zip(detectable_d_z(result.n_tasks, ALPHA, POWER))
                    .map(|(sd, dz)| sd * dz);
                rows.push(AcrossTaskRow {
                    shots,
                    loss: loss.to_string(),
                    tasks: paired.iter().map(|(t, _)| t.to_string()).collect(),
                    result,
                    detectable_diff,
                });
            }
        }
    }
    Ok(AcrossSummary {
        metric,
        percent: metric.is_proportion(),
        baseline: baseline.map(str::to_string),
        rows,
        ranking: ranking(&head, &methods, &task_rank),
    })
}

/// The block design over the (task, shots) pairs where every method has runs: each block's
/// value of a method is its mean over seeds.
fn ranking(
    head: &HeadRuns,
    methods: &[&str],
    task_rank: &dyn Fn(&str) -> usize,
) -> Option<Ranking> {
    if methods.len() < 2 {
        return None;
    }
    let mut keys: Vec<(&str, usize)> = head[methods[0]]
        .keys()
        .copied()
        .filter(|k| methods.iter().all(|m| head[m].contains_key(k)))
        .collect();
    keys.sort_by_key(|(t, s)| (*s, task_rank(t), t.to_string()));
    let blocks: Vec<Vec<f64>> = keys
        .iter()
        .map(|k| {
            methods
                .iter()
                .map(|m| {
                    let v = &head[m][k];
                    v.values().sum::<f64>() / v.len() as f64
                })
                .collect()
        })
        .collect();
    let friedman = friedman(&blocks).ok()?;
    Some(Ranking {
        methods: methods.iter().map(|m| m.to_string()).collect(),
        blocks: keys.iter().map(|(t, s)| (t.to_string(), *s)).collect(),
        critical_difference: nemenyi_critical_difference(methods.len(), blocks.len(), ALPHA),
        nemenyi_p: nemenyi_p_values(&friedman.average_ranks, blocks.len()),
        wilcoxon_holm_p: wilcoxon_holm_p_values(&blocks).ok()?,
        friedman,
    })
}

impl AcrossSummary {
    fn diff(&self, v: f64) -> String {
        if self.percent {
            format!("{:+.2}", v * 100.0)
        } else {
            format!("{v:+.4}")
        }
    }

    /// The content, format-free: the comparison over tasks, then the ranks.
    fn blocks(&self) -> Vec<Block> {
        let mut out = Vec::new();
        let unit = if self.percent { " (points)" } else { "" };
        if let Some(base) = &self.baseline {
            out.push(Block::Heading(format!(
                "Over tasks: {} vs {base} (head predictions)",
                self.metric
            )));
            out.push(Block::Text(format!(
                "Mean over tasks of the per-task mean difference{unit}, seeds paired. Intervals \
                 at 95%: bootstrap resamples the seeds within each task with the tasks fixed \
                 ({BOOTSTRAP_RESAMPLES} resamples, fixed seed: the uncertainty of these tasks' \
                 results); t is Student's interval over the task means (tasks as a sample of \
                 tasks). Tests over tasks: paired t and Wilcoxon signed-rank (exact, tied \
                 differences by mid-ranks). Detectable: the smallest mean difference the t-test \
                 over these tasks finds with 80% power at 5%, given the spread of the task \
                 differences."
            )));
            if self.rows.is_empty() {
                out.push(Block::Text(
                    "No method shares a task and seed with the baseline.".into(),
                ));
            } else {
                let header = [
                    "shots",
                    "method",
                    "tasks",
                    "mean diff",
                    "bootstrap CI",
                    "t CI",
                    "p t",
                    "p Wilcoxon",
                    "ahead/tied/behind",
                    "detectable",
                ];
                let ci = |c: Option<crate::stats::ConfidenceInterval>| {
                    c.map_or("-".to_string(), |c| {
                        format!("[{}, {}]", self.diff(c.low), self.diff(c.high))
                    })
                };
                let p = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.4}"));
                let rows = self
                    .rows
                    .iter()
                    .map(|row| {
                        let r = &row.result;
                        vec![
                            row.shots.to_string(),
                            row.loss.clone(),
                            r.n_tasks.to_string(),
                            self.diff(r.mean_diff),
                            ci(Some(r.bootstrap_interval)),
                            ci(r.t_interval),
                            p(r.t_test
                                .as_ref()
                                .filter(|t| t.is_applicable())
                                .map(|t| t.p_value)),
                            p(r.wilcoxon.as_ref().map(|w| w.p_value)),
                            format!("{}/{}/{}", r.tasks_ahead, r.tasks_tied, r.tasks_behind),
                            row.detectable_diff
                                .map_or("-".to_string(), |d| self.diff(d).replace('+', "±")),
                        ]
                    })
                    .collect();
                out.push(Block::Table {
                    header: header.map(String::from).to_vec(),
                    rows,
                });
            }
        }
        if let Some(r) = &self.ranking {
            let f = &r.friedman;
            out.push(Block::Heading(format!(
                "Ranks over {} (task, shots) blocks ({}, head predictions)",
                f.n_blocks, self.metric
            )));
            out.push(Block::Text(format!(
                "Rank 1 is the best method of a block (ties share their mean rank). Friedman \
                 chi² = {:.3}, p = {:.4}. Nemenyi critical difference at 5%: {:.3}; methods \
                 whose average ranks differ by less are not distinguished. Wilcoxon-Holm: \
                 pairwise Wilcoxon signed-rank over the blocks, Holm-corrected over the {} pairs.",
                f.statistic,
                f.p_value,
                r.critical_difference,
                r.methods.len() * (r.methods.len() - 1) / 2
            )));
            let mut order: Vec<usize> = (0..r.methods.len()).collect();
            order.sort_by(|&a, &b| f.average_ranks[a].total_cmp(&f.average_ranks[b]));
            let best = order[0];
            let vs = |m: &[Vec<f64>], i: usize| {
                if i == best {
                    "-".to_string()
                } else {
                    format!("{:.4}", m[best][i])
                }
            };
            let rows = order
                .iter()
                .map(|&i| {
                    vec![
                        r.methods[i].clone(),
                        format!("{:.2}", f.average_ranks[i]),
                        vs(&r.nemenyi_p, i),
                        vs(&r.wilcoxon_holm_p, i),
                    ]
                })
                .collect();
            out.push(Block::Table {
                header: [
                    "method",
                    "average rank",
                    "Nemenyi p vs best",
                    "Wilcoxon-Holm p vs best",
                ]
                .map(String::from)
                .to_vec(),
                rows,
            });
        }
        out
    }

    /// Markdown: `##` headings, prose, pipe tables (first two columns left-aligned).
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        for block in self.blocks() {
            match block {
                Block::Heading(h) => out.push_str(&format!("## {}\n\n", super::one_line(&h))),
                Block::Text(t) => out.push_str(&format!("{t}\n\n")),
                Block::Table { header, rows } => {
                    out.push_str(&format!("| {} |\n|", header.join(" | ")));
                    for h in &header {
                        out.push_str(if h == "method" { "---|" } else { "---:|" });
                    }
                    out.push('\n');
                    for row in rows {
                        let cells: Vec<String> =
                            row.iter().map(|c| super::markdown_cell(c)).collect();
                        out.push_str(&format!("| {} |\n", cells.join(" | ")));
                    }
                    out.push('\n');
                }
            }
        }
        out
    }

    /// HTML fragment: `<h3>` headings, paragraphs, tables; every text escaped.
    pub fn render_html(&self) -> String {
        let esc = crate::analysis::explain_html::escape;
        let mut out = String::new();
        for block in self.blocks() {
            match block {
                Block::Heading(h) => out.push_str(&format!("<h3>{}</h3>\n", esc(&h))),
                Block::Text(t) => out.push_str(&format!("<p class=\"caption\">{}</p>\n", esc(&t))),
                Block::Table { header, rows } => {
                    out.push_str("<table class=\"paper\"><thead><tr>");
                    for h in &header {
                        out.push_str(&format!("<th>{}</th>", esc(h)));
                    }
                    out.push_str("</tr></thead>\n<tbody>\n");
                    for row in rows {
                        out.push_str("<tr>");
                        for c in row {
                            out.push_str(&format!("<td>{}</td>", esc(&c)));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</tbody></table>\n");
                }
            }
        }
        out
    }
}

/// A piece of the summary, rendered by each format.
enum Block {
    Heading(String),
    Text(String),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dataset: &str, loss: &str, mode: InferenceMode, seed: usize, acc: f64) -> RunRecord {
        RunRecord {
            dataset: dataset.into(),
            shots: 8,
            loss: loss.into(),
            mode,
            pair_key: format!("seed={seed}"),
            metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
        }
    }

    /// Three tasks, four seeds; `up` beats `ce` by 0.02 + 0.01 * task on every seed, `down`
    /// trails it by 0.01 except on one seed of `mr`, proxy rows never enter.
    fn records() -> Vec<RunRecord> {
        let mut r = Vec::new();
        for (t, task) in ["trec", "mr", "cr"].iter().enumerate() {
            for seed in 0..4 {
                let base = 0.6 + 0.05 * seed as f64 + 0.1 * t as f64;
                r.push(run(task, "ce", InferenceMode::Head, seed, base));
                r.push(run(
                    task,
                    "up",
                    InferenceMode::Head,
                    seed,
                    base + 0.02 + 0.01 * t as f64,
                ));
                let down = if *task == "mr" && seed == 0 {
                    0.05
                } else {
                    -0.01
                };
                r.push(run(task, "down", InferenceMode::Head, seed, base + down));
                r.push(run(task, "down", InferenceMode::Proxy, seed, 0.0));
            }
        }
        r
    }

    #[test]
    fn compares_over_tasks_in_the_tables_order_and_ranks_the_methods() {
        let tasks: Vec<String> = ["mr", "cr", "trec"].map(String::from).to_vec();
        let losses = vec!["up".to_string(), "down".to_string()];
        let s = across_summary(&records(), Metric::Accuracy, Some("ce"), &tasks, &losses).unwrap();
        let names: Vec<&str> = s.rows.iter().map(|r| r.loss.as_str()).collect();
        assert_eq!(names, vec!["up", "down"]);
        let up = &s.rows[0];
        assert_eq!(up.tasks, tasks);
        // per task 0.02 + 0.01 t for t = 0 (trec), 1 (mr), 2 (cr): mr, cr, trec order
        let want = [0.03, 0.04, 0.02];
        for (g, w) in up.result.task_mean_diffs.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{g} {w}");
        }
        assert!((up.result.mean_diff - 0.03).abs() < 1e-12);
        assert_eq!(up.result.tasks_ahead, 3);
        // mr: (0.05 - 3 * 0.01) / 4 = 0.005 ahead; the two others behind
        let down = &s.rows[1].result;
        assert_eq!((down.tasks_ahead, down.tasks_behind), (1, 2));
        assert!(s.rows[0].detectable_diff.unwrap() > 0.0);
        // blocks: 3 tasks; up first everywhere; down beats ce only on mr
        let r = s.ranking.as_ref().unwrap();
        assert_eq!(r.methods, vec!["ce", "up", "down"]);
        assert_eq!(r.blocks.len(), 3);
        let ranks = &r.friedman.average_ranks;
        assert_eq!(
            ranks,
            &vec![(2.0 + 3.0 + 2.0) / 3.0, 1.0, (3.0 + 2.0 + 3.0) / 3.0]
        );
        let md = s.render_markdown();
        assert!(md.contains("## Over tasks: accuracy vs ce"), "{md}");
        let html = s.render_html();
        assert!(html.contains("<h3>Over tasks: accuracy vs ce"), "{html}");
        assert!(
            html.contains("<tr><td>8</td><td>up</td><td>3</td><td>+3.00</td>"),
            "{html}"
        );
        assert!(md.contains("| 8 | up | 3 | +3.00 |"), "{md}");
        assert!(md.contains("| up | 1.00 | - | - |"), "{md}");
    }

    #[test]
    fn without_a_baseline_only_ranks() {
        let s = across_summary(&records(), Metric::Accuracy, None, &[], &[]).unwrap();
        assert!(s.rows.is_empty());
        let md = s.render_markdown();
        assert!(
            !md.contains("Over tasks") && md.contains("## Ranks over 3"),
            "{md}"
        );
    }
}
