//! The critical-difference diagram (Demšar 2006): the methods' average ranks on an axis (rank 1,
//! the best, on the left), each labelled, the Nemenyi critical difference drawn to scale above
//! the axis, and a thick bar under every maximal group of methods whose ranks differ by less
//! than it (methods the test does not distinguish).

use super::canvas::{err, render, render_svg, Figure};
use super::layout::{measure, truncate, LABEL_FONT, TITLE_FONT};
use super::{PlotError, PlotFiles, PlotOptions};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What the diagram shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdDiagram {
    pub title: String,
    pub methods: Vec<String>,
    /// Per method, its average rank (1 = best).
    pub average_ranks: Vec<f64>,
    pub critical_difference: f64,
}

impl CdDiagram {
    fn check(&self) -> Result<(), PlotError> {
        if self.methods.len() < 2 {
            return Err(PlotError::NoData("a CD diagram needs 2 methods".into()));
        }
        if self.methods.len() != self.average_ranks.len()
            || !self.critical_difference.is_finite()
            || self
                .average_ranks
                .iter()
                .any(|r| !r.is_finite() || *r < 1.0)
        {
            return Err(PlotError::Invalid(format!(
                "{} methods, {} ranks, critical difference {}: one finite rank >= 1 per method",
                self.methods.len(),
                self.average_ranks.len(),
                self.critical_difference
            )));
        }
        Ok(())
    }

    /// Method indices by rank, best first.
    fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.methods.len()).collect();
        order.sort_by(|&a, &b| self.average_ranks[a].total_cmp(&self.average_ranks[b]));
        order
    }

    /// The maximal runs (in rank order, as positions in [`Self::order`]) of at least 2
    /// methods whose ranks span less than the critical difference.
    pub fn groups(&self) -> Vec<(usize, usize)> {
        let order = self.order();
        let rank = |i: usize| self.average_ranks[order[i]];
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for start in 0..order.len() {
            let mut end = start;
            while end + 1 < order.len() && rank(end + 1) - rank(start) < self.critical_difference {
                end += 1;
            }
            // a run inside the previous one adds nothing
            if end > start && groups.last().is_none_or(|&(_, e)| end > e) {
                groups.push((start, end));
            }
        }
        groups
    }
}

/// Writes `<stem>.svg` / `<stem>.png`.
pub fn plot_cd_diagram(
    diagram: &CdDiagram,
    stem: &Path,
    options: &PlotOptions,
) -> Result<PlotFiles, PlotError> {
    diagram.check()?;
    render(&CdFigure { diagram }, stem, options)
}

/// The same figure as an SVG document.
pub fn cd_diagram_svg(diagram: &CdDiagram, options: &PlotOptions) -> Result<String, PlotError> {
    diagram.check()?;
    render_svg(&CdFigure { diagram }, options)
}

struct CdFigure<'a> {
    diagram: &'a CdDiagram,
}

const FONT: f64 = LABEL_FONT;
const TITLE: i32 = 48;
const AXIS: i32 = 130;
const ROW: i32 = 34;
const GROUP_ROW: i32 = 10;

impl Figure for CdFigure<'_> {
    fn size(&self, options: &PlotOptions, _text: bool) -> (u32, u32) {
        let d = self.diagram;
        let label_rows = d.methods.len().div_ceil(2) as i32;
        let groups = d.groups().len() as i32;
        let h = AXIS + 24 + groups * GROUP_ROW + label_rows * ROW + 24;
        (options.width, h.max(100) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: bool,
    ) -> Result<(), String> {
        let d = self.diagram;
        let (w, _) = root.dim_in_pixel();
        let w = w as i32;
        let k = d.methods.len();
        let order = d.order();
        let label = |i: usize| format!("{} ({:.2})", d.methods[i], d.average_ranks[i]);
        let widest = order
            .iter()
            .map(|&i| measure(FONT, &label(i)))
            .fold(0.0f64, f64::max) as i32;
        let margin = if text { (widest + 24).min(w / 3) } else { 20 };
        let (x0, x1) = (margin, w - margin);
        let x_of = |r: f64| x0 + ((r - 1.0) / (k as f64 - 1.0).max(1.0) * (x1 - x0) as f64) as i32;
        let font = |size: f64, h: HPos, v: VPos| {
            ("sans-serif", size)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(h, v))
        };
        if text {
            root.draw(&Text::new(
                d.title.clone(),
                (w / 2, TITLE / 2),
                font(TITLE_FONT, HPos::Center, VPos::Center),
            ))
            .map_err(err)?;
        }
        // the axis, a tick and its label at every whole rank
        root.draw(&PathElement::new(
            vec![(x0, AXIS), (x1, AXIS)],
            BLACK.stroke_width(2),
        ))
        .map_err(err)?;
        for r in 1..=k {
            let x = x_of(r as f64);
            root.draw(&PathElement::new(
                vec![(x, AXIS - 6), (x, AXIS)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
            if text {
                root.draw(&Text::new(
                    r.to_string(),
                    (x, AXIS - 9),
                    font(FONT, HPos::Center, VPos::Bottom),
                ))
                .map_err(err)?;
            }
        }
        // the critical difference to scale, from rank 1
        let cd_end = x_of(1.0 + d.critical_difference.min(k as f64 - 1.0));
        let cd_y = TITLE + 14;
        root.draw(&PathElement::new(
            vec![(x0, cd_y), (cd_end, cd_y)],
            BLACK.stroke_width(2),
        ))
        .map_err(err)?;
        for x in [x0, cd_end] {
            root.draw(&PathElement::new(
                vec![(x, cd_y - 5), (x, cd_y + 5)],
                BLACK.stroke_width(2),
            ))
            .map_err(err)?;
        }
        if text {
            root.draw(&Text::new(
                format!("CD = {:.2}", d.critical_difference),
                (cd_end + 8, cd_y),
                font(FONT, HPos::Left, VPos::Center),
            ))
            .map_err(err)?;
        }
        // groups the test does not separate, just under the axis
        let groups = d.groups();
        for (g, &(a, b)) in groups.iter().enumerate() {
            let y = AXIS + 12 + g as i32 * GROUP_ROW;
            let (xa, xb) = (
                x_of(d.average_ranks[order[a]]) - 3,
                x_of(d.average_ranks[order[b]]) + 3,
            );
            root.draw(&PathElement::new(
                vec![(xa, y), (xb, y)],
                BLACK.stroke_width(4),
            ))
            .map_err(err)?;
        }
        // the best half labelled on the left, the rest on the right, nearest the axis first
        let first_row = AXIS + 24 + groups.len() as i32 * GROUP_ROW + ROW / 2;
        let left = k.div_ceil(2);
        for (pos, &i) in order.iter().enumerate() {
            let x = x_of(d.average_ranks[i]);
            let (row, on_left) = if pos < left {
                (pos as i32, true)
            } else {
                ((k - 1 - pos) as i32, false)
            };
            let y = first_row + row * ROW;
            let end = if on_left { x0 - 6 } else { x1 + 6 };
            root.draw(&PathElement::new(
                vec![(x, AXIS), (x, y), (end, y)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
            root.draw(&Circle::new((x, AXIS), 4, BLACK.filled()))
                .map_err(err)?;
            if text {
                let (h, lx) = if on_left {
                    (HPos::Right, end - 4)
                } else {
                    (HPos::Left, end + 4)
                };
                // cut to the margin: a long name never leaves the figure
                let room = (margin - 14) as f64;
                root.draw(&Text::new(
                    truncate(FONT, &label(i), room),
                    (lx, y),
                    font(FONT, h, VPos::Center),
                ))
                .map_err(err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagram(ranks: &[f64], cd: f64) -> CdDiagram {
        CdDiagram {
            title: "t".into(),
            methods: (0..ranks.len()).map(|i| format!("m{i}")).collect(),
            average_ranks: ranks.to_vec(),
            critical_difference: cd,
        }
    }

    #[test]
    fn groups_are_the_maximal_runs_within_the_critical_difference() {
        // sorted 1.0, 1.5, 2.8, 3.0, 4.7: within 1.4: (1.0, 1.5), (1.5, 2.8), (2.8, 3.0)
        let d = diagram(&[3.0, 1.0, 4.7, 1.5, 2.8], 1.4);
        assert_eq!(d.groups(), vec![(0, 1), (1, 2), (2, 3)]);
        assert_eq!(diagram(&[1.0, 2.0, 3.0], 5.0).groups(), vec![(0, 2)]);
        assert!(diagram(&[1.0, 2.0, 3.0], 0.5).groups().is_empty());
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(matches!(
            cd_diagram_svg(&diagram(&[1.0], 1.0), &PlotOptions::default()),
            Err(PlotError::NoData(_))
        ));
        assert!(matches!(
            cd_diagram_svg(&diagram(&[1.0, f64::NAN], 1.0), &PlotOptions::default()),
            Err(PlotError::Invalid(_))
        ));
    }

    #[test]
    fn draws_every_method_and_the_critical_difference() {
        let options = PlotOptions {
            text: super::super::TextPolicy::Never,
            ..PlotOptions::default()
        };
        let svg = cd_diagram_svg(&diagram(&[2.0, 1.0, 3.5, 2.2], 1.1), &options).unwrap();
        assert_eq!(svg.matches("<circle").count(), 4, "{svg}");
    }
}
