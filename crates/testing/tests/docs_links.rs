//! The documentation's relative links lead somewhere, and no Rust source cites files that live
//! outside the repository.
//!
//! Links: every Markdown link and image `[text](target)` (and reference definition
//! `[label]: target`) in README.md, docs/**/*.md, crates/*/README.md, datasets/README.md and
//! results/README.md whose target is relative must name a file or folder of the repository,
//! relative to the linking file; `file.md#anchor` and `#anchor` must name a heading of that file
//! (GitHub's anchor rule). Links inside fenced code blocks and inline code are not links.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use dmlft_testing::workspace_root;

#[test]
fn relative_links_in_the_docs_name_existing_files_and_headings() {
    let root = normalize(&workspace_root()).expect("the workspace root is an absolute path");
    let files = markdown_files(&root);
    assert!(
        files.iter().any(|f| f.ends_with("docs/GRIDS.md")),
        "the scan found no docs/GRIDS.md under {}: is the workspace root right?",
        root.display()
    );
    let mut anchors = AnchorCache::default();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = read(file);
        for link in links(&text) {
            checked += 1;
            if let Err(why) = check_link(&root, file, &link.target, &mut anchors) {
                broken.push(format!(
                    "{}:{}: `{}`: {why}",
                    relative(&root, file),
                    link.line,
                    link.target
                ));
            }
        }
    }
    eprintln!("{checked} relative links in {} Markdown files", files.len());
    assert!(
        checked > 20,
        "only {checked} relative links found: is the parser broken?"
    );
    assert!(
        broken.is_empty(),
        "{} broken link(s) in the docs:\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn rust_sources_cite_no_files_outside_the_repository() {
    // Spelled in pieces so that this file does not cite them itself.
    let forbidden: Vec<String> = ["DESIGN", "PAPER", "ANCHORS", "MODELS"]
        .iter()
        .map(|name| format!("{name}.md"))
        .chain([format!("../shared/{}", "reference")])
        .collect();
    let root = workspace_root();
    let mut sources = Vec::new();
    for krate in sorted_entries(&root.join("crates")) {
        for folder in ["src", "tests", "examples", "benches"] {
            collect(&krate.join(folder), "rs", &mut sources);
        }
        if krate.join("build.rs").is_file() {
            sources.push(krate.join("build.rs"));
        }
    }
    assert!(
        sources.len() > 50,
        "only {} Rust files found under {}",
        sources.len(),
        root.join("crates").display()
    );
    let mut citations = String::new();
    for file in &sources {
        for (number, line) in read(file).lines().enumerate() {
            for needle in forbidden.iter().filter(|n| line.contains(n.as_str())) {
                let _ = writeln!(
                    citations,
                    "{}:{}: cites `{needle}` (outside the repository; cite the upstream library or paper): {}",
                    relative(&root, file),
                    number + 1,
                    line.trim()
                );
            }
        }
    }
    assert!(citations.is_empty(), "{citations}");
}

// ---------------------------------------------------------------------------------------------
// Which files

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    collect(&root.join("docs"), "md", &mut files);
    for krate in sorted_entries(&root.join("crates")) {
        if krate.join("README.md").is_file() {
            files.push(krate.join("README.md"));
        }
    }
    for folder in ["datasets", "results"] {
        if root.join(folder).join("README.md").is_file() {
            files.push(root.join(folder).join("README.md"));
        }
    }
    files
}

/// Every file under `dir` (recursively) whose extension is `ext`, in name order.
fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in sorted_entries(dir) {
        if entry.is_dir() {
            collect(&entry, ext, out);
        } else if entry.extension().is_some_and(|e| e == ext) {
            out.push(entry);
        }
    }
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn relative(root: &Path, path: &Path) -> String {
    let root = normalize(root).unwrap_or_else(|| root.to_path_buf());
    let path = normalize(path).unwrap_or_else(|| path.to_path_buf());
    path.strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Checking one link

#[derive(Default)]
struct AnchorCache(HashMap<PathBuf, Vec<String>>);

impl AnchorCache {
    fn of(&mut self, file: &Path) -> &[String] {
        self.0
            .entry(file.to_path_buf())
            .or_insert_with(|| heading_anchors(&read(file)))
    }
}

fn check_link(
    root: &Path,
    from: &Path,
    target: &str,
    anchors: &mut AnchorCache,
) -> Result<(), String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (percent_decode(path), Some(percent_decode(anchor))),
        None => (percent_decode(target), None),
    };
    let file = if path.is_empty() {
        from.to_path_buf()
    } else {
        let base = if path.starts_with('/') {
            root.to_path_buf()
        } else {
            from.parent().expect("a file has a folder").to_path_buf()
        };
        let resolved = normalize(&base.join(path.trim_start_matches('/')))
            .filter(|p| p.starts_with(root))
            .ok_or("points outside the repository")?;
        if !resolved.exists() {
            return Err(format!(
                "no such file or folder ({})",
                relative(root, &resolved)
            ));
        }
        resolved
    };
    let Some(anchor) = anchor else {
        return Ok(());
    };
    // Anchors of other files (`#L10` of a source file) are GitHub's, not headings.
    if file.extension().is_none_or(|e| e != "md") {
        return Ok(());
    }
    let known = anchors.of(&file);
    if known.contains(&anchor) {
        Ok(())
    } else {
        Err(format!(
            "no heading with anchor `#{anchor}` in {}",
            relative(root, &file)
        ))
    }
}

/// `path` with `.` and `..` resolved lexically; `None` when `..` climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Markdown: links outside code, and heading anchors

struct Link {
    /// 1-based line of the link's target.
    line: usize,
    target: String,
}

/// The relative links of a Markdown text (inline links, images and reference definitions),
/// outside fenced code blocks and inline code.
fn links(text: &str) -> Vec<Link> {
    let masked = mask_code(text);
    let bytes = masked.as_bytes();
    let line_of = |offset: usize| masked[..offset].matches('\n').count() + 1;
    let mut found = Vec::new();
    for (close, _) in masked.match_indices("](") {
        if opening_bracket(&bytes[..close]).is_none() {
            continue;
        }
        let start = close + 2;
        if let Some(target) = inline_target(&masked[start..]) {
            found.push(Link {
                line: line_of(start),
                target,
            });
        }
    }
    let mut offset = 0;
    for line in masked.split_inclusive('\n') {
        if let Some(target) = reference_definition(line) {
            found.push(Link {
                line: line_of(offset),
                target,
            });
        }
        offset += line.len();
    }
    found.retain(|link| is_relative(&link.target));
    found.sort_by_key(|link| link.line);
    found
}

/// The `[` matching the `]` that ends `before`, if the brackets balance on the way back.
fn opening_bracket(before: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    for i in (0..before.len()).rev() {
        let escaped = i > 0 && before[i - 1] == b'\\';
        match before[i] {
            b']' if !escaped => depth += 1,
            b'[' if !escaped => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            b'\n' if i > 0 && before[i - 1] == b'\n' => return None, // a paragraph break
            _ => {}
        }
    }
    None
}

/// The destination of an inline link, from just after its `(`: `<...>`, or up to the first
/// whitespace or the `)` that balances the parentheses.
fn inline_target(rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches([' ', '\t']);
    if let Some(angled) = rest.strip_prefix('<') {
        return angled.split_once('>').map(|(t, _)| t.to_string());
    }
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(rest[..i].to_string()),
            ')' => depth -= 1,
            c if c.is_whitespace() => return Some(rest[..i].to_string()),
            _ => {}
        }
    }
    None
}

/// `[label]: target` at the start of a line (at most three spaces of indentation).
fn reference_definition(line: &str) -> Option<String> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let rest = trimmed.strip_prefix('[')?;
    let (label, after) = rest.split_once("]:")?;
    if label.is_empty() || label.contains(']') {
        return None;
    }
    let target = after.split_whitespace().next()?;
    Some(
        target
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string(),
    )
}

fn is_relative(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    !(target.is_empty()
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || lower.contains("://"))
}

/// `text` with fenced code blocks and inline code spans blanked out (newlines kept, so line
/// numbers stay those of the original).
fn mask_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<(char, usize)> = None;
    let mut paragraph = String::new();
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let opener = if indent <= 3 {
            fence_marker(line.trim_start())
        } else {
            None
        };
        match (fence, opener) {
            (None, Some(marker)) => {
                out.push_str(&mask_spans(&std::mem::take(&mut paragraph)));
                fence = Some(marker);
                out.push_str(&blank(line));
            }
            (Some((c, n)), Some((c2, n2)))
                if c == c2 && n2 >= n && line.trim().chars().all(|x| x == c) =>
            {
                fence = None;
                out.push_str(&blank(line));
            }
            (Some(_), _) => out.push_str(&blank(line)),
            (None, None) => {
                paragraph.push_str(line);
                if line.trim().is_empty() {
                    out.push_str(&mask_spans(&std::mem::take(&mut paragraph)));
                }
            }
        }
    }
    out.push_str(&mask_spans(&paragraph));
    out
}

/// The fence character and length if `line` (indentation removed) opens or closes a fence.
fn fence_marker(line: &str) -> Option<(char, usize)> {
    let c = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = line.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// Inline code spans of one paragraph blanked: a run of N backticks up to the next run of
/// exactly N; a run without a closer is literal text.
fn mask_spans(paragraph: &str) -> String {
    let chars: Vec<char> = paragraph.chars().collect();
    let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let mut out = String::with_capacity(paragraph.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let m = run_at(j);
                if m == n {
                    close = Some(j + m);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        let end = close.unwrap_or(i + n);
        if close.is_some() {
            out.extend(chars[i..end].iter().map(|c| blank_char(*c)));
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
}

fn blank(line: &str) -> String {
    line.chars().map(blank_char).collect()
}

/// A character of code as a space; newlines stay, so line numbers stay those of the original.
fn blank_char(c: char) -> char {
    if c == '\n' {
        '\n'
    } else {
        ' '
    }
}

/// GitHub's anchors of a Markdown text's headings (ATX `#` and setext), in order, duplicates
/// numbered `-1`, `-2`, ...
fn heading_anchors(text: &str) -> Vec<String> {
    let masked = mask_code(text);
    let original: Vec<&str> = text.lines().collect();
    let mut headings = Vec::new();
    let mut previous: Option<usize> = None;
    for (i, line) in masked.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = line.trim();
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        let atx = indent <= 3
            && (1..=6).contains(&hashes)
            && trimmed[hashes..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace);
        if atx {
            // The original line: inline code in a heading is part of its text.
            let body = original[i].trim()[hashes..].trim();
            let body = body.trim_end_matches('#').trim_end();
            headings.push(body.to_string());
            previous = None;
            continue;
        }
        let underline = !trimmed.is_empty()
            && (trimmed.chars().all(|c| c == '=') || trimmed.chars().all(|c| c == '-'));
        match previous {
            Some(p) if underline && indent <= 3 => {
                headings.push(original[p].trim().to_string());
                previous = None;
            }
            _ => previous = (!trimmed.is_empty()).then_some(i),
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    headings
        .iter()
        .map(|heading| {
            let base = slug(heading);
            let count = seen.entry(base.clone()).or_insert(0);
            let anchor = if *count == 0 {
                base.clone()
            } else {
                format!("{base}-{count}")
            };
            *count += 1;
            anchor
        })
        .collect()
}

/// GitHub's heading slug: the heading's text (links and images by their text, no code
/// backticks), lowercased, without characters other than letters, digits, spaces, `-` and `_`,
/// spaces turned into hyphens.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](target)` and `![alt](src)` read as their text.
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|e| close + e) else {
            break;
        };
        text.push_str(rest[..open].trim_end_matches('!'));
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The checker's own rules

#[test]
fn slugs_follow_githubs_rule() {
    assert_eq!(slug("Grid files"), "grid-files");
    assert_eq!(
        slug("Accelerators (CUDA, wgpu) and Slurm"),
        "accelerators-cuda-wgpu-and-slurm"
    );
    assert_eq!(
        slug("Token attributions: `dmlft explain`"),
        "token-attributions-dmlft-explain"
    );
    assert_eq!(
        slug("Run A: lr 1e-4, head lr 1e-3"),
        "run-a-lr-1e-4-head-lr-1e-3"
    );
    assert_eq!(
        slug("The `run_cell` [entry](x.md) point"),
        "the-run_cell-entry-point"
    );
    assert_eq!(
        slug("Known differences from the authors' code"),
        "known-differences-from-the-authors-code"
    );
    let anchors = heading_anchors(
        "# A\n## Setup\ntext\n### Setup\nSetup\n-----\n```\n# not a heading\n```\n",
    );
    assert_eq!(anchors, ["a", "setup", "setup-1", "setup-2"]);
}

#[test]
fn links_in_code_are_not_links() {
    let text = "see [grids](docs/GRIDS.md#top-level-keys) and ![plot](p.png)\n\
                `[not](inline.md)` and ``a `[nor](this.md)` b``\n\
                ```toml\n[x](fenced.md)\n```\n\
                ~~~~\n```\n[y](fenced2.md)\n~~~~\n\
                [ref]: docs/CLI.md\n\
                [web](https://example.org) [mail](mailto:a@b.c) [self](#grid-files)\n\
                a `code span\nacross lines [z](span.md)` ends [w](after.md)\n";
    let found: Vec<(usize, String)> = links(text)
        .into_iter()
        .map(|l| (l.line, l.target))
        .collect();
    assert_eq!(
        found,
        [
            (1, "docs/GRIDS.md#top-level-keys".to_string()),
            (1, "p.png".to_string()),
            (10, "docs/CLI.md".to_string()),
            (11, "#grid-files".to_string()),
            (13, "after.md".to_string()),
        ]
    );
}

#[test]
fn a_missing_file_an_unknown_anchor_and_an_escape_are_each_reported() {
    let root = normalize(&workspace_root()).unwrap();
    let readme = root.join("README.md");
    let mut anchors = AnchorCache::default();
    let check =
        |target: &str, anchors: &mut AnchorCache| check_link(&root, &readme, target, anchors);
    assert_eq!(check("docs/GRIDS.md", &mut anchors), Ok(()));
    assert_eq!(check("docs/quickstart/", &mut anchors), Ok(()));
    assert!(check("docs/NO-SUCH-FILE.md", &mut anchors)
        .unwrap_err()
        .contains("no such file or folder (docs/NO-SUCH-FILE.md)"));
    assert!(check("docs/GRIDS.md#no-such-heading", &mut anchors)
        .unwrap_err()
        .contains("no heading with anchor `#no-such-heading` in docs/GRIDS.md"));
    assert!(check("#no-such-heading", &mut anchors)
        .unwrap_err()
        .contains("in README.md"));
    assert!(check("../outside.md", &mut anchors)
        .unwrap_err()
        .contains("outside the repository"));
}
