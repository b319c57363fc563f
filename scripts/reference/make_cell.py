#!/usr/bin/env python3
"""Writes the CellSpec JSON (crates/train/src/spec.rs) of one comparison cell: per-class protocol,
all-MiniLM-L6-v2 with mean head pooling, CE or CE + SoftTriple on all tokens. Both
`run_cell` (dmlft) and `torch_cell.py` read the same file.

usage: make_cell.py OUT.json --dataset sst2 --loss ce --seed 1 [--shots 16] [--steps 30] ...
"""
import argparse
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# CE + SoftTriple as in experiments/examples/annotated.toml and crates/train/tests/suite/real_sst2.rs.
SOFTTRIPLE = {
    "weight": 0.6,
    "embeddings": "all-tokens",
    "loss": {"kind": "soft-triple", "centers_per_class": 5, "la": 8.0, "gamma": 0.1, "margin": 0.1, "tau": 0.0},
}


def cell(args):
    objective = {"ce_weight": 1.0, "label_smoothing": 0.0, "dml": []}
    inference = [{"mode": "head"}]
    if args.loss == "ce+softtriple":
        objective = {"ce_weight": 0.4, "label_smoothing": 0.0, "dml": [SOFTTRIPLE]}
        inference += [{"mode": "proxy"}, {"mode": "mix", "beta": 0.5}]
    elif args.loss != "ce":
        raise SystemExit(f"--loss {args.loss!r}: valid are ce, ce+softtriple")
    return {
        "dataset_name": args.dataset,
        "dataset": args.dataset,
        "data_root": args.data_root,
        "split": {"protocol": {"kind": "per-class", "dev_shots": 0}, "shots": args.shots, "seed": args.seed, "fold": None},
        "model": {"source": args.model, "max_length": args.max_length, "dropout": args.dropout, "precision": "f32",
                  "head_pooling": args.head_pooling},
        "loss_name": args.loss,
        "objective": objective,
        "train": {
            "optimizer": {"lr": args.lr, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01,
                          "decay_bias_and_norm": True, "head_lr": args.head_lr, "loss_lr": args.loss_lr},
            "schedule": {"kind": "cosine", "warmup_steps": args.warmup, "total_steps": None},
            "epochs": 1,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "grad_accum": 1,
            "max_grad_norm": 1.0,
            "eval_batch_size": 64,
        },
        "inference": inference,
        "eval_limit": args.eval_limit,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--dataset", required=True, choices=["sst2", "sst5", "trec"])
    p.add_argument("--loss", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--shots", type=int, default=16)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument("--loss-lr", type=float, default=None, help="lr of the SoftTriple centers (default: --lr)")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--head-pooling", default="mean", choices=["first", "mean"])
    p.add_argument("--eval-limit", type=int, default=500)
    p.add_argument("--dropout", type=float, default=None, help="override the checkpoint's dropout (0 = off)")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    p.add_argument("--data-root", default=os.environ.get("DMLFT_SENTEVAL_DIR", "/work/shared/datasets/senteval"))
    args = p.parse_args()
    with open(args.out, "w") as f:
        json.dump(cell(args), f, indent=1)


if __name__ == "__main__":
    main()
