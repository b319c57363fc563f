#!/usr/bin/env bash
# CUDA benchmark (prepared for a lent GPU machine; NOT yet run: no GPU was lent so far).
#
# The GPU machine has PyTorch but no Rust toolchain, so the dmlft side is built here and carried:
#   scripts/bench/gpu.sh --build     # here: release bench_model with --features cuda -> .gpu-bench/
#   scripts/bench/gpu.sh --run       # there (device `run`, carry [".gpu-bench"]): prints the table
#
# What --run measures, each workload in its own process, one at a time: inference (batch 64) and
# one training step (batch 16, forward + CE + backward + AdamW) at sequence length 64, for an
# all-MiniLM-L6-v2-shaped and a RoBERTa-large-shaped random model; dmlft on burn's CUDA backend in
# f32 and bf16, PyTorch in f32 and with bf16 autocast (sdpa attention). Output also goes to
# $OUT/gpu-bench.txt when $OUT is set (the device tool brings it back).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
carry=".gpu-bench"

case "${1:-}" in
  --build)
    grep -qx "/$carry/" .git/info/exclude 2>/dev/null || echo "/$carry/" >>.git/info/exclude
    cargo build --release -p dmlft-model --features cuda --example bench_model
    mkdir -p "$carry"
    cp target/release/examples/bench_model "$carry/"
    ls -la "$carry"
    ;;
  --run)
    out="${OUT:-/tmp}/gpu-bench.txt"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out"
    for model in minilm large; do
      for backend in cuda cuda-bf16; do
        "$carry/bench_model" --backend "$backend" --model "$model" --mode all --iters 5 2>&1 | grep -E "infer|train" | tee -a "$out"
      done
      for amp in none bf16; do
        python3 scripts/bench/model_torch.py --device cuda --amp "$amp" --model "$model" --mode all --iters 5 2>&1 \
          | grep -E "infer|train" | sed "s/torch   /torch-$amp/" | tee -a "$out"
      done
    done
    ;;
  *)
    echo "usage: scripts/bench/gpu.sh --build | --run" >&2
    exit 2
    ;;
esac
