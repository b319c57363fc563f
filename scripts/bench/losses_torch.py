#!/usr/bin/env python3
"""PyTorch + pytorch-metric-learning side of crates/losses/examples/bench_losses.rs: forward +
backward of 0.4 * CE + 0.6 * DML on 64 x 64 token rows of dimension 1024, 6 classes.
Run alone (other processes on the 2 cores distort PyTorch's timings badly):
    DMLFT_PYREF=/work/.pyref "$(scripts/pyref-env.sh)" scripts/bench/losses_torch.py [ITERATIONS] [THREADS]
"""
import sys
import time

import torch
from pytorch_metric_learning import losses

SENTENCES, TOKENS, DIM, CLASSES = 64, 64, 1024, 6


def bench(name, dml, iterations):
    torch.manual_seed(0)
    states = torch.rand(SENTENCES, TOKENS, DIM) * 2 - 1
    logits = torch.rand(SENTENCES, CLASSES) * 2 - 1
    labels = torch.arange(SENTENCES) % CLASSES
    token_labels = labels.repeat_interleave(TOKENS)
    times = []
    for i in range(iterations + 1):
        s = states.clone().requires_grad_()
        lg = logits.clone().requires_grad_()
        start = time.perf_counter()
        total = 0.4 * torch.nn.functional.cross_entropy(lg, labels) + 0.6 * dml(s.reshape(-1, DIM), token_labels)
        total.backward()
        elapsed = (time.perf_counter() - start) * 1e3
        if i > 0:
            times.append(elapsed)
    times.sort()
    print(f"torch    {name:14} median {times[len(times) // 2]:8.1f} ms  min {times[0]:8.1f} ms  ({iterations} runs)")


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, {threads} threads")
    bench("ce+soft-triple", losses.SoftTripleLoss(CLASSES, DIM, centers_per_class=5, la=8, gamma=0.1, margin=0.1), iterations)
    bench("ce+proxy-anchor", losses.ProxyAnchorLoss(CLASSES, DIM, margin=0.1, alpha=32), iterations)


if __name__ == "__main__":
    main()
