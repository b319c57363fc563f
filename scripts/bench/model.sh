#!/usr/bin/env bash
# Runs the burn (Flex, NdArray) and PyTorch model benchmarks one after the other (never
# concurrently: 2-thread PyTorch collapses when another process holds a core) and prints ratios.
# Usage: scripts/bench/model.sh [ITERS]     (check `uptime` first; the machine is shared)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
iters="${1:-3}"
out="$(mktemp -d)"
uptime
cargo run -q -p dmlft-model --example bench_model -- --iters "$iters" --json "$out/burn.json"
uptime
"$(scripts/pyref-env.sh)" scripts/bench/model_torch.py --threads 2 --iters "$iters" --json "$out/torch.json"
uptime
python3 - "$out/burn.json" "$out/torch.json" <<'PY'
import json, sys
burn, torch = (json.load(open(p)) for p in sys.argv[1:])
ref = {r["model"]: r for r in torch}
print(f"{'model':7}{'impl':9}{'infer ms':>10}{'x torch':>9}{'train ms':>10}{'x torch':>9}")
for r in torch + burn:
    t = ref[r["model"]]
    print(f"{r['model']:7}{r['impl']:9}{r['infer_ms']:10.0f}{r['infer_ms']/t['infer_ms']:9.2f}{r['train_ms']:10.0f}{r['train_ms']/t['train_ms']:9.2f}")
PY
