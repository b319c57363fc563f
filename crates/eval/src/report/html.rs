//! The study as one self-contained HTML page (`dmlft report --html`): the grid's settings, the
//! data fingerprints, per settings section the statistics table (sortable; rows significant
//! after Holm marked) with the results figure and the heatmap of differences, the training
//! curves, the failed cells with their errors, and links to analysis outputs. Figures are inline
//! SVG; CSS and the sorting script are inline; nothing is fetched. Every text that comes from
//! records or grids is escaped.
//!
//! Sorting: clicking a header sorts by that column (again: the other direction); the page also
//! sorts on load when its address ends in `#sort=TABLE:COLUMN:asc|desc` (0-based column). When
//! its script has run, `<body>` has `data-ready="1"`, and `data-errors` lists any script error.

use super::format::{caption, human_cells, human_headers, raw_cells};
use super::html_assets::{SCRIPT, STYLE};
use super::{Report, RowKind, RunRecord};
use crate::analysis::explain_html::escape;
use crate::plots::{
    heatmap_plot, heatmaps_svg, loss_palette, results_plot, results_svg, significance_stars,
    training_quantities, training_svg, LossPalette, PlotError, PlotOptions, TrainingPlot,
    TrainingRun,
};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// One settings section of the study (cells that share their swept settings).
pub struct HtmlSection<'a> {
    /// `key=value ...` of the swept settings; empty when the grid sweeps none.
    pub settings: &'a str,
    /// `None` when no cell of the section is done.
    pub report: Option<&'a Report>,
    /// The runs the report aggregated (every seed's value is drawn).
    pub runs: &'a [RunRecord],
    /// Training curves of the section's done cells (may be empty: old records have none).
    pub training: &'a [TrainingRun],
    /// HTML shown first in the section (the paper tables and the comparison over tasks);
    /// may be empty.
    pub lead: &'a str,
}

/// A failed cell as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtmlFailure {
    pub cell_id: String,
    pub settings: String,
    pub dataset: String,
    pub shots: usize,
    pub loss: String,
    /// `seed=1` or `seed=1 fold=0`.
    pub run: String,
    pub failed_step: Option<usize>,
    pub error: String,
}

/// A link to another output of the study, relative to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HtmlLink {
    pub label: String,
    pub href: String,
}

/// Everything on the page.
pub struct HtmlReport<'a> {
    /// The grid's name.
    pub title: &'a str,
    /// e.g. `dmlft 0.1.0`.
    pub generator: &'a str,
    /// The grid file as run (`grid.toml` of the results folder), when there is one.
    pub grid_text: Option<&'a str>,
    pub sections: Vec<HtmlSection<'a>>,
    pub failed: &'a [HtmlFailure],
    /// (dataset, data fingerprint) pairs of the records.
    pub fingerprints: &'a [(String, String)],
    pub links: &'a [HtmlLink],
    /// Shown at the top (unreadable records, data kept despite a change, ...).
    pub warnings: &'a [String],
    pub extras: HtmlExtras<'a>,
}

/// The sections of report.md beyond the statistics, as report.md has them (Markdown).
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlExtras<'a> {
    /// The axis chosen on the dev examples (`--select`), if any.
    pub selected_axis: Option<&'a str>,
    /// The "Chosen on dev" section; empty without `--select`.
    pub selection_markdown: &'a str,
    /// The "Compute" section; may be empty.
    pub compute_markdown: &'a str,
}

/// The page. Figures that have nothing to draw are left out; other plot errors are returned.
pub fn render_html(page: &HtmlReport, options: &PlotOptions) -> Result<String, PlotError> {
    let mut html = String::new();
    let title = format!("dmlft report: {}", page.title);
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&title)
    );
    let _ = writeln!(
        html,
        "<header><h1>{}</h1><p class=\"meta\">{}</p></header>",
        escape(&title),
        escape(page.generator)
    );
    html.push_str(&nav(page));
    for w in page.warnings {
        let _ = writeln!(html, "<p class=\"warning\">{}</p>", escape(w));
    }
    // the results lead (paper tables, comparison over tasks, ranks, then per-task detail); what
    // was run and how the settings were chosen follow
    let several = page.sections.len() > 1;
    for (i, section) in page.sections.iter().enumerate() {
        html.push_str(&results_section(i, section, several, options)?);
    }
    html.push_str(&extra_section(page.extras.selection_markdown, SELECTION_ID));
    html.push_str(&settings_section(page));
    html.push_str(&training_section(page, options)?);
    html.push_str(&failed_section(page.failed));
    html.push_str(&extra_section(page.extras.compute_markdown, COMPUTE_ID));
    html.push_str(&links_section(page.links));
    let _ = writeln!(html, "<script>{SCRIPT}</script>\n</body>\n</html>");
    Ok(html)
}

/// Anchors of the sections from report.md.
const SELECTION_ID: &str = "chosen-on-dev";
const COMPUTE_ID: &str = "compute";

/// A section of report.md as HTML; empty when the section is.
fn extra_section(markdown: &str, id: &str) -> String {
    if markdown.trim().is_empty() {
        return String::new();
    }
    format!(
        "<section>{}</section>\n",
        super::markdown_html::markdown_to_html(markdown, id)
    )
}

fn nav(page: &HtmlReport) -> String {
    let mut items = Vec::new();
    for (i, s) in page.sections.iter().enumerate() {
        let label = if s.settings.is_empty() {
            "Results".to_string()
        } else {
            format!("Results: {}", s.settings)
        };
        items.push((section_id(i), label));
    }
    if !page.extras.selection_markdown.trim().is_empty() {
        items.push((SELECTION_ID.into(), "Chosen on dev".into()));
    }
    items.push(("settings".to_string(), "Settings".to_string()));
    items.push(("training".into(), "Training curves".into()));
    if !page.failed.is_empty() {
        items.push((
            "failed".into(),
            format!("Failed cells ({})", page.failed.len()),
        ));
    }
    if !page.extras.compute_markdown.trim().is_empty() {
        items.push((COMPUTE_ID.into(), "Compute".into()));
    }
    if !page.links.is_empty() {
        items.push(("analysis".into(), "Analysis".into()));
    }
    let links: Vec<String> = items
        .iter()
        .map(|(id, label)| format!("<a href=\"#{id}\">{}</a>", escape(label)))
        .collect();
    format!("<nav>{}</nav>\n", links.join(" · "))
}

/// The anchor of results section `i`.
fn section_id(i: usize) -> String {
    format!("results-{i}")
}

fn settings_section(page: &HtmlReport) -> String {
    let mut out = String::from("<section id=\"settings\"><h2>Settings</h2>\n<dl class=\"facts\">");
    let reports: Vec<&Report> = page.sections.iter().filter_map(|s| s.report).collect();
    let distinct = |f: &dyn Fn(&super::ReportRow) -> String| {
        let mut v: Vec<String> = reports
            .iter()
            .flat_map(|r| &r.rows)
            .filter(|r| r.kind == RowKind::Cell)
            .map(f)
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut shots: Vec<usize> = reports
        .iter()
        .flat_map(|r| &r.rows)
        .filter(|r| r.kind == RowKind::Cell)
        .map(|r| r.shots)
        .collect();
    shots.sort();
    shots.dedup();
    let runs: usize = page.sections.iter().map(|s| s.runs.len()).sum();
    let facts: Vec<(&str, String)> = vec![
        ("datasets", distinct(&|r| r.dataset.clone()).join(", ")),
        (
            "shots",
            shots
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("losses", distinct(&|r| r.loss.clone()).join(", ")),
        (
            "inference modes",
            distinct(&|r| r.mode.to_string()).join(", "),
        ),
        (
            "metric",
            reports
                .first()
                .map(|r| r.metric.describe())
                .unwrap_or_default(),
        ),
        (
            "baseline",
            reports
                .first()
                .map(|r| r.baseline_loss.clone())
                .unwrap_or_default(),
        ),
        (
            "runs reported",
            format!(
                "{runs} (done cells x inference modes); failed cells: {}",
                page.failed.len()
            ),
        ),
        (
            "settings sections",
            page.sections
                .iter()
                .map(
                    |s| match (s.settings.is_empty(), page.extras.selected_axis) {
                        (false, _) => s.settings.to_string(),
                        // the swept setting was chosen per group on dev: not "none swept"
                        (true, Some(axis)) => format!("{axis}: chosen on dev (see Chosen on dev)"),
                        (true, None) => "(no swept setting)".to_string(),
                    },
                )
                .collect::<Vec<_>>()
                .join("; "),
        ),
    ];
    for (k, v) in facts {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    out.push_str("</dl>\n");
    if !page.fingerprints.is_empty() {
        out.push_str(
            "<h3>Data fingerprints</h3>\n<table class=\"plain\"><thead><tr><th>dataset</th>\
             <th>fingerprint of the data files read</th></tr></thead><tbody>",
        );
        for (d, f) in page.fingerprints {
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td></tr>",
                escape(d),
                escape(f)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if let Some(grid) = page.grid_text {
        let _ = writeln!(
            out,
            "<details><summary>Grid file (grid.toml)</summary><pre>{}</pre></details>",
            escape(grid)
        );
    }
    out.push_str("</section>\n");
    out
}

/// An inline SVG that scales with the page (a viewBox from its size).
fn inline_svg(svg: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return String::new();
    };
    let svg = &svg[start..];
    let tag_end = svg.find('>').unwrap_or(0);
    let tag = &svg[..tag_end];
    let attr = |name: &str| {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[at..].find('"')? + at;
        Some(tag[at..end].to_string())
    };
    match (attr("width"), attr("height")) {
        (Some(w), Some(h)) if !tag.contains("viewBox") => {
            format!("<svg viewBox=\"0 0 {w} {h}\" role=\"img\"{}", &svg[4..])
        }
        _ => svg.to_string(),
    }
}

/// `Ok(None)` when the figure has nothing to draw.
fn figure(result: Result<String, PlotError>) -> Result<Option<String>, PlotError> {
    match result {
        Ok(svg) => Ok(Some(inline_svg(&svg))),
        Err(PlotError::NoData(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn results_section(
    i: usize,
    section: &HtmlSection,
    several: bool,
    options: &PlotOptions,
) -> Result<String, PlotError> {
    let mut out = format!("<section id=\"{}\">", section_id(i));
    let heading = if several || !section.settings.is_empty() {
        format!("Results: {}", section.settings)
    } else {
        "Results".to_string()
    };
    let _ = writeln!(out, "<h2>{}</h2>", escape(&heading));
    out.push_str(section.lead);
    let Some(report) = section.report else {
        out.push_str("<p>No cell of these settings is done: every one failed (see Failed cells).</p></section>\n");
        return Ok(out);
    };
    let palette = loss_palette(report);
    let _ = writeln!(out, "<p class=\"caption\">{}</p>", escape(&caption(report)));
    out.push_str(&stats_table(
        &format!("t{i}"),
        report,
        RowKind::Cell,
        &palette,
    ));
    if report.rows.iter().any(|r| r.kind == RowKind::Average) {
        out.push_str("<h3>Averages over datasets</h3>\n");
        out.push_str(&stats_table(
            &format!("t{i}-avg"),
            report,
            RowKind::Average,
            &palette,
        ));
    }
    for w in &report.warnings {
        let _ = writeln!(out, "<p class=\"warning\">{}</p>", escape(w));
    }
    if let Some(svg) = figure(results_svg(
        &results_plot(report, section.runs, &palette),
        options,
    ))? {
        let _ = writeln!(
            out,
            "<figure><figcaption>{} per dataset: every run, mean and 95% CI</figcaption>{svg}</figure>",
            escape(report.metric.as_str())
        );
    }
    if let Some(plot) = heatmap_plot(report) {
        if let Some(svg) = figure(heatmaps_svg(&plot, options))? {
            let _ = writeln!(
                out,
                "<figure><figcaption>Difference to {} (mean over paired runs)</figcaption>{svg}</figure>",
                escape(&report.baseline_loss)
            );
        }
    }
    out.push_str("</section>\n");
    Ok(out)
}

/// The statistics table of `kind` rows; a row significant after Holm gets class `sig` and
/// stars beside its p; numeric cells carry their raw value (as in report.json) in `data-v`.
fn stats_table(id: &str, report: &Report, kind: RowKind, palette: &LossPalette) -> String {
    let headers = human_headers(report);
    let mut out = format!(
        "<table id=\"{}\" class=\"sortable\"><thead><tr>",
        escape(id)
    );
    for (c, h) in headers.iter().enumerate() {
        // dataset, loss and mode sort as text; the rest by value
        let num = !matches!(c, 0 | 2 | 3);
        let _ = write!(
            out,
            "<th data-type=\"{}\" title=\"sort\">{}</th>",
            if num { "num" } else { "text" },
            escape(h)
        );
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in report.rows.iter().filter(|r| r.kind == kind) {
        let class = if row.significant() {
            " class=\"sig\""
        } else {
            ""
        };
        let _ = write!(out, "<tr{class}>");
        let raw = raw_cells(row);
        for (c, (text, value)) in human_cells(report, row).into_iter().zip(raw).enumerate() {
            let text = text.unwrap_or_else(|| "-".into());
            let data = value
                .filter(|v| v.is_finite())
                .map(|v| format!(" data-v=\"{v}\""))
                .unwrap_or_default();
            let body = match c {
                2 => format!(
                    "<span class=\"swatch\" style=\"background:{}\"></span>{}",
                    palette.css(&row.loss),
                    escape(&text)
                ),
                14 => {
                    let stars = significance_stars(row.comparison.as_ref().and_then(|c| c.p_holm));
                    if stars.is_empty() {
                        escape(&text)
                    } else {
                        format!("{}<span class=\"stars\">{stars}</span>", escape(&text))
                    }
                }
                _ => escape(&text),
            };
            let _ = write!(out, "<td{data}>{body}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

fn training_section(page: &HtmlReport, options: &PlotOptions) -> Result<String, PlotError> {
    let mut out = String::from("<section id=\"training\"><h2>Training curves</h2>\n");
    let mut any = false;
    for section in &page.sections {
        if section.training.is_empty() {
            continue;
        }
        let palette = match section.report {
            Some(r) => loss_palette(r),
            None => LossPalette::new(None, section.training.iter().map(|t| t.loss.as_str())),
        };
        if !section.settings.is_empty() {
            let _ = writeln!(out, "<h3>{}</h3>", escape(section.settings));
        }
        for (q, quantity) in training_quantities(section.training)
            .into_iter()
            .enumerate()
        {
            let plot = TrainingPlot {
                quantity: quantity.clone(),
                runs: section.training.to_vec(),
                palette: palette.clone(),
                same_as: Vec::new(),
            };
            if let Some(svg) = figure(training_svg(&plot, options))? {
                any = true;
                // the total loss open, the other quantities folded
                let open = if q == 0 { " open" } else { "" };
                let _ = writeln!(
                    out,
                    "<details{open}><summary>{}</summary><figure>{svg}</figure></details>",
                    escape(&quantity)
                );
            }
        }
    }
    if !any {
        out.push_str(
            "<p>No record has a training curve (records written before dmlft recorded curves have none).</p>\n",
        );
    }
    out.push_str("</section>\n");
    Ok(out)
}

fn failed_section(failed: &[HtmlFailure]) -> String {
    if failed.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section id=\"failed\"><h2>Failed cells ({})</h2>\n<table id=\"failed-cells\" class=\"sortable\">\
         <thead><tr><th data-type=\"text\">cell</th><th data-type=\"text\">settings</th>\
         <th data-type=\"text\">dataset</th><th data-type=\"num\">shots</th><th data-type=\"text\">loss</th>\
         <th data-type=\"text\">run</th><th data-type=\"num\">failed at step</th><th data-type=\"text\">error</th>\
         </tr></thead><tbody>\n",
        failed.len()
    );
    for f in failed {
        let step = f
            .failed_step
            .map(|s| (s.to_string(), format!(" data-v=\"{s}\"")))
            .unwrap_or_else(|| ("-".into(), String::new()));
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td data-v=\"{}\">{}</td><td>{}</td>\
             <td>{}</td><td{}>{}</td><td><pre class=\"error\">{}</pre></td></tr>",
            escape(&f.cell_id),
            escape(&f.settings),
            escape(&f.dataset),
            f.shots,
            f.shots,
            escape(&f.loss),
            escape(&f.run),
            step.1,
            step.0,
            escape(&f.error)
        );
    }
    out.push_str("</tbody></table></section>\n");
    out
}

fn links_section(links: &[HtmlLink]) -> String {
    if links.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section id=\"analysis\"><h2>Analysis</h2><ul>\n");
    for l in links {
        let _ = writeln!(
            out,
            "<li><a href=\"{}\">{}</a></li>",
            escape(&l.href),
            escape(&l.label)
        );
    }
    out.push_str("</ul></section>\n");
    out
}

/// Links to the analysis outputs under `results_dir` (`explain.html` pages and the images in
/// `maps/` folders written by `dmlft explain` / `dmlft analyze`), relative to `page_dir`, in
/// path order. Cell records and the report folder itself are not searched.
pub fn analysis_links(results_dir: &Path, page_dir: &Path) -> Vec<HtmlLink> {
    let mut found = Vec::new();
    walk(results_dir, page_dir, 0, &mut found);
    found.sort();
    found
        .into_iter()
        .filter_map(|path| {
            let label = path
                .strip_prefix(results_dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let href = relative(page_dir, &path)?;
            Some(HtmlLink { label, href })
        })
        .collect()
}

fn walk(dir: &Path, skip: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    if depth > 4 || dir == skip {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let in_maps = dir.file_name().is_some_and(|n| n == "maps");
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "cells" && !name.starts_with('.') {
                walk(&path, skip, depth + 1, found);
            }
        } else if name == "explain.html"
            || (in_maps && (name.ends_with(".png") || name.ends_with(".svg")))
        {
            found.push(path);
        }
    }
}

/// `to` relative to the folder `from`, with `/` separators (`None` if one cannot be made).
fn relative(from: &Path, to: &Path) -> Option<String> {
    let from = std::path::absolute(from).ok()?;
    let to = std::path::absolute(to).ok()?;
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links() {
        assert_eq!(
            relative(Path::new("/r/report"), Path::new("/r/analysis/maps/a.png")).unwrap(),
            "../analysis/maps/a.png"
        );
        assert_eq!(
            relative(Path::new("/r"), Path::new("/r/explain.html")).unwrap(),
            "explain.html"
        );
    }

    #[test]
    fn inline_svg_gets_a_view_box() {
        let s = inline_svg("<svg width=\"10\" height=\"20\" xmlns=\"x\"><rect/></svg>");
        assert!(
            s.starts_with("<svg viewBox=\"0 0 10 20\" role=\"img\" width=\"10\""),
            "{s}"
        );
    }
}
