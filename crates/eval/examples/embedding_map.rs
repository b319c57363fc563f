//! Projects a matrix of embeddings to 2-D with dmlft-eval's t-SNE or PCA and writes the map, for
//! the comparison with sklearn and linfa in docs/ANALYSIS.md (scripts/bench/embedding_maps.py
//! drives it).
//!
//!   cargo run --release -p dmlft-eval --example embedding_map -- tsne|tsne-bh|pca IN OUT [ITERATIONS]
//!
//! `tsne` is the exact t-SNE, `tsne-bh` the Barnes-Hut one the maps use above
//! `TsneMethod::EXACT_MAX_POINTS`. ITERATIONS (t-SNE only; default sklearn's 1,000) times a shortened run, to measure the cost
//! per iteration where a full exact run would take too long.
//!
//! IN: `n` (u64 LE), `d` (u64 LE), then `n * d` f32 LE, row-major. OUT: `n * 2` f64 LE.
//! Prints one JSON line: the implementation, the seconds taken and the quality measure (t-SNE:
//! final KL divergence; PCA: explained variance ratios).

use std::io::Write;
use std::time::Instant;

use dmlft_eval::embeddings::EmbeddingView;
use dmlft_eval::pca::pca_2d;
use dmlft_eval::tsne::{tsne_2d_with, TsneConfig, TsneInit, TsneMethod};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (what, input, output, iterations) = match args.as_slice() {
        [w, i, o] => (w, i, o, None),
        [w, i, o, n] => (w, i, o, Some(n.parse::<usize>()?)),
        _ => return Err("usage: embedding_map tsne|tsne-bh|pca IN OUT [ITERATIONS]".into()),
    };
    let bytes = std::fs::read(input)?;
    let header = |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap());
    let (n, d) = (header(0) as usize, header(1) as usize);
    let data: Vec<f32> = bytes[16..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    if data.len() != n * d {
        return Err(format!("{input}: {} values for {n} x {d}", data.len()).into());
    }
    let view = EmbeddingView::new(&data, d)?;
    let started = Instant::now();
    let (points, quality) = match what.as_str() {
        "tsne" | "tsne-bh" => {
            let defaults = TsneConfig::default();
            let config = TsneConfig {
                init: TsneInit::Pca,
                iterations: iterations.unwrap_or(defaults.iterations),
                ..defaults
            };
            let method = if what == "tsne" {
                TsneMethod::Exact
            } else {
                TsneMethod::BarnesHut { theta: 0.5 }
            };
            let map = tsne_2d_with(&view, &config, method)?;
            let kl = map
                .kl_divergence
                .map_or("null".to_string(), |v| v.to_string());
            (map.points, format!("\"kl_divergence\": {kl}"))
        }
        "pca" => {
            let pca = pca_2d(&view)?;
            let ratio = &pca.explained_variance_ratio;
            let points = pca.projected.iter().map(|p| [p[0], p[1]]).collect();
            (points, format!("\"explained_variance_ratio\": {ratio:?}"))
        }
        other => return Err(format!("unknown projection `{other}`: tsne, tsne-bh or pca").into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for p in &points {
        out.write_all(&p[0].to_le_bytes())?;
        out.write_all(&p[1].to_le_bytes())?;
    }
    out.flush()?;
    println!("{{\"impl\": \"dmlft-eval\", \"n\": {n}, \"seconds\": {seconds}, {quality}}}");
    Ok(())
}
