#!/usr/bin/env python3
"""PyTorch counterpart of crates/model/examples/bench_model.rs: forward throughput (batch 64 x 64,
no grad) and one training step (forward + CE + backward + AdamW, batch 16 x 64, dropout 0.1) for
all-MiniLM-L6-v2 and RoBERTa-base / RoBERTa-large-shaped random models, float32 (or bf16
autocast on CUDA).

    $(DMLFT_PYREF=/work/.pyref scripts/pyref-env.sh) scripts/bench/model_torch.py [--threads 2] [--iters 3]
        [--model minilm|base|large|all] [--mode infer|train|all] [--seq 64] [--json FILE]
        [--attn sdpa|eager] [--device cpu|cuda] [--amp none|bf16] [--infer-batch 64] [--train-batch 16]

--attn picks transformers' attention implementation: `sdpa` (its default,
torch.nn.functional.scaled_dot_product_attention) or `eager` (explicit matmul + softmax).

Besides wall time it reports the process CPU time per iteration (all threads), which competing
jobs on a shared machine disturb much less than wall time.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
INFER_BATCH, TRAIN_BATCH, LABELS = 64, 16, 2
SEQ = 64


def model(name, attn):
    from transformers import AutoModelForSequenceClassification, BertConfig, RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    if name == "minilm":
        path = ROOT / "models" / "all-MiniLM-L6-v2"
        if path.exists():
            return AutoModelForSequenceClassification.from_pretrained(path, num_labels=LABELS, attn_implementation=attn)
        from transformers import BertForSequenceClassification

        cfg = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536, num_labels=LABELS)
        cfg._attn_implementation = attn
        return BertForSequenceClassification(cfg)
    shape = {} if name == "base" else dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
    cfg = RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, num_labels=LABELS, **shape)
    cfg._attn_implementation = attn
    return RobertaForSequenceClassification(cfg)


def batch(rows, vocab, device):
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(3, vocab, (rows, SEQ), generator=g)
    # Padding as in bench_model.rs: row i keeps SEQ - (7 i mod SEQ/2) tokens.
    keep = SEQ - (7 * torch.arange(rows)) % max(SEQ // 2, 1)
    mask = (torch.arange(SEQ)[None, :] < keep[:, None]).long()
    return ids.to(device), mask.to(device), torch.zeros_like(ids).to(device)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, iters, device):
    """Median wall ms and mean CPU ms (process, all threads) per call, after one warm-up."""
    fn()  # warm-up
    sync(device)
    times = []
    cpu_start = time.process_time()
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), (time.process_time() - cpu_start) * 1e3 / iters


def main():
    global SEQ, INFER_BATCH, TRAIN_BATCH
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--model", default="all", choices=["minilm", "base", "large", "all"])
    parser.add_argument("--mode", default="all", choices=["infer", "train", "all"])
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--json")
    parser.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--amp", default="none", choices=["none", "bf16"])
    parser.add_argument("--infer-batch", type=int, default=INFER_BATCH)
    parser.add_argument("--train-batch", type=int, default=TRAIN_BATCH)
    args = parser.parse_args()
    device = args.device
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=args.amp == "bf16")
    SEQ = args.seq
    INFER_BATCH, TRAIN_BATCH = args.infer_batch, args.train_batch
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.iters} measured iterations after 1 warm-up, "
          f"attention {args.attn}, {device}, amp {args.amp}")
    rows = []
    for name in ["minilm", "base"] if args.model == "all" else [args.model]:
        m = model(name, args.attn).to(device)
        vocab = m.config.vocab_size
        row = dict(impl=f"torch-{args.threads}t-{args.attn}", model=name, seq=SEQ, device=device, amp=args.amp,
                   infer_batch=INFER_BATCH, train_batch=TRAIN_BATCH)
        if args.mode in ("infer", "all"):
            m.eval()
            ids, mask, types = batch(INFER_BATCH, vocab, device)

            def infer():
                with torch.no_grad(), autocast:
                    m(input_ids=ids, attention_mask=mask, token_type_ids=types).logits

            infer_ms, infer_cpu = timed(infer, args.iters, device)
            row.update(infer_ms=infer_ms, infer_cpu_ms=infer_cpu, infer_sent_per_s=INFER_BATCH / infer_ms * 1e3)
            print(f"{name:6} torch    infer b{INFER_BATCH}x{SEQ}: {infer_ms:8.0f} ms ({row['infer_sent_per_s']:6.1f} sent/s), cpu {infer_cpu:.0f} ms")
        if args.mode in ("train", "all"):
            m.train()
            opt = torch.optim.AdamW(m.parameters(), lr=1e-5, weight_decay=0.01)
            tids, tmask, ttypes = batch(TRAIN_BATCH, vocab, device)
            labels = (torch.arange(TRAIN_BATCH) % 2).to(device)

            def step():
                opt.zero_grad()
                with autocast:
                    logits = m(input_ids=tids, attention_mask=tmask, token_type_ids=ttypes).logits
                    loss = torch.nn.functional.cross_entropy(logits.float(), labels)
                loss.backward()
                opt.step()

            train_ms, train_cpu = timed(step, args.iters, device)
            row.update(train_ms=train_ms, train_cpu_ms=train_cpu, train_sent_per_s=TRAIN_BATCH / train_ms * 1e3)
            print(f"{name:6} torch    train b{TRAIN_BATCH}x{SEQ}: {train_ms:8.0f} ms/step ({row['train_sent_per_s']:5.1f} sent/s), cpu {train_cpu:.0f} ms/step")
        rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
