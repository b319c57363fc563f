//! The Hub download path end to end, against a local server that answers like the Hugging Face
//! Hub (tests/hub_server): a tiny RoBERTa checkpoint is downloaded, verified and loaded; a second
//! run is served from the cache without a request; broken transfers (connection dropped, short
//! body, corrupt bytes, 404) give one clear error and never a snapshot that passes for complete,
//! and the next healthy run completes (resuming an interrupted file).

use crate::common::fixture;
use crate::hub_server::{sha256_hex, Fault, HubServer};
use burn::backend::NdArray;
use dmlft_model::hub::{cache_folder_name, cached_snapshot, is_complete, HubSettings};
use dmlft_model::{load_classifier, resolve_source_with};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) const REPO: &str = "roberta-large";
pub(crate) const WEIGHTS: &str = "model.safetensors";

/// The tiny RoBERTa checkpoint of tests/fixtures plus the tokenizer files of dmlft-data's tiny BPE.
pub(crate) fn checkpoint() -> BTreeMap<String, Vec<u8>> {
    let tokenizer =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/tests/fixtures/tokenizers/roberta-bpe");
    let mut files = BTreeMap::new();
    for (name, dir) in [
        ("config.json", fixture("tiny-roberta")),
        (WEIGHTS, fixture("tiny-roberta")),
        ("vocab.json", tokenizer.clone()),
        ("merges.txt", tokenizer),
    ] {
        files.insert(name.to_string(), std::fs::read(dir.join(name)).unwrap());
    }
    files
}

/// The same checkpoint cut into two safetensors shards and an index, as large models are stored.
pub(crate) fn sharded_checkpoint() -> BTreeMap<String, Vec<u8>> {
    let mut files = checkpoint();
    let bytes = files.remove(WEIGHTS).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = tensors.names().into_iter().map(String::from).collect();
    names.sort();
    let mut weight_map = serde_json::Map::new();
    for (i, part) in names.chunks(names.len() / 2 + 1).enumerate() {
        let shard = format!("model-0000{}-of-00002.safetensors", i + 1);
        let views: Vec<(String, safetensors::tensor::TensorView)> = part
            .iter()
            .map(|n| (n.clone(), tensors.tensor(n).unwrap()))
            .collect();
        files.insert(shard.clone(), safetensors::serialize(views, None).unwrap());
        for n in part {
            weight_map.insert(n.clone(), shard.clone().into());
        }
    }
    let index = serde_json::json!({ "metadata": {}, "weight_map": weight_map });
    files.insert(
        "model.safetensors.index.json".into(),
        index.to_string().into_bytes(),
    );
    files
}

pub(crate) fn settings(cache: &Path, server: &HubServer) -> HubSettings {
    HubSettings {
        cache: cache.to_path_buf(),
        endpoint: server.endpoint.clone(),
        allow_download: true,
        token: None,
        timeout: Duration::from_secs(10),
    }
}

pub(crate) fn snapshot_dir(cache: &Path, server: &HubServer) -> PathBuf {
    cache
        .join(cache_folder_name(REPO))
        .join("snapshots")
        .join(&server.commit)
}

pub(crate) fn loads(dir: &Path) {
    let device = Default::default();
    load_classifier::<NdArray>(dir, 2, 1, None, &device)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
}

#[test]
fn first_run_downloads_and_verifies_second_run_is_served_from_the_cache() {
    let files = checkpoint();
    let server = HubServer::start(REPO, files.clone(), &[WEIGHTS]);
    let cache = tempfile::tempdir().unwrap();
    let dir = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
    assert_eq!(dir, snapshot_dir(cache.path(), &server));
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
    }
    // The weights came through the LFS redirect, the config directly.
    let log = server.take_log();
    assert!(log
        .iter()
        .any(|l| l.starts_with("GET /api/models/roberta-large/revision/main")));
    assert!(log
        .iter()
        .any(|l| l.starts_with(&format!("GET /cdn/{}", sha256_hex(&files[WEIGHTS])))));
    assert!(log
        .iter()
        .any(|l| l.starts_with("GET /roberta-large/resolve/main/config.json")));
    loads(&dir);

    // Second run: from the cache, not one request; also with downloading off and no server.
    let again = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
    assert_eq!(again, dir);
    assert!(server.take_log().is_empty());
    let server_gone = server;
    let offline = HubSettings {
        endpoint: "http://127.0.0.1:9".into(),
        allow_download: false,
        ..settings(cache.path(), &server_gone)
    };
    drop(server_gone);
    assert_eq!(resolve_source_with(REPO, &offline).unwrap(), dir);
}

#[test]
fn a_dropped_connection_is_an_error_and_the_next_run_resumes() {
    let files = checkpoint();
    let size = files[WEIGHTS].len();
    let server = HubServer::start(REPO, files.clone(), &[WEIGHTS]);
    server.set_fault(WEIGHTS, Some(Fault::DropAfter(size / 2)));
    let cache = tempfile::tempdir().unwrap();
    let err = resolve_source_with(REPO, &settings(cache.path(), &server))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(WEIGHTS) && err.contains("downloading it from"),
        "{err}"
    );
    assert!(cached_snapshot(cache.path(), REPO).is_none());
    let snapshot = snapshot_dir(cache.path(), &server);
    assert!(!snapshot.join(WEIGHTS).exists() && !snapshot.join("config.json").exists());
    // What arrived is kept as the resume point, outside the snapshot.
    let part = cache
        .path()
        .join(cache_folder_name(REPO))
        .join("blobs")
        .join(format!("{}.part", sha256_hex(&files[WEIGHTS])));
    assert_eq!(std::fs::metadata(&part).unwrap().len() as usize, size / 2);

    server.set_fault(WEIGHTS, None);
    server.take_log();
    let dir = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
    assert_eq!(std::fs::read(dir.join(WEIGHTS)).unwrap(), files[WEIGHTS]);
    let resumed = format!("bytes={}-", size / 2);
    assert!(
        server.take_log().iter().any(|l| l.ends_with(&resumed)),
        "no resume"
    );
    loads(&dir);
}

#[test]
fn short_or_corrupt_files_are_removed_from_the_cache_and_named() {
    let files = checkpoint();
    let size = files[WEIGHTS].len();
    for (file, fault, hash) in [
        (WEIGHTS, Fault::Truncate(size / 3), "sha256"),
        (WEIGHTS, Fault::Corrupt, "sha256"),
        ("config.json", Fault::Corrupt, "git blob sha1"),
        ("merges.txt", Fault::Truncate(10), "git blob sha1"),
    ] {
        let server = HubServer::start(REPO, files.clone(), &[WEIGHTS]);
        server.set_fault(file, Some(fault.clone()));
        let cache = tempfile::tempdir().unwrap();
        let err = resolve_source_with(REPO, &settings(cache.path(), &server))
            .unwrap_err()
            .to_string();
        let what = format!("{file} {fault:?}: {err}");
        assert!(err.contains(file) && err.contains(hash), "{what}");
        assert!(err.contains("removed from the cache"), "{what}");
        assert!(cached_snapshot(cache.path(), REPO).is_none(), "{what}");
        assert!(
            !snapshot_dir(cache.path(), &server).join(file).exists(),
            "{what}"
        );
        let blobs = cache.path().join(cache_folder_name(REPO)).join("blobs");
        let left: Vec<_> = std::fs::read_dir(&blobs)
            .unwrap()
            .flatten()
            .map(|e| std::fs::read(e.path()).unwrap_or_default())
            .collect();
        assert!(
            left.iter()
                .all(|b| files.values().any(|f| f == b) || b.is_empty()),
            "{what}: a bad blob stayed"
        );

        server.set_fault(file, None);
        let dir = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            files[file],
            "{what}"
        );
    }
}

#[test]
fn missing_files_and_models_are_clear_errors() {
    let files = checkpoint();
    let server = HubServer::start(REPO, files.clone(), &[WEIGHTS]);
    server.set_fault(WEIGHTS, Some(Fault::NotFound));
    let cache = tempfile::tempdir().unwrap();
    let err = resolve_source_with(REPO, &settings(cache.path(), &server))
        .unwrap_err()
        .to_string();
    assert!(err.contains(WEIGHTS) && err.contains("404"), "{err}");
    assert!(
        err.contains("huggingface-cli download roberta-large"),
        "{err}"
    );
    assert!(cached_snapshot(cache.path(), REPO).is_none());

    let err = resolve_source_with("someone/no-such-model", &settings(cache.path(), &server))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot list the files") && err.contains("404"),
        "{err}"
    );

    // A repository without safetensors weights.
    let mut bin_only = files;
    bin_only.remove(WEIGHTS);
    bin_only.insert("pytorch_model.bin".into(), vec![0; 10]);
    let server = HubServer::start(REPO, bin_only, &[]);
    let err = resolve_source_with(REPO, &settings(cache.path(), &server))
        .unwrap_err()
        .to_string();
    assert!(err.contains("neither model.safetensors nor"), "{err}");
}

#[test]
fn sharded_checkpoints_download_every_shard() {
    let files = sharded_checkpoint();
    let shard = "model-00002-of-00002.safetensors";
    let server = HubServer::start(
        REPO,
        files.clone(),
        &[shard, "model-00001-of-00002.safetensors"],
    );
    server.set_fault(shard, Some(Fault::NotFound));
    let cache = tempfile::tempdir().unwrap();
    let err = resolve_source_with(REPO, &settings(cache.path(), &server))
        .unwrap_err()
        .to_string();
    assert!(err.contains(shard), "{err}");
    let snapshot = snapshot_dir(cache.path(), &server);
    assert!(snapshot.join("model.safetensors.index.json").is_file());
    assert!(!is_complete(&snapshot) && cached_snapshot(cache.path(), REPO).is_none());

    server.set_fault(shard, None);
    let dir = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
    assert!(dir.join(shard).is_file());
    loads(&dir);
}

#[test]
fn an_overlong_partial_file_is_discarded() {
    let files = checkpoint();
    let server = HubServer::start(REPO, files.clone(), &[WEIGHTS]);
    let cache = tempfile::tempdir().unwrap();
    let blobs = cache.path().join(cache_folder_name(REPO)).join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let part = blobs.join(format!("{}.part", sha256_hex(&files[WEIGHTS])));
    std::fs::write(&part, vec![7u8; files[WEIGHTS].len() + 10]).unwrap();
    let dir = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
    assert_eq!(std::fs::read(dir.join(WEIGHTS)).unwrap(), files[WEIGHTS]);
}

#[test]
fn concurrent_runs_download_once() {
    let files = checkpoint();
    let server = HubServer::start(REPO, files.clone(), &[WEIGHTS]);
    let cache = tempfile::tempdir().unwrap();
    let s = settings(cache.path(), &server);
    let dirs: Vec<PathBuf> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| resolve_source_with(REPO, &s).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(dirs.iter().all(|d| d == &dirs[0]));
    let weights_bodies = server
        .take_log()
        .iter()
        .filter(|l| l.starts_with("GET /cdn/") && !l.ends_with("bytes=0-0"))
        .count();
    assert_eq!(weights_bodies, 1);
}

#[test]
fn a_renamed_repository_is_followed_to_its_new_name() {
    // The Hub moved `roberta-large` to `FacebookAI/roberta-large` and redirects the old name.
    let files = checkpoint();
    let server = HubServer::start("FacebookAI/roberta-large", files.clone(), &[WEIGHTS]);
    server.state.lock().unwrap().aliases.push(REPO.into());
    let cache = tempfile::tempdir().unwrap();
    let dir = resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
    assert_eq!(dir, snapshot_dir(cache.path(), &server));
    assert_eq!(std::fs::read(dir.join(WEIGHTS)).unwrap(), files[WEIGHTS]);
    loads(&dir);
}
