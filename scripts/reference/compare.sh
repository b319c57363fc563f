#!/usr/bin/env bash
# dmlft vs the PyTorch reference on the same cells: seeds x {sst2, trec} x {ce, ce+softtriple},
# per-class protocol, all-MiniLM-L6-v2 (mean head pooling). Cells run one after another (never
# in parallel), each on THREADS threads (default 1): RAYON_NUM_THREADS for dmlft,
# torch.set_num_threads for PyTorch.
# Every finished cell is appended to $OUT/cells.jsonl at once; a rerun skips the cells already
# there, so an interrupted run resumes. At the end the Markdown table is printed
# (scripts/reference/aggregate.py; run it any time on a partial file).
#
# usage: DMLFT_PYREF=/work/.pyref scripts/reference/compare.sh [OUT_DIR]
# env:   DMLFT_BIN=path/to/run_cell  SEEDS="1 2 3 4 5"  DATASETS="sst2 trec"  LOSSES="ce ce+softtriple"
#        SHOTS_sst2=16 SHOTS_trec=16  STEPS=30  THREADS=1  EXTRA_CELL_ARGS="--lr 1e-4 --head-lr 1e-3"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/reference"
out="${1:-$root/scripts/reference/out}"
mkdir -p "$out/cells" "$out/logs"
jsonl="$out/cells.jsonl"
touch "$jsonl"
py="$("$root/scripts/pyref-env.sh")"
seeds="${SEEDS:-1 2 3 4 5}"
datasets="${DATASETS:-sst2 trec}"
losses="${LOSSES:-ce ce+softtriple}"
steps="${STEPS:-30}"
threads="${THREADS:-1}"

# DMLFT_BIN: an already built run_cell (e.g. a copy, so that edits to the crates made while the
# comparison runs cannot change it half-way); otherwise it is built here (dev profile).
dmlft_bin="${DMLFT_BIN:-}"
if [ -z "$dmlft_bin" ]; then
  echo "building the run_cell example (dev profile)" >&2
  (cd "$root" && cargo build -q -p dmlft-train --example run_cell)
  dmlft_bin="$root/target/debug/examples/run_cell"
fi

export RAYON_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
export TOKENIZERS_PARALLELISM=false MIMALLOC_PURGE_DELAY=-1
export TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_OFFLINE=1

for seed in $seeds; do
  for dataset in $datasets; do
    shots_var="SHOTS_$dataset"
    shots="${!shots_var:-16}"
    for loss in $losses; do
      name="${dataset}_${loss}_s${seed}"
      cell="$out/cells/$name.json"
      # shellcheck disable=SC2086
      "$py" "$here/make_cell.py" "$cell" --dataset "$dataset" --loss "$loss" --seed "$seed" \
        --shots "$shots" --steps "$steps" ${EXTRA_CELL_ARGS:-}
      for impl in dmlft torch; do
        if grep -q "\"cell\": \"$name\", \"impl\": \"$impl\"" "$jsonl"; then
          continue
        fi
        log="$out/logs/$name.$impl.log"
        started=$(date +%s.%N)
        if [ "$impl" = dmlft ]; then
          result=$("$dmlft_bin" "$cell" 2>"$log") || { echo "FAILED $name $impl (see $log)" >&2; continue; }
        else
          result=$("$py" "$here/torch_cell.py" "$cell" --threads "$threads" 2>"$log") || { echo "FAILED $name $impl (see $log)" >&2; continue; }
        fi
        wall=$(echo "$(date +%s.%N) - $started" | bc)
        load=$(cut -d' ' -f1 /proc/loadavg)
        "$py" - "$name" "$impl" "$dataset" "$loss" "$seed" "$shots" "$wall" "$load" "$result" >>"$jsonl" <<'PY'
import json, sys
name, impl, dataset, loss, seed, shots, wall, load, result = sys.argv[1:]
print(json.dumps({"cell": name, "impl": impl, "dataset": dataset, "loss": loss, "seed": int(seed),
                  "shots": int(shots), "process_wall_s": float(wall), "loadavg_1m": float(load),
                  "result": json.loads(result)}))
PY
        tail -n 1 "$log" >&2
      done
    done
  done
done
"$py" "$here/aggregate.py" "$jsonl"
