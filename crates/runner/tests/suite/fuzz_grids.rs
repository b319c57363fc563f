//! Fuzz-style test of grid handling: 240 mutants of the committed grids (`experiments/*.toml`
//! and `experiments/examples/*.toml`), made by a seeded generator (deterministic: the same
//! mutants on every run), with key deletions, type swaps, extreme numbers, unicode and control
//! characters in values and keys, and raw text damage. `dmlft plan` runs on each, and on those it
//! accepts `dmlft run` (fake executor, 1 cell) and `dmlft report`. Every exit must be 0, 1 or 2,
//! never a panic (101) or a backtrace, and every error must name the grid file.

use crate::common::{bert_model, synthetic_senteval, Fixture};
use std::path::{Path, PathBuf};
use std::process::Output;
use toml::Value;

const MUTANTS: usize = 240;
const SEED: u64 = 0x005E_ED13;

/// splitmix64: small, seeded, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const EXTREME_INTS: &[i64] = &[
    0,
    -1,
    1,
    i64::MAX,
    i64::MIN,
    1 << 31,
    1 << 53,
    4_294_967_296,
    999_999_999_999,
];
const EXTREME_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    -1.0,
    1e308,
    -1e308,
    5e-324,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1.0000001,
];
const STRANGE: &[&str] = &[
    "",
    " ",
    "ünïcødé",
    "\u{202e}rtl",
    "zero\u{200b}width",
    "😀🔥",
    "e\u{301}",
    "a\nb",
    "\r\n",
    "tab\there",
    "nul\u{0}x",
    "esc\u{1b}[31m",
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    "../../etc/passwd",
    "/",
    "mix:",
    "mix:2",
    "head",
    "kfold",
    "soft-triple",
];

/// Every path (as keys / indices) to a value in the document.
fn paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Table(t) => {
            for (k, v) in t {
                prefix.push(k.clone());
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(i.to_string());
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Table(t) => t.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

fn get_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    let next = match value {
        Value::Table(t) => t.get_mut(first)?,
        Value::Array(items) => items.get_mut(first.parse::<usize>().ok()?)?,
        _ => return None,
    };
    get_mut(next, rest)
}

fn random_value(rng: &mut Rng) -> Value {
    match rng.below(7) {
        0 => Value::String(rng.pick(STRANGE).to_string()),
        1 => Value::Integer(*rng.pick(EXTREME_INTS)),
        2 => Value::Float(*rng.pick(EXTREME_FLOATS)),
        3 => Value::Boolean(rng.below(2) == 0),
        4 => Value::Array(vec![]),
        5 => Value::Array(vec![Value::Integer(1), Value::String("x".into())]),
        _ => Value::Table(toml::Table::new()),
    }
}

/// One structural mutation of the document.
fn mutate_tree(doc: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let path = rng.pick(&all).clone();
    let (parent_path, last) = path.split_at(path.len() - 1);
    match rng.below(6) {
        // key deletion
        0 => {
            if let Some(parent) = get_mut(doc, parent_path) {
                match parent {
                    Value::Table(t) => {
                        t.remove(&last[0]);
                    }
                    Value::Array(items) => {
                        if let Ok(i) = last[0].parse::<usize>() {
                            if i < items.len() {
                                items.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        // a key renamed with strange characters
        1 => {
            if let Some(Value::Table(t)) = get_mut(doc, parent_path) {
                if let Some(v) = t.remove(&last[0]) {
                    let name = format!("{}{}", last[0], rng.pick(STRANGE));
                    t.insert(name, v);
                }
            }
        }
        // extreme numbers where numbers are (sizes, rates, seeds: where overflows hide)
        2 => {
            let numbers: Vec<&Vec<String>> = all
                .iter()
                .filter(|p| matches!(get(doc, p), Some(Value::Integer(_) | Value::Float(_))))
                .collect();
            let path = if numbers.is_empty() {
                path
            } else {
                rng.pick(&numbers).to_vec()
            };
            if let Some(v) = get_mut(doc, &path) {
                *v = match &*v {
                    Value::Integer(_) => Value::Integer(*rng.pick(EXTREME_INTS)),
                    Value::Float(_) => Value::Float(*rng.pick(EXTREME_FLOATS)),
                    _ => Value::Integer(*rng.pick(EXTREME_INTS)),
                };
            }
        }
        // unicode and control characters in strings
        3 => {
            if let Some(v) = get_mut(doc, &path) {
                let s = match v {
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                let extra = rng.pick(STRANGE);
                *v = Value::String(match rng.below(3) {
                    0 => format!("{s}{extra}"),
                    1 => format!("{extra}{s}"),
                    _ => extra.to_string(),
                });
            }
        }
        // a list where a scalar was, or a scalar for a list (sweeps, axes)
        4 => {
            if let Some(v) = get_mut(doc, &path) {
                let new = match &*v {
                    Value::Array(items) if !items.is_empty() => items[0].clone(),
                    other => Value::Array(vec![other.clone(), random_value(rng)]),
                };
                *v = new;
            }
        }
        // type swap
        _ => {
            if let Some(v) = get_mut(doc, &path) {
                *v = random_value(rng);
            }
        }
    }
}

/// Raw text damage: a character inserted, a line cut, or the text truncated.
fn mutate_text(text: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len() + 1);
    let (a, b): (String, String) = (chars[..at].iter().collect(), chars[at..].iter().collect());
    match rng.below(4) {
        0 => {
            let insert = *rng.pick(&[
                "\u{0}", "\n", "\r", "\"", "'", "[", "]", "=", "{", "\u{feff}", "é", "\\",
            ]);
            format!("{a}{insert}{b}")
        }
        1 => a,
        2 => format!("{a}\n[[{b}"),
        _ => format!(
            "{a}{b}\n{}",
            rng.pick(&[
                "x = 1",
                "[model]",
                "name = 3",
                "zip = [[]]",
                "include = [{}]"
            ])
        ),
    }
}

fn base_grids(root: &Path, model: &Path) -> Vec<(String, Value)> {
    let experiments = root.join("experiments");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [experiments.clone(), experiments.join("examples")] {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "toml") {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 5, "experiments/*.toml: {files:?}");
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let mut doc: Value = Value::Table(text.parse().unwrap());
            let t = doc.as_table_mut().unwrap();
            // the fixture's model and data, wherever the grid pointed
            t.remove("data_root");
            if let Some(Value::Table(m)) = t.get_mut("model") {
                m.insert("source".into(), Value::String(model.display().to_string()));
            }
            (f.file_name().unwrap().to_string_lossy().to_string(), doc)
        })
        .collect()
}

fn check(out: &Output, grid: &str, what: &str, text: &str) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    let fail = |why: &str| {
        Err(format!(
            "{what}: {why}: exit {code:?}\n--- stderr\n{err}\n--- grid\n{text}"
        ))
    };
    if !matches!(code, Some(0..=2)) {
        return fail("exit code not 0, 1 or 2");
    }
    if err.contains("panicked")
        || err.to_lowercase().contains("backtrace")
        || err.contains("internal error")
    {
        return fail("panic or backtrace");
    }
    if code != Some(0) && !err.contains(grid) && !err.contains("out/") {
        return fail("error does not name the file");
    }
    Ok(())
}

#[test]
fn mutated_grids_never_crash_and_errors_name_the_file() {
    let fx = Fixture::new();
    synthetic_senteval(&fx.path().join("se"), 30);
    let model = bert_model(fx.path(), 512);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bases = base_grids(&workspace, &model);
    let mut rng = Rng(SEED);
    let mut jobs = Vec::new();
    for i in 0..MUTANTS {
        let (name, base) = &bases[i % bases.len()];
        let mut doc = base.clone();
        if let Some(t) = doc.as_table_mut() {
            t.insert("output".into(), Value::String(format!("out/{i}")));
        }
        for _ in 0..1 + rng.below(3) {
            mutate_tree(&mut doc, &mut rng);
        }
        let mut text = toml::to_string(&doc).unwrap_or_else(|_| format!("{doc}"));
        if rng.below(4) == 0 {
            text = mutate_text(&text, &mut rng);
        }
        jobs.push((format!("m{i}.toml"), format!("mutant {i} of {name}"), text));
    }
    let (mut accepted, mut rejected) = (0, 0);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = jobs.chunks(jobs.len().div_ceil(2)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let fx = &fx;
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    let mut counts = (0, 0);
                    for (file, what, text) in chunk {
                        std::fs::write(fx.path().join(file), text).unwrap();
                        let plan = fx.run(&["plan", file, "--data-dir", "se"]);
                        if let Err(e) = check(&plan, file, &format!("{what}: plan"), text) {
                            failures.push(e);
                            continue;
                        }
                        if plan.status.code() != Some(0) {
                            counts.1 += 1;
                            continue;
                        }
                        counts.0 += 1;
                        let run = fx.run(&["run", file, "--data-dir", "se", "--limit", "1"]);
                        if let Err(e) = check(&run, file, &format!("{what}: run"), text) {
                            failures.push(e);
                            continue;
                        }
                        let index = file.trim_start_matches('m').trim_end_matches(".toml");
                        let out_dir = format!("out/{index}");
                        if fx.path().join(&out_dir).is_dir() {
                            let report = fx.run(&["report", &out_dir]);
                            if let Err(e) =
                                check(&report, &out_dir, &format!("{what}: report"), text)
                            {
                                failures.push(e);
                            }
                        }
                    }
                    (failures, counts)
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                let (failures, counts) = h.join().unwrap();
                accepted += counts.0;
                rejected += counts.1;
                failures
            })
            .collect()
    });
    eprintln!(
        "{MUTANTS} mutants: {accepted} planned and run, {rejected} rejected with a clear error"
    );
    assert!(
        failures.is_empty(),
        "{} of {MUTANTS} mutants misbehaved:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // the mutants exercise both paths
    assert!(
        accepted >= 10 && rejected >= 60,
        "{accepted} accepted, {rejected} rejected"
    );
}
