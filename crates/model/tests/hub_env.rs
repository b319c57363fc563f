//! `model.source = "roberta-large"` through the environment, as a grid cell resolves it:
//! `HF_ENDPOINT` names the Hub (here the local test server), `HF_HUB_CACHE` the cache; the model
//! is downloaded on first use and loads. Its own test binary, because it sets environment
//! variables.
#![cfg(feature = "hub")]

#[path = "suite/common/mod.rs"]
mod common;
#[path = "suite/hub_server/mod.rs"]
mod hub_server;

use burn::backend::NdArray;
use common::fixture;
use dmlft_model::load_from_spec;
use dmlft_model::spec::ModelSpec;
use hub_server::HubServer;
use std::collections::BTreeMap;

#[test]
fn a_hub_id_is_downloaded_from_hf_endpoint_into_hf_hub_cache() {
    let mut files = BTreeMap::new();
    for name in ["config.json", "model.safetensors"] {
        files.insert(
            name.to_string(),
            std::fs::read(fixture("tiny-roberta").join(name)).unwrap(),
        );
    }
    let server = HubServer::start("roberta-large", files, &["model.safetensors"]);
    let cache = tempfile::tempdir().unwrap();
    std::env::set_var("HF_ENDPOINT", format!("{}/", server.endpoint));
    std::env::set_var("HF_HUB_CACHE", cache.path());
    std::env::remove_var("HF_HUB_OFFLINE");
    let spec: ModelSpec =
        serde_json::from_value(serde_json::json!({ "source": "roberta-large" })).unwrap();
    let device = Default::default();
    load_from_spec::<NdArray>(&spec, 2, 1, &device).unwrap();
    assert!(cache
        .path()
        .join("models--roberta-large/refs/main")
        .is_file());
    assert!(!server.take_log().is_empty());

    // Offline now: the cached snapshot serves, nothing is asked of the server.
    std::env::set_var("HF_HUB_OFFLINE", "1");
    load_from_spec::<NdArray>(&spec, 2, 1, &device).unwrap();
    assert!(server.take_log().is_empty());
}
