//! One labelled example: a text (or a text pair) and a class id.

use serde::{Deserialize, Serialize};

/// One labelled example. `label` indexes the task's `label_names`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    /// The second text of a pair task (MRPC, SICK-E, custom data with a pair column).
    pub text_pair: Option<String>,
    pub label: usize,
}

impl Example {
    /// A single-text example.
    pub fn new(text: impl Into<String>, label: usize) -> Self {
        Example {
            text: text.into(),
            text_pair: None,
            label,
        }
    }

    /// A text-pair example.
    pub fn pair(text: impl Into<String>, text_pair: impl Into<String>, label: usize) -> Self {
        Example {
            text: text.into(),
            text_pair: Some(text_pair.into()),
            label,
        }
    }
}
