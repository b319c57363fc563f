//! Slurm's own syntax for the option values `dmlft slurm` writes into `#SBATCH` lines (from the
//! sbatch manual). A value that does not match is refused with what would be valid, rather than
//! quoted: these are never paths, and anything outside the syntax is a mistake or an attack.

use super::quote::UnsafeValue;

fn refuse(what: &str, value: &str, valid: &str) -> UnsafeValue {
    UnsafeValue {
        what: what.into(),
        value: value.into(),
        valid: valid.into(),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-".contains(c)
}

/// `--partition`: one partition name or a comma-separated list (letters, digits, `.`, `_`, `-`).
pub fn partition(value: &str) -> Result<(), UnsafeValue> {
    let ok = !value.is_empty()
        && value
            .split(',')
            .all(|p| !p.is_empty() && p.chars().all(is_name_char));
    ok.then_some(()).ok_or_else(|| {
        refuse(
            "--partition",
            value,
            "expected a partition name or a comma-separated list of names (letters, digits, `.`, `_`, `-`), e.g. gpu or gpu,gpu-long",
        )
    })
}

/// `--mem`: a number with an optional unit K, M, G or T (e.g. 32G; 0 means all of a node's).
pub fn mem(value: &str) -> Result<(), UnsafeValue> {
    let digits = value.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    let unit_len = value.len() - digits.len();
    let ok = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && unit_len <= 1;
    ok.then_some(()).ok_or_else(|| {
        refuse(
            "--mem",
            value,
            "expected a size in Slurm's syntax: digits and an optional unit K, M, G or T, e.g. 32G",
        )
    })
}

/// `--time`: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED / INFINITE.
pub fn time(value: &str) -> Result<(), UnsafeValue> {
    let numbers = |s: &str, max_parts: usize| {
        let parts: Vec<&str> = s.split(':').collect();
        parts.len() <= max_parts
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    let ok = match value.split_once('-') {
        _ if ["UNLIMITED", "INFINITE"].contains(&value.to_ascii_uppercase().as_str()) => true,
        Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
        None => numbers(value, 3),
    };
    ok.then_some(()).ok_or_else(|| {
        refuse(
            "--time",
            value,
            "expected Slurm's time syntax: MINUTES, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED, e.g. 04:00:00",
        )
    })
}

/// `--job-name`: the grid's name (already letters, digits, `.`, `_`, `-`) with a prefix.
pub fn job_name(value: &str) -> Result<(), UnsafeValue> {
    (!value.is_empty() && value.chars().all(is_name_char))
        .then_some(())
        .ok_or_else(|| refuse("--job-name", value, "letters, digits, `.`, `_`, `-`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "",
        "gpu\n#SBATCH --wrap=touch pwned",
        "gpu\ntouch pwned",
        "$(touch pwned)",
        "`touch pwned`",
        "gpu; touch pwned",
        "gpu \"x\"",
        "gpu'x'",
        "gpu #x",
        "gpu\r",
        "a b",
    ];

    #[test]
    fn accepts_slurm_syntax() {
        for p in ["gpu", "gpu,gpu-long", "a.b_c"] {
            partition(p).unwrap();
        }
        for m in ["32G", "0", "4000", "512m", "1T"] {
            mem(m).unwrap();
        }
        for t in [
            "30",
            "30:00",
            "04:00:00",
            "2-00",
            "2-12:30",
            "1-00:00:00",
            "UNLIMITED",
            "infinite",
        ] {
            time(t).unwrap();
        }
        job_name("dmlft-quickstart.v2").unwrap();
    }

    #[test]
    fn refuses_everything_else() {
        for value in HOSTILE {
            assert!(partition(value).is_err(), "partition {value:?}");
            assert!(mem(value).is_err(), "mem {value:?}");
            assert!(time(value).is_err(), "time {value:?}");
            assert!(job_name(value).is_err(), "job name {value:?}");
        }
        for bad in ["32GB", "G", "-1", "1.5G"] {
            assert!(mem(bad).is_err(), "{bad}");
        }
        for bad in ["1:2:3:4", "1-2-3", "-5", "1-", "a:00", "04:00:00 "] {
            assert!(time(bad).is_err(), "{bad}");
        }
        assert!(partition("gpu,").is_err());
        let msg = mem("32 GB").unwrap_err().to_string();
        assert!(msg.contains("--mem") && msg.contains("32G"), "{msg}");
    }
}
