//! Every plot writes a non-empty, well-formed SVG and a PNG of the requested size.

use dmlft_eval::plots::{
    font::plot_font, heatmap_plot, heatmaps_from_report, loss_palette, plot_deciles, plot_heatmaps,
    plot_results, plot_scatter, results_plot, DecileSeries, HeatmapPlot, PlotFiles, PlotOptions,
    ScatterPoint, TextPolicy,
};
use dmlft_eval::{aggregate, RunRecord};
use dmlft_eval::{InferenceMode, Metric};
use std::collections::BTreeMap;
use std::path::Path;

const W: u32 = 640;
const H: u32 = 480;

fn options(text: TextPolicy) -> PlotOptions {
    PlotOptions {
        width: W,
        height: H,
        text,
    }
}

/// Checks the PNG signature and the IHDR size (the requested width; report figures choose
/// their height from their panels, the others take the requested one), and that the SVG is a
/// balanced document of the same size with the expected elements. Returns the SVG text.
fn check_files(files: &PlotFiles, svg_elements: &[&str]) -> String {
    let png = std::fs::read(&files.png).unwrap();
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "PNG signature of {}",
        files.png.display()
    );
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(width, W);
    assert!(height >= 100, "{height}");
    assert!(
        png.len() > 1000,
        "PNG suspiciously small: {} bytes",
        png.len()
    );

    let svg = std::fs::read_to_string(&files.svg).unwrap();
    assert!(
        svg.trim_start().starts_with("<svg"),
        "{}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(&format!("width=\"{W}\"")));
    assert!(svg.contains(&format!("height=\"{height}\"")));
    for element in svg_elements {
        assert!(
            svg.contains(&format!("<{element}")),
            "no <{element}> in {}",
            files.svg.display()
        );
    }
    // XML-ish: every opened non-self-closing tag is closed.
    for tag in ["text", "svg"] {
        let open = svg.matches(&format!("<{tag}")).count();
        let close = svg.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "unbalanced <{tag}>");
    }
    svg
}

fn record(dataset: &str, shots: usize, loss: &str, seed: usize, acc: f64) -> RunRecord {
    RunRecord {
        dataset: dataset.into(),
        shots,
        loss: loss.into(),
        mode: InferenceMode::Head,
        pair_key: format!("seed{seed}"),
        metrics: BTreeMap::from([(Metric::Accuracy, acc)]),
    }
}

fn sample_records() -> Vec<RunRecord> {
    let mut out = Vec::new();
    for (d, dataset) in ["mr", "cr", "subj"].iter().enumerate() {
        for shots in [4, 8, 16] {
            for (l, loss) in ["ce", "supcon", "triplet"].iter().enumerate() {
                for seed in 0..4 {
                    let acc = 0.5 + 0.02 * shots as f64 / 4.0 + 0.01 * l as f64 - 0.03 * d as f64
                        + 0.004 * ((seed * 7 + l * 3 + shots) % 5) as f64;
                    out.push(record(dataset, shots, loss, seed, acc));
                }
            }
        }
    }
    out
}

#[test]
fn report_plots_with_text() {
    let dir = tempfile::tempdir().unwrap();
    let runs = sample_records();
    let report = aggregate(&runs, "ce", Metric::Accuracy).unwrap();
    let plot = results_plot(&report, &runs, &loss_palette(&report));
    assert_eq!(plot.panels.len(), 3);
    let curves = plot_results(
        &plot,
        &dir.path().join("curves"),
        &options(TextPolicy::Auto),
    )
    .unwrap();
    let maps = heatmaps_from_report(&report);
    assert_eq!(maps.len(), 3);
    assert_eq!(maps[0].columns, vec!["supcon (head)", "triplet (head)"]);
    let heat = plot_heatmaps(
        &heatmap_plot(&report).unwrap(),
        &dir.path().join("sub/heat"),
        &options(TextPolicy::Auto),
    )
    .unwrap();
    match plot_font() {
        Ok(path) => {
            eprintln!("font: {path}");
            assert!(curves.text_drawn && curves.warnings.is_empty());
            let svg = check_files(&curves, &["polyline", "circle", "text"]);
            assert!(
                svg.contains("supcon (head)") && svg.contains("\nmr\n</text>"),
                "legend/title text"
            );
            let svg = check_files(&heat, &["rect", "text"]);
            // Annotations in percent points with a sign.
            assert!(svg.contains("\n+"), "no signed annotation");
        }
        Err(why) => {
            eprintln!("no font, checking the text-free fallback: {why}");
            assert!(!curves.text_drawn && !curves.warnings.is_empty());
            check_files(&curves, &["polyline", "circle"]);
            check_files(&heat, &["rect"]);
        }
    }
}

#[test]
fn scatter_and_deciles_without_text() {
    let dir = tempfile::tempdir().unwrap();
    let points: Vec<ScatterPoint> = (0..60)
        .map(|i| ScatterPoint {
            x: (i % 10) as f64 + (i / 30) as f64 * 20.0,
            y: (i / 10) as f64,
            label: i / 30,
            error: i % 13 == 0,
        })
        .collect();
    let names = vec!["neg".to_string(), "pos".to_string()];
    let scatter = plot_scatter(
        &points,
        &names,
        "map",
        &dir.path().join("scatter"),
        &options(TextPolicy::Never),
    )
    .unwrap();
    assert!(!scatter.text_drawn);
    let svg = check_files(&scatter, &["circle", "line"]);
    assert!(!svg.contains("<text"), "text drawn under TextPolicy::Never");

    let series = vec![
        DecileSeries {
            name: "ce".into(),
            values: (0..10).map(|i| 0.5 + 0.04 * i as f64).collect(),
            counts: Vec::new(),
        },
        DecileSeries {
            name: "supcon".into(),
            values: (0..10).map(|i| 0.55 + 0.03 * i as f64).collect(),
            counts: Vec::new(),
        },
    ];
    let deciles = plot_deciles(
        &series,
        "accuracy by confidence",
        "accuracy",
        &dir.path().join("deciles"),
        &options(TextPolicy::Never),
    )
    .unwrap();
    check_files(&deciles, &["polyline", "circle"]);
}

#[test]
fn scatter_and_deciles_with_text_when_a_font_exists() {
    if plot_font().is_err() {
        eprintln!("skipped: no system font");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let points = vec![
        ScatterPoint {
            x: 0.0,
            y: 0.0,
            label: 0,
            error: false,
        },
        ScatterPoint {
            x: 1.0,
            y: 1.0,
            label: 1,
            error: true,
        },
    ];
    let names = vec!["neg".to_string(), "pos".to_string()];
    let f = plot_scatter(
        &points,
        &names,
        "t-SNE",
        &dir.path().join("s"),
        &options(TextPolicy::Auto),
    )
    .unwrap();
    let svg = check_files(&f, &["circle", "text"]);
    assert!(svg.contains("t-SNE") && svg.contains("error (cross)"));
    let series = vec![DecileSeries {
        name: "ce".into(),
        values: vec![0.1, 0.2, 0.3],
        counts: Vec::new(),
    }];
    let f = plot_deciles(
        &series,
        "by length",
        "acc",
        &dir.path().join("d"),
        &options(TextPolicy::Auto),
    )
    .unwrap();
    check_files(&f, &["polyline", "text"]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("x");
    let o = options(TextPolicy::Never);
    let p = vec![ScatterPoint {
        x: 0.0,
        y: 0.0,
        label: 2,
        error: false,
    }];
    assert!(plot_scatter(&p, &["a".to_string()], "t", &stem, &o).is_err());
    assert!(plot_scatter(&[], &[], "t", &stem, &o).is_err());
    let nan = vec![DecileSeries {
        name: "a".into(),
        values: vec![f64::NAN],
        counts: Vec::new(),
    }];
    assert!(plot_deciles(&nan, "t", "y", &stem, &o).is_err());
    let maps = |maps: Vec<dmlft_eval::plots::Heatmap>| HeatmapPlot {
        any_significant: false,
        maps,
        value_label: "diff".into(),
        test_label: "test".into(),
    };
    assert!(plot_heatmaps(&maps(vec![]), &stem, &o).is_err());
    // A single cell and a missing value draw fine (no degenerate axis).
    let one = dmlft_eval::plots::Heatmap {
        primary_columns: None,
        summary_rows: 0,
        title: "one".into(),
        rows: vec!["mr".into()],
        columns: vec!["supcon".into(), "triplet".into()],
        values: vec![vec![Some(-0.012), None]],
        p_holm: vec![],
        annotation_scale: 100.0,
    };
    let files = plot_heatmaps(
        &maps(vec![one.clone()]),
        &dir.path().join("one"),
        &options(TextPolicy::Auto),
    )
    .unwrap();
    check_files(&files, &["rect"]);
    let mut ragged = one;
    ragged.values[0].pop();
    assert!(plot_heatmaps(&maps(vec![ragged]), &stem, &o).is_err());
    let tiny = PlotOptions {
        width: 10,
        height: 10,
        text: TextPolicy::Never,
    };
    let ok = vec![DecileSeries {
        name: "a".into(),
        values: vec![1.0],
        counts: Vec::new(),
    }];
    assert!(plot_deciles(&ok, "t", "y", &stem, &tiny).is_err());
    assert!(!Path::new(&format!("{}.svg", stem.display())).exists());
}
