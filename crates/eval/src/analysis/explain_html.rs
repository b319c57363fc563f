//! The explanation report of `dmlft explain`: per sentence and model, the tokens with their
//! Integrated Gradients attributions, the prediction and its probability; as JSON and as one
//! self-contained HTML page (inline CSS, no script, no external asset) with each token shaded
//! red (pushes towards the attributed class) or blue (pushes away), models side by side.

use serde::{Deserialize, Serialize};

use super::attribution::{Attributions, IgConfig};

/// One model's explanation of one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelExplanation {
    pub model: String,
    /// Token strings as the tokenizer spells them (`##ing`, `Ġword`).
    pub tokens: Vec<String>,
    pub predicted_label: String,
    /// Probability of the predicted class.
    pub probability: f64,
    pub target_label: String,
    pub ig: Attributions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainedSentence {
    pub text: String,
    /// The true label, when the sentence comes from a dataset.
    pub label: Option<String>,
    pub models: Vec<ModelExplanation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainReport {
    pub config: IgConfig,
    pub models: Vec<String>,
    pub sentences: Vec<ExplainedSentence>,
}

impl ModelExplanation {
    /// Names the classes of `ig` with `label_names` and spells its tokens with `token_of`.
    pub fn new(
        model: &str,
        ig: Attributions,
        label_names: &[String],
        token_of: impl Fn(u32) -> Option<String>,
    ) -> Self {
        let name = |c: usize| {
            label_names
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("class {c}"))
        };
        Self {
            model: model.to_string(),
            tokens: ig
                .token_ids
                .iter()
                .map(|&id| token_of(id).unwrap_or_else(|| format!("[{id}]")))
                .collect(),
            predicted_label: name(ig.predicted),
            probability: ig
                .probabilities
                .get(ig.predicted)
                .copied()
                .unwrap_or(f64::NAN),
            target_label: name(ig.target),
            ig,
        }
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Background colour of an attribution scaled by the row's largest magnitude.
pub(crate) fn shade(value: f64, max_abs: f64) -> String {
    let a = if max_abs > 0.0 {
        (value.abs() / max_abs).min(1.0)
    } else {
        0.0
    };
    if value >= 0.0 {
        format!("rgba(220,38,38,{a:.3})")
    } else {
        format!("rgba(37,99,235,{a:.3})")
    }
}

/// WordPiece continuations (`##x`) attach to the previous token; byte-level BPE marks a
/// preceding space with `Ġ`.
fn display_token(token: &str) -> (String, bool) {
    if let Some(rest) = token.strip_prefix("##") {
        (rest.to_string(), true)
    } else if let Some(rest) = token.strip_prefix('\u{120}') {
        (rest.to_string(), false)
    } else {
        (token.to_string(), false)
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#111}\
h1{font-size:20px}.legend span{padding:2px 6px;margin-right:8px;border-radius:3px}\
.sentence{border-top:1px solid #ccc;padding:12px 0}.text{font-size:15px;margin-bottom:6px}\
table{border-collapse:collapse;width:100%}td{vertical-align:top;padding:4px 8px}\
td.model{white-space:nowrap;font-weight:600;width:1%}td.pred{white-space:nowrap;width:1%}\
.tok{display:inline-block;padding:1px 2px;margin:1px 0 1px 4px;border-radius:3px;font-family:monospace}\
.tok.sub{margin-left:0}.check{color:#666;font-size:12px;white-space:nowrap;width:1%}\
.ok{color:#15803d}.bad{color:#b91c1c}";

/// The whole report as one HTML page.
pub fn render_html(report: &ExplainReport) -> String {
    let c = &report.config;
    let mut html =
        String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str("<title>dmlft explain: Integrated Gradients</title>");
    html.push_str(&format!("<style>{STYLE}</style></head><body>\n"));
    html.push_str("<h1>Token attributions (Integrated Gradients)</h1>\n");
    html.push_str(&format!(
        "<p>Models: {}. Attributed: the head logit of {} class; {} steps ({:?} rule), baseline: {}. \
         Each token's shade is its attribution relative to the largest magnitude in its row.</p>\n",
        escape(&report.models.join(", ")),
        c.target.map_or("the predicted".to_string(), |t| format!("class {t} (the chosen)")),
        c.steps,
        c.rule,
        match c.baseline {
            super::attribution::Baseline::Pad => "pad-token embeddings",
            super::attribution::Baseline::Zero => "zero embeddings",
        },
    ));
    html.push_str(
        "<p class=\"legend\"><span style=\"background:rgba(220,38,38,0.8)\">towards the class</span>\
         <span style=\"background:rgba(37,99,235,0.8)\">away from the class</span>\
         Check: sum of attributions vs. logit(x) - logit(baseline).</p>\n",
    );
    for s in &report.sentences {
        html.push_str("<div class=\"sentence\">");
        html.push_str(&format!("<div class=\"text\">{}", escape(&s.text)));
        if let Some(label) = &s.label {
            html.push_str(&format!(" <b>(true: {})</b>", escape(label)));
        }
        html.push_str("</div><table>\n");
        for m in &s.models {
            html.push_str(&model_row(m));
        }
        html.push_str("</table></div>\n");
    }
    html.push_str("</body></html>\n");
    html
}

fn model_row(m: &ModelExplanation) -> String {
    let max_abs = m.ig.attributions.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut row = format!(
        "<tr><td class=\"model\">{}</td><td class=\"pred\">{} ({:.3})<br><small>attributing: {}</small></td><td>",
        escape(&m.model),
        escape(&m.predicted_label),
        m.probability,
        escape(&m.target_label)
    );
    for (token, &value) in m.tokens.iter().zip(&m.ig.attributions) {
        let (text, sub) = display_token(token);
        row.push_str(&format!(
            "<span class=\"tok{}\" style=\"background:{}\" title=\"{:+.4}\">{}</span>",
            if sub { " sub" } else { "" },
            shade(value, max_abs),
            value,
            escape(&text)
        ));
    }
    let delta = m.ig.logit - m.ig.baseline_logit;
    let relative = m.ig.completeness_error.abs() / delta.abs().max(1e-6);
    row.push_str(&format!(
        "</td><td class=\"check\">sum {:+.3}<br>&Delta;logit {:+.3}<br><span class=\"{}\">error {:.1e}</span></td></tr>\n",
        m.ig.attributions.iter().sum::<f64>(),
        delta,
        if relative < 0.05 { "ok" } else { "bad" },
        m.ig.completeness_error.abs()
    ));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explanation() -> ModelExplanation {
        let ig = Attributions {
            token_ids: vec![1, 2, 3],
            attributions: vec![0.5, -0.25, 0.0],
            target: 1,
            predicted: 1,
            probabilities: vec![0.2, 0.8],
            logit: 1.0,
            baseline_logit: 0.75,
            completeness_error: 0.0,
            steps: 8,
        };
        let names = ["neg".to_string(), "pos".to_string()];
        ModelExplanation::new("ce", ig, &names, |id| {
            ["[CLS]", "<b>", "##s"]
                .get(id as usize - 1)
                .map(|s| s.to_string())
        })
    }

    #[test]
    fn html_is_escaped_self_contained_and_shaded() {
        let report = ExplainReport {
            config: IgConfig::default(),
            models: vec!["ce".into()],
            sentences: vec![ExplainedSentence {
                text: "a <b> & c".into(),
                label: Some("pos".into()),
                models: vec![explanation()],
            }],
        };
        let html = render_html(&report);
        assert!(html.contains("a &lt;b&gt; &amp; c"));
        assert!(!html.contains("<b>&") && !html.contains("src=") && !html.contains("href="));
        assert!(
            html.contains("rgba(220,38,38,1.000)"),
            "largest positive fully red"
        );
        assert!(
            html.contains("rgba(37,99,235,0.500)"),
            "half-size negative half blue"
        );
        assert!(
            html.contains("class=\"tok sub\""),
            "## continuation attaches"
        );
        assert!(html.contains("pos (0.800)"));
    }

    #[test]
    fn shade_handles_zero_rows() {
        assert_eq!(shade(0.0, 0.0), "rgba(220,38,38,0.000)");
    }
}
