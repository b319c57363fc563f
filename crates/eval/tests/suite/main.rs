//! dmlft-eval: the integration tests, as one binary (one link and one copy of the
//! monomorphised burn code instead of one per file; CI's build time and disk).
//! Each file is a module; `cargo test -p <crate> --test suite <module>::` runs one.

mod common;

mod embedding_parity;
mod figure_checks;
mod html_browser;
mod html_report;
mod metrics_parity;
mod paper_latex;
mod plots;
mod report_figures;
mod report_head_fallback;
mod report_render;
mod stats_across;
mod stats_parity;
mod tsne;
