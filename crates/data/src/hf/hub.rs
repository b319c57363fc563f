//! Hub datasets (the `hub` feature): the files of a Hugging Face dataset repository, found
//! through dmlft-hub (every name, etag and commit from the server checked there), downloaded
//! into the Hugging Face cache, and a record beside them so that later loads make no request.

use super::*;

/// What a download found, kept beside the cache so that later loads need no request.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    /// The revision the files come from (the asked one, or the Parquet conversion).
    source_revision: String,
    commit: String,
    splits: Matched,
}

/// `datasets--org--name/dmlft/<16 hex>.json`: one record per revision, config and split table.
fn record_path(folder: &Path, spec: &HfDatasetSpec) -> PathBuf {
    use sha2::{Digest, Sha256};
    let key = serde_json::json!([spec.revision, spec.config, spec.splits]).to_string();
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    folder.join("dmlft").join(format!("{hex}.json"))
}

/// The record's files, when the record and every file are in the cache.
fn from_record(folder: &Path, record_file: &Path) -> Option<SplitFiles> {
    let text = std::fs::read_to_string(record_file).ok()?;
    let record: Record = serde_json::from_str(&text).ok()?;
    dmlft_hub::names::commit(&record.commit, "", "").ok()?;
    let snapshot = folder.join("snapshots").join(&record.commit);
    let files = located(record.splits, &snapshot);
    let complete = files.iter().all(|(_, fs)| {
        fs.iter()
            .all(|f| dmlft_hub::names::file_name(&f.relative, "").is_ok() && f.path.is_file())
    });
    complete.then_some(files)
}

pub(super) fn hub_files(spec: &HfDatasetSpec, id: &str) -> Result<SplitFiles, DataError> {
    let env = dmlft_hub::EnvSettings::from_env();
    hub_files_with(spec, id, &env)
}

fn hub_files_with(
    spec: &HfDatasetSpec,
    id: &str,
    env: &dmlft_hub::EnvSettings,
) -> Result<SplitFiles, DataError> {
    let failed = |message: String| DataError::HfFiles {
        name: spec.name.clone(),
        message,
    };
    let limits = dmlft_hub::Limits {
        connect_timeout: env.timeout,
        read_timeout: env.timeout,
        ..dmlft_hub::Limits::default()
    };
    let hub = dmlft_hub::Hub::new(&env.endpoint, &env.cache, limits, env.token.clone());
    let revision = spec.revision.as_deref().unwrap_or("main");
    let repo = |rev: &str| {
        hub.repo(dmlft_hub::RepoKind::Dataset, id)
            .and_then(|r| r.at_revision(rev))
            .map_err(|e| failed(e.to_string()))
    };
    let mut asked = repo(revision)?;
    let folder = asked.folder().to_path_buf();
    let record_file = record_path(&folder, spec);
    if let Some(files) = from_record(&folder, &record_file) {
        return Ok(files);
    }
    if env.offline {
        return Err(failed(format!(
            "not in the Hugging Face cache ({} has no complete download of revision \
             {revision:?}; expected the record {}) and HF_HUB_OFFLINE is set: download it once \
             with network access (`dmlft data stats {}` does), or unset HF_HUB_OFFLINE",
            folder.display(),
            record_file.display(),
            spec.hub.as_deref().unwrap_or_default()
        )));
    }
    let _lock = asked.lock().map_err(|e| failed(e.to_string()))?;
    let listing = asked
        .list()
        .map_err(|e| failed(format!("cannot list the files of `{id}`: {e}")))?;
    let train = spec.splits.get(TRAIN).map(String::as_str).unwrap_or(TRAIN);
    let own_files = !split_files(&listing, spec.config.as_deref(), train).is_empty();
    let place = format!("the Hub dataset `{id}` at {revision:?}");
    let (source, matched) = if own_files {
        let matched = match_splits(spec, &listing, spec.config.as_deref(), &place)?;
        (asked, matched)
    } else {
        // No data file of its own (a loading script): the Hub's Parquet conversion, whose
        // files are `<config>/<split>/NNNN.parquet` (`default` without a config).
        let mut converted = repo(PARQUET_CONVERSION)?;
        let listing = converted.list().map_err(|e| {
            failed(format!(
                "`{id}` has no data file for split {train:?} at {revision:?} and its Parquet \
                 conversion ({PARQUET_CONVERSION}) cannot be listed: {e}"
            ))
        })?;
        let place = format!("the Parquet conversion of `{id}` ({PARQUET_CONVERSION})");
        let config = spec.config.as_deref().unwrap_or("default");
        let matched = match_splits(spec, &listing, Some(config), &place)?;
        (converted, matched)
    };
    let commit = source
        .commit()
        .ok_or_else(|| failed("the file list gave no commit".into()))?
        .to_string();
    let mut files = SplitFiles::new();
    for (split, names) in &matched {
        let mut got = Vec::new();
        for (name, format) in names {
            let path = source
                .get(name)
                .map_err(|e| failed(format!("cannot download {name}: {e}")))?;
            got.push(SplitFile {
                relative: name.clone(),
                path,
                format: *format,
            });
        }
        files.push((split.clone(), got));
    }
    let record = Record {
        source_revision: if own_files {
            revision.to_string()
        } else {
            PARQUET_CONVERSION.to_string()
        },
        commit,
        splits: matched,
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| failed(e.to_string()))?;
    if let Some(parent) = record_file.parent() {
        std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    }
    dmlft_fs::write_atomic(&record_file, &json).map_err(|e| DataError::io(&record_file, e))?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hf::tests::banking_like;
    use sha1::{Digest, Sha1};
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    type Files = BTreeMap<String, Vec<u8>>;

    /// A Hub-like server for one dataset: per revision (as in the URL, `/` escaped) a commit
    /// and files, the file list API and `resolve` with the headers dmlft-hub checks. `corrupt`
    /// files are served with one byte changed (the etag stays the true one).
    fn serve(id: &str, revisions: BTreeMap<String, (String, Files)>, corrupt: &[&str]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (id, corrupt) = (
            id.to_string(),
            corrupt.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut range = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    range |= line.to_ascii_lowercase().starts_with("range:");
                }
                let path = request.split_whitespace().nth(1).unwrap_or_default();
                let path = path.split('?').next().unwrap_or_default();
                let reply = route(&id, &revisions, &corrupt, path, range);
                let (status, headers, body) = reply.unwrap_or(("404 Not Found", vec![], vec![]));
                let mut head = format!("HTTP/1.1 {status}\r\n");
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str(&format!(
                    "Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                ));
                let mut stream = stream;
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        endpoint
    }

    type Reply = (&'static str, Vec<(String, String)>, Vec<u8>);

    fn route(
        id: &str,
        revisions: &BTreeMap<String, (String, Files)>,
        corrupt: &[String],
        path: &str,
        probe: bool,
    ) -> Option<Reply> {
        if let Some(rev) = path.strip_prefix(&format!("/api/datasets/{id}/revision/")) {
            let (commit, files) = revisions.get(rev)?;
            let siblings: Vec<_> = files
                .iter()
                .map(|(f, c)| serde_json::json!({"rfilename": f, "size": c.len()}))
                .collect();
            let body = serde_json::json!({"sha": commit, "siblings": siblings});
            return Some(("200 OK", vec![], body.to_string().into_bytes()));
        }
        let rest = path.strip_prefix(&format!("/datasets/{id}/resolve/"))?;
        let (rev, file) = rest.split_once('/')?;
        let (commit, files) = revisions.get(rev)?;
        let content = files.get(file)?;
        let mut sha = Sha1::new();
        sha.update(format!("blob {}\0", content.len()).as_bytes());
        sha.update(content);
        let etag: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let mut headers = vec![
            ("ETag".to_string(), format!("\"{etag}\"")),
            ("X-Repo-Commit".to_string(), commit.clone()),
        ];
        if probe {
            headers.push((
                "Content-Range".into(),
                format!("bytes 0-0/{}", content.len()),
            ));
            return Some(("206 Partial Content", headers, content[..1].to_vec()));
        }
        let mut body = content.clone();
        if corrupt.iter().any(|c| c == file) {
            body[0] ^= 0xff;
        }
        Some(("200 OK", headers, body))
    }

    fn env(endpoint: &str, cache: &Path, offline: bool) -> dmlft_hub::EnvSettings {
        dmlft_hub::EnvSettings {
            cache: cache.to_path_buf(),
            endpoint: endpoint.to_string(),
            offline,
            token: None,
            timeout: std::time::Duration::from_secs(5),
        }
    }

    /// banking77's Hub layout: a loading script on `main`, Parquet in the conversion.
    fn banking_repo(dir: &Path) -> BTreeMap<String, (String, Files)> {
        banking_like(dir, &[1, 0, 1]);
        let read = |f: &str| std::fs::read(dir.join("data").join(f)).unwrap();
        let main: Files = [("banking77.py".to_string(), b"# script".to_vec())].into();
        let converted: Files = [
            (
                "default/train/0000.parquet".to_string(),
                read("train-00000-of-00001.parquet"),
            ),
            (
                "default/test/0000.parquet".to_string(),
                read("test-00000-of-00001.parquet"),
            ),
        ]
        .into();
        [
            ("main".to_string(), ("1".repeat(40), main)),
            (
                "refs%2Fconvert%2Fparquet".to_string(),
                ("2".repeat(40), converted),
            ),
        ]
        .into()
    }

    fn banking_spec() -> HfDatasetSpec {
        let mut spec = preset("banking77").unwrap();
        spec.hub = Some("PolyAI/banking77".into());
        spec
    }

    #[test]
    fn a_script_only_repository_is_read_from_its_parquet_conversion_then_offline() {
        let data = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let endpoint = serve("PolyAI/banking77", banking_repo(data.path()), &[]);
        let spec = banking_spec();
        let offline = env(&endpoint, cache.path(), true);
        let err = hub_files_with(&spec, "PolyAI/banking77", &offline)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HF_HUB_OFFLINE") && err.contains("datasets--PolyAI--banking77"),
            "{err}"
        );
        let files = hub_files_with(
            &spec,
            "PolyAI/banking77",
            &env(&endpoint, cache.path(), false),
        )
        .unwrap();
        let relative: Vec<&str> = files.iter().map(|(_, f)| f[0].relative.as_str()).collect();
        assert_eq!(
            relative,
            ["default/train/0000.parquet", "default/test/0000.parquet"]
        );
        let snapshot = cache
            .path()
            .join("datasets--PolyAI--banking77/snapshots")
            .join("2".repeat(40));
        assert_eq!(
            files[0].1[0].path,
            snapshot.join("default/train/0000.parquet")
        );
        let ref_file = cache
            .path()
            .join("datasets--PolyAI--banking77/refs/refs/convert/parquet");
        assert_eq!(std::fs::read_to_string(ref_file).unwrap(), "2".repeat(40));
        // Offline now: the same files from the cache, without a server.
        let again = hub_files_with(
            &spec,
            "PolyAI/banking77",
            &env("http://127.0.0.1:9", cache.path(), true),
        )
        .unwrap();
        assert_eq!(again, files);
    }

    #[test]
    fn a_corrupted_download_is_refused_and_not_cached() {
        let data = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let endpoint = serve(
            "PolyAI/banking77",
            banking_repo(data.path()),
            &["default/test/0000.parquet"],
        );
        let err = hub_files_with(
            &banking_spec(),
            "PolyAI/banking77",
            &env(&endpoint, cache.path(), false),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("default/test/0000.parquet") && err.contains("sha1"),
            "{err}"
        );
        let offline = hub_files_with(
            &banking_spec(),
            "PolyAI/banking77",
            &env(&endpoint, cache.path(), true),
        );
        assert!(offline.is_err());
    }
}
