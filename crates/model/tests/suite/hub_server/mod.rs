//! A local server that answers like the Hugging Face Hub, for the download tests: the file list
//! (`GET /api/models/<repo>/revision/main`), the files (`GET /<repo>/resolve/main/<file>` with
//! `Range`, `ETag`, `X-Repo-Commit`, `Content-Range`), LFS files through a redirect to a "CDN"
//! path with `X-Linked-Etag` (the sha256), as the Hub serves weights. Faults can be set per file,
//! from broken transfers to hostile replies (etags and commits that are paths, endless redirects,
//! stalls, sizes that lie).
#![allow(dead_code)]

use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What goes wrong when a file is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// This `ETag` / `X-Linked-Etag` instead of the content's hash (e.g. a path).
    Etag(String),
    /// This `X-Repo-Commit` instead of the commit.
    Commit(String),
    /// The headers announce this size (the file list keeps the true one).
    Announce(u64),
    /// The file list and the headers announce this size.
    AnnounceEverywhere(u64),
    /// The body goes on this many bytes past the file (Content-Length matching the longer body).
    Longer(usize),
    /// The body request is accepted and never answered (until the server stops, or 20 s).
    Stall,
    /// The file redirects to a URL that redirects to itself.
    RedirectLoop,
    /// LFS only: the redirect goes to this other server (`http://host:port`) instead of the CDN
    /// path of this one.
    RedirectTo(String),
    /// The first this many body requests get `503 Service Unavailable`.
    Unavailable(usize),
}

#[derive(Default)]
pub struct State {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Files served like LFS files (redirect + sha256 etag).
    pub lfs: Vec<String>,
    pub faults: BTreeMap<String, Fault>,
    /// `METHOD path [range]` of every request, in order.
    pub log: Vec<String>,
    /// Paths of the requests that carried an `Authorization` header.
    pub authorized: Vec<String>,
    /// Body requests answered 503 so far, per file (for [`Fault::Unavailable`]).
    pub unavailable_sent: BTreeMap<String, usize>,
    /// Former names of the repository: redirected (307, relative) to it, as the Hub does for a
    /// renamed repository.
    pub aliases: Vec<String>,
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
        let ctx = Arc::new(Ctx {
            endpoint: endpoint.clone(),
            repo: repo.to_string(),
            commit: commit.clone(),
            state: state.clone(),
            stop: stop.clone(),
        });
        let stop_flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    // A thread per connection: a stalled reply must not hold up the next request.
                    let ctx = ctx.clone();
                    std::thread::spawn(move || ctx.handle(stream));
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

    /// Paths requested with an `Authorization` header so far, and forget them.
    pub fn take_authorized(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().authorized)
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
    stop: Arc<AtomicBool>,
}

struct Response {
    status: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close the connection after this many body bytes (the headers still promise all).
    drop_after: Option<usize>,
    /// Send nothing; hold the connection open.
    stall: bool,
}

impl Response {
    fn new(status: &'static str) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            drop_after: None,
            stall: false,
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
        let mut authorized = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("range") {
                    range = Some(value.trim().to_string());
                }
                authorized |= name.trim().eq_ignore_ascii_case("authorization");
            }
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        {
            let mut state = self.state.lock().unwrap();
            state.log.push(format!(
                "{method} {path} {}",
                range.clone().unwrap_or_default()
            ));
            if authorized {
                state.authorized.push(path.clone());
            }
        }
        let response = self.route(&path, range.as_deref());
        if response.stall {
            let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while !self.stop.load(Ordering::SeqCst) && std::time::Instant::now() < until {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            return Ok(());
        }
        write(stream, response)
    }

    fn route(&self, full_path: &str, range: Option<&str>) -> Response {
        let mut state = self.state.lock().unwrap();
        let (path, query) = full_path.split_once('?').unwrap_or((full_path, ""));
        for alias in &state.aliases {
            for (old, new) in [
                (
                    format!("/api/models/{alias}/"),
                    format!("/api/models/{}/", self.repo),
                ),
                (
                    format!("/{alias}/resolve/"),
                    format!("/{}/resolve/", self.repo),
                ),
            ] {
                if let Some(rest) = full_path.strip_prefix(&old) {
                    return Response::new("307 Temporary Redirect")
                        .header("Location", format!("{new}{rest}"));
                }
            }
        }
        let api = format!("/api/models/{}/revision/main", self.repo);
        if path == api {
            // With `blobs=true` the Hub adds each file's size (and LFS sha256).
            let blobs = query.split('&').any(|q| q == "blobs=true");
            let siblings: Vec<_> = state
                .files
                .iter()
                .map(|(f, content)| {
                    if !blobs {
                        return serde_json::json!({ "rfilename": f });
                    }
                    let size = match state.faults.get(f) {
                        Some(Fault::AnnounceEverywhere(n)) => *n,
                        _ => content.len() as u64,
                    };
                    let mut entry = serde_json::json!({ "rfilename": f, "size": size });
                    if state.lfs.contains(f) {
                        entry["lfs"] =
                            serde_json::json!({ "sha256": sha256_hex(content), "size": size });
                    }
                    entry
                })
                .collect();
            let body = serde_json::json!({ "sha": self.commit, "siblings": siblings });
            let mut r = Response::new("200 OK").header("Content-Type", "application/json");
            r.body = body.to_string().into_bytes();
            return r;
        }
        if let Some(rest) = path.strip_prefix("/loop/") {
            return Response::new("302 Found").header("Location", format!("/loop/{rest}"));
        }
        let resolve = format!("/{}/resolve/main/", self.repo);
        if let Some(file) = path.strip_prefix(&resolve) {
            let Some(content) = state.files.get(file).cloned() else {
                return not_found();
            };
            let fault = state.faults.get(file).cloned();
            let probe = range == Some("bytes=0-0");
            match &fault {
                Some(Fault::NotFound) => return not_found(),
                Some(Fault::Unavailable(n)) if !probe => {
                    let sent = state.unavailable_sent.entry(file.to_string()).or_default();
                    if *sent < *n {
                        *sent += 1;
                        return Response::new("503 Service Unavailable");
                    }
                }
                _ => {}
            }
            let commit = match &fault {
                Some(Fault::Commit(c)) => c.clone(),
                _ => self.commit.clone(),
            };
            if state.lfs.iter().any(|f| f == file) || fault == Some(Fault::RedirectLoop) {
                let sha = sha256_hex(&content);
                let (etag, size) = announced(&fault, &sha, content.len());
                let location = match &fault {
                    Some(Fault::RedirectLoop) => format!("/loop/{file}"),
                    Some(Fault::RedirectTo(other)) => format!("{other}/cdn/{sha}"),
                    _ => format!("{}/cdn/{sha}", self.endpoint),
                };
                return Response::new("302 Found")
                    .header("Location", location)
                    .header("X-Repo-Commit", commit)
                    .header("X-Linked-Etag", format!("\"{etag}\""))
                    .header("X-Linked-Size", size.to_string())
                    .header("ETag", "\"redirect\"");
            }
            let (etag, size) = announced(&fault, &git_sha1_hex(&content), content.len());
            let mut r = self.body(&content, &etag, range, fault);
            r.headers.retain(|(n, _)| n != "X-Repo-Commit");
            r = r.header("X-Repo-Commit", commit);
            if size != content.len() as u64 {
                for (name, value) in &mut r.headers {
                    if name == "Content-Range" {
                        let head = value.rsplit_once('/').map(|(h, _)| h.to_string());
                        *value = format!("{}/{size}", head.unwrap_or_default());
                    }
                }
            }
            return r;
        }
        if let Some(sha) = path.strip_prefix("/cdn/") {
            let found = state
                .files
                .iter()
                .find(|(_, c)| sha256_hex(c) == sha)
                .map(|(name, c)| (name.clone(), c.clone()));
            if let Some((name, content)) = found {
                return self.body(&content, sha, range, state.faults.get(&name).cloned());
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
        let mut stall = false;
        match fault {
            Some(Fault::Corrupt) if !probe => data[size / 2] ^= 0xff,
            Some(Fault::DropAfter(n)) if !probe => drop_after = Some(n.saturating_sub(start)),
            Some(Fault::Truncate(n)) if !probe => short_end = end.min(n.max(start)),
            Some(Fault::Longer(n)) if !probe => {
                data.extend(std::iter::repeat_n(0u8, n));
                short_end = data.len();
            }
            Some(Fault::Stall) if !probe => stall = true,
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
        r.stall = stall;
        r
    }
}

/// The etag and size a file's headers announce: the true ones unless a fault lies.
fn announced(fault: &Option<Fault>, etag: &str, size: usize) -> (String, u64) {
    match fault {
        Some(Fault::Etag(e)) => (e.clone(), size as u64),
        Some(Fault::Announce(n) | Fault::AnnounceEverywhere(n)) => (etag.to_string(), *n),
        _ => (etag.to_string(), size as u64),
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
