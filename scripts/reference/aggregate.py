#!/usr/bin/env python3
"""Markdown table of a compare.sh run: per dataset x loss x inference mode, the mean accuracy of
dmlft and of the PyTorch reference over the seeds both finished, their difference, the paired
t-test p over those seeds, and the mean wall time per cell (train / eval) of each.

usage: aggregate.py cells.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

from scipy import stats


def mean_std(xs):
    if not xs:
        return "-"
    sd = statistics.stdev(xs) if len(xs) > 1 else float("nan")
    return f"{100 * statistics.mean(xs):.1f} ± {100 * sd:.1f}"


def main():
    runs = defaultdict(dict)  # (dataset, loss) -> {(impl, seed): result}
    meta = {}
    wall = defaultdict(dict)  # (dataset, loss) -> {impl: [process wall seconds]}
    loads = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                runs[(row["dataset"], row["loss"])][(row["impl"], row["seed"])] = row["result"]
                wall[(row["dataset"], row["loss"])].setdefault(row["impl"], []).append(row["process_wall_s"])
                loads[(row["dataset"], row["loss"])].append(row["loadavg_1m"])
                meta[(row["dataset"], row["loss"])] = row["shots"]
    print("| dataset | shots/class | loss | mode | seeds | dmlft acc % | torch acc % | diff (pp) | paired t p "
          "| dmlft train / eval s | torch train / eval s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (dataset, loss), cells in sorted(runs.items()):
        seeds = sorted({s for (_, s) in cells if ("dmlft", s) in cells and ("torch", s) in cells})
        if not seeds:
            continue
        modes = sorted(cells[("dmlft", seeds[0])]["metrics"], key=lambda m: (m != "head", m))
        timing = {}
        for impl in ("dmlft", "torch"):
            tr = [cells[(impl, s)]["timings"]["train_s"] for s in seeds]
            ev = [cells[(impl, s)]["timings"]["eval_s"] for s in seeds]
            timing[impl] = f"{statistics.mean(tr):.1f} / {statistics.mean(ev):.1f}"
        for mode in modes:
            a = [cells[("dmlft", s)]["metrics"][mode]["accuracy"] for s in seeds]
            b = [cells[("torch", s)]["metrics"][mode]["accuracy"] for s in seeds]
            diff = 100 * (statistics.mean(a) - statistics.mean(b))
            p = stats.ttest_rel(a, b).pvalue if len(seeds) > 1 and a != b else float("nan")
            print(f"| {dataset} | {meta[(dataset, loss)]} | {loss} | {mode} | {len(seeds)} | {mean_std(a)} | "
                  f"{mean_std(b)} | {diff:+.1f} | {p:.2f} | {timing['dmlft']} | {timing['torch']} |")
    print()
    print("End to end, one process per cell (start, load, train, evaluate, exit), median seconds over the "
          "cells of each dataset and loss:")
    print()
    print("| dataset | loss | dmlft s | torch s | dmlft / torch | load avg (1 min) |")
    print("|---|---|---|---|---|---|")
    for (dataset, loss), walls in sorted(wall.items()):
        d, t = walls.get("dmlft", []), walls.get("torch", [])
        if d and t:
            dm, tm = statistics.median(d), statistics.median(t)
            lo, hi = min(loads[(dataset, loss)]), max(loads[(dataset, loss)])
            print(f"| {dataset} | {loss} | {dm:.1f} | {tm:.1f} | {dm / tm:.2f}x | {lo:.1f}-{hi:.1f} |")
    print()
    print("Per seed (head accuracy %, dmlft / torch):")
    for (dataset, loss), cells in sorted(runs.items()):
        seeds = sorted({s for (_, s) in cells})
        parts = []
        for s in seeds:
            d = cells.get(("dmlft", s))
            t = cells.get(("torch", s))
            fmt = lambda r: f"{100 * r['metrics']['head']['accuracy']:.1f}" if r else "-"  # noqa: E731
            parts.append(f"s{s} {fmt(d)}/{fmt(t)}")
        print(f"- {dataset} {loss}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
