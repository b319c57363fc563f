//! The one owner of plot colours and markers: a colour-blind-safe qualitative palette (black,
//! then Paul Tol's "muted" nine, designed to stay distinct under the common colour-vision
//! deficiencies), a colour per method (loss x inference mode) that every figure of a report
//! shares (and the HTML report's legends, through [`LossPalette::css`]), a marker per inference
//! mode, and the diverging blue-white-red scale of the heatmaps.

use crate::InferenceMode;
use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

/// Black for the baseline, then Tol's muted scheme (rose and sand last: the palest on white).
const QUALITATIVE: [RGBColor; 10] = [
    RGBColor(0, 0, 0),
    RGBColor(51, 34, 136),   // indigo
    RGBColor(17, 119, 51),   // green
    RGBColor(136, 204, 238), // cyan
    RGBColor(170, 68, 153),  // purple
    RGBColor(68, 170, 153),  // teal
    RGBColor(136, 34, 85),   // wine
    RGBColor(153, 153, 51),  // olive
    RGBColor(204, 102, 119), // rose
    RGBColor(221, 204, 119), // sand
];

/// How many methods get a colour of their own; past it, colours repeat (markers still differ
/// by mode).
pub const DISTINCT_COLOURS: usize = QUALITATIVE.len();

pub(crate) fn series_color(i: usize) -> RGBColor {
    QUALITATIVE[i % QUALITATIVE.len()]
}

/// A colour per method (loss, inference mode), fixed for a whole report: the baseline first
/// (black), then the other losses in name order, each loss's modes head, proxy, mixtures.
/// Built once from the report and handed to every figure, so a method has the same colour in
/// the results plot, the heatmap's legend and the HTML tables; a figure of one curve per loss
/// (training curves) takes the colour of the loss's first method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossPalette {
    losses: Vec<String>,
    #[serde(default)]
    methods: Vec<(String, InferenceMode)>,
}

/// Head, proxy, mixtures by weight, kNN by k, then centroid.
fn mode_rank(mode: &InferenceMode) -> (u8, f64) {
    match mode {
        InferenceMode::Head => (0, 0.0),
        InferenceMode::Proxy => (1, 0.0),
        InferenceMode::Mix { beta } => (2, *beta),
        InferenceMode::Knn { k } => (3, *k as f64),
        InferenceMode::Centroid => (4, 0.0),
    }
}

impl LossPalette {
    /// `baseline` (if given) first, then the other names sorted and deduplicated; one
    /// method (the head) per loss.
    pub fn new<'a>(baseline: Option<&str>, losses: impl IntoIterator<Item = &'a str>) -> Self {
        Self::with_methods(
            baseline,
            losses.into_iter().map(|l| (l, InferenceMode::Head)),
        )
    }

    /// Every (loss, mode) of a report: losses as [`LossPalette::new`], each loss's modes in
    /// the order head, proxy, mixtures.
    pub fn with_methods<'a>(
        baseline: Option<&str>,
        methods: impl IntoIterator<Item = (&'a str, InferenceMode)>,
    ) -> Self {
        let mut all: Vec<(String, InferenceMode)> = methods
            .into_iter()
            .map(|(l, m)| (l.to_string(), m))
            .collect();
        // the baseline keeps the first colour whether or not its runs are given
        if let Some(b) = baseline.filter(|b| !all.iter().any(|(l, _)| l == b)) {
            all.push((b.to_string(), InferenceMode::Head));
        }
        let rank = |loss: &str| (Some(loss) != baseline, loss.to_string());
        all.sort_by(|a, b| {
            rank(&a.0).cmp(&rank(&b.0)).then(
                mode_rank(&a.1)
                    .partial_cmp(&mode_rank(&b.1))
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        });
        all.dedup_by(|a, b| a.0 == b.0 && a.1.to_string() == b.1.to_string());
        let mut losses: Vec<String> = baseline.map(str::to_string).into_iter().collect();
        for (loss, _) in &all {
            if !losses.contains(loss) {
                losses.push(loss.clone());
            }
        }
        Self {
            losses,
            methods: all,
        }
    }

    /// The losses in colour order.
    pub fn losses(&self) -> &[String] {
        &self.losses
    }

    /// The colour of a loss (its first method's); a loss the palette does not know gets a
    /// colour by a stable hash of its name (never a panic).
    pub fn color(&self, loss: &str) -> RGBColor {
        match self.methods.iter().position(|(l, _)| l == loss) {
            Some(i) => series_color(i),
            None => self.unknown(loss),
        }
    }

    /// The colour of a loss in an inference mode (the loss's colour for a mode the palette
    /// was not built with).
    pub fn method_color(&self, loss: &str, mode: InferenceMode) -> RGBColor {
        let label = mode.to_string();
        match self
            .methods
            .iter()
            .position(|(l, m)| l == loss && m.to_string() == label)
        {
            Some(i) => series_color(i),
            None => self.color(loss),
        }
    }

    fn unknown(&self, loss: &str) -> RGBColor {
        series_color(
            self.methods.len()
                + loss
                    .bytes()
                    .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)),
        )
    }

    /// The colour of a loss as CSS (`#rrggbb`).
    pub fn css(&self, loss: &str) -> String {
        let RGBColor(r, g, b) = self.color(loss);
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Marker of an inference mode: plain head predictions are circles, proxy predictions
/// triangles, mixtures squares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    /// The classifiers over the training set's embeddings (kNN, centroid).
    Diamond,
}

impl Marker {
    pub(crate) fn of_mode(mode: crate::InferenceMode) -> Self {
        match mode {
            crate::InferenceMode::Head => Marker::Circle,
            crate::InferenceMode::Proxy => Marker::Triangle,
            crate::InferenceMode::Mix { .. } => Marker::Square,
            crate::InferenceMode::Knn { .. } | crate::InferenceMode::Centroid => Marker::Diamond,
        }
    }
}

/// `t` in [-1, 1]: -1 blue, 0 white, 1 red.
pub(crate) fn diverging(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let (end, s) = if t < 0.0 {
        ((33.0, 102.0, 172.0), -t)
    } else {
        ((178.0, 24.0, 43.0), t)
    };
    let mix = |e: f64| (255.0 + (e - 255.0) * s).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

/// Black or white, whichever reads better on `fill` (relative luminance).
pub(crate) fn ink_on(fill: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = fill;
    let lum = 0.2126 * r as f64 + 0.7152 * g as f64 + 0.0722 * b as f64;
    if lum < 140.0 {
        RGBColor(255, 255, 255)
    } else {
        RGBColor(0, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_ends_and_centre() {
        assert_eq!(diverging(0.0), RGBColor(255, 255, 255));
        assert_eq!(diverging(-1.0), RGBColor(33, 102, 172));
        assert_eq!(diverging(5.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(f64::NAN), RGBColor(255, 255, 255));
    }

    #[test]
    fn a_loss_keeps_its_colour_whatever_the_order_it_is_met_in() {
        let a = LossPalette::new(Some("ce"), ["triplet", "ce", "supcon"]);
        let b = LossPalette::new(Some("ce"), ["supcon", "triplet"]);
        assert_eq!(a.losses(), ["ce", "supcon", "triplet"]);
        for loss in ["ce", "supcon", "triplet"] {
            assert_eq!(a.color(loss), b.color(loss));
        }
        assert_ne!(a.color("ce"), a.color("supcon"));
        assert_eq!(a.css("ce"), "#000000");
        // unknown names get a colour, deterministically
        assert_eq!(a.color("other"), a.color("other"));
        assert_eq!(ink_on(diverging(1.0)), RGBColor(255, 255, 255));
        // a colour per method: the study's 9 methods get 9 different colours
        let modes = [
            InferenceMode::Head,
            InferenceMode::Proxy,
            InferenceMode::Mix { beta: 0.5 },
        ];
        let mut methods = vec![("ce", InferenceMode::Head), ("setfit", InferenceMode::Head)];
        for loss in ["ce-proxyanchor", "ce-softtriple"] {
            methods.extend(modes.iter().map(|m| (loss, *m)));
        }
        methods.push(("ce-supcon", InferenceMode::Head));
        let p = LossPalette::with_methods(Some("ce"), methods.iter().rev().copied());
        let colours: std::collections::BTreeSet<(u8, u8, u8)> = methods
            .iter()
            .map(|(l, m)| {
                let RGBColor(r, g, b) = p.method_color(l, *m);
                (r, g, b)
            })
            .collect();
        assert_eq!(colours.len(), 9);
        assert_eq!(p.method_color("ce", InferenceMode::Head), RGBColor(0, 0, 0));
        assert_eq!(
            p.color("ce-softtriple"),
            p.method_color("ce-softtriple", InferenceMode::Head)
        );
        assert_eq!(ink_on(diverging(0.1)), RGBColor(0, 0, 0));
    }
}
