//! TEMPORARY (not for commit): compiles the explain/analyze command files before they are wired
//! into main.rs, and runs them from argument lists. Remove once `dmlft explain|analyze` exist.
#[path = "../src/commands/analyze.rs"]
mod analyze;
#[path = "../src/commands/explain.rs"]
mod explain;

use clap::Parser;

#[derive(Parser)]
enum Cmd {
    Explain(explain::ExplainArgs),
    Analyze(analyze::AnalyzeArgs),
}

#[test]
fn run_from_env() {
    let Ok(line) = std::env::var("DMLFT_TMP_ARGS") else { return };
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).try_init();
    let args: Vec<String> = std::iter::once("x".to_string()).chain(line.split('\u{1f}').map(String::from)).collect();
    match Cmd::try_parse_from(args) {
        Ok(Cmd::Explain(a)) => explain::run(a).unwrap(),
        Ok(Cmd::Analyze(a)) => analyze::run(a).unwrap(),
        Err(e) => panic!("{e}"),
    }
}
