//! The few calls of MLflow's tracking REST API (`/api/2.0/mlflow/...`, as documented at
//! mlflow.org/docs/latest/rest-api.html) that the exporter needs, over a blocking `ureq` client.
//! Every failure names the endpoint's URL and MLflow's own message.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// MLflow's limits per `runs/log-batch` call (documented with the endpoint).
pub const MAX_BATCH_METRICS: usize = 1000;
pub const MAX_BATCH_PARAMS: usize = 100;
pub const MAX_BATCH_TAGS: usize = 100;
/// Pages of `runs/search` (1000 runs each) read at most when listing an experiment's runs.
pub const MAX_SEARCH_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    #[error("{0}: not an MLflow tracking URL (want http://HOST:PORT or https://..., e.g. http://127.0.0.1:5000)")]
    BadUrl(String),
    #[error("cannot reach MLflow at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("MLflow at {url} answered {status}: {message}")]
    Server {
        url: String,
        status: String,
        message: String,
    },
}

/// One metric value as MLflow stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub step: i64,
}

/// What the exporter needs to know of a run found on the server.
#[derive(Debug, Clone)]
pub struct FoundRun {
    pub run_id: String,
    pub status: String,
    pub tags: BTreeMap<String, String>,
}

pub struct MlflowClient {
    /// `scheme://host[:port][/prefix]`, without a trailing slash.
    base: String,
    agent: ureq::Agent,
}

impl MlflowClient {
    pub fn new(url: &str) -> Result<Self, MlflowError> {
        let base = url.trim_end_matches('/');
        let host = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if host.is_none_or(str::is_empty) {
            return Err(MlflowError::BadUrl(url.to_string()));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build();
        Ok(Self {
            base: base.to_string(),
            agent,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/api/2.0/mlflow/{path}", self.base)
    }

    fn answer(
        &self,
        url: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> Result<Value, MlflowError> {
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let body = r.into_string().unwrap_or_default();
                return Err(server_error(url, code, &body));
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(MlflowError::Unreachable {
                    url: url.to_string(),
                    detail: t.to_string(),
                })
            }
        };
        let body = response
            .into_string()
            .map_err(|e| MlflowError::Unreachable {
                url: url.to_string(),
                detail: format!("reading the answer: {e}"),
            })?;
        serde_json::from_str(&body).map_err(|_| MlflowError::Server {
            url: url.to_string(),
            status: "200".into(),
            message: format!(
                "an answer that is not JSON (is this an MLflow tracking server?): {}",
                excerpt(&body)
            ),
        })
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, MlflowError> {
        let url = self.endpoint(path);
        let result = self.agent.post(&url).send_json(body);
        self.answer(&url, result)
    }

    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, MlflowError> {
        let url = self.endpoint(path);
        let mut request = self.agent.get(&url);
        for (k, v) in query {
            request = request.query(k, v);
        }
        let result = request.call();
        self.answer(&url, result)
    }

    /// The id of the experiment `name`, created when it does not exist.
    pub fn experiment_id(&self, name: &str) -> Result<String, MlflowError> {
        let found = self.get("experiments/get-by-name", &[("experiment_name", name)]);
        let experiment = match found {
            Ok(v) => v["experiment"].clone(),
            Err(MlflowError::Server { message, .. })
                if message.starts_with("RESOURCE_DOES_NOT_EXIST") =>
            {
                let created = self.post("experiments/create", &json!({ "name": name }))?;
                return string_field(
                    &created,
                    "experiment_id",
                    &self.endpoint("experiments/create"),
                );
            }
            Err(e) => return Err(e),
        };
        if experiment["lifecycle_stage"] == "deleted" {
            return Err(MlflowError::Server {
                url: self.endpoint("experiments/get-by-name"),
                status: "200".into(),
                message: format!(
                    "experiment {name:?} is deleted: restore it (`mlflow experiments restore`) or export to another one (--mlflow-experiment)"
                ),
            });
        }
        string_field(
            &experiment,
            "experiment_id",
            &self.endpoint("experiments/get-by-name"),
        )
    }

    /// Every active run of an experiment (all pages of `runs/search`, at most
    /// [`MAX_SEARCH_PAGES`]; a page token seen before ends it with an error, since the server
    /// would otherwise be asked forever).
    pub fn runs(&self, experiment_id: &str) -> Result<Vec<FoundRun>, MlflowError> {
        let mut runs = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_SEARCH_PAGES {
            let mut body = json!({ "experiment_ids": [experiment_id], "max_results": 1000 });
            if let Some(t) = &token {
                body["page_token"] = t.clone().into();
            }
            let page = self.post("runs/search", &body)?;
            for run in page["runs"].as_array().into_iter().flatten() {
                let tags = run["data"]["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| Some((t["key"].as_str()?.into(), t["value"].as_str()?.into())))
                    .collect();
                runs.push(FoundRun {
                    run_id: run["info"]["run_id"].as_str().unwrap_or_default().into(),
                    status: run["info"]["status"].as_str().unwrap_or_default().into(),
                    tags,
                });
            }
            match page["next_page_token"].as_str() {
                Some(t) if !t.is_empty() => {
                    if !seen.insert(t.to_string()) {
                        return Err(self.paging_error(format!(
                            "runs/search gave the page token {:?} a second time (after {} \
                             pages); stopped instead of asking forever",
                            excerpt(t),
                            seen.len()
                        )));
                    }
                    token = Some(t.into());
                }
                _ => return Ok(runs),
            }
        }
        Err(self.paging_error(format!(
            "runs/search had more than {MAX_SEARCH_PAGES} pages ({} runs so far); stopped \
             (export to a new experiment with --mlflow-experiment)",
            runs.len()
        )))
    }

    fn paging_error(&self, message: String) -> MlflowError {
        MlflowError::Server {
            url: self.endpoint("runs/search"),
            status: "200".into(),
            message,
        }
    }

    /// A new run (status RUNNING); returns its id.
    pub fn create_run(
        &self,
        experiment_id: &str,
        name: &str,
        start_ms: i64,
        tags: &[(String, String)],
    ) -> Result<String, MlflowError> {
        let body = json!({
            "experiment_id": experiment_id,
            "run_name": name,
            "start_time": start_ms,
            "tags": key_values(tags),
        });
        let created = self.post("runs/create", &body)?;
        string_field(
            &created["run"]["info"],
            "run_id",
            &self.endpoint("runs/create"),
        )
    }

    /// Logs params, tags and metrics in as many `runs/log-batch` calls as MLflow's limits need.
    pub fn log(
        &self,
        run_id: &str,
        params: &[(String, String)],
        tags: &[(String, String)],
        metrics: &[Metric],
    ) -> Result<(), MlflowError> {
        for chunk in params.chunks(MAX_BATCH_PARAMS) {
            self.post(
                "runs/log-batch",
                &json!({ "run_id": run_id, "params": key_values(chunk) }),
            )?;
        }
        for chunk in tags.chunks(MAX_BATCH_TAGS) {
            self.post(
                "runs/log-batch",
                &json!({ "run_id": run_id, "tags": key_values(chunk) }),
            )?;
        }
        for chunk in metrics.chunks(MAX_BATCH_METRICS) {
            let metrics: Vec<Value> = chunk
                .iter()
                .map(|m| {
                    json!({ "key": m.key, "value": metric_value(m.value), "timestamp": m.timestamp, "step": m.step })
                })
                .collect();
            self.post(
                "runs/log-batch",
                &json!({ "run_id": run_id, "metrics": metrics }),
            )?;
        }
        Ok(())
    }

    /// Ends a run: `status` is `FINISHED` or `FAILED`.
    pub fn finish_run(&self, run_id: &str, status: &str, end_ms: i64) -> Result<(), MlflowError> {
        let body = json!({ "run_id": run_id, "status": status, "end_time": end_ms });
        self.post("runs/update", &body).map(|_| ())
    }

    /// Marks a run deleted (MLflow keeps it in its trash until `mlflow gc`).
    pub fn delete_run(&self, run_id: &str) -> Result<(), MlflowError> {
        self.post("runs/delete", &json!({ "run_id": run_id }))
            .map(|_| ())
    }
}

/// MLflow's JSON has no NaN or infinity numbers; its protobuf JSON takes them as strings.
fn metric_value(v: f64) -> Value {
    if v.is_finite() {
        v.into()
    } else if v.is_nan() {
        "NaN".into()
    } else if v > 0.0 {
        "Infinity".into()
    } else {
        "-Infinity".into()
    }
}

fn key_values(pairs: &[(String, String)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(k, v)| json!({ "key": k, "value": v }))
        .collect()
}

fn string_field(v: &Value, field: &str, url: &str) -> Result<String, MlflowError> {
    v[field]
        .as_str()
        .map(String::from)
        .ok_or_else(|| MlflowError::Server {
            url: url.to_string(),
            status: "200".into(),
            message: format!("no {field:?} in the answer (is this an MLflow tracking server?)"),
        })
}

/// MLflow's error body is `{"error_code": ..., "message": ...}`; anything else is quoted.
fn server_error(url: &str, code: u16, body: &str) -> MlflowError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = match parsed {
        Some(v) if v["message"].is_string() => format!(
            "{}: {}",
            v["error_code"].as_str().unwrap_or("error"),
            v["message"].as_str().unwrap_or_default()
        ),
        _ => excerpt(body),
    };
    MlflowError::Server {
        url: url.to_string(),
        status: format!("HTTP {code}"),
        message,
    }
}

fn excerpt(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None if one_line.is_empty() => "(empty answer)".into(),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server answering every request with `page(n)` (n = 0, 1, ...); returns its URL and
    /// the count of requests it answered.
    fn paging_server(
        page: impl Fn(usize) -> String + Send + 'static,
    ) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let answer = page(n);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        (url, count)
    }

    #[test]
    fn a_page_token_that_repeats_ends_the_listing() {
        let (url, count) =
            paging_server(|_| r#"{"runs": [], "next_page_token": "again"}"#.to_string());
        let err = MlflowClient::new(&url)
            .unwrap()
            .runs("1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("runs/search") && err.contains("a second time"),
            "{err}"
        );
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn endless_pages_are_bounded() {
        let (url, count) =
            paging_server(|n| format!(r#"{{"runs": [], "next_page_token": "t{n}"}}"#));
        let err = MlflowClient::new(&url)
            .unwrap()
            .runs("1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("more than {MAX_SEARCH_PAGES} pages")),
            "{err}"
        );
        assert_eq!(
            count.load(std::sync::atomic::Ordering::SeqCst),
            MAX_SEARCH_PAGES
        );
        // An honest last page (no token) ends it normally.
        let (url, _) = paging_server(|n| {
            if n < 2 {
                format!(
                    r#"{{"runs": [{{"info": {{"run_id": "r{n}"}}}}], "next_page_token": "t{n}"}}"#
                )
            } else {
                r#"{"runs": [{"info": {"run_id": "last"}}]}"#.to_string()
            }
        });
        let runs = MlflowClient::new(&url).unwrap().runs("1").unwrap();
        assert_eq!(runs.len(), 3);
    }

    #[test]
    fn urls_must_be_http() {
        assert!(MlflowClient::new("http://127.0.0.1:5000/").is_ok());
        assert_eq!(
            MlflowClient::new("https://mlflow.example.org/prefix/")
                .unwrap()
                .endpoint("runs/create"),
            "https://mlflow.example.org/prefix/api/2.0/mlflow/runs/create"
        );
        for bad in ["127.0.0.1:5000", "ftp://x", "http://", ""] {
            let e = MlflowClient::new(bad).err().expect(bad).to_string();
            assert!(e.contains("not an MLflow tracking URL"), "{e}");
        }
    }

    #[test]
    fn server_errors_carry_mlflows_message() {
        let e = server_error(
            "http://h/api/2.0/mlflow/runs/create",
            404,
            r#"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'x' not found"}"#,
        )
        .to_string();
        assert_eq!(
            e,
            "MLflow at http://h/api/2.0/mlflow/runs/create answered HTTP 404: RESOURCE_DOES_NOT_EXIST: Run 'x' not found"
        );
        let e = server_error("http://h/x", 502, "<html>\n Bad   gateway</html>").to_string();
        assert!(e.ends_with("HTTP 502: <html> Bad gateway</html>"), "{e}");
    }

    #[test]
    fn non_finite_values_are_mlflows_strings() {
        assert_eq!(metric_value(0.5), json!(0.5));
        assert_eq!(metric_value(f64::NAN), json!("NaN"));
        assert_eq!(metric_value(f64::NEG_INFINITY), json!("-Infinity"));
    }
}
