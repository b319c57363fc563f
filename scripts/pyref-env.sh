#!/usr/bin/env bash
# Prints the path of a Python interpreter that has the reference stack (PyTorch, transformers,
# pytorch-metric-learning, scipy) used by the fixture generators and the PyTorch baselines.
# Uses $DMLFT_PYREF if set (a venv folder), else creates .venv-ref/ in the repository once.
# Only fixture regeneration and benchmarks need it; the Rust tests read committed fixtures.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${DMLFT_PYREF:-$root/.venv-ref}"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating reference Python environment in $venv (PyTorch is large; a few minutes)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    torch transformers pytorch-metric-learning scipy numpy safetensors sentence-transformers >&2
fi
echo "$venv/bin/python"
