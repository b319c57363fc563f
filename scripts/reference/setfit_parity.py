#!/usr/bin/env python3
"""The SetFit parity table: dmlft's SetFit cells (a results folder of
experiments/setfit-parity.toml) joined with the `setfit` package's runs
(scripts/reference/results/setfit-minilm.jsonl) by (dataset, shots, seed). Both sides train on
the same sample of each seed (checked by setfit_reference.py --check-dmlft), so the difference is
paired: per configuration the mean accuracy and its standard error on each side, the mean paired
difference (dmlft - setfit) with its 95% t interval, and n (seeds both finished). Markdown on
stdout. Only the Python standard library.

usage: setfit_parity.py RESULTS_DIR [REFERENCE_JSONL]
"""
import glob
import json
import math
import os
import statistics
import sys

# Two-sided 95% quantiles of Student's t, df 1..30.
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df):
    return T975[df - 1] if df <= len(T975) else 1.96


def dmlft_runs(results_dir):
    """(dataset, shots, seed) -> accuracy of the finished SetFit cells."""
    out = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "cells", "*.json"))):
        with open(path) as f:
            rec = json.load(f)
        cell = rec["cell"]
        if rec.get("status") != "done" or cell.get("setfit") is None:
            continue
        key = (cell["dataset_name"], cell["split"]["shots"], cell["split"]["seed"])
        out[key] = rec["result"]["metrics"]["head"]["accuracy"]
    return out


def reference_runs(path):
    """(dataset, shots, seed) -> accuracy; a repeated run of one key keeps the last line."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                out[(r["dataset"], r["shots"], r["seed"])] = r["accuracy"]
    return out


def mean_se(xs):
    m = statistics.mean(xs)
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
    return m, se


def pct(x):
    return f"{100 * x:.1f}"


def with_se(m, se):
    return f"{pct(m)} ± {pct(se)}" if not math.isnan(se) else pct(m)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    ref_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "results", "setfit-minilm.jsonl")
    ours = dmlft_runs(sys.argv[1])
    ref = reference_runs(ref_path)
    configs = sorted({(d, s) for (d, s, _) in ours} | {(d, s) for (d, s, _) in ref})
    print("| dataset | shots/class | n | dmlft acc % (± SE) | setfit acc % (± SE) "
          "| dmlft − setfit, pp | 95% CI, pp | seeds |")
    print("|---|---|---|---|---|---|---|---|")
    for dataset, shots in configs:
        seeds = sorted(s for (d, k, s) in ours if (d, k) == (dataset, shots) and (d, k, s) in ref)
        if not seeds:
            only = "dmlft" if any((d, k) == (dataset, shots) for (d, k, _) in ours) else "setfit"
            print(f"| {dataset} | {shots} | 0 | | | | | only {only} has runs |")
            continue
        a = [ours[(dataset, shots, s)] for s in seeds]
        b = [ref[(dataset, shots, s)] for s in seeds]
        diff = [x - y for x, y in zip(a, b)]
        (ma, sa), (mb, sb), (md, sd) = mean_se(a), mean_se(b), mean_se(diff)
        half = t975(len(seeds) - 1) * sd if len(seeds) > 1 else float("nan")
        ci = f"[{100 * (md - half):+.1f}, {100 * (md + half):+.1f}]" if len(seeds) > 1 else "-"
        contiguous = len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1))
        span = f"{seeds[0]}-{seeds[-1]}" if contiguous else ",".join(map(str, seeds))
        print(f"| {dataset} | {shots} | {len(seeds)} | {with_se(ma, sa)} | {with_se(mb, sb)} "
              f"| {100 * md:+.1f} | {ci} | {span} |")


if __name__ == "__main__":
    main()
