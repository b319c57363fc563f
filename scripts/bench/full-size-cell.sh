#!/usr/bin/env bash
# One full-size cell of experiments/paper-2211.15195.toml on the CPU, with random weights of
# RoBERTa-large's shape (24 layers, 1024 hidden, 355M parameters): 20 training examples, 120
# steps, the whole held-out fold evaluated. Opt-in (not in CI): it takes tens of minutes and ~1.5 GB
# of disk. Prints the cell's timings and /usr/bin/time -v's wall time and peak RSS.
#
#   scripts/bench/full-size-cell.sh [WORK_DIR]        (env: DATASET=mr LOSS=ce-softtriple NICE=10)
#
# The tokenizer is all-MiniLM-L6-v2's (scripts/fetch-model.sh; RoBERTa's BPE files are not
# obtainable offline): WordPiece token counts are close to byte-level BPE's for English, and the
# embedding table keeps roberta-large's 50,265 rows. Needs SentEval ($DMLFT_DATA_DIR) and the
# authors' two files (docs/AUTHORS-SAMPLES.md). VERBOSE=1 logs every optimizer step (`-v`) into
# WORK/run.log; WORK/proc.txt samples the run's CPU time and memory every 5 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-$(mktemp -d)}
DATASET=${DATASET:-mr}
LOSS=${LOSS:-ce-softtriple}
NICE=${NICE:-10}
GRID=experiments/paper-2211.15195.toml
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

cargo build -q -p dmlft
cargo build -q -p dmlft-model --example synthetic_checkpoint
if [ ! -f "$WORK/model/model.safetensors" ]; then
  target/debug/examples/synthetic_checkpoint roberta-large models/all-MiniLM-L6-v2 "$WORK/model"
fi

# The paper grid with the synthetic model, one dataset and one loss; everything else as written.
{
awk -v keep="$LOSS" -v model="$WORK/model" -v ds="$DATASET" -v out="$WORK/results" '
  /^\[/ {
    skipping = 0
    if (match($0, /^\[+losses\.[a-z0-9-]+/)) {
      name = substr($0, RSTART, RLENGTH); sub(/^\[+losses\./, "", name)
      if (name != keep) skipping = 1
    }
  }
  skipping { next }
  /^name = / { print "name = \"full-size-cell\""; print "output = \"" out "\""; next }
  /^datasets = / { print "datasets = [\"" ds "\"]"; next }
  /^source = / { print "source = \"" model "\""; next }
  { print }
' "$GRID"
} > "$WORK/grid.toml"

verbose=()
if [ "${VERBOSE:-0}" = 1 ]; then verbose=(-v); fi
target/debug/dmlft plan "$WORK/grid.toml"
/usr/bin/time -v -o "$WORK/time.txt" nice -n "$NICE" \
  target/debug/dmlft run "$WORK/grid.toml" --limit 1 "${verbose[@]}" 2> >(tee "$WORK/run.log" >&2) &
timer=$!
sleep 2
# Every 5 s: unix time, CPU seconds (user + system), RSS and peak RSS in MiB, into proc.txt: CPU
# time per training step (against run.log's step times) is what a loaded machine cannot distort.
# time's children: tee (the log) and dmlft (nice execs it)
run_pid=$(ps -o pid=,comm= --ppid "$timer" | awk '$2 != "tee" { print $1 }')
tick=$(getconf CLK_TCK)
while [ -n "$run_pid" ] && [ -r "/proc/$run_pid/stat" ]; do
  read -r -a st < "/proc/$run_pid/stat" || break
  awk -v t="$(date +%s.%N)" -v cpu="$(( st[13] + st[14] ))" -v tick="$tick" \
    '/^VmRSS/ { rss = $2 } /^VmHWM/ { hwm = $2 } END { printf "%s %.2f %.0f %.0f\n", t, cpu / tick, rss / 1024, hwm / 1024 }' \
    "/proc/$run_pid/status" >> "$WORK/proc.txt" 2>/dev/null || break
  sleep 5
done
wait "$timer"
grep -E 'Elapsed|Maximum resident' "$WORK/time.txt"
find "$WORK/results" -name "*.json" -newer "$WORK/grid.toml" -exec cat {} + | head -c 6000
