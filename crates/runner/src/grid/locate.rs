//! Where each key of a grid file is: a map from dotted key path to line:col, built from toml's
//! span-preserving parse, so that errors found later (on plain `toml::Value`s) can point at the file.

use std::collections::HashMap;
use toml::de::{DeTable, DeValue};

/// Line:col (1-based) of every key path in one TOML document, plus the order of declaration.
#[derive(Debug, Default, Clone)]
pub struct Locator {
    positions: HashMap<String, (usize, usize)>,
    offsets: HashMap<String, usize>,
}

impl Locator {
    /// Parses `text` (it has already been parsed successfully as a `toml::Table`).
    pub fn new(text: &str) -> Result<Self, toml::de::Error> {
        let root = DeTable::parse(text)?;
        let mut locator = Self::default();
        let line_starts = line_starts(text);
        locator.walk_table(root.get_ref(), "", text, &line_starts);
        Ok(locator)
    }

    fn walk_table(&mut self, table: &DeTable<'_>, prefix: &str, text: &str, starts: &[usize]) {
        for (key, value) in table {
            let path = join(prefix, key.get_ref());
            let offset = key.span().start;
            self.positions
                .insert(path.clone(), line_col(text, starts, offset));
            self.offsets.insert(path.clone(), offset);
            self.walk_value(value.get_ref(), &path, value.span().start, text, starts);
        }
    }

    fn walk_value(
        &mut self,
        value: &DeValue<'_>,
        path: &str,
        offset: usize,
        text: &str,
        starts: &[usize],
    ) {
        match value {
            DeValue::Table(t) => self.walk_table(t, path, text, starts),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}.{i}");
                    let item_offset = item.span().start.max(offset);
                    self.positions.entry(item_path.clone()).or_insert(line_col(
                        text,
                        starts,
                        item_offset,
                    ));
                    self.offsets.entry(item_path.clone()).or_insert(item_offset);
                    self.walk_value(item.get_ref(), &item_path, item_offset, text, starts);
                }
            }
            _ => {}
        }
    }

    /// Position of `path`, or of its longest known prefix.
    pub fn position(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return Some(*pos);
            }
            p = &p[..p.rfind('.')?];
        }
    }

    /// Byte offset of `path` in the file (declaration order); `usize::MAX` when unknown.
    pub fn offset(&self, path: &str) -> usize {
        self.offsets.get(path).copied().unwrap_or(usize::MAX)
    }

    /// The first known path below `prefix` whose last segment is `key` (for errors serde reports
    /// without a full path, e.g. an unknown field inside an internally tagged enum).
    pub fn find_below(&self, prefix: &str, key: &str) -> Option<String> {
        let mut hits: Vec<&String> = self
            .positions
            .keys()
            .filter(|p| {
                let below = prefix.is_empty() || p.starts_with(&format!("{prefix}."));
                below && p.rsplit('.').next() == Some(key)
            })
            .collect();
        hits.sort_by_key(|p| self.offset(p));
        hits.first().map(|s| s.to_string())
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn line_col(text: &str, starts: &[usize], offset: usize) -> (usize, usize) {
    let line = starts.partition_point(|&s| s <= offset).max(1);
    let start = starts[line - 1];
    let col = text
        .get(start..offset.min(text.len()))
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_array_tables() {
        let text = "name = \"x\"\n[train.optimizer]\nlr = 1e-5\n[[losses.a.dml]]\nweight = 0.5\n";
        let loc = Locator::new(text).unwrap();
        assert_eq!(loc.position("name"), Some((1, 1)));
        assert_eq!(loc.position("train.optimizer.lr"), Some((3, 1)));
        assert_eq!(loc.position("losses.a.dml.0.weight"), Some((5, 1)));
        // unknown child falls back to the parent
        assert_eq!(
            loc.position("train.optimizer.nope"),
            loc.position("train.optimizer")
        );
        assert_eq!(
            loc.find_below("losses", "weight").as_deref(),
            Some("losses.a.dml.0.weight")
        );
    }
}
