//! The paper tables' LaTeX compiles with a real TeX engine into one page without overfull
//! boxes. Skipped, with the reason printed, where no engine (pdflatex) is installed.

use dmlft_eval::report::{
    aggregate_with, paper_tables, render_latex, AggregateOptions, HolmFamily, HolmSource,
    PaperOptions, RunRecord, PAPER_TASK_ORDER,
};
use dmlft_eval::{InferenceMode, Metric};
use std::collections::BTreeMap;
use std::process::Command;

/// Seven SentEval tasks x five methods (one with proxy rows) x five seeds: the widest table
/// the study produces.
fn runs() -> Vec<RunRecord> {
    let mut out = Vec::new();
    for (t, task) in PAPER_TASK_ORDER.iter().enumerate() {
        for (l, loss) in [
            "ce",
            "ce-supcon",
            "ce-softtriple",
            "ce-proxyanchor",
            "setfit",
        ]
        .iter()
        .enumerate()
        {
            for seed in 0..5 {
                let acc = 0.55 + 0.04 * t as f64 + 0.013 * l as f64 + 0.007 * seed as f64;
                for mode in [InferenceMode::Head, InferenceMode::Proxy] {
                    if mode == InferenceMode::Proxy && *loss != "ce-proxyanchor" {
                        continue;
                    }
                    out.push(RunRecord {
                        dataset: task.to_string(),
                        shots: 16,
                        loss: loss.to_string(),
                        mode,
                        pair_key: format!("seed={seed}"),
                        metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
                    });
                }
            }
        }
    }
    out
}

/// The TeX engine, or `None` (with the reason printed) where none is installed.
fn engine() -> Option<&'static str> {
    let engine = ["pdflatex"].into_iter().find(|e| {
        Command::new(e)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if engine.is_none() {
        eprintln!("skipped: no TeX engine (pdflatex) on PATH; install texlive-latex-base");
    }
    engine
}

/// Compiles `body` in a document of `class` in `dir`; returns the log.
fn compile(engine: &str, dir: &std::path::Path, name: &str, class: &str, body: &str) -> String {
    std::fs::write(dir.join(format!("{name}-table.tex")), body).unwrap();
    let doc = format!(
        "\\documentclass{class}\n\\usepackage{{booktabs}}\n\\usepackage{{longtable}}\n\
         \\usepackage{{graphicx}}\n\\begin{{document}}\n\\input{{{name}-table}}\nText.\n\
         \\end{{document}}\n"
    );
    std::fs::write(dir.join(format!("{name}.tex")), doc).unwrap();
    // Twice, as a document with a longtable is compiled: the first pass measures the columns
    // chunk by chunk (and may report boxes that the second pass, reading the .aux, does not).
    let mut log = String::new();
    for _ in 0..2 {
        let out = Command::new(engine)
            .args(["-interaction=nonstopmode", "-halt-on-error"])
            .arg(format!("{name}.tex"))
            .current_dir(dir)
            .output()
            .unwrap();
        log = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{name}: {log}");
    }
    assert!(!log.contains("Overfull"), "{name}: overfull box: {log}");
    log
}

/// The wide "all statistics" appendix table (`report.tex`), split into summaries and
/// comparisons, fits the page's width in every part and runs over pages by length; with the
/// `primary` Holm family the proxy rows are listed apart.
#[test]
fn appendix_table_parts_fit_the_page() {
    let Some(engine) = engine() else { return };
    let options = AggregateOptions {
        baseline_loss: "ce".into(),
        metric: Metric::Accuracy,
        holm_source: HolmSource::TTest,
        holm_family: HolmFamily::Primary,
    };
    let mut runs = runs();
    // two shots counts, as the study: twice the rows
    runs.extend(runs.clone().into_iter().map(|mut r| {
        r.shots = 4;
        r
    }));
    let report = aggregate_with(&runs, &options).unwrap();
    let tex = render_latex(&report);
    assert_eq!(tex.matches("\\begin{longtable}").count(), 3);
    assert!(tex.contains("Secondary family"));
    let dir = tempfile::tempdir().unwrap();
    let log = compile(engine, dir.path(), "appendix", "{article}", &tex);
    assert!(log.contains("pages"), "{log}");
}

#[test]
fn paper_tables_compile_to_one_page_without_overfull_boxes() {
    let Some(engine) = engine() else { return };
    let options = PaperOptions {
        baseline: Some("ce".into()),
        ..PaperOptions::default()
    };
    let table = &paper_tables(&runs(), Metric::Accuracy, &options).unwrap()[0];
    let dir = tempfile::tempdir().unwrap();
    for (name, class, wide) in [
        ("column", "[twocolumn]{article}", false),
        ("page", "{article}", true),
    ] {
        let log = compile(engine, dir.path(), name, class, &table.render_latex(wide));
        assert!(log.contains("(1 page"), "{name}: not one page: {log}");
    }
}
