#!/usr/bin/env bash
# The test command (README; .ci/run calls it). Fetches the real model once (cached in models/),
# then runs every test of the workspace, and the wgpu backend's tests when a Vulkan driver is
# there. Real-data tests read SentEval from $DMLFT_SENTEVAL_DIR
# (default ../shared/datasets/senteval); with DMLFT_REQUIRE_DATA=1 / DMLFT_REQUIRE_MODEL=1 a
# missing data set or model is a failure instead of a skip. DMLFT_TEST_SLURM=1 also runs the
# single-node Slurm test (needs root; installs slurm-wlm).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's wall time, printed at the end (CI's budget is 30 minutes on two cores).
phases=()
phase_start=$SECONDS
phase() {
  phases+=("$(printf '%-34s %4ds' "$1" $((SECONDS - phase_start)))")
  phase_start=$SECONDS
}
print_phases() {
  echo "== test.sh phase times =="
  printf '%s\n' "${phases[@]}"
}
trap print_phases EXIT

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

phase "model fetch + driver checks"

# Formatting first: cheap. DMLFT_SKIP_LINT=1 skips formatting and lints (quick local runs).
if [ "${DMLFT_SKIP_LINT:-0}" != "1" ]; then
  cargo fmt --all --check
  phase "cargo fmt --check"
  # Lints in the test build itself: clippy-driver compiles the workspace's crates (dependencies
  # are plain rustc) with `-D warnings`, which is what `cargo clippy --all-targets -- -D
  # warnings` checks, without clippy's second build of every dependency in check mode (ten of
  # CI's minutes on two cores). The examples (benchmarks) are built for the same reason.
  clippy_driver="$(command -v clippy-driver || rustup which clippy-driver)"
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  targets=(--lib --bins --tests --examples)
else
  targets=(--lib --bins --tests)
fi

# Each phase runs to its end even when an earlier one failed (CI wants every failure at once);
# the script fails at the end if any did.
failed=()

# The wgpu suite first, in the background: on lavapipe it is bound by the driver's kernel
# compiler, about one core for about ten minutes, so it runs beside the rest of the build and
# the other tests instead of after them (it is `test = false` in dmlft-train's manifest, so the
# workspace run below does not run it again). Same package selection and features as that run:
# one build, shared.
wgpu_pid=""
if [ ${#features[@]} -gt 0 ]; then
  wgpu_bin="$(cargo test --workspace --no-fail-fast "${features[@]}" --test wgpu --no-run \
    --message-format=json-render-diagnostics | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "wgpu" and m.get("executable"):
        print(m["executable"])')" || failed+=("build of the wgpu suite")
  phase "build of the wgpu suite"
  if [ -n "$wgpu_bin" ]; then
    wgpu_log="$(mktemp)"
    # cargo runs integration tests from the package's folder: so does this.
    (cd crates/train && exec "$wgpu_bin") > "$wgpu_log" 2>&1 &
    wgpu_pid=$!
    trap 'kill "$wgpu_pid" 2>/dev/null; print_phases' EXIT
  fi
fi

# Libraries, binaries, integration tests (and, when linting, the examples), then the doc tests.
cargo test --workspace --no-fail-fast "${features[@]}" "${targets[@]}" "$@" || failed+=("tests")
phase "build + lints + tests"
cargo test --workspace --no-fail-fast "${features[@]}" --doc || failed+=("doc tests")
phase "doc tests"

if [ "${DMLFT_TEST_SLURM:-0}" = "1" ]; then
  # Uses target/debug/dmlft, which the tests above built (it builds one if missing).
  bash scripts/slurm/test-slurm.sh || failed+=("slurm")
  phase "slurm"
fi

if [ -n "$wgpu_pid" ]; then
  wgpu_rc=0
  wait "$wgpu_pid" || wgpu_rc=$?
  trap print_phases EXIT
  echo "== the wgpu suite ($wgpu_bin) =="
  cat "$wgpu_log"
  rm -f "$wgpu_log"
  [ "$wgpu_rc" = 0 ] || failed+=("wgpu suite (exit $wgpu_rc)")
  phase "wait for the wgpu suite"
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
