//! Predictions in each inference mode from raw scores: the head's argmax, the proxies' argmax,
//! the softmax mixture of 2211.15202's "extended inference", and the classifiers over the
//! embeddings of the cell's training examples ([`TrainingSet`]: kNN and nearest centroid, on
//! the sentence vector the head reads, or a SetFit / probe body's embedding).

use std::collections::BTreeMap;

use dmlft_data::Example;
use dmlft_eval::scores::{argmax, softmax};
use dmlft_eval::Metrics;

use crate::error::TrainError;
use crate::predict::Predictions;
use crate::spec::{CellSpec, InferenceMode};

/// The modes a cell is scored in: its `inference` list, or the head when it names none.
pub(crate) fn cell_modes(cell: &CellSpec) -> Vec<InferenceMode> {
    if cell.inference.is_empty() {
        vec![InferenceMode::Head]
    } else {
        cell.inference.clone()
    }
}

/// Whether any of `modes` classifies by the training examples' embeddings.
pub(crate) fn needs_training_set(modes: &[InferenceMode]) -> bool {
    modes.iter().any(|m| m.needs_training_set())
}

/// `x / |x|` in f64 (a zero vector stays zero, as scikit-learn's `normalize`).
fn unit(x: &[f32]) -> Vec<f64> {
    let norm = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    x.iter().map(|&v| f64::from(v) * scale).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The cell's training examples as the kNN and centroid modes see them: their embeddings at
/// unit length, their labels, and each present class's centroid (the mean of its unit-length
/// embeddings, not renormalised: scikit-learn's `NearestCentroid` on normalised vectors).
#[derive(Debug, Clone)]
pub struct TrainingSet {
    unit: Vec<Vec<f64>>,
    labels: Vec<usize>,
    /// `(class, centroid)`, classes ascending.
    centroids: Vec<(usize, Vec<f64>)>,
}

impl TrainingSet {
    /// From the training examples' embeddings `[n][dim]` and labels.
    pub fn new(embeddings: &[Vec<f32>], labels: &[usize]) -> Result<Self, TrainError> {
        let dim = embeddings.first().map_or(0, Vec::len);
        if embeddings.is_empty()
            || embeddings.len() != labels.len()
            || embeddings.iter().any(|e| e.len() != dim)
        {
            return Err(TrainError::InvalidSetting {
                key: "training embeddings".into(),
                value: format!("{} embeddings, {} labels", embeddings.len(), labels.len()),
                valid: "one embedding of the same size per training example (at least one)".into(),
            });
        }
        let unit: Vec<Vec<f64>> = embeddings.iter().map(|e| unit(e)).collect();
        let mut sums: BTreeMap<usize, (Vec<f64>, usize)> = BTreeMap::new();
        for (u, &label) in unit.iter().zip(labels) {
            let (sum, n) = sums.entry(label).or_insert_with(|| (vec![0.0; dim], 0));
            sum.iter_mut().zip(u).for_each(|(s, v)| *s += v);
            *n += 1;
        }
        let centroids = sums
            .into_iter()
            .map(|(class, (sum, n))| (class, sum.into_iter().map(|s| s / n as f64).collect()))
            .collect();
        Ok(Self {
            unit,
            labels: labels.to_vec(),
            centroids,
        })
    }

    /// Number of training examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The majority class of the `k` training examples most cosine-similar to `x` (equally
    /// similar ones in training order); a vote tie goes to the class with the larger summed
    /// similarity, then to the lower class id. `k` above the training size (refused by
    /// [`crate::setup::CellSetup::new`]) takes them all.
    pub fn knn(&self, x: &[f32], k: usize) -> usize {
        let x = unit(x);
        let sims: Vec<f64> = self.unit.iter().map(|t| dot(&x, t)).collect();
        let mut order: Vec<usize> = (0..sims.len()).collect();
        // stable: equal similarities keep the training order
        order.sort_by(|&a, &b| sims[b].total_cmp(&sims[a]));
        let mut votes: BTreeMap<usize, (usize, f64)> = BTreeMap::new();
        for &i in order.iter().take(k.max(1)) {
            let v = votes.entry(self.labels[i]).or_insert((0, 0.0));
            v.0 += 1;
            v.1 += sims[i];
        }
        let mut best: Option<(usize, usize, f64)> = None;
        // ascending classes, replaced only when strictly better: the lower class wins a full tie
        for (class, (count, sum)) in votes {
            let better = match best {
                None => true,
                Some((_, c, s)) => count > c || (count == c && sum > s),
            };
            if better {
                best = Some((class, count, sum));
            }
        }
        best.map_or(0, |b| b.0)
    }

    /// The class whose centroid is nearest (Euclidean) to the unit-length `x`; ties go to the
    /// lower class id.
    pub fn centroid(&self, x: &[f32]) -> usize {
        let x = unit(x);
        let mut best: Option<(usize, f64)> = None;
        for (class, c) in &self.centroids {
            let d: f64 = x.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum();
            if best.is_none_or(|(_, bd)| d < bd) {
                best = Some((*class, d));
            }
        }
        best.map_or(0, |b| b.0)
    }
}

/// Metrics of `examples` in each of `modes` from their raw predictions `p` (`train`: the
/// training set, needed by the kNN and centroid modes).
pub(crate) fn score_modes(
    p: &Predictions,
    modes: &[InferenceMode],
    loss_name: &str,
    train: Option<&TrainingSet>,
    examples: &[Example],
    label_names: &[String],
) -> Result<BTreeMap<InferenceMode, Metrics>, TrainError> {
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let mut metrics = BTreeMap::new();
    for mode in modes {
        let predicted = predict_labels(p, mode, loss_name, train)?;
        let m = Metrics::compute(&predicted, &labels, label_names.len(), Some(label_names))?;
        metrics.insert(*mode, m);
    }
    Ok(metrics)
}

/// Class scores per example in `mode`: head: softmax of the logits; proxy: softmax of the proxy
/// class scores (a monotone map, so its argmax is the proxies'); mix: `beta * softmax(head) +
/// (1 - beta) * softmax(proxy)`. Each row sums to 1. kNN and centroid have no scores here
/// (they need the training set, which only a cell being run has).
pub fn mode_scores(
    p: &Predictions,
    mode: &InferenceMode,
    loss_name: &str,
) -> Result<Vec<Vec<f32>>, TrainError> {
    let proxies = || {
        p.proxy_scores
            .as_ref()
            .ok_or_else(|| TrainError::NoProxies {
                mode: *mode,
                loss: loss_name.to_string(),
            })
    };
    let probs = |r: &Vec<f32>| softmax(r).into_iter().map(|v| v as f32).collect();
    Ok(match mode {
        InferenceMode::Head => p.logits.iter().map(probs).collect(),
        InferenceMode::Proxy => proxies()?.iter().map(probs).collect(),
        InferenceMode::Knn { .. } | InferenceMode::Centroid => {
            return Err(TrainError::NoTrainingSet {
                mode: *mode,
                context: "a saved model does not keep".into(),
            })
        }
        InferenceMode::Mix { beta } => {
            let scores = proxies()?;
            p.logits
                .iter()
                .zip(scores)
                .map(|(head, proxy)| {
                    softmax(head)
                        .into_iter()
                        .zip(softmax(proxy))
                        .map(|(h, q)| (beta * h + (1.0 - beta) * q) as f32)
                        .collect()
                })
                .collect()
        }
    })
}

/// Predicted class per example in `mode` (kNN and centroid: by `p.sentences` against `train`).
pub fn predict_labels(
    p: &Predictions,
    mode: &InferenceMode,
    loss_name: &str,
    train: Option<&TrainingSet>,
) -> Result<Vec<usize>, TrainError> {
    let neighbours = || match (train, p.sentences.as_ref()) {
        (Some(train), Some(x)) => Ok((train, x)),
        _ => Err(TrainError::NoTrainingSet {
            mode: *mode,
            context: "this evaluation was not given".into(),
        }),
    };
    // Head and proxy: the raw argmax (the rounded softmax could tie two large scores).
    Ok(match mode {
        InferenceMode::Head => p.logits.iter().map(|r| argmax(r)).collect(),
        InferenceMode::Proxy => match &p.proxy_scores {
            Some(scores) => scores.iter().map(|r| argmax(r)).collect(),
            None => {
                return Err(TrainError::NoProxies {
                    mode: *mode,
                    loss: loss_name.to_string(),
                })
            }
        },
        InferenceMode::Knn { k } => {
            let (train, x) = neighbours()?;
            x.iter().map(|e| train.knn(e, *k)).collect()
        }
        InferenceMode::Centroid => {
            let (train, x) = neighbours()?;
            x.iter().map(|e| train.centroid(e)).collect()
        }
        InferenceMode::Mix { .. } => mode_scores(p, mode, loss_name)?
            .iter()
            .map(|r| argmax(r))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds() -> Predictions {
        Predictions {
            logits: vec![vec![2.0, 0.0], vec![0.0, 0.1]],
            proxy_scores: Some(vec![vec![0.0, 0.9], vec![0.9, -0.9]]),
            sentences: None,
        }
    }

    #[test]
    fn head_and_proxy_modes_take_their_own_argmax() {
        let p = preds();
        assert_eq!(
            predict_labels(&p, &InferenceMode::Head, "x", None).unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            predict_labels(&p, &InferenceMode::Proxy, "x", None).unwrap(),
            vec![1, 0]
        );
    }

    #[test]
    fn mix_interpolates_between_head_and_proxy() {
        let p = preds();
        assert_eq!(
            predict_labels(&p, &InferenceMode::Mix { beta: 1.0 }, "x", None).unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            predict_labels(&p, &InferenceMode::Mix { beta: 0.0 }, "x", None).unwrap(),
            vec![1, 0]
        );
        // Example 0: softmax head (0.881, 0.119), proxy (0.289, 0.711); at beta 0.5 class 0 wins.
        assert_eq!(
            predict_labels(&p, &InferenceMode::Mix { beta: 0.5 }, "x", None).unwrap()[0],
            0
        );
    }

    /// scripts/make_neighbour_fixtures.py: scikit-learn's KNeighborsClassifier(metric="cosine")
    /// and NearestCentroid on normalised vectors.
    #[derive(serde::Deserialize)]
    struct Fixture {
        cases: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        x_train: Vec<Vec<f32>>,
        y_train: Vec<usize>,
        x_test: Vec<Vec<f32>>,
        knn: Vec<KnnCase>,
        centroid: Vec<usize>,
        centroid_differs_from_cosine: usize,
    }

    #[derive(serde::Deserialize)]
    struct KnnCase {
        k: usize,
        expected: Vec<usize>,
        sklearn: Vec<usize>,
        vote_ties: usize,
    }

    #[test]
    fn knn_and_centroid_match_scikit_learn() {
        let fixture: Fixture =
            serde_json::from_str(include_str!("../tests/fixtures/neighbours.json")).unwrap();
        let (mut ties, mut centroid_rule) = (0, 0);
        for case in &fixture.cases {
            let train = TrainingSet::new(&case.x_train, &case.y_train).unwrap();
            let p = Predictions {
                sentences: Some(case.x_test.clone()),
                ..Predictions::default()
            };
            for knn in &case.knn {
                let mode = InferenceMode::Knn { k: knn.k };
                let got = predict_labels(&p, &mode, "x", Some(&train)).unwrap();
                assert_eq!(got, knn.expected, "{} k={}", case.name, knn.k);
                // where the vote has one winner, scikit-learn's own prediction
                let differ = got.iter().zip(&knn.sklearn).filter(|(a, b)| a != b).count();
                assert!(differ <= knn.vote_ties, "{} k={}", case.name, knn.k);
                ties += knn.vote_ties;
            }
            let got = predict_labels(&p, &InferenceMode::Centroid, "x", Some(&train)).unwrap();
            assert_eq!(got, case.centroid, "{}", case.name);
            centroid_rule += case.centroid_differs_from_cosine;
        }
        // the fixture exercises the vote tie rule and tells the two centroid rules apart
        assert!(ties > 0 && centroid_rule > 0);
    }

    #[test]
    fn knn_ties_go_to_the_closer_class_then_the_lower_one() {
        // two votes each: class 1's neighbours are more similar in sum
        let x = [
            vec![1.0, 0.1],
            vec![1.0, -0.3],
            vec![1.0, 0.05],
            vec![1.0, -0.05],
        ];
        let train = TrainingSet::new(&x, &[0, 0, 1, 1]).unwrap();
        assert_eq!(train.knn(&[1.0, 0.0], 4), 1);
        // exactly equal sums (mirror images): the lower class
        let train = TrainingSet::new(&[vec![1.0, 0.2], vec![1.0, -0.2]], &[1, 0]).unwrap();
        assert_eq!(train.knn(&[1.0, 0.0], 2), 0);
        // k = 1 among equally similar examples: the earlier training example
        assert_eq!(train.knn(&[1.0, 0.0], 1), 1);
        // scale does not matter (cosine), and the majority beats a closer single neighbour
        let train = TrainingSet::new(
            &[vec![9.0, 0.0], vec![0.0, 1.0], vec![0.1, 1.0]],
            &[0, 1, 1],
        )
        .unwrap();
        assert_eq!(train.knn(&[3.0, 0.1], 1), 0);
        assert_eq!(train.knn(&[3.0, 0.1], 3), 1);
        assert_eq!(train.centroid(&[3.0, 0.1]), 0);
    }

    #[test]
    fn neighbour_modes_need_a_training_set_and_embeddings() {
        let p = preds();
        let err = predict_labels(&p, &InferenceMode::Centroid, "ce", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`centroid`") && err.contains("training"),
            "{err}"
        );
        let train = TrainingSet::new(&[vec![1.0], vec![-1.0]], &[0, 1]).unwrap();
        // a training set but no sentence vectors of the evaluated examples
        assert!(predict_labels(&p, &InferenceMode::Knn { k: 1 }, "ce", Some(&train)).is_err());
        assert!(mode_scores(&p, &InferenceMode::Knn { k: 1 }, "ce").is_err());
        assert!(TrainingSet::new(&[vec![1.0]], &[0, 1]).is_err());
        assert!(TrainingSet::new(&[], &[]).is_err());
    }

    #[test]
    fn proxy_modes_without_proxies_are_an_error_naming_the_loss() {
        let p = Predictions {
            logits: vec![vec![1.0, 0.0]],
            proxy_scores: None,
            sentences: None,
        };
        let err = predict_labels(&p, &InferenceMode::Proxy, "ce", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ce`"), "{err}");
    }
}
