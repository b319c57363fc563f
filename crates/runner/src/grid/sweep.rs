//! The generic sweep mechanism: a list where the schema expects one value is an axis; the grid is
//! the Cartesian product of the axes, except that axes named together in a `zip` group advance
//! together. Works on plain `toml::Value`s so that every setting is sweepable without code per key.

use toml::Value;

/// One swept setting: its dotted path (relative to the table it was found in) and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Path segments; array positions are written as decimal segments (`dml.0.loss.la`).
    pub path: Vec<String>,
    pub values: Vec<Value>,
}

impl Axis {
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// Last key of the path, used in variant names (`la` in `ce-st[la=8]`).
    pub fn short(&self) -> &str {
        self.path.last().map(String::as_str).unwrap_or("")
    }
}

/// Finds every list-valued setting below `table`. `is_structural(path)` says which lists are real
/// lists in the schema (e.g. a loss variant's `dml` terms): those are descended into, not swept.
pub fn find_axes(table: &toml::Table, is_structural: &dyn Fn(&[String]) -> bool) -> Vec<Axis> {
    let mut axes = Vec::new();
    walk(table, &mut Vec::new(), is_structural, &mut axes);
    axes
}

fn walk(
    table: &toml::Table,
    path: &mut Vec<String>,
    is_structural: &dyn Fn(&[String]) -> bool,
    out: &mut Vec<Axis>,
) {
    for (key, value) in table {
        path.push(key.clone());
        match value {
            Value::Table(t) => walk(t, path, is_structural, out),
            Value::Array(items) if is_structural(path) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Table(t) = item {
                        path.push(i.to_string());
                        walk(t, path, is_structural, out);
                        path.pop();
                    }
                }
            }
            Value::Array(items) => out.push(Axis {
                path: path.clone(),
                values: items.clone(),
            }),
            _ => {}
        }
        path.pop();
    }
}

/// Replaces the value at `path` (which must exist) with `value`.
pub fn set_at(table: &mut toml::Table, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(slot) = table.get_mut(first) else {
        return;
    };
    if rest.is_empty() {
        *slot = value;
        return;
    }
    set_in_value(slot, rest, value);
}

fn set_in_value(slot: &mut Value, path: &[String], value: Value) {
    match slot {
        Value::Table(t) => set_at(t, path, value),
        Value::Array(items) => {
            let (first, rest) = path.split_first().expect("non-empty path");
            if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                if rest.is_empty() {
                    *item = value;
                } else {
                    set_in_value(item, rest, value);
                }
            }
        }
        _ => {}
    }
}

/// Why the combinations cannot be made.
#[derive(Debug, Clone, PartialEq)]
pub enum ZipError {
    /// (first axis, its length, other axis, its length)
    UnequalLengths(String, usize, String, usize),
    /// More combinations than the limit (the product of the axes' lengths, saturated).
    TooMany { count: usize, limit: usize },
}

/// All combinations, as one value index per axis. Axes in the same zip group (given as indices
/// into `axes`) advance together; groups are crossed in the order of their first axis, the last
/// group fastest. An empty `axes` yields one empty combination. More than `limit` combinations
/// is an error, found before any is made.
pub fn combinations(
    axes: &[Axis],
    zips: &[Vec<usize>],
    limit: usize,
) -> Result<Vec<Vec<usize>>, ZipError> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, _) in axes.iter().enumerate() {
        if groups.iter().any(|g| g.contains(&i)) {
            continue;
        }
        match zips.iter().find(|z| z.contains(&i)) {
            Some(zip) => groups.push(zip.clone()),
            None => groups.push(vec![i]),
        }
    }
    let mut lengths = Vec::with_capacity(groups.len());
    for group in &groups {
        let first = &axes[group[0]];
        for &other in &group[1..] {
            let o = &axes[other];
            if o.values.len() != first.values.len() {
                return Err(ZipError::UnequalLengths(
                    first.dotted(),
                    first.values.len(),
                    o.dotted(),
                    o.values.len(),
                ));
            }
        }
        lengths.push(first.values.len());
    }
    let mut out = Vec::new();
    if lengths.contains(&0) {
        return Ok(out);
    }
    let count = lengths.iter().fold(1usize, |n, &l| n.saturating_mul(l));
    if count > limit {
        return Err(ZipError::TooMany { count, limit });
    }
    let mut counter = vec![0usize; groups.len()];
    loop {
        let mut combo = vec![0usize; axes.len()];
        for (g, group) in groups.iter().enumerate() {
            for &a in group {
                combo[a] = counter[g];
            }
        }
        out.push(combo);
        // odometer, last group fastest
        let mut g = groups.len();
        loop {
            if g == 0 {
                return Ok(out);
            }
            g -= 1;
            counter[g] += 1;
            if counter[g] < lengths[g] {
                break;
            }
            counter[g] = 0;
        }
    }
}

/// Compact rendering of a swept value for names and tables: `8` for 8.0, `1e-5` stays `0.00001`.
pub fn label(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Value::Float(f) => format!("{f}"),
        Value::Boolean(b) => b.to_string(),
        Value::Table(t) => match t.get("kind").and_then(Value::as_str) {
            Some(kind) => kind.to_string(),
            None => match toml::to_string(t) {
                Ok(text) => text.trim().replace('\n', ","),
                Err(_) => format!("{t:?}"),
            },
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn finds_list_leaves_but_not_structural_lists() {
        let t = table("a = [1, 2]\nb = 3\n[c]\nd = [0.1, 0.2, 0.3]\n[[dml]]\nw = [1, 2]\n");
        let axes = find_axes(&t, &|p| p == ["dml"]);
        let names: Vec<_> = axes.iter().map(Axis::dotted).collect();
        assert_eq!(names, ["a", "c.d", "dml.0.w"]);
    }

    #[test]
    fn crosses_and_zips() {
        let t = table("a = [1, 2]\nb = [1, 2, 3]\nc = [5, 6]\n");
        let axes = find_axes(&t, &|_| false);
        assert_eq!(combinations(&axes, &[], 100).unwrap().len(), 12);
        assert_eq!(
            combinations(&axes, &[], 11),
            Err(ZipError::TooMany {
                count: 12,
                limit: 11
            })
        );
        let zipped = combinations(&axes, &[vec![0, 2]], 100).unwrap();
        assert_eq!(zipped.len(), 6);
        assert!(zipped.iter().all(|c| c[0] == c[2]));
        assert!(matches!(
            combinations(&axes, &[vec![0, 1]], 100),
            Err(ZipError::UnequalLengths(..))
        ));
    }

    #[test]
    fn set_at_replaces_nested_and_indexed() {
        let mut t = table("[[dml]]\nw = [1, 2]\n");
        set_at(
            &mut t,
            &["dml".into(), "0".into(), "w".into()],
            Value::Integer(2),
        );
        assert_eq!(t["dml"][0]["w"].as_integer(), Some(2));
    }

    #[test]
    fn labels_are_compact() {
        assert_eq!(label(&Value::Float(8.0)), "8");
        assert_eq!(label(&Value::Float(0.1)), "0.1");
        assert_eq!(label(&Value::Integer(64)), "64");
    }
}
