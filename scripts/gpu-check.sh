#!/usr/bin/env bash
# CUDA, verified in one command. On a machine with an NVIDIA GPU and its driver (no Rust
# toolchain, no internet beyond an optional PyPI install), it runs dmlft's accelerator tests on
# burn's CUDA backend (encoder and every gradient, every loss fixture, AdamW, a real cell, f16
# and bf16), times a training step (batch 20, as the papers' 20-example folds) and inference
# (batch 64) at length 64 for all-MiniLM-L6-v2, RoBERTa-base and RoBERTa-large shapes in f32 and
# bf16 against PyTorch on the same GPU, trains one cell of experiments/paper-2211.15195.toml's
# shape end to end on synthetic RoBERTa-large weights in f32 and bf16, and writes one Markdown
# table (OUT/gpu-check.md). Unattended, within 10 minutes: every step has a time limit and the
# whole run a deadline; what did not fit is marked in the table.
#
#   scripts/gpu-check.sh --build      here, with Rust: the release CUDA bundle (.gpu-check/)
#   scripts/gpu-check.sh              there, in a checkout with the bundle: the checks
#   scripts/gpu-check.sh --dry-run    anywhere: arguments, the bundle, the CPU parts, the plan
#
# Options: --bundle DIR (default .gpu-check), --out DIR (default $OUT, else BUNDLE/out),
#   --python PY (a Python with torch + transformers; default python3, else a venv made with pip
#   from PyPI), --no-torch (dmlft columns only), --iters N (timed iterations, default 5),
#   --deadline S (seconds for the whole run, default 540).
# The device tool: run `scripts/gpu-check.sh` with carry [".gpu-check.tar.xz"] (the bundle itself is
#   over the tool's 64 MiB; the run unpacks the archive); the table comes back in $OUT.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

mode=run
bundle=.gpu-check
out="${OUT:-}"
python="${GPU_CHECK_PYTHON:-}"
torch=1
iters=5
deadline=540
while [ $# -gt 0 ]; do
  case "$1" in
    --build) mode=build ;;
    --dry-run) mode=dry-run ;;
    --run) mode=run ;;
    --no-torch) torch=0 ;;
    --bundle | --out | --python | --iters | --deadline)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "gpu-check: $1 needs a value" >&2; usage; }
      case "$1" in
        --bundle) bundle="$2" ;;
        --out) out="$2" ;;
        --python) python="$2" ;;
        --iters | --deadline)
          [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "gpu-check: $1 must be a positive integer, not '$2'" >&2; exit 2; }
          if [ "$1" = --iters ]; then iters="$2"; else deadline="$2"; fi ;;
      esac
      shift ;;
    -h | --help) usage ;;
    *) echo "gpu-check: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
out="${out:-$bundle/out}"
bundle="$(mkdir -p "$bundle" && cd "$bundle" && pwd)"
pack="$bundle.tar.xz"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# What the bundle holds; --build makes it, the run uses it.
BINS=(dmlft bench_model cuda-tests)
MODELS=(minilm base large)
TRAIN_BATCH=20 # the papers: 20 training examples per fold, all in one batch of 64
INFER_BATCH=64
SEQ=64

# The end-to-end cell: experiments/paper-2211.15195.toml's shape (RoBERTa-large, max_length 64,
# 20 examples of a 4-fold split, batch 64, 120 steps at lr 1e-5 with 10 warmup steps, cosine,
# clipping 1.0, CE + SoftTriple on all token states), fold 0 of SST2, evaluated on 2000
# held-out sentences; weights random (RoBERTa-large itself is not available offline) and
# all-MiniLM-L6-v2's WordPiece tokenizer (RoBERTa's BPE files are not either).
write_cell_grid() { # DIR MODEL_DIR PRECISION DATA_DIR
  cat >"$1/cell-$3.toml" <<EOF
name = "gpu-check-cell-$3"
output = "$out/cell-$3"
data_root = "$4"
datasets = ["sst2"]
shots = [20]
seeds = [2048]
eval_limit = 2000
inference = ["head"]
precision = "$3"
[model]
source = "$2"
max_length = 64
head_pooling = "first"
[protocol]
kind = "kfold"
folds = 4
stratified = false
pool = "train"
[train]
epochs = 120
batch_size = 64
max_grad_norm = 1.0
eval_batch_size = 64
[train.optimizer]
lr = 1e-5
eps = 1e-8
weight_decay = 0.01
decay_bias_and_norm = true
[train.schedule]
kind = "cosine"
warmup_steps = 10
total_steps = 120
[losses.ce-softtriple]
ce_weight = 0.4
[[losses.ce-softtriple.dml]]
weight = 0.6
embeddings = "all-tokens"
loss = { kind = "soft-triple", centers_per_class = 5, la = 8.0, gamma = 0.1, margin = 0.1 }
EOF
}

plan() {
  cat <<EOF
plan (deadline ${deadline}s; each step has its own limit; output in $out):
  1. environment     nvidia-smi; $bundle/bin/dmlft env --json                       (30 s)
  2. PyTorch         ${python:-python3} with torch + transformers + CUDA, else a venv from PyPI   (180 s)
  3. parity tests    DMLFT_REQUIRE_CUDA=1 $bundle/bin/cuda-tests --test-threads 1     (240 s)
                       (f32; then half::f16_ and half::bf16_ in processes of their own, 90 s each)
  4. speed           for model in ${MODELS[*]}, precision f32 / bf16:                  (90 s each)
                       bench_model --backend cuda|cuda-bf16 --model M --mode all --iters $iters \\
                         --seq $SEQ --train-batch $TRAIN_BATCH --infer-batch $INFER_BATCH
                       model_torch.py --device cuda --amp none|bf16 (same shapes)
  5. paper cell      bench_model --model large --save DIR (synthetic RoBERTa-large), then
                       dmlft run cell-f32.toml / cell-bf16.toml --device cuda --limit 1   (240 s each)
  6. table           scripts/gpu_check_table.py $out > $out/gpu-check.md
EOF
}

# ---------------------------------------------------------------------------------------------
build() {
  command -v cargo >/dev/null || { echo "gpu-check --build needs cargo (a Rust toolchain)" >&2; exit 1; }
  local start=$SECONDS
  mkdir -p "$bundle/bin"
  cargo build --release -p dmlft --features cuda
  cargo build --release -p dmlft-model --features cuda --example bench_model
  local tests
  tests="$(cargo test --release -p dmlft-train --features cuda --test cuda --no-run --message-format=json |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "cuda" and m.get("executable"):
        print(m["executable"])')"
  [ -n "$tests" ] || { echo "gpu-check: the cuda test binary was not built" >&2; exit 1; }
  cp target/release/dmlft "$bundle/bin/dmlft"
  cp target/release/examples/bench_model "$bundle/bin/bench_model"
  cp "$tests" "$bundle/bin/cuda-tests"
  strip "$bundle"/bin/* 2>/dev/null || true
  # Data and tokenizer the tests and the cell read (small; not weights).
  local data="${DMLFT_SENTEVAL_DIR:-$root/../shared/datasets/senteval}"
  mkdir -p "$bundle/senteval/SST" "$bundle/tokenizer"
  cp -r "$data/SST/binary" "$bundle/senteval/SST/"
  scripts/fetch-model.sh >/dev/null
  cp models/all-MiniLM-L6-v2/{tokenizer.json,tokenizer_config.json,special_tokens_map.json,vocab.txt,config.json} "$bundle/tokenizer/"
  {
    echo "built $(date -u +%Y-%m-%dT%H:%MZ) from git $(git rev-parse HEAD) in $((SECONDS - start)) s"
    rustc --version
    echo "glibc needed: $(ldd --version | head -1)"
    (cd "$bundle" && du -sh bin/* senteval tokenizer)
  } | tee "$bundle/MANIFEST"
  # The bundle itself (about 200 MB) is over the device tool's 64 MiB for what travels; this
  # archive of it (about 30 MB) is what to carry. The run unpacks it when bin/ is missing.
  tar -C "$bundle" -cf - MANIFEST bin senteval tokenizer | xz -T0 -9 >"$pack.part"
  mv "$pack.part" "$pack"
  echo "archive to carry: $pack ($(du -h "$pack" | cut -f1))"
}

# Unpacks the archive that --build wrote when the bundle's binaries are not there (a GPU machine
# that was sent the archive alone). Python's tarfile: no xz binary needed there. Every member
# is checked first (plain files and folders with relative names; the fallback for Pythons without
# extraction filters would follow links and `..` out of the bundle); it is unpacked into a
# temporary folder and renamed into place with bin/ last, so that bin/dmlft (which makes later
# calls skip unpacking) exists only after a whole unpack.
unpack() {
  [ -x "$bundle/bin/dmlft" ] || [ ! -f "$pack" ] && return 0
  echo "unpacking $pack into $bundle"
  python3 - "$pack" "$bundle" <<'PY'
import os, shutil, sys, tarfile
pack, bundle = sys.argv[1], sys.argv[2]
tmp = f"{bundle}.unpack-{os.getpid()}"
shutil.rmtree(tmp, ignore_errors=True)
os.makedirs(tmp)
try:
    with tarfile.open(pack) as t:
        members = t.getmembers()
        for m in members:
            parts = m.name.split("/")
            if m.name.startswith("/") or ".." in parts or "\\" in m.name or not (m.isfile() or m.isdir()):
                sys.exit(f"gpu-check: {pack}: refused member {m.name!r}: only plain files and "
                         "folders with relative names inside the bundle; nothing was unpacked")
        if hasattr(tarfile, "data_filter"):
            t.extractall(tmp, members=members, filter="data")
        else:  # checked above: no links, devices or names outside
            t.extractall(tmp, members=members)
    for entry in sorted(os.listdir(tmp), key=lambda e: e == "bin"):
        target = os.path.join(bundle, entry)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        elif os.path.lexists(target):
            os.remove(target)
        os.rename(os.path.join(tmp, entry), target)
except (tarfile.TarError, OSError, EOFError) as e:
    sys.exit(f"gpu-check: cannot unpack {pack}: {e}; nothing was unpacked")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
}

# ---------------------------------------------------------------------------------------------
step_log() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/steps.tsv"; }

# run_step NAME LIMIT CMD...: runs CMD (output to OUT/NAME.log) within LIMIT seconds and the
# deadline; records ok / failed / skipped.
run_step() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - (SECONDS - t0)))
  if [ "$left" -lt 20 ]; then
    step_log "$name" "skipped: out of time" 0
    echo "  $name: skipped (deadline)"
    return 1
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local s=$SECONDS
  if timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1; then
    step_log "$name" ok $((SECONDS - s))
    echo "  $name: ok ($((SECONDS - s)) s)"
  else
    local rc=$?
    local why="failed (exit $rc)"
    [ $rc -eq 124 ] && why="failed: over its ${limit} s limit"
    step_log "$name" "$why; see $name.log" $((SECONDS - s))
    echo "  $name: $why; last lines:"
    tail -5 "$out/$name.log" | sed 's/^/    /'
    return 1
  fi
}

find_python() {
  local py
  for py in $python python3 "$bundle/venv/bin/python"; do
    if command -v "$py" >/dev/null &&
      "$py" -c 'import torch, transformers, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

# PyPI only: torch (its Linux wheels carry CUDA) and transformers, in a venv of the bundle.
make_venv=(bash -c 'python3 -m venv "$0/venv" && "$0/venv/bin/pip" install --quiet --disable-pip-version-check torch transformers')

run() {
  t0=$SECONDS
  : >"$out/steps.tsv"
  for b in "${BINS[@]}"; do
    [ -x "$bundle/bin/$b" ] || { echo "gpu-check: $bundle/bin/$b is missing: run scripts/gpu-check.sh --build on a machine with Rust" >&2; exit 1; }
  done
  command -v nvidia-smi >/dev/null || echo "gpu-check: warning: no nvidia-smi on PATH" >&2
  echo "gpu-check: $(head -1 "$bundle/MANIFEST" 2>/dev/null || echo 'bundle without MANIFEST')"
  plan
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>/dev/null || echo "unknown GPU" >"$out/gpu.txt"
  run_step env 30 "$bundle/bin/dmlft" env --json && cp "$out/env.log" "$out/env.json" || true
  local py=""
  if [ "$torch" = 1 ]; then
    py="$(find_python)" || { run_step torch-venv 180 "${make_venv[@]}" "$bundle" && py="$(find_python)"; } || py=""
    [ -n "$py" ] || step_log torch "skipped: no PyTorch with CUDA (PyPI unreachable?)" 0
  fi
  export DMLFT_REPO_ROOT="$root" DMLFT_SENTEVAL_DIR="$bundle/senteval" DMLFT_MODEL_DIR="$bundle/tokenizer"
  export DMLFT_REQUIRE_CUDA=1 DMLFT_REQUIRE_DATA=1 DMLFT_REQUIRE_MODEL=1
  # burn fixes a device's float type at its first use in a process: f32, f16 and bf16 each get
  # a process of their own.
  run_step tests 240 "$bundle/bin/cuda-tests" --test-threads 1 --nocapture \
    --skip half::f16_ --skip half::bf16_ || true
  run_step tests-f16 90 "$bundle/bin/cuda-tests" --test-threads 1 --nocapture half::f16_ || true
  run_step tests-bf16 90 "$bundle/bin/cuda-tests" --test-threads 1 --nocapture half::bf16_ || true
  cat "$out"/tests.log "$out"/tests-f16.log "$out"/tests-bf16.log >"$out/tests.txt" 2>/dev/null || true
  mkdir -p "$out/bench"
  local shape=(--mode all --iters "$iters" --seq "$SEQ" --train-batch "$TRAIN_BATCH" --infer-batch "$INFER_BATCH")
  for m in "${MODELS[@]}"; do
    for p in f32 bf16; do
      local backend=cuda amp=none
      [ "$p" = bf16 ] && backend=cuda-bf16 amp=bf16
      run_step "bench-$m-$p" 90 "$bundle/bin/bench_model" --backend "$backend" --model "$m" \
        "${shape[@]}" --json "$out/bench/dmlft-$m-$p.json" || true
      if [ -n "$py" ]; then
        run_step "torch-$m-$p" 90 "$py" scripts/bench/model_torch.py --device cuda --amp "$amp" --model "$m" \
          "${shape[@]}" --json "$out/bench/torch-$m-$p.json" || true
      fi
    done
  done
  local work="$out/cell-model"
  if run_step synthetic-large 120 "$bundle/bin/bench_model" --model large --save "$work"; then
    cp "$bundle"/tokenizer/{tokenizer.json,tokenizer_config.json,special_tokens_map.json,vocab.txt} "$work/"
    for p in f32 bf16; do
      write_cell_grid "$out" "$work" "$p" "$bundle/senteval"
      run_step "cell-$p" 240 "$bundle/bin/dmlft" run "$out/cell-$p.toml" --device cuda --limit 1 || true
    done
    rm -rf "$work" # 1.4 GB of random weights
  fi
  python3 scripts/gpu_check_table.py "$out" >"$out/gpu-check.md"
  echo
  cat "$out/gpu-check.md"
  echo "gpu-check: $((SECONDS - t0)) s; table in $out/gpu-check.md"
}

# ---------------------------------------------------------------------------------------------
# Everything that does not need a GPU, so that the GPU run has nothing left to discover.
dry_run() {
  echo "gpu-check --dry-run (bundle $bundle, out $out)"
  plan
  echo "bundle:"
  local b missing=0
  for b in "${BINS[@]}"; do
    if [ -x "$bundle/bin/$b" ]; then
      echo "  bin/$b: $(du -h "$bundle/bin/$b" | cut -f1)"
    else
      echo "  bin/$b: missing (scripts/gpu-check.sh --build)"
      missing=1
    fi
  done
  # A dmlft for the CPU parts: the bundle's (CUDA build), else $DMLFT_BIN, else target/.
  local dmlft=""
  for b in "$bundle/bin/dmlft" "${DMLFT_BIN:-}" target/release/dmlft target/debug/dmlft; do
    [ -n "$b" ] && [ -x "$b" ] && { dmlft="$b"; break; }
  done
  [ -n "$dmlft" ] || { echo "gpu-check: no dmlft binary for the CPU parts (cargo build -p dmlft, or set DMLFT_BIN)" >&2; exit 1; }
  echo "CPU parts with $dmlft:"
  # The cell grids expand to the paper's cell (plan-time checks need a model folder and the data).
  local data="${DMLFT_SENTEVAL_DIR:-$root/../shared/datasets/senteval}"
  [ -d "$bundle/senteval/SST" ] && data="$bundle/senteval"
  local stand_in="$out/stand-in-model"
  mkdir -p "$stand_in"
  echo '{}' >"$stand_in/config.json"
  : >"$stand_in/model.safetensors"
  for p in f32 bf16; do
    write_cell_grid "$out" "$stand_in" "$p" "$data"
    "$dmlft" plan "$out/cell-$p.toml" --device cuda --json >"$out/plan-$p.json"
    python3 - "$out/plan-$p.json" "$p" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
cells = plan["cells"]
c = cells[0]
assert len(cells) == 4, f"{len(cells)} cells (want the 4 folds of one seed)"
print(f"  cell grid ({sys.argv[2]}): {len(cells)} cells planned (folds of seed 2048; --limit 1 runs fold 0); "
      f"first: {c['dataset']} {c['loss']} shots {c['shots']} fold {c['fold']} steps {c['cost']['steps']}, batch {c['cost']['batch']}")
PY
  done
  # On a machine without the NVIDIA driver, --device cuda must be one clear error and exit 1.
  local rc=0 msg
  msg="$("$dmlft" run "$out/cell-f32.toml" --device cuda --limit 1 2>&1 >/dev/null)" || rc=$?
  echo "  dmlft run --device cuda here: exit $rc: $msg"
  if [ "$rc" -ne 1 ] || ! grep -q "not available" <<<"$msg"; then
    if ! nvidia-smi >/dev/null 2>&1; then
      echo "gpu-check: expected exit 1 and a 'not available' error for --device cuda without a GPU" >&2
      exit 1
    fi
  fi
  "$dmlft" env >"$out/env-here.txt" && sed 's/^/  env: /' "$out/env-here.txt"
  # The table, from sample inputs of the real steps' shape.
  local sample="$out/sample"
  rm -rf "$sample"
  echo "table from sample inputs:"
  python3 scripts/gpu_check_table.py --sample "$sample" | sed 's/^/  /'
  rm -rf "$stand_in" "$sample"
  [ "$missing" = 0 ] && echo "dry run ok: bundle complete" || echo "dry run ok: bundle incomplete (build it before the GPU run)"
}

case "$mode" in
  build) build ;;
  dry-run) unpack && dry_run ;;
  run) unpack && run ;;
esac
