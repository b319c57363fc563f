#!/usr/bin/env python3
"""Writes the SetFit parity fixtures: crates/train/tests/fixtures/setfit/.

  head.json + head.safetensors   scikit-learn LogisticRegression() -- SetFit's default head
                                 (setfit.modeling.SetFitModel._from_pretrained) -- fitted on
                                 embedding sets (real all-MiniLM-L6-v2 embeddings of SST2/TREC
                                 sentences, and random ones): inputs, coef_, intercept_,
                                 predict_proba and predict on held-out rows; also the optimum of
                                 the same objective solved to tol 1e-10 in float64, so a test can
                                 tell solver tolerance from a wrong objective.
  pairs.json                     setfit.sampler.ContrastiveDataset on label lists: pool and
                                 generated pair counts per label-pair type for each sampling
                                 strategy / num_iterations, and the exact pair sequence for the
                                 small cases (it comes from numpy's RandomState(42)).
  cosine_loss.json + .safetensors  sentence-transformers' CosineSimilarityLoss (MSE between
                                 cosine(u, v) and the 1.0/0.0 label, mean over the batch): value
                                 and gradient w.r.t. u and v, in float64 from f32 inputs.

Inputs are f32 (what the Rust side holds); reference outputs are f64. Arrays live in the
.safetensors files under "<case>.<name>" keys; the .json files list the cases and hold the small
values (labels, predictions, counts). Real embeddings need the SentEval data
($DMLFT_SENTEVAL_DIR, default ../shared/datasets/senteval) and models/all-MiniLM-L6-v2.

Run: DMLFT_PYREF=/work/.pyref "$(scripts/pyref-env.sh)" scripts/make_setfit_fixtures.py
"""
import collections
import json
import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "crates", "train", "tests", "fixtures", "setfit")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import fewshot_split_reference as ref  # noqa: E402
import setfit_reference  # noqa: E402

import setfit  # noqa: E402
import sentence_transformers  # noqa: E402
import sklearn  # noqa: E402
from setfit.sampler import ContrastiveDataset  # noqa: E402
from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

DATA = os.environ.get("DMLFT_SENTEVAL_DIR", os.path.join(ROOT, "..", "shared", "datasets", "senteval"))
MODEL = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
VERSIONS = {"setfit": setfit.__version__, "sentence_transformers": sentence_transformers.__version__,
            "sklearn": sklearn.__version__, "torch": torch.__version__, "numpy": np.__version__}


def f64(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64))


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


# ---------------------------------------------------------------- embedding sets
_body = None


def embed(texts):
    """all-MiniLM-L6-v2 as upstream declares it (Transformer -> mean Pooling -> Normalize): the
    unit-norm f32 embeddings SetFit's head is fitted on (SetFitModel.fit -> model_body.encode)."""
    global _body
    if _body is None:
        torch.manual_seed(0)
        _body = setfit_reference.build_body(MODEL)
    return f32(_body.encode(texts, batch_size=32, convert_to_numpy=True))


def real_set(task, shots, seed, n_test):
    """Train rows: dmlft's per-class sample (fewshot_split_reference); test rows: the first n_test
    of the official test split."""
    splits, names = ref.load_senteval(task, DATA)
    labels = [lab for _, lab in splits["train"]]
    idx, _ = ref.per_class_with_test(labels, len(names), shots, 0, seed)
    train = [splits["train"][i] for i in idx]
    test = splits["test"][:n_test]
    source = {"task": task, "shots_per_class": shots, "seed": seed, "train_indices": idx,
              "test_rows": f"official test split rows 0..{n_test}",
              "train_texts": [t for t, _ in train], "test_texts": [t for t, _ in test]}
    return (embed([t for t, _ in train]), [lab for _, lab in train],
            embed([t for t, _ in test]), [lab for _, lab in test], source)


def random_set(rng, classes, per_class, n_test, dim, normalize, scale):
    """Gaussian class means plus noise, rows in a shuffled order."""
    means = rng.normal(0.0, scale, size=(classes, dim))

    def draw(n_per):
        y = np.repeat(np.arange(classes), n_per)
        rng.shuffle(y)
        x = means[y] + rng.normal(0.0, scale * 1.5, size=(len(y), dim))
        if normalize:
            x /= np.linalg.norm(x, axis=1, keepdims=True)
        return f32(x), [int(v) for v in y]

    x_train, y_train = draw(per_class)
    x_test, y_test = draw(max(1, n_test // classes))
    source = {"random": f"normal class means (std {scale}) + normal noise (std {scale * 1.5})"
              + (", rows L2-normalised" if normalize else ", not normalised")}
    return x_train, y_train, x_test, y_test, source


# ---------------------------------------------------------------- head
def objective(x, y, coef, intercept, c=1.0):
    """scikit-learn's lbfgs objective (sklearn.linear_model._logistic, LinearModelLoss):
    mean_i loss_i + ||coef||^2 / (2 C n); the intercept is not penalised. Binary problems use one
    row and the logistic loss on y == classes_[1]; more classes use the multinomial loss."""
    x, coef, intercept = f64(x), f64(coef), f64(intercept)
    y = np.asarray(y)
    z = x @ coef.T + intercept
    if coef.shape[0] == 1:
        t = (y == 1).astype(np.float64)
        losses = np.logaddexp(0.0, z[:, 0]) - t * z[:, 0]
    else:
        zmax = z.max(axis=1, keepdims=True)
        lse = (zmax + np.log(np.exp(z - zmax).sum(axis=1, keepdims=True)))[:, 0]
        losses = lse - z[np.arange(len(y)), y]
    return float(losses.mean() + (coef ** 2).sum() / (2.0 * c * len(y)))


def head_fixture():
    rng = np.random.default_rng(20261201)
    sets = {
        "sst2_minilm_2x8": real_set("sst2", 8, 1, 16),
        "trec_minilm_6x16": real_set("trec", 16, 1, 24),
        "random_2x8_unit": random_set(rng, 2, 8, 16, 384, True, 0.3),
        "random_6x16_unit": random_set(rng, 6, 16, 24, 384, True, 0.3),
        "random_3x5_raw": random_set(rng, 3, 5, 15, 384, False, 0.05),
    }
    cases, arrays = [], {}
    for name, (x_train, y_train, x_test, y_test, source) in sets.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf = LogisticRegression().fit(x_train, y_train)  # SetFit's head, as SetFit fits it
        tight = LogisticRegression(tol=1e-10, max_iter=100000).fit(f64(x_train), y_train)
        proba = clf.predict_proba(x_test)
        proba_tight = tight.predict_proba(f64(x_test))
        pred = [int(v) for v in clf.predict(x_test)]
        obj = objective(x_train, y_train, clf.coef_, clf.intercept_)
        obj_tight = objective(x_train, y_train, tight.coef_, tight.intercept_)
        for key, value in (("x_train", f32(x_train)), ("x_test", f32(x_test)),
                           ("coef", f64(clf.coef_)), ("intercept", f64(clf.intercept_)),
                           ("proba_test", f64(proba)), ("coef_tight", f64(tight.coef_)),
                           ("intercept_tight", f64(tight.intercept_)),
                           ("proba_test_tight", f64(proba_tight))):
            arrays[f"{name}.{key}"] = value
        cases.append({
            "name": name, "n_classes": int(len(clf.classes_)), "dim": int(x_train.shape[1]),
            "n_train": len(y_train), "n_test": len(y_test), "y_train": y_train, "y_test": y_test,
            "pred_test": pred, "pred_test_tight": [int(v) for v in tight.predict(f64(x_test))],
            "n_iter": int(clf.n_iter_[0]), "n_iter_tight": int(tight.n_iter_[0]),
            "objective": obj, "objective_tight": obj_tight,
            "max_abs_proba_diff_default_vs_tight": float(np.abs(proba - proba_tight).max()),
            "source": source,
        })
        print(f"head {name}: {len(clf.classes_)} classes, n_iter {clf.n_iter_[0]}, objective "
              f"{obj:.8f} (tight {obj_tight:.8f}), max |proba - tight| "
              f"{np.abs(proba - proba_tight).max():.2e}")
    meta = {
        "generator": "scripts/make_setfit_fixtures.py", "versions": VERSIONS,
        "estimator": "sklearn.linear_model.LogisticRegression() with its defaults, as SetFit "
                     "builds its head (setfit.modeling.SetFitModel._from_pretrained: "
                     "LogisticRegression(**head_params), head_params {}) and fits it "
                     "(SetFitModel.fit: model_head.fit(model_body.encode(x_train), y_train))",
        "settings": {"C": 1.0, "penalty": "l2 (l1_ratio 0)", "solver": "lbfgs", "max_iter": 100,
                     "tol": 1e-4, "fit_intercept": True, "class_weight": None,
                     "multiclass": "binary: one coef row, logistic loss on y == classes_[1]; "
                                   "3+ classes: multinomial (softmax) with one row per class"},
        "objective": "mean_i loss_i + ||coef||_F^2 / (2 * C * n_train); intercept not penalised",
        "arrays": "head.safetensors: <case>.x_train [n_train, dim] f32, <case>.x_test f32, "
                  "<case>.coef [1 or n_classes, dim] f64, <case>.intercept [1 or n_classes] f64, "
                  "<case>.proba_test [n_test, n_classes] f64, and the *_tight versions "
                  "(tol 1e-10, max_iter 100000, float64 inputs)",
        "cases": cases,
    }
    return meta, arrays


# ---------------------------------------------------------------- pairs
def pair_counts(pairs, labels):
    counts = collections.Counter()
    for a, b in pairs:
        la, lb = sorted((labels[a], labels[b]))
        counts[f"{la},{lb}"] += 1
    return dict(sorted(counts.items()))


def pairs_case(name, labels, strategy, num_iterations, exact_limit=200):
    sentences = [f"s{i}" for i in range(len(labels))]
    case = {"name": name, "labels": labels, "sampling_strategy": strategy,
            "num_iterations": num_iterations}
    try:
        ds = ContrastiveDataset(sentences, labels, False, num_iterations=num_iterations,
                                sampling_strategy=strategy)
        generated = list(ds)
    except IndexError as e:
        case["error"] = f"IndexError: {e} (SetFit fails: no negative pairs to oversample)"
        return case
    index = {s: i for i, s in enumerate(sentences)}
    as_idx = lambda rows: [(index[r["sentence_1"]], index[r["sentence_2"]]) for r in rows]  # noqa: E731
    gen_idx = as_idx(generated)
    case.update({
        "pool_positive": len(ds.pos_pairs), "pool_negative": len(ds.neg_pairs),
        "generated_positive": ds.len_pos_pairs, "generated_negative": ds.len_neg_pairs,
        "generated_total": len(generated),
        "pool_type_counts": pair_counts(as_idx(ds.pos_pairs) + as_idx(ds.neg_pairs), labels),
        "generated_type_counts": pair_counts(gen_idx, labels),
        "generated_self_pairs": sum(a == b for a, b in gen_idx),
        "kinds": "".join("P" if r["label"] == 1.0 else "N" for r in generated)
        if len(generated) <= 2000 else None,
    })
    if len(generated) <= exact_limit:
        case["exact_pairs"] = [[a, b, r["label"]] for (a, b), r in zip(gen_idx, generated)]
    return case


def pairs_fixture():
    splits, names = ref.load_senteval("sst2", DATA)
    sst2 = [splits["train"][i][1] for i in ref.per_class_with_test(
        [lab for _, lab in splits["train"]], 2, 8, 0, 1)[0]]
    splits, names = ref.load_senteval("trec", DATA)
    trec_labels = [lab for _, lab in splits["train"]]
    trec8 = [splits["train"][i][1] for i in ref.per_class_with_test(trec_labels, 6, 8, 0, 1)[0]]
    trec16 = [splits["train"][i][1] for i in ref.per_class_with_test(trec_labels, 6, 16, 0, 1)[0]]
    label_lists = {
        "tiny_2x2": [0, 1, 1, 0],
        "sst2_2x8_seed1": sst2,
        "trec_6x8_seed1": trec8,
        "trec_6x16_seed1": trec16,
        "imbalanced_5_2_1": [0, 1, 0, 2, 0, 1, 0, 0],
        "one_class": [0, 0, 0],
    }
    cases = []
    for name, labels in label_lists.items():
        for strategy in ("oversampling", "undersampling", "unique"):
            cases.append(pairs_case(name, labels, strategy, None))
        for it in ((1, 2) if name == "tiny_2x2" else (20,) if name == "sst2_2x8_seed1" else (5,)):
            cases.append(pairs_case(name, labels, "oversampling", it))
    for c in cases:
        print(f"pairs {c['name']} {c['sampling_strategy']} it={c['num_iterations']}: "
              + (c["error"] if "error" in c else
                 f"pool {c['pool_positive']}+/{c['pool_negative']}- -> "
                 f"{c['generated_positive']}+/{c['generated_negative']}-"))
    return {
        "generator": "scripts/make_setfit_fixtures.py", "versions": VERSIONS,
        "source": "setfit.sampler.ContrastiveDataset(sentences, labels, multilabel=False, "
                  "num_iterations, sampling_strategy); sentence i is 's<i>', pairs are given as "
                  "positions into labels",
        "rules": "pool = every (i, j), i <= j (self-pairs included), in the order "
                 "numpy.random.RandomState(42).permutation of numpy.triu_indices(n, 0); positive "
                 "if labels equal (label 1.0) else negative (0.0). Generated: len_pos / len_neg "
                 "pairs taken cyclically from the pos / neg pool; the dataset alternates "
                 "pos, neg, pos, neg (itertools.zip_longest), the longer list's tail last. "
                 "generated_type_counts = floor(len / pool) * pool counts + a remainder of "
                 "len mod pool distinct pool pairs (which ones depends on the RNG).",
        "cases": cases,
    }


# ---------------------------------------------------------------- cosine loss
def cosine_case(u, v, labels):
    loss_fn = CosineSimilarityLoss(model=None)
    tu = torch.tensor(f64(u), requires_grad=True)
    tv = torch.tensor(f64(v), requires_grad=True)
    loss = loss_fn.compute_loss_from_embeddings([tu, tv], torch.tensor(labels, dtype=torch.float64))
    loss.backward()
    cos = torch.cosine_similarity(tu, tv).detach().numpy()
    return float(loss), f64(cos), f64(tu.grad.detach()), f64(tv.grad.detach())


def cosine_fixture():
    rng = np.random.default_rng(7)
    u = rng.normal(size=(6, 8))
    v = rng.normal(size=(6, 8))
    v[2] = u[2]  # a self-pair (SetFit's positives include (i, i)): cosine 1, zero gradient
    v[3] = -2.0 * u[3]  # opposite direction, different norm
    sets = {"random_6x8": (f32(u), f32(v), [1.0, 0.0, 1.0, 0.0, 0.0, 1.0])}

    # Real: the first 16 pairs SetFit trains on for sst2, 8 shots, seed 1, embedded by the
    # untrained body (unit norm, as the body's Normalize module outputs them).
    splits, _ = ref.load_senteval("sst2", DATA)
    idx, _ = ref.per_class_with_test([lab for _, lab in splits["train"]], 2, 8, 0, 1)
    train = [splits["train"][i] for i in idx]
    ds = list(ContrastiveDataset([t for t, _ in train], [lab for _, lab in train], False))[:16]
    sets["sst2_minilm_16x384"] = (embed([r["sentence_1"] for r in ds]),
                                  embed([r["sentence_2"] for r in ds]), [r["label"] for r in ds])
    cases, arrays = [], {}
    for name, (u, v, labels) in sets.items():
        loss, cos, gu, gv = cosine_case(u, v, labels)
        arrays.update({f"{name}.u": u, f"{name}.v": v, f"{name}.cos": cos,
                       f"{name}.grad_u": gu, f"{name}.grad_v": gv})
        cases.append({"name": name, "batch": int(u.shape[0]), "dim": int(u.shape[1]),
                      "labels": labels, "loss": loss})
        print(f"cosine {name}: loss {loss:.8f}")
    return {
        "generator": "scripts/make_setfit_fixtures.py", "versions": VERSIONS,
        "loss": "sentence_transformers CosineSimilarityLoss (defaults: loss_fct MSELoss(), "
                "cos_score_transformation Identity): mean_b (cos(u_b, v_b) - label_b)^2 with "
                "torch.cosine_similarity(u, v, dim=1, eps=1e-8) = u.v / (max(|u|, eps) max(|v|, eps))",
        "arrays": "cosine_loss.safetensors: <case>.u, <case>.v [batch, dim] f32; <case>.cos "
                  "[batch] f64, <case>.grad_u, <case>.grad_v [batch, dim] f64 (d loss / d u, v)",
        "cases": cases,
    }, arrays


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    meta, arrays = head_fixture()
    save_file(arrays, os.path.join(OUT, "head.safetensors"))
    with open(os.path.join(OUT, "head.json"), "w") as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(OUT, "pairs.json"), "w") as f:
        json.dump(pairs_fixture(), f)
    meta, arrays = cosine_fixture()
    save_file(arrays, os.path.join(OUT, "cosine_loss.safetensors"))
    with open(os.path.join(OUT, "cosine_loss.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
