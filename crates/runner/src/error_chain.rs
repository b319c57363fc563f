//! An error with its causes. Each error's message says its own level only (none embeds its
//! `#[source]`), so the causes are written here, once, for the CLI and for cell records.

use std::error::Error;

/// The messages of `err` and of each of its causes, outermost first.
pub fn messages(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(e) = cause {
        out.push(e.to_string());
        cause = e.source();
    }
    out
}

/// `message: cause: cause`, for one-line places (a failed cell's record).
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    messages(err).join(": ")
}

/// `error: message` and one `caused by:` line per cause, as the CLI prints it.
pub fn report(err: &(dyn Error + 'static)) -> String {
    let messages = messages(err);
    let mut out = format!("error: {}", messages[0]);
    for cause in &messages[1..] {
        out.push_str(&format!("\n  caused by: {cause}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read f.json")]
    struct Read {
        #[source]
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error(transparent)]
        Read(#[from] Read),
    }

    #[test]
    fn every_cause_is_written_once_in_order() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = Outer::from(Read { source: io });
        assert_eq!(one_line(&err), "cannot read f.json: gone");
        assert_eq!(report(&err), "error: cannot read f.json\n  caused by: gone");
    }
}
