//! Runs linfa's t-SNE (Barnes-Hut, bhtsne) or PCA on the matrix embedding_maps.py writes.
//! Input: `<n u64 LE><d u64 LE><n*d f32 LE>`; output: n*2 f64 LE; one JSON line on stdout.
use linfa::prelude::*;
use linfa_reduction::Pca;
use linfa_tsne::TSneParams;
use ndarray::Array2;
use rand::SeedableRng;
use std::io::Write;
use std::time::Instant;

fn read(path: &str) -> Array2<f64> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[0..8].try_into().unwrap()) as usize;
    let d = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
    let v: Vec<f64> = bytes[16..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
        .collect();
    assert_eq!(v.len(), n * d);
    Array2::from_shape_vec((n, d), v).unwrap()
}

fn write(path: &str, m: &Array2<f64>) {
    let mut f = std::fs::File::create(path).unwrap();
    for v in m.iter() {
        f.write_all(&v.to_le_bytes()).unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (what, input, output) = (&args[1], &args[2], &args[3]);
    let x = read(input);
    let start = Instant::now();
    match what.as_str() {
        "tsne" => {
            let theta: f64 = args.get(4).map_or(0.5, |s| s.parse().unwrap());
            let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(0);
            let y = TSneParams::embedding_size_with_rng(2, rng)
                .perplexity(30.0)
                .approx_threshold(theta)
                .max_iter(1000)
                .transform(x)
                .unwrap();
            let secs = start.elapsed().as_secs_f64();
            write(output, &y);
            println!("{{\"impl\": \"linfa-tsne\", \"seconds\": {secs}}}");
        }
        "pca" => {
            let ds = DatasetBase::from(x.clone());
            let pca = Pca::params(2).fit(&ds).unwrap();
            let y: Array2<f64> = pca.predict(&x);
            let secs = start.elapsed().as_secs_f64();
            write(output, &y);
            println!(
                "{{\"impl\": \"linfa-reduction\", \"seconds\": {secs}, \"singular_values\": {:?}, \"explained_variance_ratio\": {:?}}}",
                pca.singular_values().to_vec(),
                pca.explained_variance_ratio().to_vec()
            );
        }
        _ => panic!("tsne | pca"),
    }
}
