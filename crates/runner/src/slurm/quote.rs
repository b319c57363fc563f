//! Getting values into a job script without changing what it does. The script is read twice:
//! by sbatch, which parses the `#SBATCH` lines (up to the first command) with its own rules,
//! and by bash, which runs the rest. A value in a `#SBATCH` line cannot be shell-quoted: sbatch
//! strips `"`/`'` quotes and `\` escapes itself, and a `#` outside quotes starts a comment; a
//! line break would start a new script line. So such values are either checked against Slurm's
//! own syntax ([`super::syntax`]) or written with [`sbatch_quote`]; values in the commands are
//! written with [`shell_quote`].

use std::fmt;

/// A value that cannot go into the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeValue {
    /// What the value is (`--partition`, the results folder, ...).
    pub what: String,
    pub value: String,
    /// What is valid.
    pub valid: String,
}

impl fmt::Display for UnsafeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} cannot go into a Slurm script: {}",
            self.what, self.value, self.valid
        )
    }
}

impl std::error::Error for UnsafeValue {}

/// No control characters (line breaks, tabs, escape sequences, NUL): a line break ends a script
/// line, so such a value would add lines to the script.
pub fn no_control_chars(what: &str, value: &str) -> Result<(), UnsafeValue> {
    if value.chars().any(char::is_control) {
        return Err(UnsafeValue {
            what: what.into(),
            value: value.into(),
            valid: "it holds a control character (line break, tab, ...)".into(),
        });
    }
    Ok(())
}

/// A word for bash: unchanged when it holds only characters bash never interprets, else in
/// single quotes (inside which bash interprets nothing; a `'` is written `'\''`). Control
/// characters are refused: bash would keep them, but they have no place in a path or argument
/// of the script (and a line break would make the script hard to read).
pub fn shell_quote(what: &str, value: &str) -> Result<String, UnsafeValue> {
    no_control_chars(what, value)?;
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:+,@%".contains(c))
    {
        Ok(value.to_string())
    } else {
        Ok(format!("'{}'", value.replace('\'', "'\\''")))
    }
}

/// A value for a `#SBATCH --option=VALUE` line: in double quotes, with `"` escaped as `\"`
/// (sbatch removes the quotes and the escape; inside the quotes a `#`, a space or a `'` is an
/// ordinary character). Control characters and `\` are refused (a `\` in an output file name
/// also turns off Slurm's `%` patterns).
pub fn sbatch_quote(what: &str, value: &str) -> Result<String, UnsafeValue> {
    no_control_chars(what, value)?;
    if value.contains('\\') {
        return Err(UnsafeValue {
            what: what.into(),
            value: value.into(),
            valid: "it holds a `\\`".into(),
        });
    }
    Ok(format!("\"{}\"", value.replace('"', "\\\"")))
}

/// A literal path inside a Slurm file-name pattern (`--output`): `%` becomes `%%`, so that only
/// the `%A` / `%a` that dmlft adds are expanded.
pub fn slurm_pattern_literal(path: &str) -> String {
    path.replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// What bash makes of a quoted word: the single argument it passes on.
    fn through_bash(word: &str) -> Vec<String> {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("printf '%s\\0' {word}"))
            .output()
            .expect("bash");
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(String::from)
            .collect()
    }

    #[test]
    fn shell_quote_round_trips_hostile_words_through_bash() {
        for value in [
            "plain",
            "with space",
            "$(touch pwned)",
            "`touch pwned`",
            "a'b\"c",
            "; rm -rf x",
            "'",
            "",
            "*",
            "~root",
            "a\\b",
            "ünïcødé ✓",
            "$HOME ${x} !!",
        ] {
            let quoted = shell_quote("x", value).unwrap();
            assert_eq!(
                through_bash(&quoted),
                vec![value.to_string()],
                "{value:?} -> {quoted}"
            );
        }
        assert!(shell_quote("x", "a\nb").is_err());
        assert!(shell_quote("x", "a\rb").is_err());
    }

    #[test]
    fn sbatch_quote_escapes_quotes_and_refuses_the_rest() {
        assert_eq!(sbatch_quote("o", "/a b/#c").unwrap(), "\"/a b/#c\"");
        assert_eq!(sbatch_quote("o", "a\"b'c").unwrap(), "\"a\\\"b'c\"");
        assert!(sbatch_quote("o", "a\nb").is_err());
        assert!(sbatch_quote("o", "a\\b").is_err());
        assert_eq!(slurm_pattern_literal("/r/100%/x"), "/r/100%%/x");
    }
}
