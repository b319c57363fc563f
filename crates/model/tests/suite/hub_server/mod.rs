//! A local server that answers like the Hugging Face Hub, for the download tests: the file list
//! (`GET /api/models/<repo>/revision/main`), the files (`GET /<repo>/resolve/main/<file>` with
//! `Range`, `ETag`, `X-Repo-Commit`, `Content-Range`), LFS files through a redirect to a "CDN"
//! path with `X-Linked-Etag` (the sha256), as the Hub serves weights. Faults can be set per file.
#![allow(dead_code)]

use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What goes wrong when a file's body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 404 for the file (it is still in the file list).
    NotFound,
    /// The connection closes after this many bytes of the file (headers promise the rest).
    DropAfter(usize),
    /// The body ends after this many bytes, with a matching Content-Length, while the metadata
    /// announced the whole size: a well-formed but short transfer.
    Truncate(usize),
    /// Same size, one byte changed.
    Corrupt,
}

#[derive(Default)]
pub struct State {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Files served like LFS files (redirect + sha256 etag).
    pub lfs: Vec<String>,
    pub faults: BTreeMap<String, Fault>,
    /// `METHOD path [range]` of every request, in order.
    pub log: Vec<String>,
}

pub struct HubServer {
    pub endpoint: String,
    pub repo: String,
    pub commit: String,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn git_sha1_hex(bytes: &[u8]) -> String {
    let mut d = Sha1::new();
    d.update(format!("blob {}\0", bytes.len()).as_bytes());
    d.update(bytes);
    hex(&d.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl HubServer {
    /// Serves `files` of repository `repo`; names in `lfs` go through the CDN redirect.
    pub fn start(repo: &str, files: BTreeMap<String, Vec<u8>>, lfs: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            files,
            lfs: lfs.iter().map(|s| s.to_string()).collect(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let commit = "0123456789abcdef0123456789abcdef01234567".to_string();
        let ctx = Ctx {
            endpoint: endpoint.clone(),
            repo: repo.to_string(),
            commit: commit.clone(),
            state: state.clone(),
        };
        let stop_flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let _ = ctx.handle(stream);
                }
            }
        });
        HubServer {
            endpoint,
            repo: repo.to_string(),
            commit,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn set_fault(&self, file: &str, fault: Option<Fault>) {
        let mut state = self.state.lock().unwrap();
        match fault {
            Some(f) => state.faults.insert(file.to_string(), f),
            None => state.faults.remove(file),
        };
    }

    /// Requests seen so far, and forget them.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
}

impl Drop for HubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Ctx {
    endpoint: String,
    repo: String,
    commit: String,
    state: Arc<Mutex<State>>,
}

struct Response {
    status: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close the connection after this many body bytes (the headers still promise all).
    drop_after: Option<usize>,
}

impl Response {
    fn new(status: &'static str) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            drop_after: None,
        }
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

impl Ctx {
    fn handle(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut range = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("range") {
                    range = Some(value.trim().to_string());
                }
            }
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        self.state.lock().unwrap().log.push(format!(
            "{method} {path} {}",
            range.clone().unwrap_or_default()
        ));
        let response = self.route(&path, range.as_deref());
        write(stream, response)
    }

    fn route(&self, path: &str, range: Option<&str>) -> Response {
        let state = self.state.lock().unwrap();
        let api = format!("/api/models/{}/revision/main", self.repo);
        if path == api {
            let siblings: Vec<_> = state
                .files
                .keys()
                .map(|f| serde_json::json!({ "rfilename": f }))
                .collect();
            let body = serde_json::json!({ "sha": self.commit, "siblings": siblings });
            let mut r = Response::new("200 OK").header("Content-Type", "application/json");
            r.body = body.to_string().into_bytes();
            return r;
        }
        let resolve = format!("/{}/resolve/main/", self.repo);
        if let Some(file) = path.strip_prefix(&resolve) {
            let Some(content) = state.files.get(file) else {
                return not_found();
            };
            if state.faults.get(file) == Some(&Fault::NotFound) {
                return not_found();
            }
            if state.lfs.iter().any(|f| f == file) {
                let sha = sha256_hex(content);
                return Response::new("302 Found")
                    .header("Location", format!("{}/cdn/{sha}", self.endpoint))
                    .header("X-Repo-Commit", self.commit.clone())
                    .header("X-Linked-Etag", format!("\"{sha}\""))
                    .header("X-Linked-Size", content.len().to_string())
                    .header("ETag", "\"redirect\"");
            }
            let etag = git_sha1_hex(content);
            return self.body(content, &etag, range, state.faults.get(file).copied());
        }
        if let Some(sha) = path.strip_prefix("/cdn/") {
            let found = state
                .files
                .iter()
                .find(|(_, c)| sha256_hex(c) == sha)
                .map(|(name, c)| (name.clone(), c.clone()));
            if let Some((name, content)) = found {
                return self.body(&content, sha, range, state.faults.get(&name).copied());
            }
        }
        not_found()
    }

    /// A file's bytes for `range` (`bytes=a-` or `bytes=a-b`), with a fault applied to every
    /// request but the metadata probe (`bytes=0-0`).
    fn body(
        &self,
        content: &[u8],
        etag: &str,
        range: Option<&str>,
        fault: Option<Fault>,
    ) -> Response {
        let size = content.len();
        let (start, end) = parse_range(range, size);
        let probe = range == Some("bytes=0-0");
        let mut data = content.to_vec();
        let mut drop_after = None;
        let mut short_end = end;
        match fault {
            Some(Fault::Corrupt) if !probe => data[size / 2] ^= 0xff,
            Some(Fault::DropAfter(n)) if !probe => drop_after = Some(n.saturating_sub(start)),
            Some(Fault::Truncate(n)) if !probe => short_end = end.min(n.max(start)),
            _ => {}
        }
        let status = if range.is_some() {
            "206 Partial Content"
        } else {
            "200 OK"
        };
        let mut r = Response::new(status)
            .header("ETag", format!("\"{etag}\""))
            .header("X-Repo-Commit", self.commit.clone())
            .header("Accept-Ranges", "bytes");
        if range.is_some() {
            r = r.header(
                "Content-Range",
                format!("bytes {start}-{}/{size}", end.saturating_sub(1)),
            );
        }
        r.body = data[start..short_end].to_vec();
        r.drop_after = drop_after;
        r
    }
}

fn parse_range(range: Option<&str>, size: usize) -> (usize, usize) {
    let Some(spec) = range.and_then(|r| r.strip_prefix("bytes=")) else {
        return (0, size);
    };
    let (a, b) = spec.split_once('-').unwrap_or((spec, ""));
    let start = a.parse().unwrap_or(0).min(size);
    let end = b.parse::<usize>().map(|b| b + 1).unwrap_or(size).min(size);
    (start, end.max(start))
}

fn not_found() -> Response {
    let mut r = Response::new("404 Not Found").header("X-Error-Code", "EntryNotFound");
    r.body = b"Entry not found".to_vec();
    r
}

fn write(mut stream: TcpStream, r: Response) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {}\r\n", r.status);
    for (name, value) in &r.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    let sent = r.drop_after.unwrap_or(r.body.len()).min(r.body.len());
    stream.write_all(&r.body[..sent])?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)
}
