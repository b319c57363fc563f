#!/usr/bin/env bash
# The test command (README; .ci/run calls it). Fetches the real model once (cached in models/),
# then runs every test of the workspace. Real-data tests read SentEval from $DMLFT_SENTEVAL_DIR
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

cargo test --workspace --no-fail-fast "$@"

if [ "${DMLFT_TEST_SLURM:-0}" = "1" ]; then
  cargo build -p dmlft
  bash scripts/slurm/test-slurm.sh
fi
