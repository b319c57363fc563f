//! Series colours (Tableau 10: distinguishable, colour-blind tolerant) and the diverging
//! blue-white-red scale of the heatmaps.

use plotters::style::RGBColor;

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
}
