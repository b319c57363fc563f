//! `dmlft report` on fake results.

use crate::common::{run_with_first_cell_failing, seeds_grid, stderr, Fixture, CE_PROXY_ANCHOR};

fn row<'a>(md: &'a str, starts: &str) -> Option<&'a str> {
    md.lines().find(|l| l.starts_with(starts))
}

#[test]
fn report_tables_every_loss_against_the_baseline() {
    let fx = Fixture::new();
    let extra = "inference = [\"head\", \"proxy\"]";
    let grid = seeds_grid(3, extra) + CE_PROXY_ANCHOR;
    fx.write("g.toml", &grid);
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fx.run(&["report", "out", "--plots"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("baseline `ce`"), "{md}");
    assert!(md.contains("| dataset | shots | loss | mode | n |"), "{md}");
    // ce: head only (no proxies); ce-pa: head (compared with ce) and proxy
    let ce = row(&md, "| tiny | 2 | ce | head | 3 |").expect("ce row");
    let pa = row(&md, "| tiny | 2 | ce-pa | head | 3 |").expect("ce-pa head row");
    assert!(row(&md, "| tiny | 2 | ce-pa | proxy | 3 |").is_some());
    // the mean is the mean of the cells' accuracies, and the difference is ce-pa minus ce
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/runs.json")).unwrap(),
    )
    .unwrap();
    let mean_of = |loss: &str| {
        let v: Vec<f64> = json[0]["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["loss"] == loss && r["mode"] == "head")
            .map(|r| r["metrics"]["accuracy"].as_f64().unwrap())
            .collect();
        assert_eq!(v.len(), 3);
        v.iter().sum::<f64>() / 3.0
    };
    let cell = |line: &str, i: usize| {
        line.split('|')
            .map(str::trim)
            .nth(i + 1)
            .unwrap()
            .to_string()
    };
    assert_eq!(cell(ce, 5), format!("{:.2}", 100.0 * mean_of("ce")));
    assert_eq!(
        cell(pa, 11),
        format!("{:+.2}", 100.0 * (mean_of("ce-pa") - mean_of("ce")))
    );
    // the paper tables lead, for accuracy and macro-F1, and the comparison over tasks follows
    let paper = md.find("## Paper tables").expect("paper tables");
    assert!(paper < md.find("## All statistics").unwrap(), "{md}");
    let ce_paper = row(&md, "| ce (baseline) | ")
        .expect("paper row of ce")
        .replace("**", "")
        .replace("<u>", "")
        .replace("</u>", "");
    assert!(
        ce_paper.starts_with(&format!("| ce (baseline) | {:.2} (", 100.0 * mean_of("ce"))),
        "{ce_paper}"
    );
    assert!(row(&md, "| ce-pa (proxy) | ").is_some(), "{md}");
    assert!(
        md.contains("macro_f1 (%), 2-shot: mean (sample std) over 3 runs"),
        "{md}"
    );
    assert!(
        md.contains("## Over tasks: accuracy vs ce (head predictions)"),
        "{md}"
    );
    let over = row(&md, "| 2 | ce-pa | 1 | ").expect("ce-pa over tasks");
    assert!(
        over.starts_with(&format!(
            "| 2 | ce-pa | 1 | {:+.2} |",
            100.0 * (mean_of("ce-pa") - mean_of("ce"))
        )),
        "{over}"
    );
    for f in [
        "report.md",
        "report.csv",
        "report.tex",
        "report.json",
        "runs.json",
        "results.svg",
        "diff-vs-baseline.svg",
        "paper-accuracy-2shot.tex",
        "paper-accuracy-2shot.csv",
        "paper-macro-f1-2shot.tex",
    ] {
        assert!(fx.path().join("out/report").join(f).is_file(), "{f}");
    }
    // unknown metric or baseline: a clear error
    let bad = fx.run(&["report", "out", "--metric", "auc"]);
    assert!(
        !bad.status.success()
            && stderr(&bad).contains("auc")
            && stderr(&bad)
                .contains("[possible values: accuracy, macro_f1, weighted_f1, positive_f1, task]"),
        "{}",
        stderr(&bad)
    );
    let bad = fx.run(&["report", "out", "--baseline", "nope"]);
    assert!(
        !bad.status.success() && stderr(&bad).contains("nope"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn failed_cells_are_counted_listed_and_warned_about() {
    let fx = Fixture::new();
    // 2 losses x 4 seeds; every ce-pa cell fails at lr 2e-5, and one ce cell at lr 1e-5
    let grid = seeds_grid(4, "") + CE_PROXY_ANCHOR + "[train.optimizer]\nlr = [1e-5, 2e-5]\n";
    fx.write("g.toml", &grid);
    let plan: serde_json::Value =
        serde_json::from_slice(&fx.run(&["plan", "g.toml", "--json"]).stdout).unwrap();
    let cells = plan["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 16);
    let mut failing = Vec::new();
    for c in cells {
        let lr = c["settings"]["train.optimizer.lr"].as_str().unwrap();
        let fails = (c["loss"] == "ce-pa" && lr == "0.00002")
            || (c["loss"] == "ce" && lr == "0.00001" && c["seed"] == 2);
        if fails {
            failing.push(c["id"].as_str().unwrap()[..10].to_string());
        }
    }
    assert_eq!(failing.len(), 5);
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_FAIL", failing.join(","))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout.clone()).unwrap();
    // per row: how many failed, of how many, and the first error
    assert!(
        md.contains("| tiny | 2 | ce | 1 | 4 | fake failure requested by DMLFT_FAKE_FAIL |"),
        "{md}"
    );
    assert!(md.contains("| tiny | 2 | ce-pa | 4 | 4 |"), "{md}");
    // the section where every ce-pa cell failed is there, with its done ce rows
    let section = md
        .split("### Settings: train.optimizer.lr=0.00002")
        .nth(1)
        .expect("the lr 2e-5 section");
    assert!(
        section.contains("| tiny | 2 | ce | head | 4 |"),
        "{section}"
    );
    assert!(
        section.contains("Failed cells in this section: 4"),
        "{section}"
    );
    // and every failed cell is listed, with a warning on stderr
    assert!(md.contains("## Failed cells (5)"), "{md}");
    assert_eq!(
        md.matches("| fake failure requested by DMLFT_FAKE_FAIL |")
            .count(),
        5 + 2
    );
    assert!(
        stderr(&out).contains("warning: 5 of 16 cells failed"),
        "{}",
        stderr(&out)
    );
    for f in ["failed.csv", "failed.json"] {
        assert!(fx.path().join("out/report").join(f).is_file(), "{f}");
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/failed.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 5);
}

#[test]
fn a_grid_whose_every_cell_failed_is_still_reported() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    let ids = fx.cell_ids("g.toml");
    let prefixes: Vec<&str> = ids.iter().map(|i| &i[..10]).collect();
    fx.dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_FAIL", prefixes.join(","))
        .output()
        .unwrap();
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("No cell of these settings is done: all 2 failed."),
        "{md}"
    );
    assert!(md.contains("## Failed cells (2)"), "{md}");
}

#[test]
fn tests_that_cannot_be_computed_say_so() {
    let fx = Fixture::new();
    // 2 seeds: one degree of freedom, no meaningful t-test
    let grid = seeds_grid(2, "") + CE_PROXY_ANCHOR;
    fx.write("g.toml", &grid);
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let md = String::from_utf8(fx.run(&["report", "out"]).stdout).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| tiny | 2 | ce-pa | head | 2 |"))
        .expect("ce-pa row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!(cells[13], "n/a", "t-test on 2 pairs: {row}");
    assert_eq!(cells[15], "n/a", "Holm of an n/a test: {row}");
    assert_ne!(cells[14], "n/a", "Wilcoxon is defined: {row}");
    assert!(
        md.contains("the t-test needs at least 3 pairs")
            && md.contains("p < 0.05 needs at least 6"),
        "{md}"
    );
    assert!(!md.contains("<0.0001"), "{md}");
}

#[test]
fn html_report_holds_the_numbers_escapes_records_and_draws_the_curves() {
    let fx = Fixture::new();
    let grid = "# </details><script>alert('grid')</script>\n".to_string()
        + &seeds_grid(3, "")
        + CE_PROXY_ANCHOR;
    fx.write("g.toml", &grid);
    let ids = run_with_first_cell_failing(&fx);
    // a hostile error message in the failed record, training curves in two done ones
    let path = |id: &str| fx.cells_dir().join(format!("{id}.json"));
    let mut failed = fx.record(&ids[0]);
    failed["error"] = "</pre><script>alert('error')</script>".into();
    std::fs::write(path(&ids[0]), failed.to_string()).unwrap();
    for (k, id) in ids[1..3].iter().enumerate() {
        let mut r = fx.record(id);
        let points: Vec<serde_json::Value> = (1..=5)
            .map(|s| {
                serde_json::json!({
                    "step": s, "loss": 1.0 / s as f64 + k as f64 * 0.1,
                    "terms": { "ce": 0.5 }, "lr": { "encoder": 1e-5 }, "grad_norm": 2.0
                })
            })
            .collect();
        r["result"]["curve"] = serde_json::json!({ "every": 1, "points": points });
        std::fs::write(path(id), r.to_string()).unwrap();
    }
    let out = fx.run(&["report", "out", "--plots", "--html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = fx.path().join("out/report");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<script").count(), 1, "a script was injected");
    assert!(html.contains("&lt;/pre&gt;&lt;script&gt;alert(&#39;error&#39;)"));
    assert!(html.contains("&lt;/details&gt;&lt;script&gt;alert(&#39;grid&#39;)"));
    // the table's means are report.json's
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let means: Vec<Option<f64>> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "cell")
        .map(|r| r["mean"].as_f64())
        .collect();
    assert_eq!(
        dmlft_testing::html_table::data_values(&html, "t0", 5),
        means
    );
    // the curves: on the page and as files, one per quantity
    assert!(html.contains(">grad norm</summary>"));
    for f in [
        "results.svg",
        "results.png",
        "diff-vs-baseline.svg",
        "training-loss.svg",
        "training-term-ce.png",
        "training-lr-encoder.svg",
        "training-grad-norm.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    // the fingerprint of the data and the failed cell with its error
    let record = fx.record(&ids[1]);
    assert!(html.contains(record["data_fingerprint"].as_str().unwrap()));
    assert!(html.contains("Failed cells (1)"));
}

#[test]
fn plots_say_when_no_record_has_a_training_curve() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(2, ""));
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let out = fx.run(&["report", "out", "--plots"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no record has a training curve"),
        "{}",
        stderr(&out)
    );
    assert!(fx.path().join("out/report/results.svg").is_file());
}

#[test]
fn the_default_baseline_is_a_fine_tuned_loss_before_a_setfit_variant() {
    use crate::common::HEAD;
    let fx = Fixture::new();
    let base = format!("{HEAD}shots = [2]\nseeds = [1, 2, 3]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.a-setfit]\nmethod = \"setfit\"\n");
    for (grid, baseline) in [
        (format!("{base}[losses.b]\n"), "baseline `b`"),
        (base.clone(), "baseline `a-setfit`"),
    ] {
        fx.write("g.toml", &grid);
        let _ = std::fs::remove_dir_all(fx.path().join("out"));
        let out = fx.run(&["run", "g.toml"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let out = fx.run(&["report", "out"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let md = String::from_utf8(out.stdout).unwrap();
        assert!(md.contains(baseline), "want {baseline}: {md}");
    }
}

#[test]
fn a_grid_without_a_baseline_loss_reports_every_method_without_comparisons() {
    use crate::common::HEAD;
    let fx = Fixture::new();
    let grid = format!(
        "{HEAD}shots = [2]\nseeds = [1, 2, 3]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n{CE_PROXY_ANCHOR}"
    );
    fx.write("g.toml", &grid);
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no baseline loss"), "{err}");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("no baseline: every method's own results"),
        "{md}"
    );
    assert!(
        row(&md, "| tiny | 2 | ce-pa | head | 3 |").is_some(),
        "{md}"
    );
    assert!(
        row(&md, "| ce-pa | ").is_some() && !md.contains("(baseline)"),
        "{md}"
    );
    assert!(!md.contains("## Over tasks"), "{md}");
    assert!(fx
        .path()
        .join("out/report/paper-accuracy-2shot.tex")
        .is_file());
    // naming one compares with it
    let out = fx.run(&["report", "out", "--baseline", "ce-pa"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("baseline `ce-pa`"));
}

#[test]
fn ranks_over_tasks_come_with_a_critical_difference_diagram() {
    use crate::common::HEAD;
    let fx = Fixture::new();
    // a second task on the same files: two (task, shots) blocks to rank the methods over
    let head = HEAD.replace(
        "format = \"csv\", text_column = \"text\", label_column = \"label\" }]",
        "format = \"csv\", text_column = \"text\", label_column = \"label\" }, \
         { name = \"twin\", train = \"tiny.csv\", test = \"tiny_test.csv\", format = \"csv\", \
         text_column = \"text\", label_column = \"label\" }]",
    );
    assert_ne!(head, HEAD, "the dataset line changed: update this test");
    let grid = format!(
        "{head}shots = [2]\nseeds = [1, 2, 3]\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n{CE_PROXY_ANCHOR}"
    );
    fx.write("g.toml", &grid);
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fx.run(&["report", "out", "--plots", "--html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("## Ranks over 2 (task, shots) blocks (accuracy, head predictions)"),
        "{md}"
    );
    assert!(row(&md, "| 2 | ce-pa | 2 | ").is_some(), "{md}");
    for f in [
        "cd-diagram-accuracy.svg",
        "cd-diagram-accuracy.png",
        "cd-diagram-macro-f1.svg",
    ] {
        assert!(fx.path().join("out/report").join(f).is_file(), "{f}");
    }
    let html = std::fs::read_to_string(fx.path().join("out/report/report.html")).unwrap();
    assert!(
        html.contains("<h3>Paper tables</h3>") && html.contains("<figure><svg"),
        "{html}"
    );
}

/// The compute section: per loss the done cells and their summed own times, and the records'
/// wall-clock span, from the records' timings and time stamps.
#[test]
fn the_report_says_what_the_study_cost() {
    let fx = Fixture::new();
    fx.write("g.toml", &(seeds_grid(2, "") + CE_PROXY_ANCHOR));
    let ids = run_with_first_cell_failing(&fx);
    // done cells: ids[1..4]; set their times and time stamps
    let times = [10.0, 20.0, 30.0];
    for (k, id) in ids[1..].iter().enumerate() {
        let mut r = fx.record(id);
        r["result"]["timings"]["total_s"] = times[k].into();
        r["started_at"] = format!("2026-01-01T00:0{k}:00Z").into();
        r["finished_at"] = format!("2026-01-01T00:{}:00Z", 10 + 20 * k).into();
        std::fs::write(
            fx.cells_dir().join(format!("{id}.json")),
            serde_json::to_string_pretty(&r).unwrap(),
        )
        .unwrap();
    }
    let out = fx.run(&["report", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    let losses: Vec<String> = ids[1..]
        .iter()
        .map(|id| {
            fx.record(id)["cell"]["loss_name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(md.contains("## Compute"), "{md}");
    // one done ce cell (the failed one is not counted) and two ce-pa cells, or the other way
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ce")).collect();
    let compute_rows: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|l| l.split('|').count() == 7)
        .collect();
    assert_eq!(compute_rows.len(), 2, "{md}");
    let secs = |loss: &str| -> f64 {
        losses
            .iter()
            .zip(times)
            .filter(|(l, _)| *l == loss)
            .map(|(_, t)| t)
            .sum()
    };
    for loss in ["ce", "ce-pa"] {
        let n = losses.iter().filter(|l| *l == loss).count();
        let s = secs(loss);
        let want = format!(
            "| {loss} | {n} | {:.2} | {:.1} | {:.1} |",
            s / 3600.0,
            s / n as f64,
            3600.0 * n as f64 / s
        );
        assert!(md.contains(&want), "{want}\n{md}");
    }
    assert!(md.contains("| **all** | 3 | 0.02 | 20.0 | 180.0 |"), "{md}");
    // 00:00 to 00:50: 0.83 h, 3 cells
    assert!(md.contains("Wall clock: 0.83 h"), "{md}");
    assert!(md.contains("3.6 done cells per wall hour"), "{md}");
}

/// A grid whose cells changed (a setting that is not swept, or a new default) runs them again
/// under new ids; the report keeps the cells of the folder's grid.toml, leaves the old records
/// of the same runs out and says so. Without a grid.toml nothing says which is current: the
/// duplicate is an error naming the run.
#[test]
fn records_replaced_by_the_grids_newer_cells_are_left_out_with_a_warning() {
    let fx = Fixture::new();
    let grid = seeds_grid(3, "") + CE_PROXY_ANCHOR;
    fx.write("g.toml", &grid);
    let old_ids = fx.cell_ids("g.toml");
    assert!(fx.run(&["run", "g.toml"]).status.success());
    fx.write("g.toml", &(grid + "[train.schedule]\nwarmup_steps = 1\n"));
    let new_ids = fx.cell_ids("g.toml");
    assert!(new_ids.iter().all(|id| !old_ids.contains(id)));
    let out = fx.run(&["run", "g.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("6 record(s) of cells that are not in this grid"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(fx.cells_dir()).unwrap().count(), 12);

    let out = fx.run(&["report", "out", "--format", "md,json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("6 record(s) left out"), "{err}");
    for id in &old_ids {
        assert!(err.contains(id.as_str()), "{id}: {err}");
    }
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(row(&md, "| tiny | 2 | ce | head | 3 |").is_some(), "{md}");
    // the kept accuracies are the new cells'
    let runs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.path().join("out/report/runs.json")).unwrap(),
    )
    .unwrap();
    let mut reported: Vec<f64> = runs[0]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metrics"]["accuracy"].as_f64().unwrap())
        .collect();
    let mut of_new: Vec<f64> = new_ids
        .iter()
        .map(|id| {
            fx.record(id)["result"]["metrics"]["head"]["accuracy"]
                .as_f64()
                .unwrap()
        })
        .collect();
    reported.sort_by(f64::total_cmp);
    of_new.sort_by(f64::total_cmp);
    assert_eq!(reported, of_new);

    std::fs::remove_file(fx.path().join("out/grid.toml")).unwrap();
    let out = fx.run(&["report", "out"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("appears twice"), "{}", stderr(&out));
}
