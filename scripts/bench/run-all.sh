#!/usr/bin/env bash
# dmlft (burn Flex) against PyTorch on the same CPU: inference b64 x SEQ and one training step
# b16 x SEQ (forward + CE + backward + AdamW), MiniLM and RoBERTa-base shapes, fp32, one table of
# ratios (dmlft / PyTorch: below 1 means dmlft is faster or smaller).
#
#   scripts/bench/run-all.sh [--threads N] [--iters N] [--seq N] [--models "minilm base"]
#                            [--torch-attn sdpa|eager]
#
# PyTorch runs transformers' default attention (`sdpa`) unless --torch-attn eager.
#
# Every workload runs in its own process, one at a time (never two at once: 2-thread PyTorch
# collapses when another process holds a core), under /usr/bin/time -v for the peak RSS.
# Both sides get the same thread count (RAYON_NUM_THREADS / torch.set_num_threads).
#
# The dmlft training step is forward + backward from examples/bench_model (dmlft-model) plus
# the trainer's fused AdamW step timed by dmlft-train's `adamw_step_timing` test on the same
# parameter count (dmlft-model cannot depend on dmlft-train). Its peak RSS is that of the
# bench_model run with burn's AdamW, which holds the same two moment buffers.
#
# Besides wall time the table gives CPU time (process, all threads). On a shared machine wall
# time follows the load; CPU time mostly does not. Check `uptime` (printed) before trusting wall.
#
# Environment: DMLFT_PYREF (python with torch, see scripts/pyref-env.sh). mimalloc is the bench's
# allocator; MIMALLOC_PURGE_DELAY=-1 keeps freed pages mapped (see docs/SPEED.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

threads=2
iters=3
seq=64
models="minilm base"
torch_attn=sdpa
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --iters) iters="$2"; shift 2 ;;
        --seq) seq="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --torch-attn) torch_attn="$2"; shift 2 ;;
        *) echo "run-all.sh: unknown argument $1 (valid: --threads N --iters N --seq N --models LIST --torch-attn sdpa|eager)" >&2; exit 2 ;;
    esac
done

case "$torch_attn" in
    sdpa|eager) ;;
    *) echo "run-all.sh: --torch-attn $torch_attn: valid values are sdpa, eager" >&2; exit 2 ;;
esac

out="$(mktemp -d)"
python="$(scripts/pyref-env.sh)"
export RAYON_NUM_THREADS="$threads" MIMALLOC_PURGE_DELAY=-1

echo "== build" >&2
cargo build -q -p dmlft-model --example bench_model
bench="$root/target/debug/examples/bench_model"

# Runs "$@" under /usr/bin/time -v; the peak RSS (KiB) goes to $out/$1.rss.
timed() {
    local tag="$1"; shift
    /usr/bin/time -v -o "$out/$tag.time" "$@" >"$out/$tag.log" 2>&1 || { cat "$out/$tag.log" >&2; exit 1; }
    grep -v -i warn "$out/$tag.log" | grep -E "infer|train|adamw" >&2 || true
    awk -F': ' '/Maximum resident set size/ {print $2}' "$out/$tag.time" >"$out/$tag.rss"
}

for model in $models; do
    echo "== $model ($(uptime | sed 's/.*load/load/'))" >&2
    timed "$model-dmlft-infer" "$bench" --backend flex --model "$model" --mode infer --seq "$seq" --iters "$iters" --json "$out/$model-dmlft-infer.json"
    timed "$model-dmlft-train" "$bench" --backend flex --model "$model" --mode train --seq "$seq" --iters "$iters" --optim burn --json "$out/$model-dmlft-train.json"
    params="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["params"])' "$out/$model-dmlft-train.json")"
    DMLFT_BENCH_ADAMW_PARAMS="$params" cargo test -q -p dmlft-train --lib adamw_step_timing -- --ignored --nocapture \
        >"$out/$model-adamw.log" 2>&1 || { cat "$out/$model-adamw.log" >&2; exit 1; }
    grep adamw_step_timing "$out/$model-adamw.log" >&2
    timed "$model-torch-infer" "$python" scripts/bench/model_torch.py --threads "$threads" --attn "$torch_attn" --model "$model" --mode infer --seq "$seq" --iters "$iters" --json "$out/$model-torch-infer.json"
    timed "$model-torch-train" "$python" scripts/bench/model_torch.py --threads "$threads" --attn "$torch_attn" --model "$model" --mode train --seq "$seq" --iters "$iters" --json "$out/$model-torch-train.json"
done
echo "== done ($(uptime | sed 's/.*load/load/'))" >&2

python3 - "$out" "$threads" "$seq" "$torch_attn" $models <<'PY'
import json, re, sys
out, threads, seq, attn, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
load = lambda tag: json.load(open(f"{out}/{tag}.json"))[0]
rss = lambda tag: int(open(f"{out}/{tag}.rss").read().strip()) / 1024
def adamw(model):
    text = open(f"{out}/{model}-adamw.log").read()
    return float(re.search(r"fused=true median_ms=([0-9.]+)", text).group(1))
print(f"threads {threads}, seq {seq}, torch attention {attn}; ratio = dmlft / torch (lower is better for dmlft)")
print(f"{'model':7}{'workload':16}{'torch ms':>10}{'dmlft ms':>10}{'ratio':>7}{'torch cpu':>11}{'dmlft cpu':>11}{'ratio':>7}{'torch MiB':>11}{'dmlft MiB':>11}{'ratio':>7}")
for m in models:
    ti, di = load(f"{m}-torch-infer"), load(f"{m}-dmlft-infer")
    tt, dt = load(f"{m}-torch-train"), load(f"{m}-dmlft-train")
    opt = adamw(m)
    # The fused update runs on RAYON_NUM_THREADS threads and is memory-bound; its CPU time is
    # taken as its wall time times the threads it used (an upper bound).
    n = int(threads)
    d_train = dt["forward_ms"] + dt["backward_ms"] + opt
    d_train_cpu = dt["forward_cpu_ms"] + dt["backward_cpu_ms"] + opt * n
    rows = [
        ("infer b64", ti["infer_ms"], di["infer_ms"], ti["infer_cpu_ms"], di["infer_cpu_ms"], rss(f"{m}-torch-infer"), rss(f"{m}-dmlft-infer")),
        ("train b16", tt["train_ms"], d_train, tt["train_cpu_ms"], d_train_cpu, rss(f"{m}-torch-train"), rss(f"{m}-dmlft-train")),
    ]
    for name, t, d, tc, dc, tr, dr in rows:
        print(f"{m:7}{name:16}{t:10.0f}{d:10.0f}{d/t:7.2f}{tc:11.0f}{dc:11.0f}{dc/tc:7.2f}{tr:11.0f}{dr:11.0f}{dr/tr:7.2f}")
    print(f"{'':7}{'  dmlft train':16} forward {dt['forward_ms']:.0f} + backward {dt['backward_ms']:.0f} + fused AdamW {opt:.0f} ms "
          f"(burn AdamW was {dt['optim_ms']:.0f} ms)")
PY
