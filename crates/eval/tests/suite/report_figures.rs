//! The report's figures on the edge cases a study produces (one seed, one shots value, a
//! failed baseline, long loss names, 7 datasets x 5 losses x 3 shots), checked through the
//! structure of their SVG: legend entries, points per run, CI drawn or not, significance
//! marks, and label boxes that do not overlap. Set DMLFT_PLOT_DIR to keep the files (PNG and
//! SVG) for looking at them.

use dmlft_eval::plots::{
    font::{plot_font, text_width},
    heatmap_plot, loss_palette, plot_heatmaps, plot_results, plot_training, results_plot,
    results_svg, training_quantities, PlotOptions, TrainingPlot, TrainingRun,
};
use dmlft_eval::report::{aggregate, aggregate_without_baseline, AggregateOptions, HolmSource};
use dmlft_eval::Metric;
use dmlft_eval::RunRecord;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Deterministic synthetic runs: `loss` index l adds l points, `big` losses add 8 more (so
/// their differences are significant with enough seeds).
fn runs(
    datasets: &[&str],
    losses: &[&str],
    modes: &[&str],
    shots: &[usize],
    seeds: usize,
) -> Vec<RunRecord> {
    let mut out = Vec::new();
    for (d, dataset) in datasets.iter().enumerate() {
        for &s in shots {
            for (l, loss) in losses.iter().enumerate() {
                // the baseline (first loss) has only head predictions, as CE has no proxies
                let loss_modes: &[&str] = if l == 0 { &modes[..1] } else { modes };
                for (m, mode) in loss_modes.iter().enumerate() {
                    for seed in 0..seeds {
                        let noise = ((seed * 7 + l * 3 + d * 5 + m) % 5) as f64 * 0.004;
                        let acc = (0.55 + 0.03 * (s as f64).log2() + 0.01 * l as f64
                            - 0.02 * d as f64
                            + 0.005 * m as f64
                            + noise)
                            .min(1.0);
                        out.push(RunRecord {
                            dataset: dataset.to_string(),
                            shots: s,
                            loss: loss.to_string(),
                            mode: mode.parse().unwrap(),
                            pair_key: format!("seed={seed}"),
                            metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
                        });
                    }
                }
            }
        }
    }
    out
}

fn out_dir(name: &str) -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("DMLFT_PLOT_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            (None, dir)
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

fn options() -> PlotOptions {
    PlotOptions::default()
}

/// A `<text>` of the SVG: its anchor point, alignment, size (as the plot code gives it:
/// plotters writes `font-size` = size / 1.24) and content.
#[derive(Debug, Clone)]
struct SvgText {
    x: f64,
    y: f64,
    anchor: String,
    size: f64,
    text: String,
}

impl SvgText {
    /// Horizontal extent and a line box of the font size around the anchor's y.
    fn bbox(&self) -> (f64, f64, f64, f64) {
        let w = text_width(self.size, &self.text);
        let x0 = match self.anchor.as_str() {
            "end" => self.x - w,
            "middle" => self.x - w / 2.0,
            _ => self.x,
        };
        (
            x0,
            self.y - self.size * 0.4,
            x0 + w,
            self.y + self.size * 0.4,
        )
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every text element of an SVG written by plotters' SVG backend.
fn texts(svg: &str) -> Vec<SvgText> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let tag_end = rest[i..].find('>').unwrap() + i;
        let close = rest[tag_end..].find("</text>").unwrap() + tag_end;
        let tag = &rest[i..tag_end];
        let num = |n: &str| {
            attr(tag, n)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        out.push(SvgText {
            x: num("x"),
            y: num("y"),
            anchor: attr(tag, "text-anchor").unwrap_or_else(|| "start".into()),
            size: (num("font-size") * 1.24 * 100.0).round() / 100.0,
            text: unescape(rest[tag_end + 1..close].trim()),
        });
        rest = &rest[close..];
    }
    out
}

fn overlaps(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 - 0.5 && b.0 < a.2 - 0.5 && a.1 < b.3 - 0.5 && b.1 < a.3 - 0.5
}

/// No two of `labels` (texts whose content passes `pick`) overlap.
fn assert_no_overlap(svg: &str, pick: impl Fn(&SvgText) -> bool, what: &str) {
    let labels: Vec<SvgText> = texts(svg).into_iter().filter(|t| pick(t)).collect();
    assert!(!labels.is_empty(), "no {what} found");
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            assert!(
                !overlaps(a.bbox(), b.bbox()),
                "{what} overlap: {a:?} {:?} and {b:?} {:?}",
                a.bbox(),
                b.bbox()
            );
        }
    }
}

/// The SVG's size in user units (its viewBox; width and height are in inches).
fn svg_size(svg: &str) -> (f64, f64) {
    let tag = &svg[svg.find("<svg").unwrap()..];
    let tag = &tag[..tag.find('>').unwrap()];
    let v: Vec<f64> = attr(tag, "viewBox")
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[2], v[3])
}

/// The legend's and the series labels' size: 8 pt at the figures' 200 dpi.
const LABEL: f64 = 8.0 * 200.0 / 72.0;

fn have_font() -> bool {
    match plot_font() {
        Ok(_) => true,
        Err(why) => {
            eprintln!("skipped (text layout needs a font): {why}");
            false
        }
    }
}

#[test]
fn one_seed_one_shots_value_is_a_dot_plot_without_intervals() {
    if !have_font() {
        return;
    }
    let runs = runs(&["cr"], &["ce", "supcon"], &["head"], &[16], 1);
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let plot = results_plot(&report, &runs, &loss_palette(&report));
    let svg = results_svg(&plot, &options()).unwrap();
    // one circle per run, plus one per legend entry (head mode = circles)
    assert_eq!(svg.matches("<circle").count(), runs.len() + 2, "{svg}");
    let all = texts(&svg);
    assert!(all.iter().any(|t| t.text == "ce (head)"));
    assert!(
        all.iter()
            .any(|t| t.text.contains("CI not drawn where fewer than 3 runs")),
        "the legend says why there is no CI"
    );
    // no shots axis: the x axis is the metric, labelled as such
    assert!(all.iter().any(|t| t.text == "accuracy (%)"));
    assert!(!all.iter().any(|t| t.text == "shots per class"));
    assert_no_overlap(&svg, |t| t.text.ends_with("(head)"), "series labels");
}

#[test]
fn intervals_are_drawn_from_three_runs_and_stay_in_the_metric_range() {
    if !have_font() {
        return;
    }
    let mut runs = runs(&["cr"], &["ce", "supcon"], &["head"], &[16], 3);
    // values near 100 %: the t interval of the mean passes 100
    for (i, r) in runs.iter_mut().enumerate() {
        r.metrics.insert(Metric::Accuracy, [1.0, 0.93, 1.0][i % 3]);
    }
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    // the t interval of the mean passes 100 %; the report clips it
    assert!(report.rows[0].ci_high.unwrap() <= 1.0);
    let plot = results_plot(&report, &runs, &loss_palette(&report));
    let svg = results_svg(&plot, &options()).unwrap();
    assert!(!texts(&svg).iter().any(|t| t.text.contains("CI not drawn")));
    // the axis ends at 100: no tick label above it
    let ticks: Vec<f64> = texts(&svg)
        .iter()
        .filter_map(|t| t.text.parse::<f64>().ok())
        .collect();
    assert!(!ticks.is_empty());
    assert!(ticks.iter().all(|&v| v <= 100.0), "{ticks:?}");
    let (dir_guard, dir) = out_dir("ci-clipped");
    plot_results(&plot, &dir.join("results"), &options()).unwrap();
    drop(dir_guard);
}

/// Heatmap column labels: centred text that is not a number (annotations) or `n/a`.
fn is_column_label(t: &SvgText) -> bool {
    t.anchor == "middle" && t.text != "n/a" && t.text.trim_end_matches('*').parse::<f64>().is_err()
}

/// Legend entries: left-aligned `loss (mode)` names at the legend's font size.
fn is_legend_entry(t: &SvgText) -> bool {
    t.anchor == "start" && (t.size - LABEL).abs() < 0.05 && t.text.contains(" (")
}

#[test]
fn seven_datasets_five_losses_three_shots() {
    if !have_font() {
        return;
    }
    let datasets = ["cr", "mpqa", "mr", "sst2", "subj", "trec", "mrpc"];
    let losses = [
        "ce",
        "ce-arcface",
        "ce-proxyanchor",
        "ce-softtriple",
        "ce-supcon",
    ];
    let modes = ["head", "proxy", "mix-0.5"];
    let runs = runs(&datasets, &losses, &modes, &[8, 16, 32], 5);
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let palette = loss_palette(&report);
    let (_guard, dir) = out_dir("grid-7x5x3");

    let plot = results_plot(&report, &runs, &palette);
    assert_eq!(plot.panels.len(), 7);
    let files = plot_results(&plot, &dir.join("results"), &options()).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    let all = texts(&svg);
    // a legend entry per series: the baseline's head + 4 losses x 3 modes
    let series = 1 + 4 * 3;
    let legend: Vec<&SvgText> = all.iter().filter(|t| is_legend_entry(t)).collect();
    assert_eq!(legend.len(), series, "{legend:?}");
    for d in datasets {
        assert!(all.iter().any(|t| t.text == d), "panel {d}");
    }
    // shots as tick labels, in every panel
    assert_eq!(all.iter().filter(|t| t.text == "32").count(), 7);
    assert_no_overlap(&svg, is_legend_entry, "legend entries");
    let (w, h) = svg_size(&svg);
    assert_eq!(w, 1380.0, "two columns (6.9 in) at 200 dpi");
    assert!(h > 1000.0, "7 panels make the figure taller: {h}");

    let heat = heatmap_plot(&report).expect("comparisons");
    assert_eq!(heat.maps.len(), 3);
    assert_eq!(heat.maps[0].columns.len(), 12);
    let files = plot_heatmaps(&heat, &dir.join("diff"), &options()).unwrap();
    let svg = std::fs::read_to_string(&files.svg).unwrap();
    let all = texts(&svg);
    // every difference is annotated, the strong ones with stars, and the stars are explained
    let annotations: Vec<&SvgText> = all
        .iter()
        .filter(|t| t.anchor == "middle" && t.text.trim_end_matches('*').parse::<f64>().is_ok())
        .collect();
    // 7 tasks and their average
    assert_eq!(annotations.len(), 3 * 8 * 12);
    assert!(annotations.iter().any(|t| t.text.ends_with('*')));
    assert!(all
        .iter()
        .any(|t| t.text.contains("Holm-adjusted paired t-test")));
    // the colour bar: 0 and its two ends
    assert!(all.iter().any(|t| t.text.parse::<f64>() == Ok(0.0)));
    // column labels (wrapped lines at font size 13) never overlap
    assert_no_overlap(&svg, is_column_label, "column labels");
    assert_no_overlap(
        &svg,
        |t| t.anchor == "middle" && t.text.ends_with('*'),
        "annotations",
    );
}

#[test]
fn long_loss_names_are_cut_not_overlapping() {
    if !have_font() {
        return;
    }
    let long = "ce-proxyanchor-with-a-very-long-name-that-goes-on-and-on-and-on";
    let runs = runs(
        &["subj", "a-dataset-with-a-long-name-too"],
        &["ce", long],
        &["head", "proxy"],
        &[16],
        4,
    );
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let plot = results_plot(&report, &runs, &loss_palette(&report));
    let (_guard, dir) = out_dir("long-names");
    let files = plot_results(&plot, &dir.join("results"), &options()).unwrap();
    let svg = std::fs::read_to_string(files.svg).unwrap();
    let (w, _) = svg_size(&svg);
    for t in texts(&svg) {
        let (x0, _, x1, _) = t.bbox();
        assert!(x0 >= -1.0 && x1 <= w + 1.0, "text leaves the figure: {t:?}");
    }
    assert_no_overlap(
        &svg,
        |t| (t.size - LABEL).abs() < 0.05 && t.text.contains('('),
        "series labels",
    );
    let heat = heatmap_plot(&report).unwrap();
    let files = plot_heatmaps(&heat, &dir.join("diff"), &options()).unwrap();
    let svg = std::fs::read_to_string(files.svg).unwrap();
    assert_no_overlap(&svg, is_column_label, "column labels");
    assert_no_overlap(&svg, |t| t.anchor == "end", "row labels");
}

#[test]
fn a_section_whose_baseline_failed_has_no_heatmap_and_nothing_to_plot_is_an_error() {
    let runs = runs(&["cr"], &["ce", "supcon"], &["head"], &[16], 3);
    let without_ce: Vec<RunRecord> = runs.into_iter().filter(|r| r.loss != "ce").collect();
    let options = AggregateOptions {
        baseline_loss: "ce".into(),
        metric: Metric::Accuracy,
        holm_source: HolmSource::TTest,
        holm_family: dmlft_eval::report::HolmFamily::All,
    };
    let report = aggregate_without_baseline(&without_ce, &options).unwrap();
    assert!(heatmap_plot(&report).is_none());
    // the results figure still shows the losses that ran
    let plot = results_plot(&report, &without_ce, &loss_palette(&report));
    assert_eq!(plot.panels[0].series.len(), 1);
    let mut empty = plot.clone();
    empty.panels.clear();
    let dir = tempfile::tempdir().unwrap();
    let err = plot_results(&empty, &dir.path().join("x"), &PlotOptions::default()).unwrap_err();
    assert!(err.to_string().contains("nothing to plot"), "{err}");
}

#[test]
fn training_curves_a_panel_per_dataset_and_shots_a_line_per_loss() {
    if !have_font() {
        return;
    }
    let mut runs = Vec::new();
    for dataset in ["cr", "subj"] {
        for loss in ["ce", "ce-softtriple"] {
            for seed in 0..3 {
                let steps: Vec<f64> = (1..=30).map(f64::from).collect();
                let mut values = BTreeMap::new();
                values.insert(
                    "loss".to_string(),
                    steps.iter().map(|s| 1.0 / s + 0.01 * seed as f64).collect(),
                );
                values.insert(
                    "lr encoder".to_string(),
                    steps.iter().map(|s| 5e-5 * s / 30.0).collect(),
                );
                if loss != "ce" {
                    values.insert("term softtriple".to_string(), vec![0.5; 30]);
                }
                runs.push(TrainingRun {
                    dataset: dataset.into(),
                    shots: 16,
                    loss: loss.into(),
                    steps,
                    values,
                });
            }
        }
    }
    assert_eq!(
        training_quantities(&runs),
        ["loss", "term softtriple", "lr encoder"]
    );
    let palette = dmlft_eval::plots::LossPalette::new(Some("ce"), ["ce-softtriple"]);
    let (_guard, dir) = out_dir("training");
    let plot = TrainingPlot {
        same_as: Vec::new(),
        quantity: "loss".into(),
        runs: runs.clone(),
        palette: palette.clone(),
    };
    let files = plot_training(&plot, &dir.join("training-loss"), &options()).unwrap();
    let svg = std::fs::read_to_string(files.svg).unwrap();
    let all = texts(&svg);
    assert!(
        all.iter().any(|t| t.text == "cr, 16 shots/class")
            && all.iter().any(|t| t.text == "subj, 16 shots/class")
    );
    assert!(all.iter().any(|t| t.text == "ce") && all.iter().any(|t| t.text == "ce-softtriple"));
    // a band per loss and panel (seeds differ)
    assert_eq!(svg.matches("<polygon").count(), 4, "bands");
    // a term only some losses have: only their lines
    let term = TrainingPlot {
        same_as: Vec::new(),
        quantity: "term softtriple".into(),
        runs,
        palette,
    };
    let files = plot_training(&term, &dir.join("training-term"), &options()).unwrap();
    let svg = std::fs::read_to_string(files.svg).unwrap();
    assert!(!texts(&svg).iter().any(|t| t.text == "ce"));
    let mut bad = term.clone();
    let with_term = bad.runs.iter().position(|r| r.loss != "ce").unwrap();
    bad.runs[with_term].steps.pop();
    assert!(plot_training(&bad, &dir.join("bad"), &options()).is_err());
}

#[test]
fn one_dataset_over_shots_is_one_panel_of_lines_with_the_shots_as_ticks() {
    if !have_font() {
        return;
    }
    let runs = runs(
        &["sst2"],
        &["ce", "ce-supcon", "ce-triplet"],
        &["head"],
        &[4, 8, 16, 64],
        4,
    );
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let plot = results_plot(&report, &runs, &loss_palette(&report));
    let (_guard, dir) = out_dir("one-dataset");
    let files = plot_results(&plot, &dir.join("results"), &options()).unwrap();
    let svg = std::fs::read_to_string(files.svg).unwrap();
    let all = texts(&svg);
    for s in ["4", "8", "16", "64"] {
        assert_eq!(all.iter().filter(|t| t.text == s).count(), 1, "tick {s}");
    }
    assert!(all.iter().any(|t| t.text == "shots per class"));
    assert_eq!(all.iter().filter(|t| is_legend_entry(t)).count(), 3);
    // a point per run and a mean per series and shots value (+ 3 legend markers): circles
    assert_eq!(svg.matches("<circle").count(), runs.len() + 3 * 4 + 3);
    // one dataset: one heatmap with a row per shots value
    let heat = heatmap_plot(&report).unwrap();
    assert_eq!(heat.maps.len(), 1);
    assert_eq!(
        heat.maps[0].rows,
        [
            "4 shots/class",
            "8 shots/class",
            "16 shots/class",
            "64 shots/class"
        ]
    );
    assert_eq!(heat.maps[0].title, "sst2: accuracy minus ce");
    plot_heatmaps(&heat, &dir.join("diff"), &options()).unwrap();
}
