//! The HTML report in a real headless browser (Chromium, no network): the page loads and its
//! script runs without errors, its tables hold the numbers of report.json, sorting works (the
//! page sorts on load from `#sort=...`; the DOM after scripts ran is checked), and a screenshot
//! is produced. Skipped with a printed reason when no chromium is installed
//! (scripts/install-chromium.sh installs it), unless DMLFT_REQUIRE_BROWSER=1.

use super::html_report::{curves, failure, page, study};
use dmlft_eval::report::{aggregate, render_json};
use dmlft_testing::html_table::data_values as column;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser: $DMLFT_CHROMIUM, else `chromium` / `chromium-browser` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DMLFT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| [d.join("chromium"), d.join("chromium-browser")])
        .find(|p| p.is_file())
}

fn browser_or_skip() -> Option<PathBuf> {
    match chromium() {
        Some(b) => Some(b),
        None if std::env::var("DMLFT_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("no chromium (DMLFT_REQUIRE_BROWSER=1): run scripts/install-chromium.sh")
        }
        None => {
            eprintln!(
                "skipped: no chromium on PATH (scripts/install-chromium.sh installs it; \
                 DMLFT_CHROMIUM names another binary)"
            );
            None
        }
    }
}

/// Runs headless Chromium on `url` with `args`; returns (stdout, stderr). A minute at most.
fn run_browser(browser: &Path, profile: &Path, args: &[String], url: &str) -> (String, String) {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // read both pipes on threads so neither fills up
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let (out, err) = (out.join().unwrap(), err.join().unwrap());
            assert!(status.success(), "chromium failed ({status}): {err}");
            return (out, err);
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Console messages Chromium logged (script errors, failed loads).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn the_report_page_in_headless_chromium() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let runs = study("subj", "triplet");
    let report = aggregate(&runs, "ce", dmlft_eval::Metric::Accuracy).unwrap();
    let html = page(
        &report,
        &runs,
        &curves(&runs),
        &[failure("out of memory", "triplet")],
        &[],
        "name = \"q\"",
    );
    let file = dir.path().join("report.html");
    std::fs::write(&file, &html).unwrap();
    let url = format!("file://{}", file.display());
    let profile = dir.path().join("profile");

    // sorted on load by the mean (column 5), descending
    let (dom, stderr) = run_browser(
        &browser,
        &profile,
        &["--dump-dom".into()],
        &format!("{url}#sort=t0:5:desc"),
    );
    let body = &dom[dom.find("<body").expect("a body")..];
    let body = &body[..body.find('>').unwrap()];
    assert!(
        body.contains("data-ready=\"1\""),
        "the page's script did not finish: {body}"
    );
    assert!(!body.contains("data-errors"), "script errors: {body}");
    assert!(
        console_lines(&stderr).is_empty(),
        "console: {:?}",
        console_lines(&stderr)
    );
    let means: Vec<f64> = column(&dom, "t0", 5)
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert!(
        means.windows(2).all(|w| w[0] >= w[1]),
        "not sorted descending: {means:?}"
    );
    assert!(dom.contains("aria-sort=\"descending\""));
    // the same numbers as report.json, row by row (matched by dataset, loss and mode)
    let json: serde_json::Value = serde_json::from_str(&render_json(&report).unwrap()).unwrap();
    let json_rows: Vec<&serde_json::Value> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "cell")
        .collect();
    assert_eq!(means.len(), json_rows.len());
    let mut from_json: Vec<f64> = json_rows
        .iter()
        .map(|r| r["mean"].as_f64().unwrap())
        .collect();
    from_json.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(means, from_json);
    // text columns sort too: the loss (column 2) ascending
    let (dom, _) = run_browser(
        &browser,
        &profile,
        &["--dump-dom".into()],
        &format!("{url}#sort=t0:2:asc"),
    );
    let losses = dmlft_testing::html_table::text_values(&dom, "t0", 2);
    let mut sorted = losses.clone();
    sorted.sort();
    assert_eq!(losses, sorted);

    // a screenshot
    let shot = dir.path().join("report.png");
    run_browser(
        &browser,
        &profile,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600".into(),
            "--hide-scrollbars".into(),
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("no screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "screenshot too small: {} bytes",
        png.len()
    );
    // DMLFT_PLOT_DIR keeps the page and its screenshot for looking at them
    if let Some(keep) = std::env::var_os("DMLFT_PLOT_DIR") {
        let keep = PathBuf::from(keep).join("html");
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&file, keep.join("report.html")).unwrap();
        std::fs::copy(&shot, keep.join("report.png")).unwrap();
    }
    eprintln!(
        "browser checks took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
