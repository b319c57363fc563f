//! `dmlft report --to-mlflow`: against a real local MLflow tracking server
//! (`scripts/mlflow-server.sh`, which installs mlflow with pip into a cached venv), every record
//! becomes one run whose params, metrics, curve and tags read back equal to the record, and
//! exporting again does not duplicate runs. Skipped with a printed reason when mlflow cannot be
//! installed or started, unless `DMLFT_REQUIRE_MLFLOW=1`. A server that is down or answers an
//! error is one clear error (no MLflow needed for those).

use crate::common::{run_with_first_cell_failing, seeds_grid, stderr, Fixture, CE_PROXY_ANCHOR};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `mlflow server`, killed (with its workers: its whole process group) on drop.
struct MlflowServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mlflow-server.sh")
}

/// `None` (after printing why) when mlflow cannot be installed or started; a failure instead
/// when DMLFT_REQUIRE_MLFLOW=1.
fn start_mlflow() -> Option<MlflowServer> {
    let skip = |why: String| -> Option<MlflowServer> {
        if std::env::var("DMLFT_REQUIRE_MLFLOW").as_deref() == Ok("1") {
            panic!("MLflow is required (DMLFT_REQUIRE_MLFLOW=1) but {why}");
        }
        eprintln!("skipped: {why} (DMLFT_REQUIRE_MLFLOW=1 makes this a failure)");
        None
    };
    let install = Command::new("bash").arg(script()).arg("--install").output();
    match install {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return skip(format!(
                "scripts/mlflow-server.sh --install failed: {}",
                stderr(&out).trim()
            ))
        }
        Err(e) => return skip(format!("cannot run scripts/mlflow-server.sh: {e}")),
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("server.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let child = Command::new("bash")
        .arg(script())
        .arg(port.to_string())
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .process_group(0)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return skip(format!("cannot start scripts/mlflow-server.sh: {e}")),
    };
    let mut server = MlflowServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    // the first start creates the database: about a minute on a busy 2-core machine
    let deadline = Instant::now() + Duration::from_secs(300);
    let health = format!("{}/health", server.url);
    while Instant::now() < deadline {
        if ureq::get(&health).call().is_ok() {
            return Some(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return skip(format!(
                "the MLflow server exited ({status}):\n{}",
                tail.join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(server);
    skip("the MLflow server did not answer /health within 300 s".into())
}

fn api(url: &str, path: &str) -> String {
    format!("{url}/api/2.0/mlflow/{path}")
}

fn post(url: &str, path: &str, body: Value) -> Value {
    ureq::post(&api(url, path))
        .send_json(body)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_json()
        .unwrap()
}

fn get(url: &str, path: &str, query: &[(&str, &str)]) -> Value {
    let mut request = ureq::get(&api(url, path));
    for (k, v) in query {
        request = request.query(k, v);
    }
    request
        .call()
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .into_json()
        .unwrap()
}

/// The active runs of experiment `name`, keyed by their `dmlft.cell_id` tag.
fn runs_by_cell(url: &str, name: &str) -> BTreeMap<String, Vec<Value>> {
    let experiment = get(url, "experiments/get-by-name", &[("experiment_name", name)]);
    let id = experiment["experiment"]["experiment_id"].as_str().unwrap();
    let found = post(
        url,
        "runs/search",
        json!({ "experiment_ids": [id], "max_results": 1000 }),
    );
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for run in found["runs"].as_array().cloned().unwrap_or_default() {
        out.entry(key_values(&run["data"]["tags"])["dmlft.cell_id"].clone())
            .or_default()
            .push(run);
    }
    out
}

fn key_values(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            (
                kv["key"].as_str().unwrap().to_string(),
                kv["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(step, value)` of every logged value of one metric.
fn history(url: &str, run_id: &str, key: &str) -> Vec<(u64, f64)> {
    let h = get(
        url,
        "metrics/get-history",
        &[("run_id", run_id), ("metric_key", key)],
    );
    let mut v: Vec<(u64, f64)> = h["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| (m["step"].as_u64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    v.sort_by_key(|p| p.0);
    v
}

/// A grid of 2 losses x 2 seeds whose first cell fails; training curves (3 steps, two terms, two
/// learning-rate groups) in the two done cells after it. Returns the cell ids.
fn results(fx: &Fixture) -> Vec<String> {
    let grid = seeds_grid(2, "inference = [\"head\", \"proxy\"]") + CE_PROXY_ANCHOR;
    fx.write("g.toml", &grid);
    let ids = run_with_first_cell_failing(fx);
    for (k, id) in ids[1..3].iter().enumerate() {
        let mut r = fx.record(id);
        let points: Vec<Value> = (1..=3)
            .map(|s| {
                let s = s as f64;
                json!({
                    "step": s as u64, "loss": 1.0 / s + 0.1 * k as f64,
                    "terms": { "ce": 0.7 / s, "proxy-anchor": 1.3 / s },
                    "lr": { "encoder": 1e-5 * s, "head": 3e-4 / s }, "grad_norm": 2.5 + s
                })
            })
            .collect();
        r["result"]["curve"] = json!({ "every": 1, "points": points });
        // dev examples scored like the eval set (`dev_shots`), in the first done cell only
        if k == 0 {
            let mut dev = r["result"]["metrics"].clone();
            dev["head"]["accuracy"] = json!(0.125);
            r["result"]["dev_metrics"] = dev;
            r["result"]["dev_size"] = json!(8);
        }
        std::fs::write(
            fx.cells_dir().join(format!("{id}.json")),
            serde_json::to_string_pretty(&r).unwrap(),
        )
        .unwrap();
    }
    ids
}

/// Every run's params, tags, final metrics and curve equal its record.
fn assert_runs_equal_records(url: &str, fx: &Fixture, ids: &[String]) {
    let runs = runs_by_cell(url, "t");
    assert_eq!(runs.len(), ids.len(), "one run per record: {runs:?}");
    for id in ids {
        let record = fx.record(id);
        let found = &runs[id];
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        let run = &found[0];
        let info = &run["info"];
        assert_eq!(info["run_name"], id.as_str());
        let failed = record["status"] == "failed";
        assert_eq!(info["status"], if failed { "FAILED" } else { "FINISHED" });
        let tags = key_values(&run["data"]["tags"]);
        assert_eq!(tags["dataset"], "tiny");
        assert_eq!(tags["loss"], record["cell"]["loss_name"].as_str().unwrap());
        assert_eq!(tags["status"], record["status"].as_str().unwrap());
        assert_eq!(
            tags.get("error").map(String::as_str),
            record["error"].as_str()
        );
        let params = key_values(&run["data"]["params"]);
        for (axis, value) in record["axes"].as_object().unwrap() {
            assert_eq!(params[axis], value.as_str().unwrap(), "{id}: param {axis}");
        }
        assert_eq!(params["model.source"], "model");
        assert_eq!(
            params["train.optimizer.lr"],
            record["cell"]["train"]["optimizer"]["lr"].to_string()
        );
        assert_eq!(
            params["split.seed"],
            record["cell"]["split"]["seed"].to_string()
        );
        if record["cell"]["loss_name"] == "ce-pa" {
            assert_eq!(params["objective.dml.0.loss.kind"], "proxy-anchor");
            assert_eq!(params["objective.dml.0.loss.margin"], "0.1");
        }
        let metrics: BTreeMap<String, f64> = run["data"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["key"].as_str().unwrap().to_string(),
                    m["value"].as_f64().unwrap(),
                )
            })
            .collect();
        if failed {
            assert!(metrics.is_empty(), "{metrics:?}");
            continue;
        }
        let result = &record["result"];
        for (mode, m) in result["metrics"].as_object().unwrap() {
            for name in ["accuracy", "macro_f1", "weighted_f1"] {
                assert_eq!(
                    metrics[&format!("{mode}.{name}")],
                    m[name].as_f64().unwrap(),
                    "{id} {mode}.{name}"
                );
            }
        }
        let dev = result["dev_metrics"].as_object();
        for (mode, m) in dev.into_iter().flatten() {
            for name in ["accuracy", "macro_f1", "weighted_f1"] {
                assert_eq!(
                    metrics[&format!("dev.{mode}.{name}")],
                    m[name].as_f64().unwrap(),
                    "{id} dev.{mode}.{name}"
                );
            }
        }
        assert_eq!(
            metrics.keys().any(|k| k.starts_with("dev.")),
            dev.is_some(),
            "{id}: dev metrics exported exactly when recorded"
        );
        assert_eq!(
            metrics["final_loss"],
            result["final_loss"].as_f64().unwrap()
        );
        assert_eq!(
            metrics["time.total_s"],
            result["timings"]["total_s"].as_f64().unwrap()
        );
        let run_id = info["run_id"].as_str().unwrap();
        let Some(points) = result["curve"]["points"].as_array() else {
            assert!(
                !metrics.contains_key("loss"),
                "{id}: a curve out of nothing"
            );
            continue;
        };
        let curve = |f: &dyn Fn(&Value) -> f64| -> Vec<(u64, f64)> {
            points
                .iter()
                .map(|p| (p["step"].as_u64().unwrap(), f(p)))
                .collect()
        };
        let v = |p: &Value, path: &str| p.pointer(path).unwrap().as_f64().unwrap();
        for (key, path) in [
            ("loss", "/loss"),
            ("loss.ce", "/terms/ce"),
            ("loss.proxy-anchor", "/terms/proxy-anchor"),
            ("lr.encoder", "/lr/encoder"),
            ("lr.head", "/lr/head"),
            ("grad_norm", "/grad_norm"),
        ] {
            assert_eq!(
                history(url, run_id, key),
                curve(&|p| v(p, path)),
                "{id}: {key}"
            );
        }
    }
}

#[test]
fn every_record_becomes_one_mlflow_run_and_a_second_export_adds_none() {
    let Some(server) = start_mlflow() else { return };
    let fx = Fixture::new();
    let ids = results(&fx);
    let out = fx.run(&["report", "out", "--to-mlflow", &server.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("4 run(s) created, 0 replaced, 0 unchanged"),
        "{}",
        stderr(&out)
    );
    assert_runs_equal_records(&server.url, &fx, &ids);

    // again: nothing new
    let out = fx.run(&["report", "out", "--to-mlflow", &server.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 run(s) created, 0 replaced, 4 unchanged"),
        "{}",
        stderr(&out)
    );
    assert_runs_equal_records(&server.url, &fx, &ids);

    // the failed cell run again (now done): its run is replaced, not duplicated
    let out = fx.run(&["run", "g.toml", "--retry-failed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fx.run(&["report", "out", "--to-mlflow", &server.url]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 run(s) created, 1 replaced, 3 unchanged"),
        "{}",
        stderr(&out)
    );
    assert_runs_equal_records(&server.url, &fx, &ids);

    // another experiment by name
    let out = fx.run(&[
        "report",
        "out",
        "--to-mlflow",
        &server.url,
        "--mlflow-experiment",
        "other study",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(runs_by_cell(&server.url, "other study").len(), 4);
}

#[test]
fn a_server_that_is_down_is_one_clear_error() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(1, ""));
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = fx.run(&["report", "out", "--to-mlflow", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "error: cannot reach MLflow at {url}/api/2.0/mlflow/"
        )),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    // a malformed URL is refused before the report is written
    std::fs::remove_dir_all(fx.path().join("out/report")).unwrap();
    let out = fx.run(&["report", "out", "--to-mlflow", "localhost:5000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("localhost:5000: not an MLflow tracking URL"));
    assert!(!fx.path().join("out/report").exists());
}

/// A one-request HTTP server answering `status` with `body`.
fn answer_once(status: &str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let status = status.to_string();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn an_error_answer_is_reported_with_mlflows_message() {
    let fx = Fixture::new();
    fx.write("g.toml", &seeds_grid(1, ""));
    assert!(fx.run(&["run", "g.toml"]).status.success());
    let url = answer_once(
        "403 Forbidden",
        r#"{"error_code": "PERMISSION_DENIED", "message": "User 'x' cannot read experiments"}"#,
    );
    let out = fx.run(&["report", "out", "--to-mlflow", &url]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "error: MLflow at {url}/api/2.0/mlflow/experiments/get-by-name answered HTTP 403: PERMISSION_DENIED: User 'x' cannot read experiments"
        )),
        "{}",
        stderr(&out)
    );
}
