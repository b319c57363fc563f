//! The Hub download against a hostile or broken server (tests/hub_server's faults): every value
//! that would become a path is refused before a file is written, no request hangs or loops, the
//! token stays on the Hub's host, sizes that lie are caught before the disk fills, and nothing
//! unverified is left in the cache. After each attack an honest server's download succeeds.

use crate::hub_download::{checkpoint, settings, sharded_checkpoint, snapshot_dir, REPO, WEIGHTS};
use crate::hub_server::{Fault, HubServer};
use dmlft_model::hub::{cache_folder_name, cached_snapshot, is_complete};
use dmlft_model::resolve_source_with;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The download's error with `fault` on `file`; then the same cache against the honest server
/// succeeds (the attack left nothing that breaks later runs), and the cache is removed.
fn attack(file: &str, fault: Fault, lfs: &[&str], cache: &Path) -> String {
    let server = HubServer::start(REPO, checkpoint(), lfs);
    server.set_fault(file, Some(fault.clone()));
    let err = resolve_source_with(REPO, &settings(cache, &server))
        .unwrap_err()
        .to_string();
    assert!(cached_snapshot(cache, REPO).is_none(), "{fault:?}: {err}");
    server.set_fault(file, None);
    resolve_source_with(REPO, &settings(cache, &server))
        .unwrap_or_else(|e| panic!("{fault:?}: the honest run after it failed: {e}"));
    std::fs::remove_dir_all(cache).unwrap();
    err
}

/// Every path under `dir` (files, links, folders).
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(tree(&path));
        }
        out.push(path);
    }
    out
}

fn partial_files(cache: &Path) -> Vec<PathBuf> {
    tree(cache)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "part"))
        .collect()
}

#[test]
fn an_etag_that_is_a_path_is_refused_and_nothing_is_written_outside() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let victim = root.path().join("victim.txt");
    for (file, lfs) in [("config.json", &[][..]), (WEIGHTS, &[WEIGHTS][..])] {
        std::fs::write(&victim, "keep me").unwrap();
        for etag in [
            victim.display().to_string(),
            "../../../escaped".to_string(),
            "redirect".to_string(),
        ] {
            let err = attack(file, Fault::Etag(format!("\"{etag}\"")), lfs, &cache);
            assert!(
                err.contains(file) && err.contains("etag") && err.contains("40 hexadecimal"),
                "{file} {etag}: {err}"
            );
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
            assert!(!root.path().join("escaped").exists(), "{etag}");
        }
    }
}

#[test]
fn shard_names_that_leave_the_snapshot_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let outside = root.path().join("outside.safetensors");
    std::fs::write(&outside, "not a shard").unwrap();
    for hostile in [
        outside.display().to_string(),
        "../../../../outside.safetensors".to_string(),
        "/etc/passwd".to_string(),
    ] {
        let mut files = sharded_checkpoint();
        let index_name = "model.safetensors.index.json";
        let mut index: serde_json::Value = serde_json::from_slice(&files[index_name]).unwrap();
        let first = index["weight_map"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap()
            .clone();
        index["weight_map"][&first] = hostile.clone().into();
        files.insert(index_name.into(), index.to_string().into_bytes());
        let server = HubServer::start(
            REPO,
            files,
            &[
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
            ],
        );
        let err = resolve_source_with(REPO, &settings(&cache, &server))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("weight_map.{first}"))
                && err.contains("plain relative file name"),
            "{hostile}: {err}"
        );
        assert!(!is_complete(&snapshot_dir(&cache, &server)), "{hostile}");
        assert!(cached_snapshot(&cache, REPO).is_none(), "{hostile}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "not a shard");
        // No link was made anywhere for the hostile name.
        assert!(tree(&cache)
            .iter()
            .all(|p| !p.ends_with("outside.safetensors")));
    }
}

#[test]
fn a_commit_that_is_a_path_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let outside = root.path().join("outside");
    for commit in [
        outside.display().to_string(),
        "../../../outside".to_string(),
        "../x".to_string(),
        "main".to_string(),
    ] {
        for (file, lfs) in [("config.json", &[][..]), (WEIGHTS, &[WEIGHTS][..])] {
            let err = attack(file, Fault::Commit(commit.clone()), lfs, &cache);
            assert!(
                err.contains("X-Repo-Commit") && err.contains("40 hexadecimal"),
                "{commit}: {err}"
            );
            assert!(!outside.exists(), "{commit}: a snapshot outside the cache");
        }
    }
    // A `refs/main` that names a folder outside the cache is not followed.
    let repo = cache.join(cache_folder_name(REPO));
    let server = HubServer::start(REPO, checkpoint(), &[WEIGHTS]);
    let honest = resolve_source_with(REPO, &settings(&cache, &server)).unwrap();
    std::fs::write(repo.join("refs/main"), "../../../outside").unwrap();
    std::fs::create_dir_all(root.path().join("outside")).unwrap();
    for name in ["config.json", WEIGHTS] {
        std::fs::copy(honest.join(name), root.path().join("outside").join(name)).unwrap();
    }
    assert!(cached_snapshot(&cache, REPO).is_none());
}

#[test]
fn a_stalled_server_times_out_and_a_redirect_loop_ends() {
    let cache = tempfile::tempdir().unwrap();
    let server = HubServer::start(REPO, checkpoint(), &[WEIGHTS]);
    let mut quick = settings(cache.path(), &server);
    quick.timeout = Duration::from_millis(500);
    server.set_fault(WEIGHTS, Some(Fault::Stall));
    let started = Instant::now();
    let err = resolve_source_with(REPO, &quick).unwrap_err().to_string();
    // 3 attempts of 0.5 s and 0.5 + 1 s of backoff; far less than "forever".
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains(WEIGHTS) && err.contains("/cdn/"), "{err}");
    let body_requests = server
        .take_log()
        .iter()
        .filter(|l| l.starts_with("GET /cdn/"))
        .count();
    assert_eq!(body_requests, 3, "one attempt and two retries");

    server.set_fault(WEIGHTS, None);
    server.set_fault("config.json", Some(Fault::RedirectLoop));
    let started = Instant::now();
    let err = resolve_source_with(REPO, &quick).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        err.contains("config.json") && err.contains("more than 5 redirects"),
        "{err}"
    );
    assert!(server.take_log().len() < 20);
    server.set_fault("config.json", None);
    resolve_source_with(REPO, &quick).unwrap();
}

#[test]
fn transient_failures_are_retried_a_bounded_number_of_times() {
    let cache = tempfile::tempdir().unwrap();
    let server = HubServer::start(REPO, checkpoint(), &[WEIGHTS]);
    server.set_fault("config.json", Some(Fault::Unavailable(1)));
    resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();

    let cache = tempfile::tempdir().unwrap();
    server.take_log();
    server.set_fault("config.json", Some(Fault::Unavailable(1000)));
    server.state.lock().unwrap().unavailable_sent.clear();
    let err = resolve_source_with(REPO, &settings(cache.path(), &server))
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.json") && err.contains("503"), "{err}");
    let bodies = server
        .take_log()
        .iter()
        .filter(|l| {
            l.starts_with("GET /roberta-large/resolve/main/config.json")
                && !l.ends_with("bytes=0-0")
        })
        .count();
    assert_eq!(bodies, 3);
}

#[test]
fn the_token_is_not_sent_to_another_host() {
    let cache = tempfile::tempdir().unwrap();
    let other = HubServer::start(REPO, checkpoint(), &[]);
    let server = HubServer::start(REPO, checkpoint(), &[WEIGHTS]);
    server.set_fault(WEIGHTS, Some(Fault::RedirectTo(other.endpoint.clone())));
    let mut with_token = settings(cache.path(), &server);
    with_token.token = Some("hf_secret".into());
    let dir = resolve_source_with(REPO, &with_token).unwrap();
    assert_eq!(
        std::fs::read(dir.join(WEIGHTS)).unwrap(),
        checkpoint()[WEIGHTS]
    );
    assert!(other.take_log().iter().any(|l| l.starts_with("GET /cdn/")));
    assert_eq!(other.take_authorized(), Vec::<String>::new());
    // The Hub itself did get it (the token is sent, only not onwards).
    assert!(server
        .take_authorized()
        .iter()
        .any(|p| p.contains("/resolve/main/config.json")));
}

#[test]
fn sizes_that_lie_are_caught_before_the_disk_fills() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let huge = 1u64 << 50;
    for (file, lfs) in [("config.json", &[][..]), (WEIGHTS, &[WEIGHTS][..])] {
        // Headers that disagree with the repository's file list.
        let err = attack(file, Fault::Announce(huge), lfs, &cache);
        assert!(err.contains("file list gives"), "{err}");
        // A size both agree on, beyond the free space: refused before a byte is written.
        let err = attack(file, Fault::AnnounceEverywhere(huge), lfs, &cache);
        assert!(err.contains(&format!("needs {huge} more bytes")), "{err}");
        // A body that runs past its announced size is cut and removed.
        let err = attack(file, Fault::Longer(1 << 20), lfs, &cache);
        assert!(
            err.contains("more than") && err.contains("nothing was kept"),
            "{err}"
        );
    }
    // After each attack (before the honest run) nothing unverified stayed: checked on a fresh
    // cache without the honest run.
    let server = HubServer::start(REPO, checkpoint(), &[WEIGHTS]);
    server.set_fault(WEIGHTS, Some(Fault::Longer(1 << 20)));
    resolve_source_with(REPO, &settings(&cache, &server)).unwrap_err();
    assert_eq!(partial_files(&cache), Vec::<PathBuf>::new());
    assert!(!snapshot_dir(&cache, &server).join(WEIGHTS).exists());
}

#[test]
fn a_corrupt_file_leaves_no_partial_file_behind() {
    let cache = tempfile::tempdir().unwrap();
    let server = HubServer::start(REPO, checkpoint(), &[WEIGHTS]);
    for file in [WEIGHTS, "config.json"] {
        server.set_fault(file, Some(Fault::Corrupt));
        let err = resolve_source_with(REPO, &settings(cache.path(), &server))
            .unwrap_err()
            .to_string();
        assert!(err.contains("removed from the cache"), "{err}");
        assert_eq!(partial_files(cache.path()), Vec::<PathBuf>::new(), "{file}");
        server.set_fault(file, None);
    }
    resolve_source_with(REPO, &settings(cache.path(), &server)).unwrap();
}
