#!/usr/bin/env python3
"""PyTorch counterpart of crates/model/examples/bench_model.rs: forward throughput (batch 64 x 64,
no grad) and one training step (forward + CE + backward + AdamW, batch 16 x 64, dropout 0.1) for
all-MiniLM-L6-v2 and a RoBERTa-base-shaped random model. Eager attention, float32.

    $(DMLFT_PYREF=/work/.pyref scripts/pyref-env.sh) scripts/bench/model_torch.py [--threads 2] [--iters 3] [--json FILE]
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
SEQ, INFER_BATCH, TRAIN_BATCH, LABELS = 64, 64, 16, 2


def model(name):
    from transformers import AutoModelForSequenceClassification, BertConfig, RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    if name == "minilm":
        path = ROOT / "models" / "all-MiniLM-L6-v2"
        if path.exists():
            return AutoModelForSequenceClassification.from_pretrained(path, num_labels=LABELS, attn_implementation="eager")
        from transformers import BertForSequenceClassification

        cfg = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536, num_labels=LABELS)
        return BertForSequenceClassification(cfg)
    cfg = RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5, num_labels=LABELS)
    cfg._attn_implementation = "eager"
    return RobertaForSequenceClassification(cfg)


def batch(rows, vocab):
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(3, vocab, (rows, SEQ), generator=g)
    return ids, torch.ones_like(ids), torch.zeros_like(ids)


def timed(fn, iters):
    fn()  # warm-up
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--model", default="all", choices=["minilm", "base", "all"])
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.iters} measured iterations after 1 warm-up")
    rows = []
    for name in ["minilm", "base"] if args.model == "all" else [args.model]:
        m = model(name)
        vocab = m.config.vocab_size
        m.eval()
        ids, mask, types = batch(INFER_BATCH, vocab)

        def infer():
            with torch.no_grad():
                m(input_ids=ids, attention_mask=mask, token_type_ids=types).logits

        infer_ms = timed(infer, args.iters)
        m.train()
        opt = torch.optim.AdamW(m.parameters(), lr=1e-5, weight_decay=0.01)
        tids, tmask, ttypes = batch(TRAIN_BATCH, vocab)
        labels = torch.arange(TRAIN_BATCH) % 2

        def step():
            opt.zero_grad()
            logits = m(input_ids=tids, attention_mask=tmask, token_type_ids=ttypes).logits
            torch.nn.functional.cross_entropy(logits, labels).backward()
            opt.step()

        train_ms = timed(step, args.iters)
        row = dict(impl=f"torch-{args.threads}t", model=name, infer_ms=infer_ms, infer_sent_per_s=INFER_BATCH / infer_ms * 1e3,
                   train_ms=train_ms, train_sent_per_s=TRAIN_BATCH / train_ms * 1e3)
        rows.append(row)
        print(f"{name:6} torch    infer b{INFER_BATCH}: {infer_ms:8.0f} ms ({row['infer_sent_per_s']:6.1f} sent/s)   "
              f"train b{TRAIN_BATCH}: {train_ms:8.0f} ms/step ({row['train_sent_per_s']:5.1f} sent/s)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
