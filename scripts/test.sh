#!/usr/bin/env bash
# The test command (README; .ci/run calls it). Fetches the real model once (cached in models/),
# then runs every test of the workspace, and the wgpu backend's tests when a Vulkan driver is
# there. Real-data tests read SentEval from $DMLFT_SENTEVAL_DIR
# (default ../shared/datasets/senteval); with DMLFT_REQUIRE_DATA=1 / DMLFT_REQUIRE_MODEL=1 a
# missing data set or model is a failure instead of a skip. DMLFT_TEST_SLURM=1 also runs the
# single-node Slurm test (needs root; installs slurm-wlm).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! scripts/fetch-model.sh; then
  if [ "${DMLFT_REQUIRE_MODEL:-0}" = "1" ]; then
    echo "error: could not fetch all-MiniLM-L6-v2 and DMLFT_REQUIRE_MODEL=1" >&2
    exit 1
  fi
  echo "warning: no real model; tests that need it will skip" >&2
fi

# burn's wgpu backend (dmlft-train's tests/accelerator/on_wgpu.rs: encoder, losses, AdamW, a
# cell, f16) runs on a Vulkan driver, Mesa's lavapipe on machines without a GPU (.ci/run installs
# it). When a driver is there the whole workspace is built and tested with `--features dmlft/wgpu`:
# one feature set for every command below, so burn and the workspace compile once (a second
# feature set meant a second build of burn and of every crate: CI's time and disk).
# DMLFT_REQUIRE_WGPU=1 (CI) makes a missing driver an error; DMLFT_TEST_WGPU=0 skips the backend.
features=()
if [ "${DMLFT_TEST_WGPU:-1}" = "0" ]; then
  echo "wgpu tests skipped (DMLFT_TEST_WGPU=0)" >&2
elif scripts/install-lavapipe.sh --check; then
  features=(--features dmlft/wgpu)
  # wgpu's window-system probing complains without a runtime folder: give it a private one.
  if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
    XDG_RUNTIME_DIR="$(mktemp -d)"
    export XDG_RUNTIME_DIR
  fi
  # lavapipe compiles each kernel slowly: let autotune try few candidates.
  export CUBECL_AUTOTUNE_LEVEL="${CUBECL_AUTOTUNE_LEVEL:-minimal}"
elif [ "${DMLFT_REQUIRE_WGPU:-0}" = "1" ]; then
  echo "error: no Vulkan driver for the wgpu tests and DMLFT_REQUIRE_WGPU=1 (run scripts/install-lavapipe.sh as root)" >&2
  exit 1
else
  echo "warning: no Vulkan driver; the wgpu tests are skipped (scripts/install-lavapipe.sh installs lavapipe)" >&2
fi

# Formatting and lints first: cheap next to the test build. DMLFT_SKIP_LINT=1 skips both (quick
# local runs).
if [ "${DMLFT_SKIP_LINT:-0}" != "1" ]; then
  cargo fmt --all --check
  cargo clippy --workspace --all-targets "${features[@]}" -- -D warnings
fi

# Libraries, binaries and integration tests; not the examples (benchmarks: clippy above compiles
# them, and building them here cost minutes and gigabytes), then the doc tests.
cargo test --workspace --no-fail-fast "${features[@]}" --lib --bins --tests "$@"
cargo test --workspace --no-fail-fast "${features[@]}" --doc

if [ "${DMLFT_TEST_SLURM:-0}" = "1" ]; then
  # Uses target/debug/dmlft, which the tests above built (it builds one if missing).
  bash scripts/slurm/test-slurm.sh
fi
