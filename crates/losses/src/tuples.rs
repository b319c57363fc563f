//! Index tuples that select which pairs or triplets of a batch a tuple loss sees, with PML's
//! conversions (`lmu.convert_to_pairs`, `lmu.convert_to_triplets`). Indices live on the host:
//! mining is not differentiable.

/// Anchor-positive pairs `(a1[i], p[i])` and anchor-negative pairs `(a2[j], n[j])`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs {
    pub a1: Vec<i64>,
    pub p: Vec<i64>,
    pub a2: Vec<i64>,
    pub n: Vec<i64>,
}

/// Triplets `(a[i], p[i], n[i])`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Triplets {
    pub a: Vec<i64>,
    pub p: Vec<i64>,
    pub n: Vec<i64>,
}

/// A miner's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexTuple {
    Pairs(Pairs),
    Triplets(Triplets),
}

/// Every same-label pair (without self-pairs) and every different-label pair, in row-major
/// order (as `torch.where` over the label-match matrix).
pub(crate) fn all_pairs(labels: &[i64]) -> Pairs {
    let mut out = Pairs::default();
    for (i, li) in labels.iter().enumerate() {
        for (j, lj) in labels.iter().enumerate() {
            if li == lj {
                if i != j {
                    out.a1.push(i as i64);
                    out.p.push(j as i64);
                }
            } else {
                out.a2.push(i as i64);
                out.n.push(j as i64);
            }
        }
    }
    out
}

/// Every valid triplet (a, p, n): p != a has a's label, n does not; lexicographic order.
pub(crate) fn all_triplets(labels: &[i64]) -> Triplets {
    let mut out = Triplets::default();
    for (a, la) in labels.iter().enumerate() {
        for (p, lp) in labels.iter().enumerate() {
            if p == a || lp != la {
                continue;
            }
            for (n, ln) in labels.iter().enumerate() {
                if ln != la {
                    out.a.push(a as i64);
                    out.p.push(p as i64);
                    out.n.push(n as i64);
                }
            }
        }
    }
    out
}

/// Most triplets a loss or miner materialises; past it the caller is told to use a miner or
/// fewer rows instead of exhausting memory.
pub(crate) const MAX_TRIPLETS: u64 = 50_000_000;

/// Number of valid triplets of a batch, without listing them.
pub(crate) fn count_triplets(labels: &[i64]) -> u64 {
    let mut per_label = std::collections::HashMap::new();
    for l in labels {
        *per_label.entry(*l).or_insert(0u64) += 1;
    }
    let n = labels.len() as u64;
    per_label
        .values()
        .map(|&k| k * k.saturating_sub(1) * (n - k))
        .sum()
}

/// All triplets, or an error naming the count when there are more than [`MAX_TRIPLETS`].
pub(crate) fn all_triplets_checked(
    labels: &[i64],
    who: &str,
) -> Result<Triplets, crate::error::LossError> {
    let count = count_triplets(labels);
    if count > MAX_TRIPLETS {
        return Err(crate::error::LossError::Unsupported(format!(
            "{who}: {} rows give {count} triplets (more than {MAX_TRIPLETS}); use the batch-hard or multi-similarity miner, or fewer rows (e.g. embeddings = \"first-token\")",
            labels.len()
        )));
    }
    Ok(all_triplets(labels))
}

impl Pairs {
    pub fn is_empty(&self) -> bool {
        self.a1.is_empty() && self.a2.is_empty()
    }
}

impl Triplets {
    pub fn len(&self) -> usize {
        self.a.len()
    }

    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }
}

impl IndexTuple {
    /// Pairs for a pair loss: triplets (a, p, n) give (a, p) and (a, n).
    pub fn to_pairs(&self) -> Pairs {
        match self {
            IndexTuple::Pairs(p) => p.clone(),
            IndexTuple::Triplets(t) => Pairs {
                a1: t.a.clone(),
                p: t.p.clone(),
                a2: t.a.clone(),
                n: t.n.clone(),
            },
        }
    }

    /// Triplets for a triplet loss: pairs are combined wherever the anchors agree.
    pub fn to_triplets(&self) -> Triplets {
        match self {
            IndexTuple::Triplets(t) => t.clone(),
            IndexTuple::Pairs(pairs) => {
                let mut out = Triplets::default();
                for (i, a) in pairs.a1.iter().enumerate() {
                    for (j, a2) in pairs.a2.iter().enumerate() {
                        if a == a2 {
                            out.a.push(*a);
                            out.p.push(pairs.p[i]);
                            out.n.push(pairs.n[j]);
                        }
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_pairs_and_triplets_of_small_batch() {
        let labels = [0, 0, 1];
        let pairs = all_pairs(&labels);
        assert_eq!(
            (pairs.a1.clone(), pairs.p.clone()),
            (vec![0, 1], vec![1, 0])
        );
        assert_eq!(
            (pairs.a2.clone(), pairs.n.clone()),
            (vec![0, 1, 2, 2], vec![2, 2, 0, 1])
        );
        let t = all_triplets(&labels);
        assert_eq!((t.a, t.p, t.n), (vec![0, 1], vec![1, 0], vec![2, 2]));
        let back = IndexTuple::Pairs(pairs).to_triplets();
        assert_eq!(
            (back.a, back.p, back.n),
            (vec![0, 1], vec![1, 0], vec![2, 2])
        );
    }

    #[test]
    fn triplet_count_matches_listing_and_guards_huge_batches() {
        let labels = [0, 1, 0, 2, 1, 0, 0];
        assert_eq!(count_triplets(&labels), all_triplets(&labels).len() as u64);
        // The papers' all-token batch: 4096 rows, 6 classes.
        let tokens: Vec<i64> = (0..4096).map(|r| (r / 64) % 6).collect();
        let err = all_triplets_checked(&tokens, "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("miner"), "{err}");
    }

    #[test]
    fn single_class_has_no_negatives() {
        let pairs = all_pairs(&[3, 3, 3]);
        assert_eq!(pairs.a1.len(), 6);
        assert!(pairs.a2.is_empty());
        assert!(all_triplets(&[3, 3, 3]).is_empty());
    }
}
