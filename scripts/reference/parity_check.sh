#!/usr/bin/env bash
# Implementation parity without seed noise: one cell with dropout 0, where dmlft and the PyTorch
# reference start from the SAME weights (run_cell --init-check saves dmlft's untrained
# classifier and SoftTriple centers; torch_cell.py --init-from loads them). Prints
#  1. the first batch's objective of both (dropout off): must agree to ~1e-6;
#  2. the final loss and accuracies after STEPS deterministic steps: must track closely
#     (differences only from float summation order, growing slowly with the steps).
#
# usage: DMLFT_PYREF=/work/.pyref scripts/reference/parity_check.sh [DATASET] [LOSS] [SEED]
# env:   DMLFT_BIN=path/to/run_cell  STEPS=10  EVAL_LIMIT=200  OUT=/tmp/dmlft-parity
#        EXTRA_CELL_ARGS="--lr 5e-5 --head-lr 5e-3 --loss-lr 5e-3" (more make_cell.py options)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/reference"
dataset="${1:-sst2}" loss="${2:-ce+softtriple}" seed="${3:-1}"
out="${OUT:-/tmp/dmlft-parity}/${dataset}_${loss}_s${seed}"
mkdir -p "$out"
py="$("$root/scripts/pyref-env.sh")"
bin="${DMLFT_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build -q -p dmlft-train --example run_cell)
  bin="$root/target/debug/examples/run_cell"
fi
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_OFFLINE=1
# shellcheck disable=SC2086
"$py" "$here/make_cell.py" "$out/cell.json" --dataset "$dataset" --loss "$loss" --seed "$seed" \
  --dropout 0 --steps "${STEPS:-10}" --eval-limit "${EVAL_LIMIT:-200}" ${EXTRA_CELL_ARGS:-}
"$bin" "$out/cell.json" --init-check "$out/init" >"$out/init.dmlft.json"
"$py" "$here/torch_cell.py" "$out/cell.json" --init-check "$out/init" >"$out/init.torch.json"
"$bin" "$out/cell.json" >"$out/run.dmlft.json" 2>"$out/run.dmlft.log"
"$py" "$here/torch_cell.py" "$out/cell.json" --threads 1 --init-from "$out/init" >"$out/run.torch.json" 2>"$out/run.torch.log"
"$py" - "$out" <<'PY'
import json, os, sys
d = sys.argv[1]
load = lambda name: json.load(open(os.path.join(d, name)))  # noqa: E731
a, b = load("init.dmlft.json"), load("init.torch.json")
same = all(a[k] == b[k] for k in ("first_batch_texts", "first_batch_labels", "seq_len", "train_indices"))
print(f"same sample, first batch and padding: {same}")
print(f"first batch, dropout off: total {a['total']:.7f} vs {b['total']:.7f}, ce {a['ce']:.7f} vs {b['ce']:.7f}, "
      f"terms {a['dml_terms']} vs {b['dml_terms']}, "
      f"max |logit diff| {max(abs(x - y) for x, y in zip(a['logits'], b['logits'])):.2e}")
a, b = load("run.dmlft.json"), load("run.torch.json")
print(f"after {a['steps']} steps from the same weights, dropout 0: final loss {a['final_loss']:.6f} vs {b['final_loss']:.6f}")
for mode in a["metrics"]:
    print(f"  {mode}: accuracy {a['metrics'][mode]['accuracy']:.4f} vs {b['metrics'][mode]['accuracy']:.4f}")
PY
