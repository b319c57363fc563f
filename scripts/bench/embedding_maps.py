#!/usr/bin/env python3
"""t-SNE and PCA maps of the same embeddings by dmlft-eval, linfa and scikit-learn: speed and
quality, for docs/ANALYSIS.md.

Inputs are Gaussian mixtures shaped like sentence / token embeddings (dimension 384, 6 classes,
class centres at distance ~4 with per-class spread 1-2), written once per size. Every
implementation gets the same file. Quality:
  - t-SNE: trustworthiness (k = 10; sklearn.manifold.trustworthiness) and the share of points
    whose 10 nearest map neighbours mostly share their class, both on a fixed random subset of
    at most 3,000 points (the exact measures are O(n^2) in memory); sklearn's and dmlft's KL.
  - PCA: explained variance ratio of the two axes, and |correlation| of each axis with sklearn's.

  OMP_NUM_THREADS=1 python scripts/bench/embedding_maps.py --sizes 2000 10000 50000 --out /tmp/maps \
      --dmlft target/release/examples/embedding_map \
      --linfa scripts/bench/linfa-map/target/release/linfa-map

One JSON line per (size, method, implementation) on stdout, and a Markdown table at the end.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.neighbors import NearestNeighbors

DIM, CLASSES, SUBSET, K = 384, 6, 3000, 10


def mixture(n, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0 / np.sqrt(2 * DIM), (CLASSES, DIM)) * np.sqrt(DIM)
    spreads = rng.uniform(1.0, 2.0, CLASSES)
    labels = rng.integers(0, CLASSES, n)
    x = centres[labels] + rng.normal(0.0, 1.0, (n, DIM)) * spreads[labels, None] / np.sqrt(DIM) * 4
    return x.astype(np.float32), labels


def write_input(path, x):
    with open(path, "wb") as f:
        f.write(np.array(x.shape, dtype="<u8").tobytes())
        f.write(x.astype("<f4").tobytes())


def read_map(path, n):
    return np.fromfile(path, dtype="<f8").reshape(n, 2)


def map_quality(x, y, labels, subset):
    xs, ys, ls = x[subset], y[subset], labels[subset]
    trust = trustworthiness(xs, ys, n_neighbors=K)
    idx = NearestNeighbors(n_neighbors=K + 1).fit(ys).kneighbors(ys, return_distance=False)[:, 1:]
    knn = float(np.mean([np.bincount(ls[row], minlength=CLASSES).argmax() == l for row, l in zip(idx, ls)]))
    return {"trustworthiness": round(float(trust), 4), "knn_label_agreement": round(knn, 4)}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_binary(cmd, timeout):
    """Runs one implementation; its JSON line plus the CPU seconds of the process (user + sys:
    less sensitive than wall time to other work on a shared machine)."""
    started, cpu = time.time(), children_cpu()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    except subprocess.CalledProcessError as e:
        lines = [l for l in e.stderr.splitlines() if "panicked" in l or "Error" in l or "error" in l]
        return None, "failed: " + " / ".join(lines[:2] or [e.stderr.strip()[-200:]])
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    info = json.loads(line)
    info.setdefault("seconds", time.time() - started)
    info["cpu_seconds"] = children_cpu() - cpu
    return info, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 50000])
    ap.add_argument("--out", default="/tmp/dmlft-maps")
    ap.add_argument("--dmlft", required=True, help="the embedding_map example binary")
    ap.add_argument("--linfa", required=True, help="the linfa-map binary")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--exact-max", type=int, default=10000,
                    help="largest n for dmlft's exact t-SNE (4 n^2 doubles of memory)")
    ap.add_argument("--only", nargs="*", default=[], help="implementations to run (default all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []

    def emit(row):
        rows.append(row)
        print(json.dumps(row), flush=True)

    want = lambda impl: not args.only or impl in args.only
    for n in args.sizes:
        x, labels = mixture(n)
        inp = os.path.join(args.out, f"x{n}.bin")
        write_input(inp, x)
        subset = np.random.default_rng(1).permutation(n)[: min(n, SUBSET)]
        xd = x.astype(np.float64)

        # PCA
        if want("sklearn"):
            t, c = time.time(), time.process_time()
            pca = PCA(n_components=2, svd_solver="full").fit(xd)
            ref = pca.transform(xd)
            emit({"n": n, "method": "pca", "impl": "sklearn", "seconds": round(time.time() - t, 3),
                  "cpu_seconds": round(time.process_time() - c, 3),
                  "explained_variance_ratio": [round(v, 5) for v in pca.explained_variance_ratio_]})
        else:
            ref = PCA(n_components=2, svd_solver="full").fit_transform(xd)
        for impl, binary in [("dmlft-eval", args.dmlft), ("linfa", args.linfa)]:
            if not want(impl):
                continue
            outp = os.path.join(args.out, f"{impl}-pca-{n}.bin")
            info, err = run_binary([binary, "pca", inp, outp], args.timeout)
            row = {"n": n, "method": "pca", "impl": impl}
            if err:
                row["error"] = err
            else:
                y = read_map(outp, n)
                row["seconds"] = round(info["seconds"], 3)
                row["cpu_seconds"] = round(info["cpu_seconds"], 3)
                row["explained_variance_ratio"] = [round(v, 5) for v in info["explained_variance_ratio"]]
                row["abs_corr_with_sklearn"] = [round(abs(float(np.corrcoef(y[:, a], ref[:, a])[0, 1])), 6) for a in range(2)]
            emit(row)

        # t-SNE
        if want("sklearn"):
            t, c = time.time(), time.process_time()
            tsne = TSNE(n_components=2, perplexity=30.0, init="pca", random_state=0, n_jobs=1)
            y = tsne.fit_transform(xd)
            row = {"n": n, "method": "tsne", "impl": "sklearn", "seconds": round(time.time() - t, 2),
                   "cpu_seconds": round(time.process_time() - c, 2),
                   "kl_divergence": round(float(tsne.kl_divergence_), 4)}
            row.update(map_quality(xd, y, labels, subset))
            emit(row)
        tsne_runs = [("dmlft-eval", args.dmlft, "tsne"), ("dmlft-eval-bh", args.dmlft, "tsne-bh"),
                     ("linfa", args.linfa, "tsne")]
        for impl, binary, mode in tsne_runs:
            if not want(impl):
                continue
            row = {"n": n, "method": "tsne", "impl": impl}
            if impl == "dmlft-eval" and n > args.exact_max:
                row["error"] = f"not run: exact t-SNE keeps 4 n x n f64 matrices ({4 * 8 * n * n / 2**30:.0f} GiB)"
                emit(row)
                continue
            outp = os.path.join(args.out, f"{impl}-tsne-{n}.bin")
            info, err = run_binary([binary, mode, inp, outp], args.timeout)
            if err:
                row["error"] = err
            else:
                y = read_map(outp, n)
                row["seconds"] = round(info["seconds"], 2)
                row["cpu_seconds"] = round(info["cpu_seconds"], 2)
                if info.get("kl_divergence") is not None:
                    row["kl_divergence"] = round(info["kl_divergence"], 4)
                row.update(map_quality(xd, y, labels, subset))
            emit(row)

    print("\n| n | method | implementation | wall s | CPU s | quality |\n| ---: | --- | --- | ---: | ---: | --- |")
    for r in rows:
        quality = {k: v for k, v in r.items() if k not in ("n", "method", "impl", "seconds", "cpu_seconds")}
        print(f"| {r['n']} | {r['method']} | {r['impl']} | {r.get('seconds', '-')} | {r.get('cpu_seconds', '-')} | {json.dumps(quality)} |")


if __name__ == "__main__":
    sys.exit(main())
