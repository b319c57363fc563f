//! `[search]`: random search with the same budget for every method. A search is a sweep whose
//! values are drawn: every loss variant of the grid (the baseline included) gets `trials` trials,
//! and each trial is an ordinary set of cells (the drawn values written into the settings, so ids,
//! the store, resume, locks, Slurm and reports apply unchanged), marked by the `trial` axis.
//! `dmlft report --select trial` then keeps, per method, the trial with the best mean dev metric
//! over the seeds.
//!
//! Draws are a pure function of (search seed, trial, key), and of the loss for a loss's own keys:
//! the same command gives the same trials (finished ones are skipped by the store), raising
//! `trials` keeps the earlier ones, and every method sees the same values of the shared (global)
//! keys in trial t (common random numbers: a paired comparison of the methods). Floats are
//! rounded to 3 significant digits, so labels and records stay readable.

use crate::grid::error::GridError;
use crate::grid::schema::GridContext;
use toml::{Table, Value};

/// The name of a trial in a cell's axes, records and `report --select`.
pub const TRIAL_AXIS: &str = "trial";

/// The global keys that define cells rather than hyperparameters: never searched.
const NOT_SEARCHED: &[&str] = &["datasets", "shots", "seeds"];

/// The distributions a searched key may take, as written in `[search.space]`.
const DISTRIBUTIONS: &str = "{ uniform = [lo, hi] }, { log-uniform = [lo, hi] }, { int-uniform = [lo, hi] } or { choice = [v1, v2, ...] }";

/// How a searched value is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Uniform(f64, f64),
    LogUniform(f64, f64),
    /// Both ends included.
    IntUniform(i64, i64),
    Choice(Vec<Value>),
}

/// Whose setting a searched key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A global setting (`train.*`, `model.*`, `protocol.*`, `eval_limit`): every method has it.
    Global,
    /// A setting of the loss variant (`[losses.<name>]`) named here.
    Loss(String),
}

/// One searched key.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// As written under `[search.space]` (`train.optimizer.lr`, `losses.ce-pa.dml.0.weight`).
    pub key: String,
    pub scope: Scope,
    /// Path in the global table, or in the loss variant's table.
    pub path: Vec<String>,
    pub distribution: Distribution,
}

impl Param {
    /// The key's last segment, as in variant names (`lr`, `alpha`).
    fn short(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or("")
    }
}

/// How trials are drawn. Only random search for now; the key exists so that a file says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampler {
    Random,
}

/// The `[search]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpec {
    pub trials: usize,
    pub seed: u64,
    pub sampler: Sampler,
    pub space: Vec<Param>,
}

/// A bound against runaway expansion (each trial is a set of cells per method).
const MAX_TRIALS: usize = 10_000;

impl SearchSpec {
    /// Reads `[search]` (`None` without one). `global_swept` are the dotted paths of the grid's
    /// swept global settings and `losses` each loss variant's name and swept (relative) paths:
    /// a key is either swept or searched, not both.
    pub fn parse(
        ctx: &GridContext,
        root: &Table,
        global_swept: &[String],
        losses: &[(String, Vec<String>)],
    ) -> Result<Option<Self>, GridError> {
        let Some(value) = root.get("search") else {
            return Ok(None);
        };
        let Value::Table(table) = value else {
            return Err(ctx.error(
                "search",
                format!(
                    "must be a table (trials, seed, sampler, space), not a {}",
                    value.type_str()
                ),
            ));
        };
        for key in table.keys() {
            if !["trials", "seed", "sampler", "space"].contains(&key.as_str()) {
                return Err(ctx.error(
                    &format!("search.{key}"),
                    format!(
                        "unknown key `{key}`; valid keys of [search]: trials, seed, sampler, space"
                    ),
                ));
            }
        }
        let trials = match table.get("trials") {
            Some(Value::Integer(n)) if *n >= 1 && *n as u64 <= MAX_TRIALS as u64 => *n as usize,
            Some(other) => {
                return Err(ctx.error(
                    "search.trials",
                    format!("must be an integer from 1 to {MAX_TRIALS} (trials per method), got {other}"),
                ))
            }
            None => {
                return Err(ctx.error(
                    "search",
                    "missing `trials` (the number of trials every method gets), e.g. trials = 16; `dmlft search --trials N` sets it too",
                ))
            }
        };
        let seed = match table.get("seed") {
            None => 0,
            Some(Value::Integer(n)) if *n >= 0 => *n as u64,
            Some(other) => {
                return Err(ctx.error(
                    "search.seed",
                    format!("must be a non-negative integer, got {other}"),
                ))
            }
        };
        let sampler = match table.get("sampler") {
            None => Sampler::Random,
            Some(Value::String(s)) if s == "random" => Sampler::Random,
            Some(other) => {
                return Err(ctx.error(
                    "search.sampler",
                    format!("unknown sampler {other}; valid: \"random\""),
                ))
            }
        };
        let space = match table.get("space") {
            Some(Value::Table(t)) if !t.is_empty() => t,
            _ => {
                return Err(ctx.error(
                    "search",
                    format!("missing `[search.space]`: the keys to draw and how, e.g. train.optimizer.lr = {{ log-uniform = [1e-5, 1e-3] }}; a distribution is {DISTRIBUTIONS}"),
                ))
            }
        };
        let mut params = Vec::new();
        walk_space(ctx, space, &mut Vec::new(), &mut params)?;
        params.sort_by_key(|p| ctx.locator.offset(&format!("search.space.{}", p.key)));
        for p in &mut params {
            resolve_scope(ctx, p, global_swept, losses)?;
        }
        Ok(Some(Self {
            trials,
            seed,
            sampler,
            space: params,
        }))
    }

    /// The searched keys of loss variant `loss`'s methods: the global ones and its own.
    fn keys_of(&self, loss: &str) -> Vec<&Param> {
        self.space
            .iter()
            .filter(|p| match &p.scope {
                Scope::Global => true,
                Scope::Loss(l) => l == loss,
            })
            .collect()
    }

    /// Trial `t`'s values for the methods of loss variant `loss`: (param, value) in space order.
    pub fn draw(&self, loss: &str, t: usize) -> Vec<(&Param, Value)> {
        self.keys_of(loss)
            .into_iter()
            .map(|p| {
                let stream = match &p.scope {
                    Scope::Global => String::new(),
                    Scope::Loss(l) => l.clone(),
                };
                let u = unit(&format!("{}/{stream}/{t}/{}", self.seed, p.key));
                (p, sample(&p.distribution, u))
            })
            .collect()
    }

    /// Trial `t`'s label in the `trial` axis: its number (zero-padded, so labels sort by it)
    /// and the drawn values, e.g. `03[lr=0.000032,alpha=16]`.
    pub fn label(&self, t: usize, values: &[(&Param, Value)]) -> String {
        let width = (self.trials.max(1) - 1).to_string().len();
        let shorts: Vec<&str> = values.iter().map(|(p, _)| p.short()).collect();
        let parts: Vec<String> = values
            .iter()
            .map(|(p, v)| {
                let name = if shorts.iter().filter(|s| **s == p.short()).count() > 1 {
                    p.path.join(".")
                } else {
                    p.short().to_string()
                };
                format!("{name}={}", crate::grid::sweep::label(v))
            })
            .collect();
        format!("{t:0width$}[{}]", parts.join(","))
    }

    /// Every method must get `trials` distinct trials: a method without a searched key, or a
    /// space too small to give distinct draws, would silently get fewer.
    pub fn check_budget(&self, ctx: &GridContext, loss: &str) -> Result<(), GridError> {
        if self.keys_of(loss).is_empty() {
            return Err(ctx.error(
                "search.space",
                format!("the loss variant `{loss}` has no searched key, so its {} trials would be one: search a global key (e.g. train.optimizer.lr) or one of losses.{loss}", self.trials),
            ));
        }
        let mut seen: Vec<Vec<Value>> = Vec::new();
        for t in 0..self.trials {
            let values: Vec<Value> = self.draw(loss, t).into_iter().map(|(_, v)| v).collect();
            if let Some(u) = seen.iter().position(|s| *s == values) {
                return Err(ctx.error(
                    "search.trials",
                    format!("trials {u} and {t} of `{loss}` draw the same values: the space has too few distinct points for {} trials (widen a `choice`, add a continuous key, or lower `trials`)", self.trials),
                ));
            }
            seen.push(values);
        }
        Ok(())
    }
}

/// Collects the distribution tables under `[search.space]`; `path` is the key so far.
fn walk_space(
    ctx: &GridContext,
    table: &Table,
    path: &mut Vec<String>,
    out: &mut Vec<Param>,
) -> Result<(), GridError> {
    for (key, value) in table {
        path.push(key.clone());
        let dotted = path.join(".");
        let at = format!("search.space.{dotted}");
        match value {
            Value::Table(t) if t.len() == 1 && is_distribution(t.keys().next().unwrap()) => {
                let (name, args) = t.iter().next().unwrap();
                out.push(Param {
                    key: dotted,
                    scope: Scope::Global,
                    path: path.clone(),
                    distribution: distribution(ctx, &at, name, args)?,
                });
            }
            Value::Table(t) => walk_space(ctx, t, path, out)?,
            other => {
                return Err(ctx.error(
                    &at,
                    format!("a searched key takes a distribution, {DISTRIBUTIONS}; got {other}"),
                ))
            }
        }
        path.pop();
    }
    Ok(())
}

fn is_distribution(name: &str) -> bool {
    ["uniform", "log-uniform", "int-uniform", "choice"].contains(&name)
}

fn distribution(
    ctx: &GridContext,
    at: &str,
    name: &str,
    args: &Value,
) -> Result<Distribution, GridError> {
    let key = format!("{at}.{name}");
    if name == "choice" {
        return match args {
            Value::Array(items) if !items.is_empty() => Ok(Distribution::Choice(items.clone())),
            _ => Err(ctx.error(
                &key,
                "is a non-empty list of values, e.g. choice = [\"mean\", \"tokens\"]",
            )),
        };
    }
    let pair = match args {
        Value::Array(items) if items.len() == 2 => items,
        _ => {
            return Err(ctx.error(
                &key,
                format!("is a list of two bounds [lo, hi], got {args}"),
            ))
        }
    };
    if name == "int-uniform" {
        return match (pair[0].as_integer(), pair[1].as_integer()) {
            (Some(lo), Some(hi)) if lo <= hi => Ok(Distribution::IntUniform(lo, hi)),
            _ => Err(ctx.error(&key, format!("needs two integers lo <= hi, got {args}"))),
        };
    }
    let number = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    let (Some(lo), Some(hi)) = (number(&pair[0]), number(&pair[1])) else {
        return Err(ctx.error(&key, format!("needs two numbers, got {args}")));
    };
    if lo >= hi {
        return Err(ctx.error(&key, format!("needs lo < hi, got {args}")));
    }
    if name == "log-uniform" {
        if lo <= 0.0 {
            return Err(ctx.error(
                &key,
                format!("needs 0 < lo < hi (it draws the logarithm), got {args}"),
            ));
        }
        return Ok(Distribution::LogUniform(lo, hi));
    }
    Ok(Distribution::Uniform(lo, hi))
}

/// Sets `p.scope` and `p.path` from its key, refusing keys that cannot be searched.
fn resolve_scope(
    ctx: &GridContext,
    p: &mut Param,
    global_swept: &[String],
    losses: &[(String, Vec<String>)],
) -> Result<(), GridError> {
    let at = format!("search.space.{}", p.key);
    if p.path[0] == "losses" {
        let names = || {
            losses
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((name, swept)) = losses.iter().find(|(n, _)| p.path.get(1) == Some(n)) else {
            return Err(ctx.error(
                &at,
                format!("`{}` names no loss variant; variants: {}", p.key, names()),
            ));
        };
        if p.path.len() < 3 {
            return Err(ctx.error(
                &at,
                format!("name a setting of the loss variant, e.g. losses.{name}.dml.0.weight"),
            ));
        }
        let rel: Vec<String> = p.path[2..].to_vec();
        if swept.contains(&rel.join(".")) {
            return Err(ctx.error(
                &at,
                format!(
                    "`{}` is both swept (a list in [losses.{name}]) and searched: keep one",
                    p.key
                ),
            ));
        }
        p.scope = Scope::Loss(name.clone());
        p.path = rel;
        return Ok(());
    }
    if NOT_SEARCHED.contains(&p.path[0].as_str()) {
        return Err(ctx.error(&at, format!("`{}` defines the cells, not a hyperparameter: it cannot be searched (search train.*, model.*, protocol.*, eval_limit or a loss's settings, losses.<name>.*)", p.path[0])));
    }
    if global_swept.contains(&p.key) {
        return Err(ctx.error(
            &at,
            format!("`{}` is both swept (a list) and searched: keep one", p.key),
        ));
    }
    p.scope = Scope::Global;
    Ok(())
}

/// A number in [0, 1) from `text`: FNV-1a then SplitMix64's finaliser (stable across platforms
/// and versions, which a search's resume depends on).
fn unit(text: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// 3 significant digits.
fn round3(x: f64) -> f64 {
    format!("{x:.2e}").parse().unwrap_or(x)
}

fn sample(d: &Distribution, u: f64) -> Value {
    match d {
        Distribution::Uniform(lo, hi) => Value::Float(round3(lo + u * (hi - lo)).clamp(*lo, *hi)),
        Distribution::LogUniform(lo, hi) => {
            let x = (lo.ln() + u * (hi.ln() - lo.ln())).exp();
            Value::Float(round3(x).clamp(*lo, *hi))
        }
        Distribution::IntUniform(lo, hi) => {
            let span = (hi - lo) as f64 + 1.0;
            Value::Integer((lo + (u * span).floor() as i64).min(*hi))
        }
        Distribution::Choice(items) => {
            items[((u * items.len() as f64) as usize).min(items.len() - 1)].clone()
        }
    }
}

/// Sets `path` in `table` to `value`, making the tables on the way (a searched key the file does
/// not write takes its default otherwise); an array position must exist.
pub fn set_or_insert(table: &mut Table, path: &[String], value: Value) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return true;
    }
    let slot = table
        .entry(first.clone())
        .or_insert_with(|| Value::Table(Table::new()));
    set_in(slot, rest, value)
}

fn set_in(slot: &mut Value, path: &[String], value: Value) -> bool {
    match slot {
        Value::Table(t) => set_or_insert(t, path, value),
        Value::Array(items) => {
            let (first, rest) = path.split_first().expect("non-empty path");
            match first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) if rest.is_empty() => {
                    *item = value;
                    true
                }
                Some(item) => set_in(item, rest, value),
                None => false,
            }
        }
        _ => false,
    }
}

/// `text` (a grid file) with `[search] trials = n`: the line that sets `trials` in the
/// `[search]` table is replaced, or one is added after the `[search]` header. Used by
/// `dmlft search --trials`, so that the results folder's copy of the grid states the budget run.
pub fn with_trials(text: &str, n: usize) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("[search]"))
        .ok_or("the grid has no `[search]` table (the space to draw from): add one, e.g. [search.space] with train.optimizer.lr = { log-uniform = [1e-5, 1e-3] }")?;
    let end = lines[header + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| header + 1 + i);
    let line = format!("trials = {n}");
    match (header + 1..end).find(|&i| {
        let l = lines[i].trim_start();
        l.strip_prefix("trials")
            .is_some_and(|r| r.trim_start().starts_with('='))
    }) {
        Some(i) => lines[i] = line,
        None => lines.insert(header + 1, line),
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::locate::Locator;
    use std::path::PathBuf;

    fn spec(text: &str) -> Result<Option<SearchSpec>, GridError> {
        let root: Table = text.parse().unwrap();
        let ctx = GridContext {
            file: PathBuf::from("g.toml"),
            locator: Locator::new(text).unwrap(),
        };
        SearchSpec::parse(
            &ctx,
            &root,
            &["train.optimizer.weight_decay".to_string()],
            &[
                ("ce".to_string(), vec![]),
                ("ce-pa".to_string(), vec!["ce_weight".to_string()]),
            ],
        )
    }

    const SPACE: &str = "[search]\ntrials = 6\nseed = 3\n[search.space]\ntrain.optimizer.lr = { log-uniform = [1e-5, 1e-3] }\nlosses.ce-pa.dml.0.loss.alpha = { uniform = [1, 64] }\nlosses.ce-pa.dml.0.loss.kind = { choice = [\"proxy-anchor\", \"proxy-nca\"] }\n";

    #[test]
    fn draws_are_deterministic_in_range_and_shared_for_global_keys() {
        let s = spec(SPACE).unwrap().unwrap();
        assert_eq!(s.trials, 6);
        let lrs = |loss: &str| -> Vec<f64> {
            (0..6)
                .map(|t| s.draw(loss, t)[0].1.as_float().unwrap())
                .collect()
        };
        // same values on a second parse (resume), and the same lr for both methods per trial
        let again = spec(SPACE).unwrap().unwrap();
        assert_eq!(s.draw("ce-pa", 4), again.draw("ce-pa", 4));
        assert_eq!(lrs("ce"), lrs("ce-pa"));
        assert!(lrs("ce").iter().all(|&lr| (1e-5..=1e-3).contains(&lr)));
        // distinct draws, and not all in one decade (the draw is of the logarithm)
        let decades: std::collections::BTreeSet<i32> = lrs("ce")
            .iter()
            .map(|lr| lr.log10().floor() as i32)
            .collect();
        assert!(decades.len() >= 2, "{:?}", lrs("ce"));
        assert_eq!(s.draw("ce", 0).len(), 1);
        let pa = s.draw("ce-pa", 2);
        assert_eq!(pa.len(), 3);
        let alpha = pa[1].1.as_float().unwrap();
        assert!((1.0..=64.0).contains(&alpha));
        assert_eq!(alpha, round3(alpha));
        // another seed, other draws
        let other = spec(&SPACE.replace("seed = 3", "seed = 4"))
            .unwrap()
            .unwrap();
        assert_ne!(other.draw("ce", 0), s.draw("ce", 0));
        let label = s.label(2, &pa);
        assert!(label.starts_with("2[lr="), "{label}");
        assert!(label.contains(",alpha="), "{label}");
    }

    #[test]
    fn bad_spaces_are_refused_naming_the_key() {
        let err = |text: &str| spec(text).unwrap_err().to_string();
        let base = "[search]\ntrials = 2\n[search.space]\n";
        assert!(err(&format!("{base}seeds = {{ choice = [1, 2] }}")).contains("search.space.seeds"));
        let e = err(&format!(
            "{base}train.optimizer.weight_decay = {{ uniform = [0, 1] }}"
        ));
        assert!(e.contains("both swept"), "{e}");
        let e = err(&format!(
            "{base}losses.ce-pa.ce_weight = {{ uniform = [0, 1] }}"
        ));
        assert!(e.contains("both swept"), "{e}");
        let e = err(&format!("{base}losses.nope.x = {{ uniform = [0, 1] }}"));
        assert!(e.contains("variants: ce, ce-pa"), "{e}");
        let e = err(&format!(
            "{base}train.optimizer.lr = {{ log-uniform = [0, 1] }}"
        ));
        assert!(
            e.contains("search.space.train.optimizer.lr.log-uniform") && e.contains("0 < lo"),
            "{e}"
        );
        let e = err(&format!("{base}train.optimizer.lr = 0.1"));
        assert!(e.contains("takes a distribution"), "{e}");
        let e = err("[search]\n[search.space]\ntrain.optimizer.lr = { uniform = [0, 1] }");
        assert!(e.contains("missing `trials`"), "{e}");
        let e = err("[search]\ntrials = 2\nsampler = \"tpe\"\n[search.space]\ntrain.optimizer.lr = { uniform = [0, 1] }");
        assert!(e.contains("valid: \"random\""), "{e}");
    }

    #[test]
    fn trials_are_written_into_the_text() {
        let text = "name = \"g\"\n[search]\ntrials = 4 # budget\nseed = 1\n[search.space]\nx = 1\n";
        let out = with_trials(text, 9).unwrap();
        assert!(out.contains("[search]\ntrials = 9\nseed = 1\n"), "{out}");
        let out = with_trials("[search]\nseed = 1\n[search.space]\n", 3).unwrap();
        assert!(out.starts_with("[search]\ntrials = 3\nseed = 1\n"), "{out}");
        assert!(with_trials("name = \"g\"\n", 3).is_err());
    }

    const GRID: &str = "name = \"s\"\ndatasets = [\"mr\"]\nshots = [4]\nseeds = [1, 2]\n[model]\nsource = \"m\"\n[protocol]\nkind = \"per-class\"\ndev_shots = 2\n[losses.ce]\n[losses.ce-pa]\nce_weight = 0.5\n[[losses.ce-pa.dml]]\nweight = 0.5\nloss = { kind = \"proxy-anchor\", margin = 0.1 }\n";

    fn grid(text: &str) -> Result<crate::grid::Grid, GridError> {
        crate::grid::parse_grid(
            text,
            std::path::Path::new("g.toml"),
            &crate::grid::LoadOptions::default(),
        )
    }

    fn searched(trials: usize) -> String {
        format!("{GRID}[search]\ntrials = {trials}\nseed = 7\n[search.space]\ntrain.optimizer.lr = {{ log-uniform = [1e-5, 1e-3] }}\nlosses.ce-pa.dml.0.loss.alpha = {{ uniform = [0.1, 64] }}\n")
    }

    #[test]
    fn every_method_gets_the_same_trials_as_ordinary_cells() {
        let plain = grid(GRID).unwrap();
        let g = grid(&searched(3)).unwrap();
        assert_eq!(g.losses, ["ce", "ce-pa"]);
        // 2 methods x 3 trials x 2 seeds, each trial a distinct set of cells
        assert_eq!(g.cells.len(), 12);
        let mut trials: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
            Default::default();
        for c in &g.cells {
            trials
                .entry(&c.spec.loss_name)
                .or_default()
                .insert(&c.axes[TRIAL_AXIS]);
            // the label states the drawn values the spec trains with
            let lr = c.spec.train.optimizer.lr;
            assert!((1e-5..=1e-3).contains(&lr));
            assert!(
                c.axes[TRIAL_AXIS].contains(&format!(
                    "lr={}",
                    crate::grid::sweep::label(&Value::Float(lr))
                )),
                "{:?}",
                c.axes
            );
            if c.spec.loss_name == "ce-pa" {
                let alpha = serde_json::to_value(&c.spec.objective).unwrap()["dml"][0]["loss"]
                    ["alpha"]
                    .as_f64()
                    .unwrap();
                assert!((0.1..=64.0).contains(&alpha));
                assert!(
                    c.axes[TRIAL_AXIS].contains(&format!(
                        ",alpha={}",
                        crate::grid::sweep::label(&Value::Float(alpha))
                    )),
                    "{:?}",
                    c.axes
                );
            }
        }
        assert!(trials.values().all(|t| t.len() == 3), "{trials:?}");
        // every method sees the same lr in trial t
        let lr_of = |loss: &str, t: &str| {
            g.cells
                .iter()
                .find(|c| c.spec.loss_name == loss && c.axes[TRIAL_AXIS].starts_with(t))
                .unwrap()
                .spec
                .train
                .optimizer
                .lr
        };
        assert_eq!(lr_of("ce", "1["), lr_of("ce-pa", "1["));
        // no cell of the grid without the search among them
        assert!(plain
            .cells
            .iter()
            .all(|p| g.cells.iter().all(|c| c.id != p.id)));
        // the same ids on a second expansion, and more trials keep the first ones
        let ids = |g: &crate::grid::Grid| -> Vec<String> {
            g.cells.iter().map(|c| c.id.clone()).collect()
        };
        assert_eq!(ids(&g), ids(&grid(&searched(3)).unwrap()));
        let more = ids(&grid(&searched(5)).unwrap());
        assert_eq!(more.len(), 20);
        assert!(ids(&g).iter().all(|id| more.contains(id)));
    }

    #[test]
    fn a_search_needs_dev_examples_and_a_key_for_every_method() {
        let e = grid(&searched(2).replace("dev_shots = 2\n", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("protocol.dev_shots") && e.contains("no dev examples"),
            "{e}"
        );
        let only_pa = format!("{GRID}[search]\ntrials = 2\n[search.space]\nlosses.ce-pa.dml.0.loss.alpha = {{ uniform = [0.1, 64] }}\n");
        let e = grid(&only_pa).unwrap_err().to_string();
        assert!(e.contains("`ce` has no searched key"), "{e}");
        let small = format!("{GRID}[search]\ntrials = 3\n[search.space]\ntrain.optimizer.lr = {{ choice = [0.001, 0.002] }}\n");
        let e = grid(&small).unwrap_err().to_string();
        assert!(e.contains("draw the same values"), "{e}");
    }
}
