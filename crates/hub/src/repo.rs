//! One repository of the Hub and its folder in the Hugging Face cache, in huggingface_hub's
//! layout so that Python tools share it: `<cache>/models--org--name/blobs/<etag>`,
//! `snapshots/<commit>/<file>` (a relative symlink to the blob) and `refs/main` (the commit).
//!
//! A blob is in the cache only once its content matched its etag: bytes arrive in
//! `blobs/<etag>.part` (kept after a broken connection, to resume from), are hashed, and only then
//! renamed. A mismatch or an overlong body removes the `.part`.

use crate::error::HubError;
use crate::http::{Client, Limits};
use crate::{names, space, verify};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Serializes downloads of this process (threads); [`RepoLock`] adds a lock file for processes.
static DOWNLOADS: Mutex<()> = Mutex::new(());

/// Models and datasets differ only in their URLs and cache folder names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    Model,
    Dataset,
}

impl RepoKind {
    fn plural(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        }
    }

    fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "",
            RepoKind::Dataset => "datasets/",
        }
    }
}

/// `org/name` -> `models--org--name` (or `datasets--...`), the repository's cache folder.
pub fn cache_folder_name(kind: RepoKind, id: &str) -> String {
    format!("{}--{}", kind.plural(), id.replace('/', "--"))
}

/// The Hub at `endpoint` with its cache at `cache`.
pub struct Hub {
    client: Client,
    endpoint: String,
    cache: PathBuf,
}

impl Hub {
    /// `token` (if any) is sent to `endpoint`'s host only.
    pub fn new(endpoint: &str, cache: &Path, limits: Limits, token: Option<String>) -> Self {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        Hub {
            client: Client::new(limits, token, &endpoint),
            endpoint,
            cache: cache.to_path_buf(),
        }
    }

    pub fn repo(&self, kind: RepoKind, id: &str) -> Result<Repo<'_>, HubError> {
        names::repo_id(id)?;
        Ok(Repo {
            hub: self,
            kind,
            id: id.to_string(),
            folder: self.cache.join(cache_folder_name(kind, id)),
            revision: "main".to_string(),
            commit: None,
            listed: BTreeMap::new(),
        })
    }
}

/// What the file list says of a file (with `?blobs=true`): checked against what the download
/// announces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedFile {
    pub size: Option<u64>,
    pub lfs_sha256: Option<String>,
}

pub struct Repo<'a> {
    hub: &'a Hub,
    kind: RepoKind,
    id: String,
    folder: PathBuf,
    /// The branch, tag or commit asked for (`main` unless [`Repo::at_revision`]).
    revision: String,
    /// The commit of the file list, once listed; every file must come from it.
    commit: Option<String>,
    listed: BTreeMap<String, ListedFile>,
}

/// Held while a repository is downloaded (released on drop).
pub struct RepoLock {
    _file: std::fs::File,
    _in_process: MutexGuard<'static, ()>,
}

/// What a file's metadata request announced.
struct Announced {
    commit: String,
    etag: String,
    size: u64,
    /// Where the bytes are (after the Hub's redirect to its CDN for LFS files).
    url: String,
}

impl Repo<'_> {
    /// `<cache>/models--org--name`.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The same repository at `revision` (a branch such as `refs/convert/parquet`, a tag or a
    /// commit) instead of `main`; checked by [`names::revision`].
    pub fn at_revision(mut self, revision: &str) -> Result<Self, HubError> {
        names::revision(revision)?;
        self.revision = revision.to_string();
        self.commit = None;
        self.listed.clear();
        Ok(self)
    }

    /// The commit of the last file list, if listed.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }

    /// The snapshot folder of the revision as the cache knows it without asking the server: the
    /// revision itself when it is a commit id, else the commit in `refs/<revision>` (validated:
    /// a cache file is not trusted to name a path). `None` when nothing was downloaded.
    pub fn cached_snapshot(&self) -> Option<PathBuf> {
        let commit = if names::commit(&self.revision, "", "").is_ok() {
            self.revision.to_ascii_lowercase()
        } else {
            let text = std::fs::read_to_string(self.ref_path()).ok()?;
            names::commit(&text, "", "").ok()?
        };
        Some(self.folder.join("snapshots").join(commit))
    }

    /// `refs/<revision>`, as huggingface_hub names it (`refs/refs/convert/parquet` for that
    /// branch).
    fn ref_path(&self) -> PathBuf {
        self.folder.join("refs").join(&self.revision)
    }

    /// The revision in a URL path: `/` escaped, as huggingface_hub quotes it.
    fn revision_in_url(&self) -> String {
        self.revision.replace('/', "%2F")
    }

    /// Waits for other threads and processes downloading into this repository's cache folder
    /// (`<cache>/.locks/dmlft-<folder>.lock`).
    pub fn lock(&self) -> Result<RepoLock, HubError> {
        let in_process = DOWNLOADS.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = self.hub.cache.join(".locks");
        std::fs::create_dir_all(&dir).map_err(|e| HubError::io(&dir, e))?;
        let name = self
            .folder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let path = dir.join(format!("dmlft-{name}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| HubError::io(&path, e))?;
        file.lock().map_err(|e| HubError::io(&path, e))?;
        Ok(RepoLock {
            _file: file,
            _in_process: in_process,
        })
    }

    /// The repository's files (`/api/<kind>/<id>/revision/<revision>?blobs=true`), remembering its
    /// commit and each file's listed size and LFS hash.
    pub fn list(&mut self) -> Result<Vec<String>, HubError> {
        let url = format!(
            "{}/api/{}/{}/revision/{}?blobs=true",
            self.hub.endpoint,
            self.kind.plural(),
            self.id,
            self.revision_in_url()
        );
        let value = self.hub.client.get_json(&url)?;
        let sha = value
            .get("sha")
            .and_then(|s| s.as_str())
            .unwrap_or_default();
        self.commit = Some(names::commit(sha, &url, "file list `sha`")?);
        let siblings = value
            .get("siblings")
            .and_then(|s| s.as_array())
            .ok_or_else(|| {
                HubError::refused(&url, "reply", "no `siblings` list", "the Hub's file list")
            })?;
        self.listed.clear();
        for sibling in siblings {
            let Some(name) = sibling.get("rfilename").and_then(|n| n.as_str()) else {
                continue;
            };
            let lfs = sibling.get("lfs");
            let listed = ListedFile {
                size: lfs
                    .and_then(|l| l.get("size"))
                    .or_else(|| sibling.get("size"))
                    .and_then(|s| s.as_u64()),
                lfs_sha256: lfs
                    .and_then(|l| l.get("sha256"))
                    .and_then(|s| s.as_str())
                    .map(str::to_ascii_lowercase),
            };
            self.listed.insert(name.to_string(), listed);
        }
        Ok(self.listed.keys().cloned().collect())
    }

    /// `file` in the snapshot folder: from the cache when its blob is there and verifies, else
    /// downloaded and verified. Updates `refs/<revision>` (not for a commit id, as huggingface_hub).
    pub fn get(&self, file: &str) -> Result<PathBuf, HubError> {
        names::file_name(file, "file name")?;
        let url = format!(
            "{}/{}{}/resolve/{}/{file}",
            self.hub.endpoint,
            self.kind.url_prefix(),
            self.id,
            self.revision_in_url()
        );
        let announced = self.hub.client.with_retries(|| self.announce(&url))?;
        self.check_against_list(file, &url, &announced)?;
        let blobs = self.folder.join("blobs");
        std::fs::create_dir_all(&blobs).map_err(|e| HubError::io(&blobs, e))?;
        let blob = blobs.join(&announced.etag);
        if blob.is_file() && verify::check(&blob, &announced.etag, file).is_err() {
            // Left by another tool or an older version; fetch it again.
            std::fs::remove_file(&blob).map_err(|e| HubError::io(&blob, e))?;
        }
        if !blob.is_file() {
            self.download(file, &announced, &blob)?;
        }
        let link = self
            .folder
            .join("snapshots")
            .join(&announced.commit)
            .join(file);
        link_blob(&link, file, &announced.etag)?;
        self.write_ref(&announced.commit)?;
        Ok(link)
    }

    /// The metadata request (`Range: bytes=0-0`; relative redirects followed, absolute ones
    /// not), as huggingface_hub makes it; every value that becomes a path is validated here.
    fn announce(&self, first_url: &str) -> Result<Announced, HubError> {
        // A renamed repository (`roberta-large` -> `FacebookAI/roberta-large`) answers with a
        // relative redirect to its new name: followed, as huggingface_hub does. An absolute one
        // (the CDN of an LFS file) is where the bytes are.
        let limit = self.hub.client.limits().max_redirects;
        let mut url = first_url.to_string();
        let mut hops = 0;
        let reply = loop {
            let reply = self.hub.client.get(&url, Some("bytes=0-0"), false)?;
            let location = reply.response.header("Location").unwrap_or_default().trim();
            let relative = location.starts_with('/') && !location.starts_with("//");
            if !((300..400).contains(&reply.response.status()) && relative) {
                break reply;
            }
            if hops == limit {
                return Err(HubError::refused(
                    first_url,
                    "redirect chain",
                    url,
                    format!("more than {limit} redirects (a redirect loop?)"),
                ));
            }
            url = crate::http::join_url(&url, location).unwrap_or_default();
            hops += 1;
        };
        let url = url.as_str();
        let r = &reply.response;
        let header = |name: &str| r.header(name).map(str::trim).filter(|v| !v.is_empty());
        let commit = names::commit(
            header("X-Repo-Commit").unwrap_or_default(),
            url,
            "X-Repo-Commit",
        )?;
        if let Some(listed) = &self.commit {
            if listed != &commit {
                return Err(HubError::refused(
                    url,
                    "X-Repo-Commit",
                    commit,
                    format!("the file list was of commit {listed} (the repository changed during the download? run again)"),
                ));
            }
        }
        let etag = names::etag(
            header("X-Linked-Etag")
                .or_else(|| header("ETag"))
                .unwrap_or_default(),
            url,
        )?;
        let size_text = header("X-Linked-Size")
            .map(str::to_string)
            .or_else(|| {
                header("Content-Range").and_then(|c| c.rsplit_once('/').map(|(_, n)| n.to_string()))
            })
            .or_else(|| {
                (r.status() == 200)
                    .then(|| header("Content-Length").map(str::to_string))
                    .flatten()
            })
            .unwrap_or_default();
        let size: u64 = size_text.trim().parse().map_err(|_| {
            HubError::refused(
                url,
                "file size",
                size_text.clone(),
                "X-Linked-Size or Content-Range must give the size in bytes",
            )
        })?;
        let target = if (300..400).contains(&r.status()) {
            let location = header("Location").unwrap_or_default();
            crate::http::join_url(url, location).ok_or_else(|| {
                HubError::refused(
                    url,
                    "redirect Location",
                    location,
                    "an http(s) URL or a path",
                )
            })?
        } else {
            url.to_string()
        };
        Ok(Announced {
            commit,
            etag,
            size,
            url: target,
        })
    }

    /// The announced size and LFS hash must be what the file list says.
    fn check_against_list(&self, file: &str, url: &str, a: &Announced) -> Result<(), HubError> {
        let Some(listed) = self.listed.get(file) else {
            return Ok(());
        };
        if let Some(size) = listed.size.filter(|&s| s != a.size) {
            return Err(HubError::refused(
                url,
                "file size",
                a.size.to_string(),
                format!("the repository's file list gives {file} {size} bytes"),
            ));
        }
        if let Some(sha) = listed.lfs_sha256.as_ref().filter(|s| **s != a.etag) {
            return Err(HubError::refused(
                url,
                "etag",
                a.etag.clone(),
                format!("the repository's file list gives {file} the sha256 {sha}"),
            ));
        }
        Ok(())
    }

    /// The bytes into `<blob>.part` (resumed where a broken transfer stopped), verified, then
    /// renamed to `blob`.
    fn download(&self, file: &str, a: &Announced, blob: &Path) -> Result<(), HubError> {
        let part = blob.with_extension("part");
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have >= a.size && have > 0 {
            // Longer than the file, or as long but unverified: start over.
            std::fs::remove_file(&part).map_err(|e| HubError::io(&part, e))?;
        }
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let folder = blob.parent().unwrap_or(Path::new("."));
        if let Some(available) = space::available(folder) {
            let needed = a.size - have;
            if needed > available {
                return Err(HubError::NoSpace {
                    file: file.to_string(),
                    needed,
                    available,
                    folder: folder.to_path_buf(),
                });
            }
        }
        tracing::info!(file, bytes = a.size, "downloading");
        self.hub
            .client
            .with_retries(|| fetch_into(&self.hub.client, &a.url, &part, a.size))?;
        if let Err(e) = verify::check(&part, &a.etag, file) {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        std::fs::rename(&part, blob).map_err(|e| HubError::io(blob, e))
    }

    fn write_ref(&self, commit: &str) -> Result<(), HubError> {
        if names::commit(&self.revision, "", "").is_ok() {
            return Ok(());
        }
        let path = self.ref_path();
        let refs = path.parent().unwrap_or(&self.folder);
        std::fs::create_dir_all(refs).map_err(|e| HubError::io(refs, e))?;
        let tmp = refs.join(".ref.tmp");
        std::fs::write(&tmp, commit).map_err(|e| HubError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| HubError::io(&path, e))
    }
}

/// One attempt: appends the rest of the file to `part` (from its current length), reading at
/// most `size` bytes in all. A broken connection keeps what arrived (transient: the next attempt
/// resumes); a body longer than announced removes `part`.
fn fetch_into(client: &Client, url: &str, part: &Path, size: u64) -> Result<(), HubError> {
    let mut have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if have == size && part.exists() {
        return Ok(());
    }
    let range = format!("bytes={have}-");
    let reply = client.get(url, (have > 0).then_some(range.as_str()), true)?;
    let status = reply.response.status();
    let resumed = status == 206
        && reply
            .response
            .header("Content-Range")
            .is_some_and(|c| c.trim().starts_with(&format!("bytes {have}-")));
    if !resumed {
        // A full body (200), or a range we did not ask for: write from the start.
        have = 0;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .map_err(|e| HubError::io(part, e))?;
    let remaining = size - have;
    let mut body = reply.response.into_reader().take(remaining + 1);
    let mut buffer = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Err(HubError::Transport {
                    url: reply.url,
                    message: format!(
                        "the transfer broke off after {} of {size} bytes: {e}",
                        have + got
                    ),
                })
            }
        };
        got += n as u64;
        if got > remaining {
            drop(out);
            let _ = std::fs::remove_file(part);
            return Err(HubError::refused(
                &reply.url,
                "body",
                format!("more than {size} bytes"),
                "the file was announced with that size; nothing was kept",
            ));
        }
        out.write_all(&buffer[..n])
            .map_err(|e| HubError::io(part, e))?;
    }
    out.flush().map_err(|e| HubError::io(part, e))?;
    // A body that ended early but cleanly is left to the hash check, which removes it.
    Ok(())
}

/// `snapshots/<commit>/<file>` -> `../../blobs/<etag>` (relative, as huggingface_hub makes it).
fn link_blob(link: &Path, file: &str, etag: &str) -> Result<(), HubError> {
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
    }
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(link).map_err(|e| HubError::io(link, e))?;
    }
    let depth = file.split('/').count() + 1;
    let target: PathBuf = std::iter::repeat_n("..", depth)
        .collect::<PathBuf>()
        .join("blobs")
        .join(etag);
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink(&target, link);
    #[cfg(not(unix))]
    let made = link
        .parent()
        .map(|p| p.join(&target))
        .map_or(Ok(0), |blob| std::fs::copy(blob, link))
        .map(|_| ());
    made.map_err(|e| HubError::io(link, e))
}
