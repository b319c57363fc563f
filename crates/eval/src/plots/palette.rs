//! The one owner of plot colours and markers: series colours (Tableau 10: distinguishable,
//! colour-blind tolerant), a colour per loss that every figure of a report shares (and the HTML
//! report's legends, through [`LossPalette::css`]), a marker per inference mode, and the
//! diverging blue-white-red scale of the heatmaps.

use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

const TABLEAU10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn series_color(i: usize) -> RGBColor {
    TABLEAU10[i % TABLEAU10.len()]
}

/// A colour per loss, fixed for a whole report: the baseline first (blue), then the other
/// losses in name order. Built once from the report and handed to every figure, so a
/// loss has the same colour in the results plot, the training curves and the HTML tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossPalette {
    losses: Vec<String>,
}

impl LossPalette {
    /// `baseline` (if given) first, then the other names sorted and deduplicated.
    pub fn new<'a>(baseline: Option<&str>, losses: impl IntoIterator<Item = &'a str>) -> Self {
        let mut rest: Vec<String> = losses
            .into_iter()
            .filter(|l| Some(*l) != baseline)
            .map(str::to_string)
            .collect();
        rest.sort();
        rest.dedup();
        let losses = baseline
            .map(str::to_string)
            .into_iter()
            .chain(rest)
            .collect();
        Self { losses }
    }

    /// The losses in colour order.
    pub fn losses(&self) -> &[String] {
        &self.losses
    }

    /// The colour of a loss; a loss the palette does not know gets the next free colour by
    /// a stable hash of its name (never a panic).
    pub fn color(&self, loss: &str) -> RGBColor {
        let i = self
            .losses
            .iter()
            .position(|l| l == loss)
            .unwrap_or_else(|| {
                self.losses.len()
                    + loss
                        .bytes()
                        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            });
        series_color(i)
    }

    /// The colour as CSS (`#rrggbb`).
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
}

impl Marker {
    pub(crate) fn of_mode(mode: crate::ModeKey) -> Self {
        match mode {
            crate::ModeKey::Head => Marker::Circle,
            crate::ModeKey::Proxy => Marker::Triangle,
            crate::ModeKey::Mix { .. } => Marker::Square,
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
        assert_eq!(a.css("ce"), "#1f77b4");
        // unknown names get a colour, deterministically
        assert_eq!(a.color("other"), a.color("other"));
        assert_eq!(ink_on(diverging(1.0)), RGBColor(255, 255, 255));
        assert_eq!(ink_on(diverging(0.1)), RGBColor(0, 0, 0));
    }
}
