//! Quality of an embedding space with respect to class labels: silhouette score (Euclidean, as
//! sklearn's `silhouette_score`), leave-one-out k-NN accuracy (cosine), ratio of mean intra- to
//! mean inter-class distance (Euclidean) and the alignment of class proxies with class means.
//! All distances are accumulated in f64. O(n^2 * dim) time, O(n * dim) memory.

use crate::embeddings::{check_labels, cosine, euclidean, EmbeddingError, EmbeddingView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// All embedding metrics of one embedding set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingMetrics {
    pub n: usize,
    /// `None` when the labels have fewer than 2 or more than n - 1 distinct values.
    pub silhouette: Option<f64>,
    pub knn_k: usize,
    pub knn_accuracy: f64,
    /// `None` when there is no same-class or no different-class pair.
    pub intra_inter_ratio: Option<f64>,
    pub proxy_alignment: Option<ProxyAlignment>,
}

/// Cosine between each class's proxy and the mean embedding of that class (with several proxies
/// per class, e.g. SoftTriple's centers, the best-aligned one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyAlignment {
    /// Mean over the classes that have at least one embedding.
    pub mean: f64,
    /// Per class (index = class); `None` for classes without embeddings.
    pub per_class: Vec<Option<f64>>,
}

/// Class representatives: rows of `rows`, row r belonging to class `classes[r]` (one or more rows
/// per class).
#[derive(Debug, Clone, Copy)]
pub struct ClassProxies<'a> {
    pub rows: &'a EmbeddingView<'a>,
    pub classes: &'a [usize],
}

/// Computes every metric; `proxies` is optional.
pub fn embedding_metrics(
    view: &EmbeddingView,
    labels: &[usize],
    k: usize,
    proxies: Option<ClassProxies>,
) -> Result<EmbeddingMetrics, EmbeddingError> {
    check_labels(view, labels)?;
    let silhouette = match silhouette_score(view, labels) {
        Ok(s) => Some(s),
        Err(EmbeddingError::LabelRange { .. }) => None,
        Err(e) => return Err(e),
    };
    let intra_inter_ratio = match intra_inter_distance_ratio(view, labels) {
        Ok(r) => Some(r),
        Err(EmbeddingError::Parameter(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(EmbeddingMetrics {
        n: view.len(),
        silhouette,
        knn_k: k,
        knn_accuracy: knn_accuracy(view, labels, k)?,
        intra_inter_ratio,
        proxy_alignment: proxies
            .map(|p| proxy_alignment(view, labels, p))
            .transpose()?,
    })
}

/// Mean silhouette coefficient with Euclidean distance, as sklearn's `silhouette_score`:
/// `s_i = (b_i - a_i) / max(a_i, b_i)` with `a_i` the mean distance to the other members of
/// its cluster and `b_i` the smallest mean distance to another cluster; `s_i = 0` for a
/// sample alone in its cluster. Needs 2 <= distinct labels <= n - 1 (sklearn's rule).
pub fn silhouette_score(view: &EmbeddingView, labels: &[usize]) -> Result<f64, EmbeddingError> {
    check_labels(view, labels)?;
    let n = view.len();
    let (cluster_of, sizes) = dense_clusters(labels);
    let n_clusters = sizes.len();
    if n_clusters < 2 || n_clusters + 1 > n {
        return Err(EmbeddingError::LabelRange {
            what: "silhouette score",
            got: n_clusters,
            max: n.saturating_sub(1),
        });
    }
    let mut total = 0.0;
    let mut sums = vec![0.0f64; n_clusters];
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for j in 0..n {
            if j != i {
                sums[cluster_of[j]] += euclidean(view.row(i), view.row(j));
            }
        }
        let own = cluster_of[i];
        if sizes[own] == 1 {
            continue;
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..n_clusters)
            .filter(|&c| c != own)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let denom = a.max(b);
        // sklearn turns 0/0 (all points identical) into 0.
        if denom > 0.0 {
            total += (b - a) / denom;
        }
    }
    Ok(total / n as f64)
}

/// Leave-one-out k-NN accuracy with cosine similarity: each embedding is classified by the
/// majority label of its `k` most similar other embeddings (equal similarities broken by
/// lower index). Tie rule for the vote: among the labels with the most votes, the one that
/// owns the most similar neighbour wins.
pub fn knn_accuracy(
    view: &EmbeddingView,
    labels: &[usize],
    k: usize,
) -> Result<f64, EmbeddingError> {
    check_labels(view, labels)?;
    let n = view.len();
    if n < 2 {
        return Err(EmbeddingError::TooFew {
            what: "k-NN accuracy",
            needed: 2,
            got: n,
        });
    }
    if k == 0 || k >= n {
        return Err(EmbeddingError::Parameter(format!(
            "k = {k} for k-NN accuracy must be in 1..={} (n - 1)",
            n - 1
        )));
    }
    let unit: Vec<Vec<f64>> = (0..n).map(|i| normalized(view.row(i))).collect();
    let mut correct = 0usize;
    let mut neighbours: Vec<(f64, usize)> = Vec::with_capacity(n - 1);
    for i in 0..n {
        neighbours.clear();
        neighbours.extend(
            (0..n)
                .filter(|&j| j != i)
                .map(|j| (dot(&unit[i], &unit[j]), j)),
        );
        neighbours.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        // label -> (votes, rank of its first neighbour)
        let mut votes: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for (rank, &(_, j)) in neighbours[..k].iter().enumerate() {
            let entry = votes.entry(labels[j]).or_insert((0, rank));
            entry.0 += 1;
        }
        let predicted = votes
            .iter()
            .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
            .map(|(&label, _)| label);
        if predicted == Some(labels[i]) {
            correct += 1;
        }
    }
    Ok(correct as f64 / n as f64)
}

/// Mean Euclidean distance over same-label pairs divided by the mean over different-label
/// pairs (unordered pairs). Below 1 means classes are tighter than their separation.
pub fn intra_inter_distance_ratio(
    view: &EmbeddingView,
    labels: &[usize],
) -> Result<f64, EmbeddingError> {
    check_labels(view, labels)?;
    let n = view.len();
    let (mut intra, mut n_intra, mut inter, mut n_inter) = (0.0, 0usize, 0.0, 0usize);
    for i in 0..n {
        for j in i + 1..n {
            let d = euclidean(view.row(i), view.row(j));
            if labels[i] == labels[j] {
                intra += d;
                n_intra += 1;
            } else {
                inter += d;
                n_inter += 1;
            }
        }
    }
    if n_intra == 0 || n_inter == 0 || inter == 0.0 {
        return Err(EmbeddingError::Parameter(format!(
            "intra/inter distance ratio needs a same-class pair and a different-class pair at \
             non-zero distance ({n_intra} same-class, {n_inter} different-class pairs)"
        )));
    }
    Ok((intra / n_intra as f64) / (inter / n_inter as f64))
}

/// For every class with embeddings, the largest cosine between one of its proxies and the mean
/// embedding of the class; labels index the classes of the proxies, and every class has at
/// least one proxy.
pub fn proxy_alignment(
    view: &EmbeddingView,
    labels: &[usize],
    proxies: ClassProxies,
) -> Result<ProxyAlignment, EmbeddingError> {
    check_labels(view, labels)?;
    let dim = view.dim();
    let rows = proxies.rows;
    if rows.dim() != dim {
        return Err(EmbeddingError::ProxyDim {
            class: 0,
            got: rows.dim(),
            dim,
        });
    }
    if proxies.classes.len() != rows.len() {
        return Err(EmbeddingError::Parameter(format!(
            "{} proxy rows but {} proxy classes",
            rows.len(),
            proxies.classes.len()
        )));
    }
    let n_classes = proxies.classes.iter().max().map_or(0, |&c| c + 1);
    if let Some(c) = (0..n_classes).find(|c| !proxies.classes.contains(c)) {
        return Err(EmbeddingError::Parameter(format!(
            "class {c} has no proxy (proxy classes must be 0..{n_classes} with none left out)"
        )));
    }
    let mut sums = vec![vec![0.0f64; dim]; n_classes];
    let mut counts = vec![0usize; n_classes];
    for (i, &label) in labels.iter().enumerate() {
        if label >= n_classes {
            return Err(EmbeddingError::Parameter(format!(
                "label {label} of embedding {i} has no proxy: {n_classes} proxy classes (classes 0..{n_classes})"
            )));
        }
        counts[label] += 1;
        for (s, &v) in sums[label].iter_mut().zip(view.row(i)) {
            *s += v as f64;
        }
    }
    let per_class: Vec<Option<f64>> = (0..n_classes)
        .map(|c| {
            (counts[c] > 0).then(|| {
                (0..rows.len())
                    .filter(|&r| proxies.classes[r] == c)
                    .map(|r| {
                        let proxy: Vec<f64> = rows.row(r).iter().map(|&v| v as f64).collect();
                        // The mean's direction equals the sum's; cosine ignores the scale.
                        cosine(&proxy, &sums[c])
                    })
                    .fold(f64::NEG_INFINITY, f64::max)
            })
        })
        .collect();
    let defined: Vec<f64> = per_class.iter().flatten().copied().collect();
    if defined.is_empty() {
        return Err(EmbeddingError::TooFew {
            what: "proxy alignment",
            needed: 1,
            got: 0,
        });
    }
    Ok(ProxyAlignment {
        mean: defined.iter().sum::<f64>() / defined.len() as f64,
        per_class,
    })
}

/// Maps arbitrary labels to 0..n_clusters (sorted order); returns each sample's cluster and
/// the cluster sizes.
fn dense_clusters(labels: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut index = BTreeMap::new();
    for &l in labels {
        let next = index.len();
        index.entry(l).or_insert(next);
    }
    let cluster_of: Vec<usize> = labels.iter().map(|l| index[l]).collect();
    let mut sizes = vec![0usize; index.len()];
    for &c in &cluster_of {
        sizes[c] += 1;
    }
    (cluster_of, sizes)
}

fn normalized(row: &[f32]) -> Vec<f64> {
    let v: Vec<f64> = row.iter().map(|&x| x as f64).collect();
    let norm = dot(&v, &v).sqrt();
    if norm == 0.0 {
        v
    } else {
        v.iter().map(|x| x / norm).collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(data: &[f32], dim: usize) -> EmbeddingView<'_> {
        EmbeddingView::new(data, dim).unwrap()
    }

    #[test]
    fn knn_on_two_directions() {
        // Class 0 points right, class 1 points up; the last class-0 point is closer to "up".
        let data = [1.0, 0.0, 1.0, 0.1, 0.5, 1.0, 0.0, 1.0, 0.1, 1.0];
        let labels = [0, 0, 0, 1, 1];
        let acc = knn_accuracy(&view(&data, 2), &labels, 1).unwrap();
        assert_eq!(acc, 0.8);
        assert!(knn_accuracy(&view(&data, 2), &labels, 5).is_err());
    }

    #[test]
    fn knn_vote_tie_goes_to_nearest_neighbour() {
        // Query 0 (label 0) has neighbours: idx 1 (label 1, nearest), idx 2 (label 0).
        // k = 2 ties 1:1; the nearest neighbour's label (1) wins, so query 0 is wrong.
        let data = [1.0, 0.0, 1.0, 0.05, 1.0, -0.2];
        let labels = [0, 1, 0];
        let acc = knn_accuracy(&view(&data, 2), &labels, 2).unwrap();
        // query 1 (label 1): neighbours 0 (label 0), 2 (label 0) -> 0: wrong.
        // query 2 (label 0): neighbours 0 (0), 1 (1) -> tie, nearest is 0 -> right.
        assert!((acc - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn ratio_and_proxies_hand_computed() {
        // Points on a line: 0, 1 (class 0), 10, 11 (class 1).
        let data = [0.0, 1.0, 10.0, 11.0];
        let labels = [0, 0, 1, 1];
        let r = intra_inter_distance_ratio(&view(&data, 1), &labels).unwrap();
        // intra: 1, 1 -> 1; inter: 10, 11, 9, 10 -> 10.
        assert!((r - 0.1).abs() < 1e-15);
        let proxies = [1.0, -1.0, 0.0];
        let one_each = |rows| ClassProxies {
            rows,
            classes: &[0, 1, 2],
        };
        let pv = view(&proxies, 1);
        let pa = proxy_alignment(&view(&data, 1), &[0, 0, 1, 1], one_each(&pv)).unwrap();
        assert_eq!(pa.per_class, vec![Some(1.0), Some(-1.0), None]);
        assert_eq!(pa.mean, 0.0);
        assert!(proxy_alignment(&view(&data, 1), &[0, 0, 3, 1], one_each(&pv)).is_err());
    }

    #[test]
    fn several_proxies_per_class_take_the_best_aligned() {
        // 2-d: class 0 around (1, 0), class 1 around (0, 1); two centers per class.
        let data = [1.0, 0.1, 1.0, -0.1, 0.0, 2.0];
        let centers = [0.0, -1.0, 1.0, 1.0, -1.0, 0.0, 0.0, 3.0];
        let cv = view(&centers, 2);
        let proxies = ClassProxies {
            rows: &cv,
            classes: &[0, 0, 1, 1],
        };
        let pa = proxy_alignment(&view(&data, 2), &[0, 0, 1], proxies).unwrap();
        // class 0: mean (1, 0); centers (0, -1) -> 0 and (1, 1) -> 1/sqrt 2.
        // class 1: mean (0, 2); centers (-1, 0) -> 0 and (0, 3) -> 1.
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((pa.per_class[0].unwrap() - s).abs() < 1e-12, "{pa:?}");
        assert_eq!(pa.per_class[1], Some(1.0));
        assert!((pa.mean - (s + 1.0) / 2.0).abs() < 1e-12);
        let gap = ClassProxies {
            rows: &cv,
            classes: &[0, 0, 2, 2],
        };
        let e = proxy_alignment(&view(&data, 2), &[0, 0, 2], gap).unwrap_err();
        assert!(e.to_string().contains("class 1 has no proxy"), "{e}");
    }

    #[test]
    fn silhouette_rejects_degenerate_labels() {
        let data = [0.0, 1.0, 2.0];
        assert!(matches!(
            silhouette_score(&view(&data, 1), &[0, 0, 0]),
            Err(EmbeddingError::LabelRange { got: 1, .. })
        ));
        assert!(silhouette_score(&view(&data, 1), &[0, 1, 2]).is_err());
        let m = embedding_metrics(&view(&data, 1), &[0, 0, 0], 1, None).unwrap();
        assert_eq!((m.silhouette, m.intra_inter_ratio), (None, None));
    }
}
