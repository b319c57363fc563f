//! The HTML report's page: self-contained, escaped, the report's numbers in its tables,
//! significant rows marked, figures inline, failed cells and analysis links listed. The same
//! page in a real browser: html_browser.rs.

use dmlft_eval::plots::{PlotOptions, TrainingRun};
use dmlft_eval::report::{
    aggregate, analysis_links, render_html, HtmlExtras, HtmlFailure, HtmlLink, HtmlReport,
    HtmlSection, Report, RowKind,
};
use dmlft_eval::RunRecord;
use dmlft_eval::{InferenceMode, Metric};
use dmlft_testing::html_table::data_values as column;
use std::collections::BTreeMap;

/// Runs of two datasets x 3 losses, 5 seeds; `supcon` is clearly better (significant).
pub(crate) fn study(dataset_b: &str, loss_c: &str) -> Vec<RunRecord> {
    let mut out = Vec::new();
    for (d, dataset) in ["cr", dataset_b].iter().enumerate() {
        for (l, loss) in ["ce", "supcon", loss_c].iter().enumerate() {
            let modes: &[&str] = if l == 0 {
                &["head"]
            } else {
                &["head", "proxy"]
            };
            for (m, mode) in modes.iter().enumerate() {
                for seed in 0..5 {
                    let gain = [0.0, 0.06, 0.004][l];
                    let acc = 0.7 + gain - 0.03 * d as f64
                        + 0.01 * m as f64
                        + 0.003 * ((seed * 3 + l + d) % 4) as f64;
                    out.push(RunRecord {
                        dataset: dataset.to_string(),
                        shots: 16,
                        loss: loss.to_string(),
                        mode: mode.parse().unwrap(),
                        pair_key: format!("seed={seed}"),
                        metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
                    });
                }
            }
        }
    }
    out
}

pub(crate) fn curves(runs: &[RunRecord]) -> Vec<TrainingRun> {
    let mut out: Vec<TrainingRun> = Vec::new();
    for r in runs.iter().filter(|r| r.mode == InferenceMode::Head) {
        let steps: Vec<f64> = (1..=20).map(f64::from).collect();
        let seed: f64 = r.pair_key.trim_start_matches("seed=").parse().unwrap();
        out.push(TrainingRun {
            dataset: r.dataset.clone(),
            shots: r.shots,
            loss: r.loss.clone(),
            values: BTreeMap::from([
                (
                    "loss".to_string(),
                    steps.iter().map(|s| 2.0 / s + 0.02 * seed).collect(),
                ),
                (
                    "grad norm".to_string(),
                    steps.iter().map(|s| 3.0 / s.sqrt()).collect(),
                ),
            ]),
            steps,
        });
    }
    out
}

/// The page of `runs` with one failed cell and the given extras.
pub(crate) fn page(
    report: &Report,
    runs: &[RunRecord],
    training: &[TrainingRun],
    failed: &[HtmlFailure],
    links: &[HtmlLink],
    grid: &str,
) -> String {
    let fingerprints = vec![("cr".to_string(), "sha256:abc<def>".to_string())];
    let warnings = vec!["1 of 31 cells failed".to_string()];
    render_html(
        &HtmlReport {
            title: "quick<study>",
            generator: "dmlft test",
            grid_text: Some(grid),
            sections: vec![HtmlSection {
                settings: "",
                report: Some(report),
                runs,
                training,
                lead: "<table class=\"paper\"><caption>lead</caption></table>",
            }],
            failed,
            fingerprints: &fingerprints,
            links,
            warnings: &warnings,
            extras: HtmlExtras {
                selected_axis: Some("lr"),
                selection_markdown: "## Chosen on dev: `lr`\n\nPer group.\n\n| dataset | chosen |\n| --- | --- |\n| cr | 0.00002 |\n",
                compute_markdown: "## Compute\n\n| loss | done cells |\n| --- | ---: |\n| **all** | 31 |\n",
            },
        },
        &PlotOptions::default(),
    )
    .unwrap()
}

pub(crate) fn failure(error: &str, loss: &str) -> HtmlFailure {
    HtmlFailure {
        cell_id: "cr-16-x-1".into(),
        settings: "lr=1e-5 & more".into(),
        dataset: "cr".into(),
        shots: 16,
        loss: loss.into(),
        run: "seed=1".into(),
        failed_step: Some(7),
        error: error.into(),
    }
}

#[test]
fn hostile_names_and_errors_are_escaped() {
    let hostile_dataset = "<script>alert('d')</script>";
    let hostile_loss = "x\"><img src=x onerror=alert(1)>";
    let runs = study(hostile_dataset, hostile_loss);
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let failed = [failure("</pre><script>alert('e')</script>", hostile_loss)];
    let links = [HtmlLink {
        label: "<b>maps</b>".into(),
        href: "a\"onmouseover=\"alert(1)".into(),
    }];
    let html = page(
        &report,
        &runs,
        &curves(&runs),
        &failed,
        &links,
        "name = \"</details><script>alert('g')</script>\"",
    );
    // our one script, nothing else that runs
    assert_eq!(html.matches("<script").count(), 1, "a script was injected");
    assert!(!html.contains("<img"), "an element was injected");
    // the quote stays inside the attribute value
    assert!(html.contains("href=\"a&quot;onmouseover=&quot;alert(1)\""));
    assert!(!html.contains("\"onmouseover"), "an attribute was injected");
    assert!(!html.contains("<b>maps"), "markup in a label");
    // the texts are shown, escaped
    assert!(html.contains("&lt;script&gt;alert(&#39;d&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;alert(&#39;e&#39;)"));
    assert!(html.contains("x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("sha256:abc&lt;def&gt;"));
    assert!(html.contains("quick&lt;study&gt;"));
}

#[test]
fn the_page_is_self_contained_with_the_reports_numbers() {
    let runs = study("subj", "triplet");
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let failed = [failure("out of memory", "triplet")];
    let html = page(&report, &runs, &curves(&runs), &failed, &[], "name = \"q\"");
    // nothing fetched: no external scripts, styles, fonts or images
    for needle in ["src=", "<link", "@import", "url(", "https://"] {
        assert!(!html.contains(needle), "`{needle}` in the page");
    }
    // http:// only as the SVG namespace
    assert_eq!(
        html.matches("http://").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    // figures inline: results, heatmap, two training quantities
    assert_eq!(html.matches("<svg").count(), 4);
    // the section's lead (paper tables) comes before its statistics table
    let lead = html.find("<caption>lead</caption>").expect("lead shown");
    assert!(lead < html.find("id=\"t0\"").expect("statistics table"));
    // the table holds the report's rows and numbers: mean (column 5) and p Holm (14)
    let cells: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.kind == RowKind::Cell)
        .collect();
    let means = column(&html, "t0", 5);
    assert_eq!(means.len(), cells.len());
    for (row, mean) in cells.iter().zip(&means) {
        assert_eq!(*mean, Some(row.mean));
    }
    let p = column(&html, "t0", 14);
    for (row, p) in cells.iter().zip(&p) {
        assert_eq!(*p, row.comparison.as_ref().and_then(|c| c.p_holm));
    }
    // significant rows are marked, and only they
    let significant = cells.iter().filter(|r| r.significant()).count();
    assert!(significant > 0, "the study needs a significant row");
    assert!(significant < cells.len() - 2);
    assert_eq!(html.matches("<tr class=\"sig\">").count(), significant);
    // averages in their own table, failed cells with their errors, fingerprints, settings
    assert!(html.contains("<table id=\"t0-avg\""));
    assert!(html.contains("<pre class=\"error\">out of memory</pre>"));
    assert!(html.contains("Failed cells (1)"));
    assert!(html.contains("<td><code>sha256:abc&lt;def&gt;</code></td>"));
    assert!(html.contains("name = &quot;q&quot;"));
    assert!(html.contains("1 of 31 cells failed"));
    assert!(html.contains(">grad norm</summary>"));
}

#[test]
fn a_page_without_curves_or_done_cells_says_so() {
    let runs = study("subj", "triplet");
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let html = page(&report, &runs, &[], &[], &[], "");
    assert!(html.contains("No record has a training curve"));
    assert!(!html.contains("id=\"failed\""));
    let empty = render_html(
        &HtmlReport {
            title: "t",
            generator: "g",
            grid_text: None,
            sections: vec![HtmlSection {
                settings: "lr=1e-5",
                report: None,
                runs: &[],
                training: &[],
                lead: "",
            }],
            failed: &[failure("boom", "ce")],
            fingerprints: &[],
            links: &[],
            warnings: &[],
            extras: HtmlExtras::default(),
        },
        &PlotOptions::default(),
    )
    .unwrap();
    assert!(empty.contains("No cell of these settings is done"));
    assert!(empty.contains("Results: lr=1e-5"));
}

#[test]
fn analysis_outputs_in_the_results_folder_are_linked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for f in [
        "analysis/maps/ce-mean-pca.png",
        "analysis/maps/ce-mean-pca.svg",
        "analysis/summary.md",
        "explain/explain.html",
        "cells/x.json",
        "report/report.md",
    ] {
        let p = root.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }
    let links = analysis_links(root, &root.join("report"));
    let hrefs: Vec<&str> = links.iter().map(|l| l.href.as_str()).collect();
    assert_eq!(
        hrefs,
        [
            "../analysis/maps/ce-mean-pca.png",
            "../analysis/maps/ce-mean-pca.svg",
            "../explain/explain.html"
        ]
    );
    assert_eq!(links[2].label, "explain/explain.html");
    // a page written to that folder resolves them
    for l in &links {
        assert!(root.join("report").join(&l.href).exists(), "{}", l.href);
    }
}

/// The page leads with the tables (the section's lead, then the per-task statistics) and
/// carries report.md's other sections; a setting chosen on dev is not "no swept setting".
#[test]
fn the_page_leads_with_the_tables_and_has_every_section_of_report_md() {
    let runs = study("subj", "triplet");
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let html = page(&report, &runs, &[], &[], &[], "");
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("no {needle} in the page"))
    };
    assert!(at("<caption>lead</caption>") < at("id=\"settings\""));
    assert!(at("<caption>lead</caption>") < at("class=\"caption\""));
    assert!(at("id=\"chosen-on-dev\"") < at("id=\"settings\""));
    assert!(at("<td>0.00002</td>") > at("id=\"chosen-on-dev\""));
    assert!(at("id=\"compute\"") > at("id=\"training\""));
    assert!(html.contains("<td><strong>all</strong></td><td>31</td>"));
    assert!(html.contains("href=\"#compute\""));
    assert!(!html.contains("no swept setting"));
    assert!(html.contains("lr: chosen on dev"));
}
