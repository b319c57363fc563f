#!/usr/bin/env bash
# How close `dmlft plan`'s estimate is to the time `dmlft run` takes: one MiniLM cell (the real
# all-MiniLM-L6-v2 in models/, SentEval's MR, 8 shots per class, 60 steps of batch 16, 1000
# evaluated), planned with a fresh calibration of this machine (`plan --calibrate`, cached in a
# temporary folder, so the user's cache is left alone), then run. Prints estimate, measured and
# their ratio for training, evaluation and the whole cell. Not a test: it takes a few minutes and
# its numbers follow the machine's load (printed: check `uptime` before trusting them).
#
#   scripts/bench/plan-accuracy.sh [WORK_DIR]      (env: DMLFT_DATA_DIR, default
#                                                   /work/shared/datasets/senteval; THREADS;
#                                                   DMLFT_BIN: a built dmlft instead of cargo build)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
data=${DMLFT_DATA_DIR:-/work/shared/datasets/senteval}
model="$root/models/all-MiniLM-L6-v2"
[ -f "$model/model.safetensors" ] || { echo "plan-accuracy.sh: no model at $model (scripts/fetch-model.sh)" >&2; exit 1; }
[ -d "$data/MR" ] || { echo "plan-accuracy.sh: no SentEval MR under $data (set DMLFT_DATA_DIR)" >&2; exit 1; }
export RAYON_NUM_THREADS=${THREADS:-$(nproc)} DMLFT_CACHE_DIR="$WORK/cache" DMLFT_NO_PROGRESS=1
unset DMLFT_CALIBRATION_PROBE

if [ -n "${DMLFT_BIN:-}" ]; then
  dmlft="$DMLFT_BIN"
else
  cargo build -q -p dmlft
  dmlft="$root/target/debug/dmlft"
fi

cat > "$WORK/grid.toml" <<EOF
name = "plan-accuracy"
output = "$WORK/results"
data_root = "$data"
datasets = ["mr"]
shots = [8]
seeds = [1]
eval_limit = 1000

[model]
source = "$model"
max_length = 64
head_pooling = "mean"

[protocol]
kind = "per-class"

[train]
steps = 60
batch_size = 16
eval_batch_size = 64

[losses.ce]
EOF

echo "== $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $RAYON_NUM_THREADS threads; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$dmlft" plan "$WORK/grid.toml" --calibrate --json > "$WORK/plan.json"
"$dmlft" plan "$WORK/grid.toml" | grep -E '^pending on|^warning' || true
"$dmlft" run "$WORK/grid.toml" 2> "$WORK/run.log"
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK/plan.json" "$WORK"/results/cells/*.json <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
record = json.load(open(sys.argv[2]))
speed = plan["estimates"][0]["speed"]
cost = plan["cells"][0]["cost"]
t = record["result"]["timings"]
est = {
    "train": cost["train_flops"] / speed["train_flops_per_s"],
    "eval": cost["eval_flops"] / speed["eval_flops_per_s"],
}
est["cell"] = speed["per_cell_s"] + est["train"] + est["eval"]
measured = {"train": t["train_s"], "eval": t["eval_s"], "cell": t["total_s"]}
print(f"speed: {speed['source']}: {speed['note']}")
print(f"rates: training {speed['train_flops_per_s'] / 1e9:.1f} GFLOP/s, evaluation {speed['eval_flops_per_s'] / 1e9:.1f} GFLOP/s")
print(f"{'phase':<6} {'estimate_s':>10} {'measured_s':>10} {'ratio':>6}")
for k in ("train", "eval", "cell"):
    print(f"{k:<6} {est[k]:>10.1f} {measured[k]:>10.1f} {est[k] / measured[k]:>6.2f}")
padding = "to each batch's longest example" if cost["padded"] else f"to max_length ({cost['tokens']})"
print(f"(the measured cell includes loading: {t['load_s']:.1f} s; the estimate counts batches padded {padding})")
PY
