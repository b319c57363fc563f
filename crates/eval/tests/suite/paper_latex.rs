//! The paper tables' LaTeX compiles with a real TeX engine into one page without overfull
//! boxes. Skipped, with the reason printed, where no engine (pdflatex) is installed.

use dmlft_eval::report::{paper_tables, PaperOptions, RunRecord, PAPER_TASK_ORDER};
use dmlft_eval::{Metric, ModeKey};
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
                for mode in [ModeKey::Head, ModeKey::Proxy] {
                    if mode == ModeKey::Proxy && *loss != "ce-proxyanchor" {
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

#[test]
fn paper_tables_compile_to_one_page_without_overfull_boxes() {
    let Some(engine) = ["pdflatex"].into_iter().find(|e| {
        Command::new(e)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("skipped: no TeX engine (pdflatex) on PATH; install texlive-latex-base");
        return;
    };
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
        std::fs::write(
            dir.path().join(format!("{name}-table.tex")),
            table.render_latex(wide),
        )
        .unwrap();
        let doc = format!(
            "\\documentclass{class}\n\\usepackage{{booktabs}}\n\\usepackage{{graphicx}}\n\
             \\begin{{document}}\n\\input{{{name}-table}}\nText.\n\\end{{document}}\n"
        );
        std::fs::write(dir.path().join(format!("{name}.tex")), doc).unwrap();
        let out = Command::new(engine)
            .args(["-interaction=nonstopmode", "-halt-on-error"])
            .arg(format!("{name}.tex"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {log}");
        assert!(log.contains("(1 page"), "{name}: not one page: {log}");
        assert!(!log.contains("Overfull"), "{name}: overfull box: {log}");
    }
}
