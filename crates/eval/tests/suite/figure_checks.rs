//! Every kind of figure, rendered from a small real results folder (tests/fixtures/figures,
//! written by scripts/make_figure_fixtures.py from docs/study) at print size, and checked
//! from its SVG: no two text boxes overlap, nothing is drawn outside the canvas, no tick
//! label repeats or carries float residue or another format than its axis' others, every
//! series of the legend is drawn where it is not fully covered, and no text is smaller than
//! 7 pt at the figure's size. Set DMLFT_PLOT_DIR to keep the files for looking at them.

use dmlft_eval::plots::{
    add_reference_lines, diff_plot, distinct_quantities, font::plot_font, font::text_width,
    heatmap_plot, heatmaps_svg, loss_palette, plot_cd_diagram, plot_deciles, plot_heatmaps,
    plot_results, plot_training, results_plot, training_quantities, CdDiagram, DecileSeries,
    PlotFiles, PlotOptions, TrainingPlot, TrainingRun, DPI, MIN_FONT_PT,
};
use dmlft_eval::report::{aggregate, reference_levels};
use dmlft_eval::{Metric, RunRecord};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/figures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("DMLFT_PLOT_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir).join("figure-checks");
            std::fs::create_dir_all(&dir).unwrap();
            (None, dir)
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

/// A `<text>`: anchor point, alignment, size in pixels (plotters writes `font-size` = size /
/// 1.24), rotation and content.
#[derive(Debug, Clone)]
struct SvgText {
    x: f64,
    y: f64,
    anchor: String,
    /// `0.76em`: hangs below y; `-0.5ex`-ish: sits on it; else centred.
    dy: String,
    size: f64,
    rotated: bool,
    text: String,
}

impl SvgText {
    fn bbox(&self) -> (f64, f64, f64, f64) {
        let w = text_width(self.size, &self.text);
        let h = self.size * 0.8;
        let (a0, a1) = match self.anchor.as_str() {
            "end" => (-w, 0.0),
            "middle" => (-w / 2.0, w / 2.0),
            _ => (0.0, w),
        };
        let (b0, b1) = if self.dy.contains("em") && !self.dy.starts_with('-') {
            (0.0, h)
        } else if self.dy.starts_with('-') {
            (-h, 0.0)
        } else {
            (-h / 2.0, h / 2.0)
        };
        if self.rotated {
            // rotate(270): the text runs upwards from its anchor
            (self.x + b0, self.y - a1, self.x + b1, self.y - a0)
        } else {
            (self.x + a0, self.y + b0, self.x + a1, self.y + b1)
        }
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn texts(svg: &str) -> Vec<SvgText> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let tag_end = rest[i..].find('>').unwrap() + i;
        let close = rest[tag_end..].find("</text>").unwrap() + tag_end;
        let tag = &rest[i..tag_end];
        out.push(SvgText {
            x: num(tag, "x"),
            y: num(tag, "y"),
            anchor: attr(tag, "text-anchor").unwrap_or_else(|| "start".into()),
            dy: attr(tag, "dy").unwrap_or_default(),
            size: num(tag, "font-size") * 1.24,
            rotated: tag.contains("rotate("),
            text: rest[tag_end + 1..close]
                .trim()
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        });
        rest = &rest[close..];
    }
    out
}

/// A drawn shape: its box, its colour (fill or stroke), and whether it is opaque and filled.
#[derive(Debug, Clone)]
struct Shape {
    bbox: (f64, f64, f64, f64),
    color: String,
    filled: bool,
}

fn points(tag: &str) -> Vec<(f64, f64)> {
    attr(tag, "points")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| {
            let (x, y) = p.split_once(',')?;
            Some((x.parse().ok()?, y.parse().ok()?))
        })
        .collect()
}

fn shapes(svg: &str) -> Vec<Shape> {
    let mut out = Vec::new();
    for piece in svg.split('<').skip(1) {
        let tag = format!(" {}", &piece[..piece.find('>').unwrap_or(piece.len())]);
        let kind = tag.split_whitespace().next().unwrap_or("");
        let fill = attr(&tag, "fill").filter(|f| f != "none");
        let opaque = attr(&tag, "opacity").is_none_or(|o| o == "1");
        let bbox = match kind {
            "circle" => {
                let (x, y, r) = (num(&tag, "cx"), num(&tag, "cy"), num(&tag, "r"));
                (x - r, y - r, x + r, y + r)
            }
            "rect" => {
                let (x, y) = (num(&tag, "x"), num(&tag, "y"));
                (x, y, x + num(&tag, "width"), y + num(&tag, "height"))
            }
            "polygon" | "polyline" => {
                let p = points(&tag);
                if p.is_empty() {
                    continue;
                }
                let fold = |f: fn(f64, f64) -> f64, pick: fn(&(f64, f64)) -> f64, init: f64| {
                    p.iter().map(pick).fold(init, f)
                };
                (
                    fold(f64::min, |p| p.0, f64::INFINITY),
                    fold(f64::min, |p| p.1, f64::INFINITY),
                    fold(f64::max, |p| p.0, f64::NEG_INFINITY),
                    fold(f64::max, |p| p.1, f64::NEG_INFINITY),
                )
            }
            _ => continue,
        };
        let color = fill
            .clone()
            .or_else(|| attr(&tag, "stroke"))
            .unwrap_or_default()
            .to_uppercase();
        out.push(Shape {
            bbox,
            color,
            filled: fill.is_some() && opaque && kind != "polyline",
        });
    }
    out
}

/// The SVG's size in user units (its `viewBox`).
fn view_box(svg: &str) -> (f64, f64) {
    let tag = &svg[svg.find("<svg").unwrap()..];
    let tag = &tag[..tag.find('>').unwrap()];
    let v: Vec<f64> = attr(tag, "viewBox")
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (v[2], v[3])
}

fn overlaps(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.2 - 0.5 && b.0 < a.2 - 0.5 && a.1 < b.3 - 0.5 && b.1 < a.3 - 0.5
}

fn inside(inner: (f64, f64, f64, f64), outer: (f64, f64, f64, f64)) -> bool {
    inner.0 >= outer.0 && inner.1 >= outer.1 && inner.2 <= outer.2 && inner.3 <= outer.3
}

/// A tick label: a number at the tick size (7.5 pt).
fn tick_value(t: &SvgText) -> Option<f64> {
    let tick = 7.5 * DPI / 72.0;
    ((t.size - tick).abs() < 0.05)
        .then(|| t.text.trim_start_matches('+').parse::<f64>().ok())
        .flatten()
}

fn decimals(label: &str) -> usize {
    match label.split_once('.') {
        Some((_, d)) => d.chars().take_while(char::is_ascii_digit).count(),
        None => 0,
    }
}

/// Everything the issue asks of a printed figure, from its SVG. `series`: the colours
/// (`#RRGGBB`) of the legend's series, each of which must be drawn visibly.
fn check(name: &str, svg: &str, series: &[String]) {
    let (w, h) = view_box(svg);
    let canvas = (-0.5, -0.5, w + 0.5, h + 0.5);
    assert!(
        svg.contains(&format!("width=\"{}in\"", w / DPI))
            || svg.contains(&format!("width=\"{:.3}in\"", w / DPI).replace(".000in", "in")),
        "{name}: the SVG says its print size"
    );
    let all = texts(svg);
    assert!(!all.is_empty(), "{name}: no text");
    let min_px = MIN_FONT_PT * DPI / 72.0;
    for t in &all {
        assert!(t.size >= min_px - 0.01, "{name}: text below 7 pt: {t:?}");
        assert!(
            inside(t.bbox(), canvas),
            "{name}: text leaves the canvas: {t:?} {:?}",
            t.bbox()
        );
    }
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(
                !overlaps(a.bbox(), b.bbox()),
                "{name}: texts overlap: {a:?} {:?} and {b:?} {:?}",
                a.bbox(),
                b.bbox()
            );
        }
    }
    let drawn = shapes(svg);
    for s in &drawn {
        assert!(
            inside(s.bbox, canvas),
            "{name}: shape leaves the canvas: {s:?}"
        );
    }
    // tick labels, by axis: y ticks share their x and anchor, x ticks their y
    let mut axes: BTreeMap<(String, i64), Vec<&SvgText>> = BTreeMap::new();
    for t in all.iter().filter(|t| tick_value(t).is_some()) {
        let key = match t.anchor.as_str() {
            "middle" => ("x".to_string(), t.y.round() as i64),
            a => (a.to_string(), t.x.round() as i64),
        };
        axes.entry(key).or_default().push(t);
    }
    for (axis, labels) in &axes {
        for t in labels {
            // residue: a long run of 0s or 9s, or an exponent no axis of ours reaches
            assert!(
                !(t.text.contains("00000")
                    || t.text.contains("99999")
                    || t.text
                        .split_once('e')
                        .and_then(|(_, e)| e.parse::<i32>().ok())
                        .is_some_and(|e| !(-12..=12).contains(&e))),
                "{name}: float residue in tick {t:?}"
            );
        }
        // panels side by side share an axis line: walk the labels in reading order (x:
        // left to right, values rising; y: top to bottom, values falling); a value going the
        // other way starts the next panel, an equal one is a repeated tick
        let texts: Vec<&str> = labels.iter().map(|t| t.text.as_str()).collect();
        let mut walk: Vec<(f64, f64, &str)> = labels
            .iter()
            .map(|t| {
                let v = tick_value(t).unwrap();
                if axis.0 == "x" {
                    (t.x, v, t.text.as_str())
                } else {
                    (t.y, -v, t.text.as_str())
                }
            })
            .collect();
        walk.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in walk.windows(2) {
            assert!(
                pair[1].1 != pair[0].1,
                "{name}: tick label {} repeats on axis {axis:?}: {texts:?}",
                pair[1].2
            );
        }
        if !texts.iter().any(|t| t.contains('e')) {
            let first = decimals(texts[0]);
            assert!(
                texts.iter().all(|t| decimals(t) == first),
                "{name}: mixed tick formats on axis {axis:?}: {texts:?}"
            );
        }
    }
    // every series: drawn somewhere besides its legend mark, and not fully covered by a
    // later opaque shape of another colour
    for colour in series {
        let own: Vec<(usize, &Shape)> = drawn
            .iter()
            .enumerate()
            .filter(|(_, s)| &s.color == colour)
            .collect();
        assert!(own.len() >= 2, "{name}: series {colour} is not drawn");
        let visible = own.iter().any(|(i, s)| {
            !drawn[i + 1..]
                .iter()
                .any(|later| later.filled && later.color != *colour && inside(s.bbox, later.bbox))
        });
        assert!(visible, "{name}: series {colour} is covered everywhere");
    }
}

fn colour_css(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn read(files: &PlotFiles) -> String {
    std::fs::read_to_string(&files.svg).unwrap()
}

#[test]
fn every_figure_kind_prints() {
    if let Err(why) = plot_font() {
        eprintln!("skipped (text layout needs a font): {why}");
        return;
    }
    let (_guard, dir) = out_dir();
    let runs: Vec<RunRecord> = fixture("runs.json");
    let training: Vec<TrainingRun> = fixture("training.json");
    let counts: BTreeMap<String, Vec<Vec<usize>>> = fixture("class_counts.json");
    let page = PlotOptions::page();
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let palette = loss_palette(&report);

    // results: a colour per method, the majority / chance lines inside the axis
    let mut results = results_plot(&report, &runs, &palette);
    add_reference_lines(
        &mut results,
        &report,
        &reference_levels(&counts, Metric::Accuracy),
    );
    assert_eq!(
        results
            .panels
            .iter()
            .map(|p| p.title.as_str())
            .collect::<Vec<_>>(),
        ["mr", "trec", "mrpc"],
        "the papers' task order"
    );
    let methods: Vec<String> = results.panels[0]
        .series
        .iter()
        .map(|s| colour_css(palette.method_color(&s.loss, s.mode)))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = methods.iter().collect();
    assert_eq!(
        distinct.len(),
        methods.len(),
        "one colour per method: {methods:?}"
    );
    let files = plot_results(&results, &dir.join("results"), &page).unwrap();
    let svg = read(&files);
    check("results", &svg, &methods);
    let all = texts(&svg);
    assert!(all.iter().any(|t| t.text == "shots per class"));
    assert!(all.iter().any(|t| t.text == "majority"), "majority line");
    // MRPC's majority (about 66 %) is on the axis: a y tick above it exists in some panel
    assert!(all.iter().filter_map(tick_value).any(|v| v >= 66.0));

    // the comparison: paired differences with their intervals, the baseline at 0
    let diffs = diff_plot(&report, &runs, &palette).unwrap();
    assert!(diffs.interval_label.contains("paired difference"));
    let files = plot_results(&diffs, &dir.join("diff-intervals"), &page).unwrap();
    let colours: Vec<String> = diffs.panels[0]
        .series
        .iter()
        .map(|s| colour_css(palette.method_color(&s.loss, s.mode)))
        .collect();
    check("diff-intervals", &read(&files), &colours);

    // the heatmap: the papers' order, an average row, round symmetric limits, no star legend
    // when nothing is significant
    let heat = heatmap_plot(&report).unwrap();
    assert_eq!(heat.maps[0].rows, ["mr", "trec", "mrpc", "average"]);
    let primary = heat.maps[0].primary_columns.unwrap();
    assert!(heat.maps[0].columns[..primary]
        .iter()
        .all(|c| c.ends_with("(head)")));
    assert!(heat.maps[0].columns[primary..]
        .iter()
        .all(|c| !c.ends_with("(head)")));
    let files = plot_heatmaps(&heat, &dir.join("diff-vs-baseline"), &page).unwrap();
    let svg = read(&files);
    check("diff-vs-baseline", &svg, &[]);
    let bar: Vec<f64> = texts(&svg)
        .iter()
        .filter(|t| t.anchor == "start")
        .filter_map(tick_value)
        .collect();
    assert_eq!(bar.len(), 5, "{bar:?}");
    let end = bar.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        bar.contains(&end) && bar.contains(&-end),
        "symmetric: {bar:?}"
    );
    assert!(
        (end * 2.0).fract() == 0.0 || (end * 20.0).fract() == 0.0,
        "round: {end}"
    );
    if !heat.any_significant {
        assert!(!svg.contains("*** p &lt;") && !svg.contains("*** p <"));
        assert!(svg.contains("no difference is significant"));
    }
    assert_eq!(heatmaps_svg(&heat, &page).unwrap(), svg, "inline = file");

    // training curves: one figure per distinct quantity, log scale for objectives
    let quantities = distinct_quantities(&training, &training_quantities(&training));
    let names: Vec<&str> = quantities.iter().map(|(q, _)| q.as_str()).collect();
    assert!(
        names.contains(&"loss") && names.contains(&"grad norm"),
        "{names:?}"
    );
    for (quantity, same_as) in &quantities {
        let plot = TrainingPlot {
            quantity: quantity.clone(),
            runs: training.clone(),
            palette: palette.clone(),
            same_as: same_as.clone(),
        };
        let stem = format!("training-{}", quantity.replace(' ', "-"));
        let files = plot_training(&plot, &dir.join(&stem), &page).unwrap();
        let svg = read(&files);
        // the legend's curves (the schedules' groups for learning rates)
        let losses: std::collections::BTreeSet<&str> = training
            .iter()
            .filter(|r| r.values.contains_key(quantity))
            .map(|r| r.loss.as_str())
            .collect();
        let colours: Vec<String> = if quantity.starts_with("lr ") {
            Vec::new()
        } else {
            losses
                .iter()
                .map(|l| colour_css(palette.color(l)))
                .collect()
        };
        check(&stem, &svg, &colours);
        if quantity == "grad norm" {
            assert!(svg.contains("before clipping"), "{stem}: says pre-clip");
        }
    }

    // the CD diagram and the deciles (analysis) figure
    let cd = CdDiagram {
        title: "Average rank (accuracy), 6 blocks".into(),
        methods: palette.losses().to_vec(),
        average_ranks: (0..palette.losses().len())
            .map(|i| 1.0 + i as f64 * 0.7)
            .collect(),
        critical_difference: 1.9,
    };
    let files = plot_cd_diagram(&cd, &dir.join("cd-diagram"), &page).unwrap();
    check("cd-diagram", &read(&files), &[]);
    let series: Vec<DecileSeries> = ["ce", "ce+softtriple"]
        .iter()
        .enumerate()
        .map(|(s, name)| DecileSeries {
            name: name.to_string(),
            values: (0..10)
                .map(|i| 0.45 + 0.02 * ((i * 3 + s * 5) % 11) as f64)
                .collect(),
            counts: vec![40; 10],
        })
        .collect();
    let files = plot_deciles(
        &series,
        "Accuracy by decile of L2 distance to the centroid of the mean embeddings in each model's own space",
        "accuracy",
        &dir.join("deciles-distance"),
        &PlotOptions::column(),
    )
    .unwrap();
    check("deciles-distance", &read(&files), &[]);
}
