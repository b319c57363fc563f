//! `dmlft unlock GRID --host H | --older-than DURATION`: breaks cell locks that `run` may not
//! break itself. A lock of this host whose process is gone is taken over by `run`; a lock of
//! another host cannot be checked from here (its process may be alive), so only the user,
//! naming the host or a minimum age, may remove it. Live locks of this host are never removed.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

use crate::grid::{load_grid, LoadOptions};
use crate::store::lock::{unlock_matching, UnlockSelector, Unlocked, UNLOCK_RULE};
use crate::store::ResultsStore;

#[derive(Args, Debug, Clone)]
pub struct UnlockArgs {
    /// The grid file (TOML) whose results folder holds the locks.
    pub grid: PathBuf,
    /// Remove the locks taken on this host (as `plan` and `run` name it).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Remove the locks taken at least this long ago (e.g. 90s, 30m, 12h, 2d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub older_than: Option<u64>,
}

/// Removes the selected locks; the text lists each removed or kept lock.
pub fn run(args: &UnlockArgs) -> Result<String> {
    if args.host.is_none() && args.older_than.is_none() {
        bail!("`dmlft unlock` needs --host HOST or --older-than DURATION (or both): {UNLOCK_RULE}");
    }
    let opts = LoadOptions {
        data_dir: None,
        // only the output folder is needed: the data may be gone or elsewhere on this machine
        check_data: false,
    };
    let grid = load_grid(&args.grid, &opts)?;
    let cells_dir = ResultsStore::open(&grid.output).cells_dir();
    let selector = UnlockSelector {
        host: args.host.clone(),
        older_than_secs: args.older_than,
    };
    let done = unlock_matching(&cells_dir, &selector)
        .with_context(|| format!("cannot unlock the cells in {}", cells_dir.display()))?;
    let mut out = String::new();
    let mut removed = 0;
    for u in &done {
        match u {
            Unlocked::Removed(id, info) => {
                removed += 1;
                out.push_str(&format!("removed lock of cell {id} ({info})\n"));
            }
            Unlocked::LiveHere(id, info) => out.push_str(&format!(
                "kept lock of cell {id} ({info}): that process is alive on this host\n"
            )),
        }
    }
    out.push_str(&format!(
        "{removed} lock(s) removed from {}\n",
        cells_dir.display()
    ));
    Ok(out)
}

/// What to do about cells blocked by other hosts' locks (the host of each blocked cell), with
/// the safety rule.
pub fn advice<'a>(grid_file: &Path, lock_hosts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hosts: Vec<&str> = lock_hosts.into_iter().collect();
    let cells = hosts.len();
    hosts.sort_unstable();
    hosts.dedup();
    let commands: Vec<String> = hosts
        .iter()
        .map(|h| format!("`dmlft unlock {} --host {h}`", grid_file.display()))
        .collect();
    format!(
        "{} cell(s) blocked by another host's lock; if those processes are gone, run {} (or `--older-than DURATION`), then run again. Safety rule: {UNLOCK_RULE}.",
        cells,
        commands.join(" or ")
    )
}

/// `90s`, `30m`, `12h`, `2d` (a bare number is seconds) as seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| {
            format!("`{text}` is not a duration: a whole number with s, m, h or d (e.g. 30m, 12h)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_each_unit_and_bad_ones_refused() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        for bad in ["", "h", "1.5h", "-3m", "3 weeks", "99999999999999999999d"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
    }
}
