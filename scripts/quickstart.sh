#!/usr/bin/env bash
# The main job: a small real experiment on CPU with the defaults.
#   scripts/quickstart.sh [--from SENTEVAL_DIR]
# 1. fetches all-MiniLM-L6-v2 into models/ (once; sha256-checked);
# 2. finds SentEval: $DMLFT_DATA_DIR, else datasets/senteval, else copies it from --from DIR, else
#    downloads it from the original sources; with no data and no network it says so and runs on the
#    shipped demo set (datasets/demo, MR layout) instead;
# 3. runs experiments/quickstart.toml (12 cells, about 10 minutes on 2 cores), prints the report and
#    says where its HTML page is (results/<name>/report/report.html).
# Finished cells are kept: running it again after an interruption continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="${2:?--from needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

scripts/fetch-model.sh

grid=experiments/quickstart.toml
data="${DMLFT_DATA_DIR:-}"
if [ -z "$data" ]; then
  data=datasets/senteval
  if [ ! -d "$data/SUBJ" ] || [ ! -d "$data/CR" ]; then
    if [ -n "$from" ]; then
      scripts/fetch-senteval.sh --from "$from" "$data"
    elif ! scripts/fetch-senteval.sh "$data"; then
      echo "No SentEval data under $data and it could not be downloaded (offline?)." >&2
      echo "Running the quickstart on the shipped demo data instead (datasets/demo, MR layout)." >&2
      echo "Use --from DIR with a local SentEval copy for the real tasks." >&2
      data=datasets/demo
      grid=experiments/quickstart-demo.toml
    fi
  fi
fi

cargo build -p dmlft
bin=target/debug/dmlft
"$bin" plan "$grid" --data-dir "$data"
"$bin" run "$grid" --data-dir "$data"
name="$(sed -n 's/^name = "\(.*\)"/\1/p' "$grid" | head -n 1)"
"$bin" report "results/$name" --plots --html
echo
echo "HTML report (tables, figures, training curves; opens offline in any browser):"
echo "  $(pwd)/results/$name/report/report.html"
