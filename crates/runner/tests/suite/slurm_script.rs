//! Hostile values in every field that reaches a Slurm script (grid name and output folder, data
//! folder, grid file, working folder, binary path; partition, memory and time) either are refused
//! with a message naming them, or come out of the script exactly as given: the script, run by
//! bash with a stand-in `dmlft`, creates nothing and passes the values through unchanged, and its
//! `#SBATCH` lines, read as sbatch reads them, hold exactly the intended options.

use crate::common::Fixture;
use dmlft::grid::{parse_grid, Device, LoadOptions};
use dmlft::slurm::{render, SlurmOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTILE: &[&str] = &[
    "$(touch pwned)",
    "`touch pwned`",
    "x; touch pwned",
    "x && touch pwned #",
    "a'b",
    "a\"b",
    "sp ace",
    "#SBATCH --wrap=touch pwned",
    "100%",
    "x\ntouch pwned",
    "x\rtouch pwned",
    "\\$(touch pwned)",
];

fn options() -> SlurmOptions {
    SlurmOptions {
        partition: None,
        gpus_per_task: None,
        cpus_per_task: None,
        mem: None,
        time: None,
        max_concurrent: None,
        tasks: Some(2),
        device: Device::Cpu,
        jobs: 1,
        retry_failed: false,
    }
}

/// `#SBATCH` options as sbatch parses them: leading `#SBATCH` lines up to the first command; per
/// line, words split on blanks, `"`/`'` quotes and `\` escapes removed, an unquoted `#` ends the
/// line (Slurm's `_get_argument` in src/sbatch/opt.c).
fn sbatch_options(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in script.lines().skip(1) {
        let Some(rest) = line.strip_prefix("#SBATCH") else {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            break;
        };
        let mut word = String::new();
        let (mut quote, mut escape, mut in_word) = (None, false, false);
        for c in rest.chars() {
            if escape {
                word.push(c);
                escape = false;
                continue;
            }
            match (c, quote) {
                ('\\', _) => {
                    escape = true;
                    in_word = true;
                }
                (q, Some(open)) if q == open => quote = None,
                (_, Some(_)) => word.push(c),
                ('"' | '\'', None) => {
                    quote = Some(c);
                    in_word = true;
                }
                ('#', None) => break,
                (c, None) if c.is_whitespace() => {
                    if in_word {
                        out.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                (c, None) => {
                    word.push(c);
                    in_word = true;
                }
            }
        }
        if in_word {
            out.push(word);
        }
    }
    out
}

/// A `dmlft` stand-in that writes its arguments, NUL-separated, to `args.out` beside itself.
fn fake_dmlft(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("dmlft");
    std::fs::write(
        &path,
        "#!/bin/bash\nprintf '%s\\0' \"$@\" > \"$(dirname \"$0\")/args.out\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Every file below `root` named `pwned`.
fn pwned(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.file_name().is_some_and(|n| n == "pwned") {
                found.push(p.clone());
            }
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    found
}

struct Case {
    field: &'static str,
    value: &'static str,
}

/// Renders the script for one hostile value in one field; when it is accepted, runs it with bash
/// and checks what came out. Returns whether it was accepted.
fn check(case: &Case) -> bool {
    let fx = Fixture::new();
    let root = fx.path().canonicalize().unwrap();
    let v = case.value;
    let mut grid_text = String::from("name = \"s\"\ndatasets = [\"mr\"]\nshots = [4]\nseeds = [1, 2, 3]\n[model]\nsource = \"m\"\n[protocol]\nkind = \"per-class\"\n[losses.ce]\n");
    let mut grid_file = PathBuf::from("g.toml");
    let mut workdir = root.join("work");
    let mut bin_dir = root.join("bin");
    let mut data_dir = PathBuf::from("/data/se");
    let mut opts = options();
    match case.field {
        "output" => {
            let quoted = toml::Value::String(v.to_string()).to_string();
            grid_text = format!("output = {quoted}\n{grid_text}");
        }
        "name" => {
            let quoted = toml::Value::String(v.to_string()).to_string();
            grid_text = grid_text.replace("name = \"s\"", &format!("name = {quoted}"));
        }
        "grid file" => grid_file = PathBuf::from(format!("{v}.toml")),
        "data folder" => data_dir = PathBuf::from(v),
        "working folder" => workdir = root.join(v),
        "binary" => bin_dir = root.join(v),
        "partition" => opts.partition = Some(v.into()),
        "mem" => opts.mem = Some(v.into()),
        "time" => opts.time = Some(v.into()),
        other => panic!("unknown field {other}"),
    }
    let load = LoadOptions {
        data_dir: Some(data_dir.clone()),
        check_data: false,
    };
    let grid = match parse_grid(&grid_text, &grid_file, &load) {
        Ok(g) => g,
        Err(e) => {
            // refused when the grid is read, naming the key
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("key `{}`", case.field)) && !msg.contains('\n'),
                "{} {v:?}: {msg}",
                case.field
            );
            return false;
        }
    };
    let dmlft = fake_dmlft(&bin_dir);
    let script = match render(&grid, &opts, &dmlft, &workdir) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("cannot go into a Slurm script") && !msg.contains('\n'),
                "{} {v:?}: {msg}",
                case.field
            );
            return false;
        }
    };
    // sbatch's view: exactly the intended options, the output path intact
    let sbatch = sbatch_options(&script);
    let expected_output = format!(
        "--output={}/%A_%a.out",
        workdir
            .join(&grid.output)
            .join("slurm")
            .display()
            .to_string()
            .replace('%', "%%")
    );
    assert!(
        sbatch.contains(&expected_output),
        "{} {v:?}: sbatch sees {sbatch:?}\n{script}",
        case.field
    );
    let expected_count = 4 + [&opts.partition, &opts.mem, &opts.time]
        .iter()
        .filter(|o| o.is_some())
        .count();
    assert_eq!(
        sbatch.len(),
        expected_count,
        "{} {v:?}: sbatch sees {sbatch:?}",
        case.field
    );
    // bash's view: run it (its `cd` needs the working folder), nothing created, args intact
    std::fs::create_dir_all(&workdir).unwrap();
    let script_path = root.join("job.sbatch");
    std::fs::write(&script_path, &script).unwrap();
    let status = Command::new("bash")
        .arg(&script_path)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{} {v:?}: script failed\n{script}",
        case.field
    );
    assert!(
        pwned(&root).is_empty(),
        "{} {v:?}: injected\n{script}",
        case.field
    );
    let args = std::fs::read(bin_dir.join("args.out")).unwrap();
    let args: Vec<String> = String::from_utf8(args)
        .unwrap()
        .split_terminator('\0')
        .map(String::from)
        .collect();
    let expected: Vec<String> = [
        "run",
        &grid_file.display().to_string(),
        "--shard",
        "1/2",
        "--device",
        "cpu",
        "--data-dir",
        &data_dir.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(args, expected, "{} {v:?}\n{script}", case.field);
    true
}

#[test]
fn hostile_values_in_every_field_are_refused_or_inert() {
    let fields = [
        "output",
        "name",
        "grid file",
        "data folder",
        "working folder",
        "binary",
        "partition",
        "mem",
        "time",
    ];
    let mut accepted = Vec::new();
    for field in fields {
        for value in HOSTILE {
            if check(&Case { field, value }) {
                accepted.push(format!("{field}={value:?}"));
            }
        }
    }
    // paths take anything but control characters and `\` (in the log folder); Slurm values
    // and the name take nothing hostile
    for path_field in [
        "output",
        "grid file",
        "data folder",
        "working folder",
        "binary",
    ] {
        assert!(
            accepted
                .iter()
                .any(|a| a.starts_with(&format!("{path_field}=\"sp ace\""))),
            "{path_field} with a space must work: {accepted:?}"
        );
    }
    for strict in ["name", "partition", "mem", "time"] {
        assert!(
            !accepted
                .iter()
                .any(|a| a.starts_with(&format!("{strict}="))),
            "{strict}: {accepted:?}"
        );
    }
}

#[test]
fn the_sbatch_reader_of_this_test_follows_slurms_rules() {
    let script = "#!/bin/bash\n#SBATCH --a=\"x y\" --b='q\"r' # comment\n#SBATCH --c=d\\ e\n# note\n#SBATCH --e=\"#f\"\necho hi\n#SBATCH --late=1\n";
    assert_eq!(
        sbatch_options(script),
        ["--a=x y", "--b=q\"r", "--c=d e", "--e=#f"]
    );
}
