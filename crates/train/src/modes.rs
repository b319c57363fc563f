//! Predictions in each inference mode from raw scores: the head's argmax, the proxies' argmax,
//! and the softmax mixture of 2211.15202's "extended inference".

use dmlft_eval::scores::{argmax, softmax};

use crate::error::TrainError;
use crate::predict::Predictions;
use crate::spec::InferenceMode;

/// Name of a mode in results: `head`, `proxy`, `mix-0.4`.
pub fn mode_label(mode: &InferenceMode) -> String {
    match mode {
        InferenceMode::Head => "head".into(),
        InferenceMode::Proxy => "proxy".into(),
        InferenceMode::Mix { beta } => format!("mix-{beta}"),
    }
}

/// Predicted class per example in `mode`.
pub fn predict_labels(
    p: &Predictions,
    mode: &InferenceMode,
    loss_name: &str,
) -> Result<Vec<usize>, TrainError> {
    let proxies = || {
        p.proxy_scores
            .as_ref()
            .ok_or_else(|| TrainError::NoProxies {
                mode: mode_label(mode),
                loss: loss_name.to_string(),
            })
    };
    Ok(match mode {
        InferenceMode::Head => p.logits.iter().map(|r| argmax(r)).collect(),
        InferenceMode::Proxy => proxies()?.iter().map(|r| argmax(r)).collect(),
        InferenceMode::Mix { beta } => {
            let scores = proxies()?;
            p.logits
                .iter()
                .zip(scores)
                .map(|(head, proxy)| {
                    let mixed: Vec<f32> = softmax(head)
                        .into_iter()
                        .zip(softmax(proxy))
                        .map(|(h, q)| (beta * h + (1.0 - beta) * q) as f32)
                        .collect();
                    argmax(&mixed)
                })
                .collect()
        }
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
        assert_eq!(mode_label(&InferenceMode::Mix { beta: 0.4 }), "mix-0.4");
    }
}
