//! SetFit as a loss variant of a grid (`method = "setfit"`, settings in `[losses.<name>.setfit]`,
//! owned and validated by dmlft-train): expansion, sweeps inside its settings, head-only
//! inference, fine-tune cells' ids untouched, every bad setting one file:line:col error, and
//! `plan` sizing its body stage.

use crate::common::{stderr, Fixture, HEAD};
use dmlft::grid::{cell_id::canonical_json, parse_grid, Grid, LoadOptions};
use dmlft_losses::losses::SupConLoss;
use dmlft_train::setfit::{BodyLoss, HeadSpec, SetFitSpec};
use dmlft_train::spec::InferenceMode;
use serde_json::Value;
use std::path::Path;

const SS: &str = "shots = [2]\nseeds = [1]\n";
const SECTIONS: &str =
    "[model]\nsource = \"model\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n";

/// HEAD (4 lines), SS (2), `top`, the sections (5 lines), then `tail` (from line 12 + top's lines).
fn grid(top: &str, tail: &str) -> String {
    format!("{HEAD}{SS}{top}{SECTIONS}{tail}")
}

fn parse(text: &str) -> Grid {
    parse_grid(text, Path::new("g.toml"), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_setfit_variant_gets_setfits_defaults_and_head_only_inference() {
    let g = parse(&grid(
        "inference = [\"head\", \"proxy\"]\n",
        "[losses.setfit]\nmethod = \"setfit\"\n[losses.pa]\nce_weight = 0.5\n[[losses.pa.dml]]\nweight = 0.5\nloss = { kind = \"proxy-anchor\" }\n",
    ));
    assert_eq!(g.losses, ["ce", "setfit", "pa"]);
    let by_loss = |name: &str| g.cells.iter().find(|c| c.spec.loss_name == name).unwrap();
    let setfit = by_loss("setfit");
    assert_eq!(setfit.spec.setfit, Some(SetFitSpec::default()));
    assert_eq!(setfit.spec.inference, [InferenceMode::Head]);
    assert_eq!(by_loss("pa").spec.inference.len(), 2);
    // Fine-tune cells serialise as before SetFit existed: their ids do not change.
    assert!(by_loss("ce").spec.setfit.is_none());
    assert!(!canonical_json(&by_loss("ce").spec).contains("setfit"));
    assert!(canonical_json(&setfit.spec).contains("\"setfit\":{"));
    assert_ne!(by_loss("ce").id, setfit.id);
}

#[test]
fn setfit_settings_are_read_and_swept_like_loss_hyperparameters() {
    let g = parse(&grid(
        "",
        "[losses.sf]\nmethod = \"setfit\"\n[losses.sf.setfit]\nsampling_strategy = \"unique\"\nnum_iterations = 5\nlr = [1e-5, 3e-5]\nbody_loss = { kind = \"sup-con\", temperature = 0.05 }\nhead = { kind = \"logistic\", c = 0.5, max_iter = 50 }\n",
    ));
    let sf: Vec<_> = g.cells.iter().filter(|c| c.loss_base == "sf").collect();
    assert_eq!(sf.len(), 2);
    assert_eq!(sf[0].spec.loss_name, "sf[lr=0.00001]");
    let spec = sf[1].spec.setfit.as_ref().unwrap();
    assert_eq!(spec.lr, 3e-5);
    assert_eq!(spec.num_iterations, Some(5));
    assert_eq!(
        spec.body_loss,
        BodyLoss::Dml(dmlft_losses::spec::DmlLossSpec::SupCon(SupConLoss {
            temperature: 0.05
        }))
    );
    assert_eq!(
        spec.head,
        HeadSpec::Logistic {
            c: 0.5,
            max_iter: 50
        }
    );
    assert_eq!(spec.batch_size, SetFitSpec::default().batch_size);
}

#[test]
fn bad_setfit_settings_give_one_error_at_the_key() {
    let fx = Fixture::new();
    let sf = "[losses.sf]\nmethod = \"setfit\"\n[losses.sf.setfit]\n";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "[losses.sf]\nmethod = \"sefit\"\n".into(),
            vec![
                "g.toml:13:",
                "key `losses.sf.method`",
                "unknown variant `sefit`",
                "setfit",
            ],
        ),
        (
            "[losses.x.setfit]\nlr = 1e-5\n".into(),
            vec!["key `losses.x.setfit`", "method = \"setfit\""],
        ),
        (
            "[losses.sf]\nmethod = \"setfit\"\nce_weight = 0.5\n".into(),
            vec![
                "g.toml:14:",
                "key `losses.sf.ce_weight`",
                "a SetFit variant has no `ce_weight`",
            ],
        ),
        (
            format!("{sf}sampling_strategy = \"random\"\n"),
            vec![
                "key `losses.sf.setfit.sampling_strategy`",
                "unknown variant `random`",
                "oversampling",
            ],
        ),
        (
            format!("{sf}lrr = 1e-5\n"),
            vec![
                "g.toml:15:",
                "key `losses.sf.setfit.lrr`",
                "unknown field `lrr`",
            ],
        ),
        (
            format!("{sf}body_loss = \"cosin\"\n"),
            vec![
                "key `losses.sf.setfit.body_loss`",
                "unknown body loss `cosin`",
                "\"cosine\"",
            ],
        ),
        (
            format!("{sf}body_loss = {{ kind = \"sup-con\", temperature = -1.0 }}\n"),
            vec![
                "key `losses.sf.setfit.body_loss.temperature`",
                "> 0 and finite",
            ],
        ),
        (
            format!("{sf}head = {{ kind = \"logistic\", c = 0.0 }}\n"),
            vec!["key `losses.sf.setfit.head.c`", "a positive number"],
        ),
        (
            format!("{sf}num_iterations = 0\n"),
            vec!["key `losses.sf.setfit.num_iterations`", "at least 1"],
        ),
        (
            format!("{sf}warmup_proportion = 1.5\n"),
            vec!["key `losses.sf.setfit.warmup_proportion`", "in [0, 1]"],
        ),
    ];
    let mut failures = Vec::new();
    for (tail, wanted) in &cases {
        let path = fx.write("g.toml", &grid("", tail));
        let out = fx.run(&["plan", path.to_str().unwrap()]);
        let err = stderr(&out);
        let ok = out.status.code() == Some(1)
            && err.starts_with("error: ")
            && err.lines().count() == 1
            && wanted.iter().all(|w| err.contains(w));
        if !ok {
            failures.push(format!("{tail:?}: want {wanted:?}, got {err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn plan_sizes_a_setfit_cell_from_its_pairs() {
    let fx = Fixture::new();
    fx.write("g.toml", &grid("", "[losses.sf]\nmethod = \"setfit\"\n"));
    let out = fx.run(&["plan", "g.toml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cells = plan["cells"].as_array().unwrap();
    let sf = cells.iter().find(|c| c["loss"] == "sf").unwrap();
    // 2 shots x 3 classes: pools of 9 positives and 12 negatives, oversampled to 24 pairs:
    // 2 steps of 16 pairs, both sentences of each embedded.
    assert_eq!(sf["cost"]["steps"], 2);
    assert_eq!(sf["cost"]["batch"], 32);
    let text = stderr(&fx.run(&["plan", "g.toml"]))
        + &String::from_utf8_lossy(&fx.run(&["plan", "g.toml"]).stdout);
    assert!(text.contains("sf"), "{text}");
}
