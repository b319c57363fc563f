//! Shared fixture of the CLI tests: a temp folder with a tiny custom dataset, a stand-in model
//! folder (enough for the plan-time file checks) and helpers to write grids and run `dmlft`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

/// Grid head shared by most tests: the tiny dataset, per-class protocol, one loss.
pub const HEAD: &str = r#"name = "t"
data_root = "data"
output = "out"
datasets = [{ name = "tiny", train = "tiny.csv", test = "tiny_test.csv", format = "csv", text_column = "text", label_column = "label" }]
"#;

/// The stand-in model's `config.json`: a 2-layer BERT of hidden size 32.
pub const TINY_CONFIG: &str = r#"{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
"num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 64}"#;

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        // classes: a x6, b x4, c x3 (so 4 shots per class is impossible)
        let mut csv = String::from("text,label\n");
        for (label, n) in [("a", 6), ("b", 4), ("c", 3)] {
            for i in 0..n {
                csv.push_str(&format!("example {label} number {i},{label}\n"));
            }
        }
        std::fs::write(data.join("tiny.csv"), &csv).unwrap();
        std::fs::write(
            data.join("tiny_test.csv"),
            "text,label\nt a,a\nt b,b\nt c,c\n",
        )
        .unwrap();
        let model = dir.path().join("model");
        std::fs::create_dir_all(&model).unwrap();
        // A real (tiny) architecture, so that plans can size it; the weights are never read.
        std::fs::write(model.join("config.json"), TINY_CONFIG).unwrap();
        std::fs::write(model.join("model.safetensors"), "").unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `<name>` in the fixture folder.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `dmlft` in the fixture folder with the fake executor enabled.
    pub fn dmlft(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dmlft"));
        c.current_dir(self.path())
            .env("DMLFT_TEST_FAKE_EXECUTOR", "1")
            .env_remove("DMLFT_DATA_DIR")
            .env_remove("DMLFT_FAKE_FAIL")
            .env_remove("DMLFT_FAKE_SLEEP_MS")
            .env_remove("DMLFT_FAKE_LOG")
            .env_remove("DMLFT_FAKE_PANIC")
            .env_remove("RUST_BACKTRACE")
            // plans calibrate with a toy probe, cached in the fixture (never the user's cache)
            .env("DMLFT_CACHE_DIR", self.cache_dir())
            .env("DMLFT_CALIBRATION_PROBE", "toy")
            .env("RUST_LOG", "warn");
        c
    }

    /// Where plans cache their calibration.
    pub fn cache_dir(&self) -> PathBuf {
        self.path().join("cache")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.dmlft().args(args).output().expect("run dmlft")
    }

    /// Cell ids of a grid in expansion order (via `plan --json`).
    pub fn cell_ids(&self, grid: &str) -> Vec<String> {
        let out = self.run(&["plan", grid, "--json"]);
        assert!(
            out.status.success(),
            "plan failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        plan["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn cells_dir(&self) -> PathBuf {
        self.path().join("out/cells")
    }

    /// File names in the cells folder.
    pub fn cell_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.cells_dir())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn record(&self, id: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.cells_dir().join(format!("{id}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Lines of the fake executor's log: cell ids in run order.
    pub fn log_ids(&self, log: &Path) -> Vec<String> {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A grid with `n_seeds` seeds x the given losses on the tiny dataset (per-class, 2 shots).
pub fn seeds_grid(n_seeds: usize, extra: &str) -> String {
    let seeds: Vec<String> = (1..=n_seeds).map(|s| s.to_string()).collect();
    format!("{HEAD}shots = [2]\nseeds = [{}]\n{extra}\n[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n", seeds.join(", "))
}

/// A CE + ProxyAnchor loss variant `ce-pa` to add to a grid.
pub const CE_PROXY_ANCHOR: &str = "[losses.ce-pa]\nce_weight = 0.5\n[[losses.ce-pa.dml]]\nweight = 0.5\nloss = { kind = \"proxy-anchor\", alpha = 32.0, margin = 0.1 }\n";

/// Runs the grid file `g.toml` with the fake executor failing its first cell (exit 2: failed
/// cells); returns the cell ids.
pub fn run_with_first_cell_failing(fx: &Fixture) -> Vec<String> {
    let ids = fx.cell_ids("g.toml");
    let out = fx
        .dmlft()
        .args(["run", "g.toml"])
        .env("DMLFT_FAKE_FAIL", &ids[0][..10])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    ids
}

/// A model folder whose config.json is a real BERT config with `positions` position embeddings
/// (plan reads it to bound `max_length`); the weights file is empty (plan only checks it exists).
pub fn bert_model(dir: &Path, positions: usize) -> PathBuf {
    let model = dir.join("bert-model");
    std::fs::create_dir_all(&model).unwrap();
    let config = serde_json::json!({
        "model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 300,
        "max_position_embeddings": positions, "pad_token_id": 0
    });
    std::fs::write(model.join("config.json"), config.to_string()).unwrap();
    std::fs::write(model.join("model.safetensors"), "").unwrap();
    model
}

/// A small SentEval tree in SentEval's own layout, every task, `n` examples per class and split
/// (texts are synthetic): enough for the shot counts of the committed grids.
pub fn synthetic_senteval(root: &Path, n: usize) {
    let w = |rel: &str, text: String| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let lines = |tag: &str| -> String {
        (0..n)
            .map(|i| format!("{tag} sentence number {i} \n"))
            .collect()
    };
    for (dir, a, b) in [
        ("MR", "rt-polarity.pos", "rt-polarity.neg"),
        ("CR", "custrev.pos", "custrev.neg"),
        ("SUBJ", "subj.objective", "subj.subjective"),
        ("MPQA", "mpqa.pos", "mpqa.neg"),
    ] {
        w(&format!("{dir}/{a}"), lines("good"));
        w(&format!("{dir}/{b}"), lines("bad"));
    }
    for split in ["train", "dev", "test"] {
        let mut sst2 = String::new();
        let mut sst5 = String::new();
        for i in 0..n {
            for l in 0..2 {
                sst2.push_str(&format!("phrase {i} of class {l}\t{l}\n"));
            }
            for l in 0..5 {
                sst5.push_str(&format!("{l} phrase {i} of class {l}\n"));
            }
        }
        w(&format!("SST/binary/sentiment-{split}"), sst2);
        w(&format!("SST/fine/sentiment-{split}"), sst5);
    }
    for file in ["train_5500.label", "TREC_10.label"] {
        let mut t = String::new();
        for i in 0..n {
            for c in ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"] {
                t.push_str(&format!("{c}:x what is question {i} of {c} ?\n"));
            }
        }
        w(&format!("TREC/{file}"), t);
    }
    for file in ["msr_paraphrase_train.txt", "msr_paraphrase_test.txt"] {
        let mut t = String::from("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n");
        for i in 0..n {
            for l in 0..2 {
                t.push_str(&format!("{l}\t{i}\t{i}\tfirst {i} {l}\tsecond {i} {l}\n"));
            }
        }
        w(&format!("MRPC/{file}"), t);
    }
    for file in [
        "SICK_train.txt",
        "SICK_trial.txt",
        "SICK_test_annotated.txt",
    ] {
        let mut t = String::from(
            "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n",
        );
        for i in 0..n {
            for l in ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"] {
                t.push_str(&format!("{i}\ta {i}\tb {i}\t3.0\t{l}\n"));
            }
        }
        w(&format!("SICK/{file}"), t);
    }
}

/// The real SentEval folder (see dmlft-testing), or `None` (skip).
pub fn senteval() -> Option<PathBuf> {
    dmlft_testing::senteval_dir()
}

/// The papers' authors' files beside SentEval (skipped without them unless DMLFT_REQUIRE_DATA=1).
pub fn authors_data() -> Option<PathBuf> {
    let dir = senteval()?;
    dmlft_testing::authors_dir()?;
    Some(dir)
}
