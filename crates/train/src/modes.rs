//! Predictions in each inference mode from raw scores: the head's argmax, the proxies' argmax,
//! and the softmax mixture of 2211.15202's "extended inference".

use dmlft_eval::scores::{argmax, softmax};

use crate::error::TrainError;
use crate::predict::Predictions;
use crate::spec::InferenceMode;

/// Class scores per example in `mode`: head: softmax of the logits; proxy: softmax of the proxy
/// class scores (a monotone map, so its argmax is the proxies'); mix: `beta * softmax(head) +
/// (1 - beta) * softmax(proxy)`. Each row sums to 1.
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

/// Predicted class per example in `mode`.
pub fn predict_labels(
    p: &Predictions,
    mode: &InferenceMode,
    loss_name: &str,
) -> Result<Vec<usize>, TrainError> {
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
        }
    }

    #[test]
    fn head_and_proxy_modes_take_their_own_argmax() {
        let p = preds();
        assert_eq!(
            predict_labels(&p, &InferenceMode::Head, "x").unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            predict_labels(&p, &InferenceMode::Proxy, "x").unwrap(),
            vec![1, 0]
        );
    }

    #[test]
    fn mix_interpolates_between_head_and_proxy() {
        let p = preds();
        assert_eq!(
            predict_labels(&p, &InferenceMode::Mix { beta: 1.0 }, "x").unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            predict_labels(&p, &InferenceMode::Mix { beta: 0.0 }, "x").unwrap(),
            vec![1, 0]
        );
        // Example 0: softmax head (0.881, 0.119), proxy (0.289, 0.711); at beta 0.5 class 0 wins.
        assert_eq!(
            predict_labels(&p, &InferenceMode::Mix { beta: 0.5 }, "x").unwrap()[0],
            0
        );
    }

    #[test]
    fn proxy_modes_without_proxies_are_an_error_naming_the_loss() {
        let p = Predictions {
            logits: vec![vec![1.0, 0.0]],
            proxy_scores: None,
        };
        let err = predict_labels(&p, &InferenceMode::Proxy, "ce")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ce`"), "{err}");
    }
}
