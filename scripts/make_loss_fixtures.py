#!/usr/bin/env python3
"""Writes the parity fixtures of dmlft-losses: crates/losses/tests/fixtures/*.json.

Each fixture holds random embeddings (f32), labels, the loss's initial parameters (drawn by
pytorch-metric-learning's own initialiser), the reference loss value and the gradients with
respect to the embeddings and the parameters, computed in float64 by
pytorch-metric-learning (PML) 2.x, sentence-transformers (BatchAllTripletLoss) or torch
(cross-entropy). Where PML 1.6.2 (the version the papers used) differs — only ArcFace among the
losses built here — a second fixture is made with 1.6.2 when `--pml162 DIR` points at a
`pip install --target DIR pytorch-metric-learning==1.6.2`.

Run: DMLFT_PYREF=/work/.pyref "$(scripts/pyref-env.sh)" scripts/make_loss_fixtures.py [--pml162 DIR]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import zlib

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "losses", "tests", "fixtures")


# ---------------------------------------------------------------- data sets
def unit_pm_half(rng, n, d):
    """Rows with entries +-0.5 (d = 4): unit norm exactly, so normalisation and dot products are
    exact in f32 and duplicated rows have distance exactly 0 in every implementation."""
    assert d == 4
    return rng.choice([-0.5, 0.5], size=(n, d))


def datasets():
    """name -> (embeddings f32 [N, D], labels [N], num_classes)."""
    rng = np.random.default_rng(20221128)
    out = {}
    out["basic"] = (rng.standard_normal((12, 8)), np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 1]), 3)
    # Class 3 of 4 is absent from the batch.
    out["absent-class"] = (rng.standard_normal((10, 8)), np.array([0, 1, 2, 1, 0, 2, 2, 1, 0, 0]), 4)
    # Class 2 has a single example.
    out["singleton-class"] = (rng.standard_normal((9, 6)), np.array([0, 0, 1, 1, 0, 1, 2, 0, 1]), 3)
    # Rows 0/1 (same label) and 2/3 (different labels) are identical.
    e = unit_pm_half(rng, 10, 4)
    e[1] = e[0]
    e[3] = e[2]
    out["duplicates"] = (e, np.array([0, 0, 1, 0, 1, 1, 0, 2, 2, 1]), 3)
    out["one-class"] = (rng.standard_normal((7, 5)), np.array([1] * 7), 3)
    # Large-magnitude embeddings (matter for unnormalised distances and logits).
    out["large"] = (rng.standard_normal((10, 6)) * 1000.0, np.array([0, 1, 0, 1, 2, 2, 0, 1, 2, 0]), 3)
    # More than 25 rows: torch.cdist switches to its matrix-product path.
    out["bigger"] = (rng.standard_normal((28, 8)), rng.integers(0, 5, size=28), 5)
    return {k: (v[0].astype(np.float32), v[1].astype(np.int64), v[2]) for k, v in out.items()}


# ---------------------------------------------------------------- losses
def loss_configs(pml):
    """name -> (spec dict as in dmlft's DmlLossSpec JSON, builder(num_classes, dim) -> (loss, miner, params))."""
    L, M, D = pml.losses, pml.miners, pml.distances
    R = pml.regularizers

    def proxy(make, attr):
        def build(c, d):
            loss = make(c, d).double()
            return loss, None, {attr: getattr(loss, attr)}
        return build

    def plain(make, miner=None):
        def build(c, d):
            return make(), (miner() if miner else None), {}
        return build

    cfg = {}
    cfg["soft-triple"] = (
        {"kind": "soft-triple", "centers_per_class": 5, "la": 8.0, "gamma": 0.1, "margin": 0.1},
        proxy(lambda c, d: L.SoftTripleLoss(c, d, centers_per_class=5, la=8, gamma=0.1, margin=0.1), "fc"),
    )
    cfg["soft-triple-pml-defaults"] = (
        {"kind": "soft-triple", "centers_per_class": 10, "la": 20.0, "gamma": 0.1, "margin": 0.01},
        proxy(lambda c, d: L.SoftTripleLoss(c, d), "fc"),
    )
    cfg["soft-triple-tau"] = (
        {"kind": "soft-triple", "centers_per_class": 3, "la": 8.0, "gamma": 0.1, "margin": 0.1, "tau": 0.2},
        proxy(
            lambda c, d: L.SoftTripleLoss(
                c, d, centers_per_class=3, la=8, gamma=0.1, margin=0.1,
                weight_regularizer=R.SparseCentersRegularizer(c, 3), weight_reg_weight=0.2,
            ),
            "fc",
        ),
    )
    cfg["soft-triple-one-center"] = (
        {"kind": "soft-triple", "centers_per_class": 1, "la": 8.0, "gamma": 0.1, "margin": 0.1},
        proxy(lambda c, d: L.SoftTripleLoss(c, d, centers_per_class=1, la=8, gamma=0.1, margin=0.1), "fc"),
    )
    cfg["proxy-anchor"] = ({"kind": "proxy-anchor", "alpha": 32.0, "margin": 0.1}, proxy(lambda c, d: L.ProxyAnchorLoss(c, d), "proxies"))
    cfg["proxy-nca"] = ({"kind": "proxy-nca", "softmax_scale": 1.0}, proxy(lambda c, d: L.ProxyNCALoss(c, d), "proxies"))
    cfg["proxy-nca-scale"] = ({"kind": "proxy-nca", "softmax_scale": 8.0}, proxy(lambda c, d: L.ProxyNCALoss(c, d, softmax_scale=8), "proxies"))
    cfg["normalized-softmax"] = (
        {"kind": "normalized-softmax", "temperature": 0.05},
        proxy(lambda c, d: L.NormalizedSoftmaxLoss(c, d), "W"),
    )
    cfg["arc-face"] = ({"kind": "arc-face", "margin": 28.6, "scale": 64.0}, proxy(lambda c, d: L.ArcFaceLoss(c, d), "W"))
    cfg["arc-face-wide-margin"] = (
        {"kind": "arc-face", "margin": 100.0, "scale": 16.0},
        proxy(lambda c, d: L.ArcFaceLoss(c, d, margin=100.0, scale=16.0), "W"),
    )
    cfg["cos-face"] = ({"kind": "cos-face", "margin": 0.35, "scale": 64.0}, proxy(lambda c, d: L.CosFaceLoss(c, d), "W"))
    cfg["sup-con"] = ({"kind": "sup-con", "temperature": 0.1}, plain(lambda: L.SupConLoss(temperature=0.1)))
    cfg["nt-xent"] = ({"kind": "nt-xent", "temperature": 0.07}, plain(lambda: L.NTXentLoss()))
    cfg["n-pairs"] = ({"kind": "n-pairs"}, plain(lambda: L.NPairsLoss()))
    cfg["triplet-margin"] = ({"kind": "triplet-margin", "margin": 0.05}, plain(lambda: L.TripletMarginLoss()))
    cfg["triplet-margin-smooth-cosine"] = (
        {"kind": "triplet-margin", "margin": 0.2, "smooth_loss": True, "distance": {"kind": "cosine"}},
        plain(lambda: L.TripletMarginLoss(margin=0.2, smooth_loss=True, distance=D.CosineSimilarity())),
    )
    cfg["triplet-margin-squared-unnormalized"] = (
        {"kind": "triplet-margin", "margin": 0.5, "distance": {"kind": "euclidean", "squared": True, "normalize": False}},
        plain(lambda: L.TripletMarginLoss(margin=0.5, distance=D.LpDistance(power=2, normalize_embeddings=False))),
    )
    cfg["triplet-margin+batch-hard"] = (
        {"kind": "triplet-margin", "margin": 0.05, "miner": {"kind": "batch-hard"}},
        plain(lambda: L.TripletMarginLoss(), lambda: M.BatchHardMiner()),
    )
    for t in ["all", "hard", "semihard", "easy"]:
        cfg[f"triplet-margin+triplet-miner-{t}"] = (
            {"kind": "triplet-margin", "margin": 0.1, "miner": {"kind": "triplet-margin", "margin": 0.2, "triplets": t}},
            plain(lambda: L.TripletMarginLoss(margin=0.1), lambda t=t: M.TripletMarginMiner(margin=0.2, type_of_triplets=t)),
        )
    cfg["contrastive"] = ({"kind": "contrastive", "pos_margin": 0.0, "neg_margin": 1.0}, plain(lambda: L.ContrastiveLoss()))
    cfg["contrastive-dot"] = (
        {"kind": "contrastive", "pos_margin": 0.8, "neg_margin": 0.2, "distance": {"kind": "dot-product", "normalize": True}},
        plain(lambda: L.ContrastiveLoss(pos_margin=0.8, neg_margin=0.2, distance=D.DotProductSimilarity())),
    )
    cfg["contrastive+multi-similarity-miner"] = (
        {"kind": "contrastive", "pos_margin": 0.0, "neg_margin": 1.0, "miner": {"kind": "multi-similarity", "epsilon": 0.1}},
        plain(lambda: L.ContrastiveLoss(), lambda: M.MultiSimilarityMiner(epsilon=0.1)),
    )
    cfg["contrastive+batch-hard"] = (
        {"kind": "contrastive", "pos_margin": 0.0, "neg_margin": 1.0, "miner": {"kind": "batch-hard"}},
        plain(lambda: L.ContrastiveLoss(), lambda: M.BatchHardMiner()),
    )
    cfg["multi-similarity"] = ({"kind": "multi-similarity", "alpha": 2.0, "beta": 50.0, "base": 0.5}, plain(lambda: L.MultiSimilarityLoss()))
    cfg["multi-similarity+multi-similarity-miner"] = (
        {"kind": "multi-similarity", "alpha": 2.0, "beta": 50.0, "base": 0.5, "miner": {"kind": "multi-similarity", "epsilon": 0.1}},
        plain(lambda: L.MultiSimilarityLoss(), lambda: M.MultiSimilarityMiner(epsilon=0.1)),
    )
    cfg["circle"] = ({"kind": "circle", "m": 0.4, "gamma": 80.0}, plain(lambda: L.CircleLoss()))
    cfg["lifted-structure"] = ({"kind": "lifted-structure", "pos_margin": 0.0, "neg_margin": 1.0}, plain(lambda: L.LiftedStructureLoss()))
    return cfg


def batch_all_triplet(margin):
    from sentence_transformers.sentence_transformer.losses.batch_all_triplet import BatchAllTripletLoss

    loss = BatchAllTripletLoss(model=None, margin=margin)
    return lambda emb, labels: loss.batch_all_triplet_loss(labels, emb)


# ---------------------------------------------------------------- running
def tensor_json(t):
    # 9 significant digits: every f32 round-trips, and the f64 references keep f32 precision.
    return [float("%.9g" % x) for x in t.detach().double().reshape(-1).tolist()]


def run_case(name, dataset, spec, build, variant=None):
    emb32, labels_np, c = dataset
    n, d = emb32.shape
    torch.manual_seed(zlib.crc32(name.encode()))  # PML's own initialiser, reproducibly
    emb = torch.tensor(emb32, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor(labels_np)
    loss_fn, miner, params = build(c, d)
    # Parameters are stored as f32 (what the Rust side loads) and the reference runs on exactly those values.
    for p in params.values():
        with torch.no_grad():
            p.copy_(p.float().double())
    mined = None
    if miner is not None:
        tup = miner(emb, labels)
        mined = [[int(i) for i in x.tolist()] for x in tup]
        value = loss_fn(emb, labels, indices_tuple=tup)
    else:
        value = loss_fn(emb, labels)
    if not torch.is_tensor(value):
        value = torch.tensor(float(value), dtype=torch.float64)
    if value.requires_grad:
        value.backward()
    grad = emb.grad if emb.grad is not None else torch.zeros_like(emb)
    case = {
        "name": name,
        "loss": spec,
        "variant": variant,
        "num_classes": c,
        "embeddings": {"shape": [n, d], "data": tensor_json(emb)},
        "labels": [int(x) for x in labels_np],
        "params": {k: {"shape": list(p.shape), "data": tensor_json(p)} for k, p in params.items()},
        "mined": mined,
        "loss_value": float("%.9g" % value.item()),
        "grad_embeddings": tensor_json(grad),
        "grad_params": {k: tensor_json(p.grad if p.grad is not None else torch.zeros_like(p)) for k, p in params.items()},
    }
    return case


def write(case):
    path = os.path.join(OUT, case["name"] + ".json")
    with open(path, "w") as f:
        json.dump(case, f, separators=(",", ":"))


def main_current():
    import pytorch_metric_learning as pml
    import pytorch_metric_learning.distances  # noqa: F401
    import pytorch_metric_learning.losses  # noqa: F401
    import pytorch_metric_learning.miners  # noqa: F401
    import pytorch_metric_learning.regularizers  # noqa: F401

    os.makedirs(OUT, exist_ok=True)
    data = datasets()
    count = 0
    for loss_name, (spec, build) in loss_configs(pml).items():
        for data_name, dataset in data.items():
            case = run_case(f"{loss_name}__{data_name}", dataset, spec, build, variant=f"pml-{pml.__version__}")
            write(case)
            count += 1
    for margin in [5.0, 0.5]:
        for data_name, dataset in data.items():
            fn = batch_all_triplet(margin)
            spec = {"kind": "batch-all-triplet", "margin": margin}
            case = run_case(f"batch-all-triplet-m{margin:g}__{data_name}", dataset, spec, lambda c, d: (fn, None, {}), variant="sentence-transformers")
            write(case)
            count += 1
    # Cross-entropy on logits (the embeddings play the logits), as torch.nn.functional.cross_entropy.
    for smoothing in [0.0, 0.1]:
        for data_name, dataset in data.items():
            emb, labels, _ = dataset
            c = emb.shape[1]
            fn = lambda e, l, s=smoothing: torch.nn.functional.cross_entropy(e, l, label_smoothing=s)
            spec = {"kind": "cross-entropy", "label_smoothing": smoothing}
            case = run_case(f"cross-entropy-ls{smoothing:g}__{data_name}", (emb, labels, c), spec, lambda c, d: (fn, None, {}), variant=f"torch-{torch.__version__}")
            write(case)
            count += 1
    papers_shape_cases()
    print(f"wrote {count} fixtures + 2 papers-shape cases (PML {pml.__version__}) to {OUT}", file=sys.stderr)


# ---------------------------------------------------------------- the papers' shape
PAPERS = {"sentences": 64, "tokens": 64, "dim": 1024, "classes": 6}


def regenerable_uniform(count, stream):
    """Uniform [-1, 1) values with 24-bit resolution from integer hashing, computed identically
    by the Rust test (tests/parity.rs `regenerable_uniform`), so the 4096 x 1024 inputs need not
    be stored."""
    with np.errstate(over="ignore"):
        i = np.arange(count, dtype=np.uint64) + np.uint64(stream) * np.uint64(0x9E3779B97F4A7C15)
        h = i * np.uint64(6364136223846793005) + np.uint64(1442695040888963407)
        h ^= h >> np.uint64(29)
        h = h * np.uint64(0xBF58476D1CE4E5B9)
    u = (h >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
    return u * np.float32(2.0) - np.float32(1.0)


def papers_shape_cases():
    """CE-free DML terms on all 64 x 64 token rows of dimension 1024 (the papers' setting): the
    loss value, gradient sums and 64 sampled gradient entries of the embeddings and parameters."""
    from pytorch_metric_learning import losses as L

    n = PAPERS["sentences"] * PAPERS["tokens"]
    d, c = PAPERS["dim"], PAPERS["classes"]
    emb32 = regenerable_uniform(n * d, 1).reshape(n, d)
    labels = np.repeat(np.arange(PAPERS["sentences"]) % c, PAPERS["tokens"])
    specs = {
        "soft-triple": ({"kind": "soft-triple", "centers_per_class": 5, "la": 8.0, "gamma": 0.1, "margin": 0.1},
                        lambda: L.SoftTripleLoss(c, d, centers_per_class=5, la=8, gamma=0.1, margin=0.1), "fc",
                        (d, c * 5), np.float32(1.0 / math.sqrt(c * 5))),
        "proxy-anchor": ({"kind": "proxy-anchor", "alpha": 32.0, "margin": 0.1},
                         lambda: L.ProxyAnchorLoss(c, d), "proxies", (c, d), np.float32(math.sqrt(2.0 / c))),
    }
    rng = np.random.default_rng(7)
    for name, (spec, make, attr, shape, scale) in specs.items():
        loss = make().double()
        param = getattr(loss, attr)
        values = (regenerable_uniform(shape[0] * shape[1], 2) * scale).reshape(shape)
        with torch.no_grad():
            param.copy_(torch.tensor(values, dtype=torch.float64))
        emb = torch.tensor(emb32, dtype=torch.float64, requires_grad=True)
        value = loss(emb, torch.tensor(labels))
        value.backward()
        ge, gp = emb.grad.reshape(-1), param.grad.reshape(-1)
        ie = rng.choice(ge.numel(), 64, replace=False)
        ip = rng.choice(gp.numel(), 64, replace=False)
        case = {
            "name": f"papers-shape__{name}",
            "loss": spec,
            "generated": dict(PAPERS, param_shape=list(shape), param_scale=float(scale)),
            "param": attr,
            "loss_value": float("%.9g" % value.item()),
            "grad_embeddings_abs_sum": float(ge.abs().sum()),
            "grad_param_abs_sum": float(gp.abs().sum()),
            "grad_embeddings_samples": {"index": [int(i) for i in ie], "value": tensor_json(ge[ie])},
            "grad_param_samples": {"index": [int(i) for i in ip], "value": tensor_json(gp[ip])},
        }
        path = os.path.join(OUT, "papers-shape", case["name"] + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(case, f, indent=1)


def main_pml162():
    """ArcFace of PML 1.6.2 (plain cos(theta + m)); the rest of the losses built here is identical."""
    import pytorch_metric_learning as pml
    import pytorch_metric_learning.distances  # noqa: F401
    import pytorch_metric_learning.losses  # noqa: F401
    import pytorch_metric_learning.miners  # noqa: F401
    import pytorch_metric_learning.regularizers  # noqa: F401

    assert pml.__version__ == "1.6.2", pml.__version__
    data = datasets()
    cfg = {k: v for k, v in loss_configs(pml).items() if k.startswith("arc-face")}
    count = 0
    for loss_name, (spec, build) in cfg.items():
        for data_name, dataset in data.items():
            write(run_case(f"{loss_name}-pml162__{data_name}", dataset, spec, build, variant="pml-1.6.2"))
            count += 1
    print(f"wrote {count} fixtures (PML 1.6.2)", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pml162", help="folder holding pytorch_metric_learning 1.6.2 (pip install --target)")
    parser.add_argument("--only-pml162", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    if args.only_pml162:
        main_pml162()
    else:
        main_current()
        if args.pml162:
            env = dict(os.environ, PYTHONPATH=args.pml162)
            subprocess.run([sys.executable, __file__, "--only-pml162"], env=env, check=True)
