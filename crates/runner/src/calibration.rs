//! This machine's speed for `dmlft plan`'s estimates: dmlft-train's timed probe
//! ([`dmlft_train::calibrate`]) turned into FLOP rates, cached per machine in the user's cache
//! folder (`$DMLFT_CACHE_DIR`, else `$XDG_CACHE_HOME/dmlft`, else `~/.cache/dmlft`, beside
//! `~/.cache/huggingface` where models go) so that a plan measures once per CPU model, SIMD
//! level, thread count, device and probe.
//!
//! The cache file is not trusted: one that does not parse, has another schema, or holds an entry
//! with an impossible value is ignored with a warning and replaced at the next calibration.

use std::path::{Path, PathBuf};

use dmlft_train::calibrate::{ProbeShape, ProbeTimes};
use serde::{Deserialize, Serialize};

use crate::cost::Speed;
use crate::grid::Device;

/// The cache file inside the cache folder.
pub const CACHE_FILE: &str = "calibration.json";
/// Overrides the cache folder.
pub const CACHE_DIR_ENV: &str = "DMLFT_CACHE_DIR";
/// `toy` makes plans calibrate with [`ProbeShape::TOY`] (tests); anything else is refused.
pub const PROBE_ENV: &str = "DMLFT_CALIBRATION_PROBE";
const SCHEMA: u32 = 1;

/// dmlft's own cache folder.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("dmlft");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("dmlft")
}

/// The probe plans run: [`ProbeShape::STANDARD`] unless `DMLFT_CALIBRATION_PROBE=toy`.
pub fn probe_from_env() -> Result<ProbeShape, String> {
    match std::env::var(PROBE_ENV) {
        Err(_) => Ok(ProbeShape::STANDARD),
        Ok(v) if v == "standard" => Ok(ProbeShape::STANDARD),
        Ok(v) if v == "toy" => Ok(ProbeShape::TOY),
        Ok(v) => Err(format!(
            "{PROBE_ENV}={v}: valid values are standard and toy"
        )),
    }
}

/// What a calibration holds for: the same key measures the same speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineKey {
    /// `model name` of /proc/cpuinfo.
    pub cpu: String,
    /// The SIMD level dmlft's kernels dispatch to.
    pub simd: String,
    /// Threads of the CPU backends' pool.
    pub threads: usize,
    pub device: String,
    pub probe: ProbeShape,
    /// Kernels change between versions.
    pub dmlft: String,
}

impl MachineKey {
    /// This process on `device` with `probe`.
    pub fn here(device: Device, probe: ProbeShape) -> Self {
        Self {
            cpu: crate::host::cpu_model(),
            simd: dmlft_model::kernels::simd_level().as_str().to_string(),
            threads: rayon::current_num_threads(),
            device: device.to_string(),
            probe,
            dmlft: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// One measured speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub key: MachineKey,
    /// RFC 3339 UTC.
    pub measured_at: String,
    pub train_flops_per_s: f64,
    pub eval_flops_per_s: f64,
}

/// The FLOP rates below 1 FLOP/s or above 1 EFLOP/s are no measurement of one device.
const PLAUSIBLE_FLOPS: std::ops::RangeInclusive<f64> = 1.0..=1e18;

impl Calibration {
    /// The rates of a probe's times, with the probe shape's FLOP count.
    pub fn from_times(key: MachineKey, times: &ProbeTimes) -> Result<Self, String> {
        let p = key.probe;
        let config = p.config().map_err(|e| e.to_string())?;
        let tokens = p.seq as f64;
        let c = Self {
            train_flops_per_s: times.train_examples as f64
                * tokens
                * config.train_flops_per_token(p.seq)
                / times.train_s,
            eval_flops_per_s: times.eval_examples as f64
                * tokens
                * config.forward_flops_per_token(p.seq)
                / times.eval_s,
            measured_at: crate::host::rfc3339_now(),
            key,
        };
        c.check()?;
        Ok(c)
    }

    /// Why this entry cannot be a measurement, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("train_flops_per_s", self.train_flops_per_s),
            ("eval_flops_per_s", self.eval_flops_per_s),
        ] {
            if !PLAUSIBLE_FLOPS.contains(&v) {
                return Err(format!("{name} = {v}: must be between 1 and 1e18"));
            }
        }
        if crate::host::parse_rfc3339(&self.measured_at).is_none() {
            return Err(format!(
                "measured_at = {:?}: must be a UTC time like 2026-01-31T12:34:56Z",
                self.measured_at
            ));
        }
        let k = &self.key;
        if k.threads == 0 {
            return Err("key.threads = 0: must be at least 1".into());
        }
        k.probe.config().map_err(|e| format!("key.probe: {e}"))?;
        Ok(())
    }

    /// The speed for the cost estimate.
    pub fn speed(&self) -> Speed {
        let k = &self.key;
        let p = &k.probe;
        Speed {
            train_flops_per_s: self.train_flops_per_s,
            eval_flops_per_s: self.eval_flops_per_s,
            // Not probed: loading the model and data is left out, as in the reference speed.
            per_cell_s: 0.0,
            source: "calibrated".into(),
            note: format!(
                "on this machine at {} ({}, {}, {} threads; a {}-layer BERT of hidden size {}, {} x {} tokens per step; `dmlft plan --calibrate` measures again)",
                self.measured_at, k.cpu, k.simd, k.threads, p.layers, p.hidden, p.train_batch, p.seq
            ),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    schema: u32,
    entries: Vec<Calibration>,
}

/// The valid entries of the cache file at `path`; what was wrong with it goes to `warnings`. A
/// missing file is an empty cache.
pub fn load(path: &Path, warnings: &mut Vec<String>) -> Vec<Calibration> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            warnings.push(format!(
                "calibration cache {}: {e}; ignored",
                path.display()
            ));
            return Vec::new();
        }
    };
    let file: CacheFile = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            warnings.push(format!(
                "calibration cache {} is not dmlft's (schema {SCHEMA}): {e}; ignored and replaced at the next calibration",
                path.display()
            ));
            return Vec::new();
        }
    };
    if file.schema != SCHEMA {
        warnings.push(format!(
            "calibration cache {} has schema {}, this dmlft reads {SCHEMA}; ignored and replaced at the next calibration",
            path.display(),
            file.schema
        ));
        return Vec::new();
    }
    file.entries
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| match c.check() {
            Ok(()) => Some(c),
            Err(e) => {
                warnings.push(format!(
                    "calibration cache {}: entry {i}: {e}; ignored",
                    path.display()
                ));
                None
            }
        })
        .collect()
}

/// The entry measured for `key`.
pub fn lookup<'a>(entries: &'a [Calibration], key: &MachineKey) -> Option<&'a Calibration> {
    entries.iter().find(|c| &c.key == key)
}

/// Writes `entries` with `new` in place of an entry of the same key.
pub fn store(path: &Path, mut entries: Vec<Calibration>, new: Calibration) -> Result<(), String> {
    entries.retain(|c| c.key != new.key);
    entries.push(new);
    let file = CacheFile {
        schema: SCHEMA,
        entries,
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())? + "\n";
    let fail =
        |e: std::io::Error| format!("cannot write the calibration cache {}: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    dmlft_fs::write_atomic(path, text.as_bytes()).map_err(fail)
}

/// When to run the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Only read the cache.
    Never,
    /// When the cache has no entry for this machine.
    IfMissing,
    /// Always (`dmlft plan --calibrate`).
    Always,
}

/// The cache file's valid entries, read once per plan.
pub struct Cache {
    path: PathBuf,
    entries: Vec<Calibration>,
}

impl Cache {
    /// Reads the cache at `path` (what is wrong with it goes to `warnings`).
    pub fn open(path: PathBuf, warnings: &mut Vec<String>) -> Self {
        let entries = load(&path, warnings);
        Self { path, entries }
    }

    /// This machine's calibrated speed on `device`: the cached one, or measured now (and cached)
    /// as `when` allows. `None` when there is none (why, when it is a failure, in `warnings`).
    pub fn speed(
        &mut self,
        device: Device,
        probe: ProbeShape,
        when: Probe,
        warnings: &mut Vec<String>,
    ) -> Option<Speed> {
        let key = MachineKey::here(device, probe);
        if when != Probe::Always {
            if let Some(c) = lookup(&self.entries, &key) {
                return Some(c.speed());
            }
        }
        if when == Probe::Never {
            return None;
        }
        tracing::info!("calibrating {device}: a timed probe of a few seconds");
        let measured = dmlft_train::calibrate::probe(device, &probe)
            .map_err(|e| crate::error_chain::one_line(&e))
            .and_then(|times| Calibration::from_times(key, &times));
        match measured {
            Ok(c) => {
                let speed = c.speed();
                if let Err(e) = store(&self.path, self.entries.clone(), c.clone()) {
                    warnings.push(e);
                }
                self.entries.retain(|e| e.key != c.key);
                self.entries.push(c);
                Some(speed)
            }
            Err(e) => {
                warnings.push(format!("calibration on {device} failed: {e}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(threads: usize, cpu: &str) -> Calibration {
        Calibration {
            key: MachineKey {
                threads,
                cpu: cpu.into(),
                ..MachineKey::here(Device::Cpu, ProbeShape::TOY)
            },
            measured_at: "2026-12-07T23:00:00Z".into(),
            train_flops_per_s: 8e10,
            eval_flops_per_s: 1e11,
        }
    }

    #[test]
    fn a_stored_calibration_is_found_again_for_the_same_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(CACHE_FILE);
        let mut warnings = Vec::new();
        assert!(load(&path, &mut warnings).is_empty());
        store(&path, Vec::new(), entry(2, "cpu A")).unwrap();
        store(&path, load(&path, &mut warnings), entry(4, "cpu A")).unwrap();
        // the same key again replaces its entry
        let mut newer = entry(2, "cpu A");
        newer.train_flops_per_s = 9e10;
        store(&path, load(&path, &mut warnings), newer.clone()).unwrap();
        let entries = load(&path, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(entries.len(), 2);
        assert_eq!(lookup(&entries, &newer.key), Some(&newer));
        assert_eq!(
            lookup(&entries, &entry(4, "cpu A").key)
                .unwrap()
                .key
                .threads,
            4
        );
        // another thread count, CPU, device or probe is another machine
        assert_eq!(lookup(&entries, &entry(1, "cpu A").key), None);
        assert_eq!(lookup(&entries, &entry(2, "cpu B").key), None);
        let mut other = entry(2, "cpu A").key;
        other.device = "cpu-ndarray".into();
        assert_eq!(lookup(&entries, &other), None);
        other = entry(2, "cpu A").key;
        other.probe = ProbeShape::STANDARD;
        assert_eq!(lookup(&entries, &other), None);
        other = entry(2, "cpu A").key;
        other.simd = "scalar".into();
        assert_eq!(lookup(&entries, &other), None);
    }

    #[test]
    fn a_corrupt_or_foreign_cache_is_ignored_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        let good = serde_json::to_value(CacheFile {
            schema: SCHEMA,
            entries: vec![entry(2, "cpu A")],
        })
        .unwrap();
        let mut bad_rate = good.clone();
        bad_rate["entries"][0]["train_flops_per_s"] = (-1.0).into();
        let mut bad_date = good.clone();
        bad_date["entries"][0]["measured_at"] = "yesterday".into();
        let mut bad_probe = good.clone();
        bad_probe["entries"][0]["key"]["probe"]["hidden"] = 0.into();
        let mut other_schema = good.clone();
        other_schema["schema"] = 99.into();
        let mut unknown_key = good.clone();
        unknown_key["entries"][0]["extra"] = 1.into();
        for (text, says) in [
            ("{\"schema\": 1, \"entr".to_string(), "not dmlft's"),
            ("[1, 2]".to_string(), "not dmlft's"),
            (unknown_key.to_string(), "not dmlft's"),
            (other_schema.to_string(), "schema 99"),
            (bad_rate.to_string(), "train_flops_per_s = -1"),
            (bad_date.to_string(), "measured_at"),
            (bad_probe.to_string(), "key.probe"),
        ] {
            std::fs::write(&path, &text).unwrap();
            let mut warnings = Vec::new();
            assert!(load(&path, &mut warnings).is_empty(), "{text}");
            assert_eq!(warnings.len(), 1, "{text}: {warnings:?}");
            assert!(
                warnings[0].contains(says) && warnings[0].contains(CACHE_FILE),
                "{text}: {warnings:?}"
            );
        }
        std::fs::write(&path, good.to_string()).unwrap();
        let mut warnings = Vec::new();
        assert_eq!(load(&path, &mut warnings), vec![entry(2, "cpu A")]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_probe_is_run_when_missing_or_asked_for_and_cached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        let mut warnings = Vec::new();
        let toy = ProbeShape::TOY;
        let speed = |when, warnings: &mut Vec<String>| {
            Cache::open(path.clone(), warnings).speed(Device::Cpu, toy, when, warnings)
        };
        assert_eq!(speed(Probe::Never, &mut warnings), None);
        let first = speed(Probe::IfMissing, &mut warnings).unwrap();
        assert_eq!(first.source, "calibrated");
        assert!(
            first.note.contains("on this machine at 20"),
            "{}",
            first.note
        );
        // read back, not measured again
        let cached = speed(Probe::Never, &mut warnings).unwrap();
        assert_eq!((&cached.source, &cached.note), (&first.source, &first.note));
        let mut entries = load(&path, &mut warnings);
        assert_eq!(entries.len(), 1);
        // --calibrate measures again and replaces the entry
        entries[0].train_flops_per_s = 1.0;
        std::fs::write(
            &path,
            serde_json::to_string(&CacheFile {
                schema: SCHEMA,
                entries,
            })
            .unwrap(),
        )
        .unwrap();
        let again = speed(Probe::Always, &mut warnings).unwrap();
        assert_ne!(again.train_flops_per_s, 1.0);
        assert_eq!(load(&path, &mut warnings).len(), 1);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
