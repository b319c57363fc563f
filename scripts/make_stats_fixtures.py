#!/usr/bin/env python3
"""Writes the reference fixtures of dmlft-eval (crates/eval/tests/fixtures/*.json).

Every number in them is computed here by numpy / scipy / scikit-learn / statsmodels /
scikit-posthocs (or, for the Holm correction, by the statsmodels `multipletests(method="holm")`
formula written out below), from inputs that are stored next to the outputs. The Rust tests read
the JSON and compare.

stats_across.json holds the statistics across tasks and methods: the hierarchical bootstrap
(reproduced by the Rust code to its Monte Carlo error, not bit for bit), the t-interval and
tests over tasks, Friedman, Nemenyi (p-values and critical difference), the Holm-corrected
Wilcoxon post-hoc, Cohen's d_z, the interval of a paired difference, the power of the paired
t-test, and the Wilcoxon test with tied differences beyond scipy's 13-pair permutation limit
(an exhaustive enumeration of sign flips here); the report's Holm correction within each
`--holm-family` choice (statsmodels, from the runs' paired t-tests), and the majority-class and
chance levels of test sets for every metric (scikit-learn on the constant and the uniform
predictions).

Run with the reference interpreter:
    DMLFT_PYREF=/work/.pyref "$(scripts/pyref-env.sh)" scripts/make_stats_fixtures.py
"""

import json
import pathlib
import warnings

import numpy as np
from scipy import stats

try:
    from sklearn.decomposition import PCA
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
        silhouette_score,
    )
except ImportError as e:  # scripts/pyref-env.sh's bootstrap list does not install it
    raise SystemExit(f"scikit-learn is needed for the fixtures ({e}); pip install scikit-learn") from e
try:
    import scikit_posthocs as sp
except ImportError as e:
    raise SystemExit(
        f"scikit-posthocs and statsmodels are needed ({e}); pip install scikit-posthocs statsmodels"
    ) from e

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "eval" / "tests" / "fixtures"


def fl(x):
    """A float for JSON (NaN and infinity are not valid JSON; they become null)."""
    x = float(x)
    return x if np.isfinite(x) else None


def holm(pvals):
    """statsmodels.stats.multitest.multipletests(pvals, method="holm")[1], written out."""
    p = np.asarray(pvals, dtype=float)
    order = np.argsort(p)
    m = len(p)
    raw = p[order] * np.arange(m, 0, -1)
    adj = np.minimum(np.maximum.accumulate(raw), 1.0)
    out = np.empty(m)
    out[order] = adj
    return out


def summary_cases(rng):
    samples = [
        [0.8123],
        [0.81, 0.83],
        [0.85, 0.87, 0.86],
        [0.912, 0.905, 0.921, 0.899, 0.915],
        [0.5, 0.5, 0.5, 0.5],
        list(rng.uniform(0.6, 0.95, size=10)),
        list(rng.normal(0.7, 0.05, size=40)),
        [3.0, -1.5, 2.25, 8.0, 0.0, 1.0],
    ]
    cases = []
    for x in samples:
        a = np.asarray(x, dtype=float)
        n = len(a)
        case = {
            "values": [float(v) for v in a],
            "n": n,
            "mean": float(np.mean(a)),
            "std_pop": float(np.std(a, ddof=0)),
            "median": float(np.median(a)),
            "std_sample": fl(np.std(a, ddof=1)) if n > 1 else None,
            "ci95": None,
        }
        if n > 1:
            sem = np.std(a, ddof=1) / np.sqrt(n)
            if sem > 0:
                lo, hi = stats.t.interval(0.95, df=n - 1, loc=np.mean(a), scale=sem)
            else:
                lo = hi = float(np.mean(a))
            case["ci95"] = [float(lo), float(hi)]
        cases.append(case)
    return cases


def paired_cases(rng):
    """(candidate, baseline) pairs chosen to hit every branch of scipy's wilcoxon 'auto' rule."""
    pairs = {}
    # n=5, no ties, no zeros -> exact distribution.
    pairs["exact_n5"] = ([0.91, 0.88, 0.93, 0.87, 0.95], [0.89, 0.885, 0.90, 0.88, 0.91])
    # n=3 exact, all positive.
    pairs["exact_n3"] = ([0.7, 0.8, 0.9], [0.6, 0.75, 0.81])
    # n=20 random, no ties -> exact.
    b = rng.uniform(0.7, 0.9, size=20)
    pairs["exact_n20"] = (list(b + rng.normal(0.01, 0.02, size=20)), list(b))
    # n=40 strongly positive -> exact with a tiny p-value.
    b = rng.uniform(0.7, 0.9, size=40)
    pairs["exact_n40_small_p"] = (list(b + rng.uniform(0.001, 0.05, size=40)), list(b))
    # ties among |d| with n <= 13 -> permutation test (exhaustive 2^n sign flips).
    pairs["perm_ties_n8"] = ([3, 5, 2, 7, 4, 6, 9, 1], [1, 3, 4, 5, 2, 8, 6, 2])
    # zeros with n <= 13 -> permutation test.
    pairs["perm_zeros_n10"] = ([5, 3, 8, 2, 6, 4, 9, 7, 1, 3], [5, 1, 6, 2, 3, 4, 4, 2, 1, 1])
    # every difference zero -> permutation test gives p = 1.
    pairs["all_zero_n5"] = ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0])
    # ties with 13 < n <= 50 -> normal approximation with tie correction.
    c = rng.integers(0, 6, size=30)
    bb = rng.integers(0, 6, size=30)
    pairs["asym_ties_n30"] = ([float(v) for v in c + 2], [float(v) for v in bb])
    # n > 50 without ties -> normal approximation.
    b = rng.uniform(0.5, 0.9, size=60)
    pairs["asym_n60"] = (list(b + rng.normal(0.005, 0.03, size=60)), list(b))
    # n = 2 (smallest n with a t-test).
    pairs["exact_n2"] = ([0.8, 0.9], [0.7, 0.85])
    # constant non-zero difference: t-test gives t=inf, p=0.
    pairs["constant_diff_n4"] = ([2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0])

    cases = []
    for name, (cand, base) in pairs.items():
        x = np.asarray(cand, dtype=float)
        y = np.asarray(base, dtype=float)
        d = x - y
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tt = stats.ttest_rel(x, y)
            wx = stats.wilcoxon(x, y)
        cases.append(
            {
                "name": name,
                "candidate": [float(v) for v in x],
                "baseline": [float(v) for v in y],
                "mean_diff": float(np.mean(d)),
                "ttest_statistic": fl(tt.statistic),
                "ttest_p": fl(tt.pvalue),
                "wilcoxon_statistic": fl(wx.statistic),
                "wilcoxon_p": fl(wx.pvalue),
                "wins": int(np.sum(d > 0)),
                "ties": int(np.sum(d == 0)),
                "losses": int(np.sum(d < 0)),
            }
        )
    return cases


def holm_cases(rng):
    families = [
        [0.01, 0.04, 0.03, 0.005],
        [0.2, 0.2, 0.01, 0.5, 0.049],
        list(rng.uniform(0, 0.2, size=12)),
        [0.9],
        [0.3, 0.6, 0.7],
    ]
    return [{"p": [float(v) for v in f], "holm": [float(v) for v in holm(f)]} for f in families]


def metric_cases(rng):
    cases = []

    def add(name, labels, preds, k, names=None):
        labels = np.asarray(labels)
        preds = np.asarray(preds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, r, f, s = precision_recall_fscore_support(
                labels, preds, labels=list(range(k)), zero_division=0
            )
            cases.append(
                {
                    "name": name,
                    "num_classes": k,
                    "labels": [int(v) for v in labels],
                    "predictions": [int(v) for v in preds],
                    "accuracy": float(accuracy_score(labels, preds)),
                    # sklearn's default: labels=None (classes seen in y_true or y_pred).
                    "macro_f1": float(f1_score(labels, preds, average="macro")),
                    "weighted_f1": float(f1_score(labels, preds, average="weighted")),
                    "precision": [float(v) for v in p],
                    "recall": [float(v) for v in r],
                    "f1": [float(v) for v in f],
                    "support": [int(v) for v in s],
                    "confusion": confusion_matrix(labels, preds, labels=list(range(k))).tolist(),
                }
            )

    add("binary_balanced", rng.integers(0, 2, 50), rng.integers(0, 2, 50), 2)
    y = rng.integers(0, 6, 120)
    yhat = np.where(rng.uniform(size=120) < 0.7, y, rng.integers(0, 6, 120))
    add("six_class_noisy", y, yhat, 6)
    # class 2 never predicted (precision 0/0), class 3 predicted but absent (recall 0/0),
    # class 4 absent from both (excluded from sklearn's macro average).
    add("zero_division", [0, 0, 1, 1, 2, 2, 0, 1], [0, 1, 1, 1, 0, 3, 0, 3], 5)
    add("all_correct", [0, 1, 2, 1, 0], [0, 1, 2, 1, 0], 3)
    add("all_wrong_binary", [0, 0, 1, 1], [1, 1, 0, 0], 2)
    return cases


def embedding_cases(rng):
    cases = []

    def add(name, x, labels):
        x = np.asarray(x, dtype=np.float32).astype(np.float64)
        labels = np.asarray(labels)
        dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
        same = labels[:, None] == labels[None, :]
        iu = np.triu_indices(len(x), 1)
        intra = dist[iu][same[iu]].mean()
        inter = dist[iu][~same[iu]].mean()
        cases.append(
            {
                "name": name,
                "dim": x.shape[1],
                "embeddings": [[float(v) for v in row] for row in x],
                "labels": [int(v) for v in labels],
                "silhouette": float(silhouette_score(x, labels, metric="euclidean")),
                "intra_inter_ratio": float(intra / inter),
            }
        )

    centers = rng.normal(0, 3, size=(3, 5))
    labels = np.repeat([0, 1, 2], [10, 12, 8])
    add("three_blobs", centers[labels] + rng.normal(0, 1, size=(30, 5)), labels)
    labels = rng.integers(0, 4, 25)
    add("overlapping_four", rng.normal(0, 1, size=(25, 3)), labels)
    # a singleton cluster: sklearn gives its sample s = 0.
    labels = np.array([0] * 6 + [1] * 5 + [2])
    add("singleton", rng.normal(0, 1, size=(12, 4)) + labels[:, None], labels)
    return cases


def pca_cases(rng):
    x = rng.normal(0, 1, size=(40, 6)) @ rng.normal(0, 1, size=(6, 6))
    x = x.astype(np.float32).astype(np.float64)
    pca = PCA(n_components=2, svd_solver="full").fit(x)
    return [
        {
            "data": [[float(v) for v in row] for row in x],
            "dim": x.shape[1],
            "components": pca.components_.tolist(),
            "explained_variance": pca.explained_variance_.tolist(),
            "mean": pca.mean_.tolist(),
            "projected": pca.transform(x).tolist(),
        }
    ]


def hierarchical_bootstrap(diffs_per_task, n_boot, rng):
    """Resamples the paired differences (seeds) within each task with replacement, tasks
    fixed, and returns the B means over tasks of the per-task means."""
    out = np.zeros(n_boot)
    for d in diffs_per_task:
        d = np.asarray(d, dtype=float)
        idx = rng.integers(0, len(d), size=(n_boot, len(d)))
        out += d[idx].mean(axis=1)
    return out / len(diffs_per_task)


def across_task_cases(rng):
    """Method vs baseline over tasks: per task paired runs (seeds)."""
    cases = []

    def add(name, cand, base):
        diffs = [np.asarray(c, float) - np.asarray(b, float) for c, b in zip(cand, base)]
        task_means = np.array([d.mean() for d in diffs])
        t_lo, t_hi = stats.t.interval(
            0.95, df=len(task_means) - 1, loc=task_means.mean(), scale=stats.sem(task_means)
        )
        boot = hierarchical_bootstrap(diffs, 400_000, np.random.default_rng(7))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tt = stats.ttest_1samp(task_means, 0.0)
            wx = stats.wilcoxon(task_means)
        cases.append(
            {
                "name": name,
                "candidate": [[float(v) for v in c] for c in cand],
                "baseline": [[float(v) for v in b] for b in base],
                "task_mean_diffs": task_means.tolist(),
                "mean_diff": float(task_means.mean()),
                "t_interval": [float(t_lo), float(t_hi)],
                "bootstrap_interval": [float(v) for v in np.percentile(boot, [2.5, 97.5])],
                "bootstrap_se": float(boot.std()),
                "ttest_p": fl(tt.pvalue),
                "wilcoxon_p": fl(wx.pvalue),
                "tasks_ahead": int(np.sum(task_means > 0)),
                "tasks_behind": int(np.sum(task_means < 0)),
            }
        )

    # seven tasks x five seeds, a small positive effect with task-dependent noise
    base = [list(rng.uniform(0.6, 0.9, size=5)) for _ in range(7)]
    cand = [list(np.asarray(b) + rng.normal(0.01, s, size=5)) for b, s in zip(base, np.linspace(0.005, 0.04, 7))]
    add("seven_tasks_five_seeds", cand, base)
    # unequal seeds per task and a negative effect
    base = [list(rng.uniform(50, 90, size=n)) for n in (3, 5, 8, 4)]
    cand = [list(np.asarray(b) + rng.normal(-1.0, 2.0, size=len(b))) for b in base]
    add("four_tasks_unequal_seeds", cand, base)
    return cases


def friedman_cases(rng):
    """Blocks (task x shots) as rows, methods as columns; higher is better."""
    cases = []

    def add(name, blocks, wilcoxon_posthoc):
        x = np.asarray(blocks, dtype=float)
        n, k = x.shape
        chi2, p = stats.friedmanchisquare(*x.T)
        ranks_best_first = stats.rankdata(-x, axis=1).mean(axis=0)
        q05 = stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2.0)
        q10 = stats.studentized_range.ppf(0.90, k, np.inf) / np.sqrt(2.0)
        case = {
            "name": name,
            "blocks": x.tolist(),
            "friedman_statistic": float(chi2),
            "friedman_p": float(p),
            "average_ranks": ranks_best_first.tolist(),
            "nemenyi_q_05": float(q05),
            "nemenyi_cd_05": float(q05 * np.sqrt(k * (k + 1) / (6.0 * n))),
            "nemenyi_cd_10": float(q10 * np.sqrt(k * (k + 1) / (6.0 * n))),
            "nemenyi_p": sp.posthoc_nemenyi_friedman(x).to_numpy().tolist(),
            "wilcoxon_holm_p": None,
        }
        if wilcoxon_posthoc:
            # melted: one row per (block, method); scikit-posthocs pairs by position in group
            import pandas as pd

            df = pd.DataFrame(
                {"y": x.ravel(), "g": np.tile(np.arange(k), n), "b": np.repeat(np.arange(n), k)}
            )
            case["wilcoxon_holm_p"] = sp.posthoc_wilcoxon(
                df, val_col="y", group_col="g", p_adjust="holm", sort=False
            ).to_numpy().tolist()
        cases.append(case)

    # 21 blocks (7 tasks x 3 shots), 5 methods with different strengths, no ties
    strength = np.array([0.0, 0.01, 0.03, -0.005, 0.02])
    x = rng.uniform(0.6, 0.9, size=(21, 1)) + strength + rng.normal(0, 0.015, size=(21, 5))
    add("blocks21_methods5", x, True)
    # ties inside blocks (accuracies on a 1/8 grid) and 3 methods
    x = np.round(rng.uniform(0.5, 1.0, size=(9, 3)) * 8) / 8
    add("ties_blocks9_methods3", x, False)
    # the example of scikit-posthocs' docstring
    add("posthocs_docstring", [[31, 27, 24], [31, 28, 31], [45, 29, 46], [21, 18, 48], [42, 36, 46], [32, 17, 40]], False)
    return cases


def effect_cases(rng):
    cases = []
    for d in [
        [0.02, 0.01, 0.035, -0.005, 0.015],
        list(rng.normal(1.5, 3.0, size=12)),
        [-2.0, -1.0, -3.5],
    ]:
        d = np.asarray(d, dtype=float)
        lo, hi = stats.t.interval(0.95, df=len(d) - 1, loc=d.mean(), scale=stats.sem(d))
        cases.append(
            {
                "diffs": d.tolist(),
                "d_z": float(d.mean() / d.std(ddof=1)),
                "diff_ci95": [float(lo), float(hi)],
            }
        )
    return cases


def power_cases():
    """Smallest standardised paired difference d_z detectable with 80% power by the two-sided
    paired t-test at `alpha` (noncentral t, solved with brentq), and the power at d_z = 1
    (statsmodels' TTestPower, checked against scipy's nct). statsmodels' own solve_power is
    not used: at n = 5, alpha = 0.05/112 its power() is NaN near the root and it returns 3.01,
    where the power is 0.20."""
    from scipy.optimize import brentq
    from statsmodels.stats.power import TTestPower

    def power(dz, n, alpha):
        c = stats.t.ppf(1 - alpha / 2, n - 1)
        nc = dz * np.sqrt(n)
        # the lower tail (below 1e-16 here) comes back NaN from scipy at a large noncentrality
        return stats.nct.sf(c, n - 1, nc) + np.nan_to_num(stats.nct.cdf(-c, n - 1, nc))

    cases = []
    for n, alpha in [(5, 0.05), (5, 0.05 / 112), (7, 0.05), (10, 0.01), (3, 0.05), (30, 0.05)]:
        upper = 1.5 * (stats.t.ppf(1 - alpha / 2, n - 1) + 4) / np.sqrt(n)
        dz = brentq(lambda d: power(d, n, alpha) - 0.8, 1e-6, upper, xtol=1e-14, rtol=1e-14)
        power_at_one = TTestPower().power(effect_size=1.0, nobs=n, alpha=alpha)
        assert abs(power_at_one - power(1.0, n, alpha)) < 1e-10
        cases.append(
            {
                "n": n,
                "alpha": alpha,
                "detectable_d_z": float(dz),
                "power_at_d_z_1": float(power_at_one),
            }
        )
    return cases


def wilcoxon_ties_cases(rng):
    """Tied differences: the exact two-sided p from every one of the 2^n sign flips of the
    mid-ranks (zeros dropped), where scipy (n > 13) falls back to the normal approximation."""
    cases = []
    for name, d in [
        ("ties_n18", rng.integers(-3, 6, size=18).astype(float)),
        ("ties_n16_halves", np.round(rng.normal(0.5, 1.5, size=16) * 2) / 2),
        ("ties_n8", np.array([2.0, 2.0, -1.0, 3.0, 3.0, 3.0, -2.0, 1.0])),
        # over 50 differences both use the normal approximation with the tie correction
        ("ties_n60_asymptotic", rng.integers(-4, 7, size=60).astype(float)),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scipy_w = stats.wilcoxon(d)
        if len(d) > 50:
            cases.append(
                {
                    "name": name,
                    "diffs": d.tolist(),
                    "statistic": float(scipy_w.statistic),
                    "exact_p": None,
                    "scipy_p": float(scipy_w.pvalue),
                }
            )
            continue
        nz = d[d != 0]
        ranks = stats.rankdata(np.abs(nz))
        observed = ranks[nz > 0].sum()
        n = len(nz)
        signs = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
        t = (signs * ranks).sum(axis=1)
        lower = np.sum(t <= observed + 1e-9)
        upper = np.sum(t >= observed - 1e-9)
        cases.append(
            {
                "name": name,
                "diffs": d.tolist(),
                "statistic": float(min(observed, n * (n + 1) / 2 - observed)),
                "exact_p": float(min(1.0, 2 * min(lower, upper) / 2**n)),
                "scipy_p": float(scipy_w.pvalue),
            }
        )
    return cases


def holm_family_cases(rng):
    """Runs of 3 tasks x (ce head; a head and proxy; b head) x 5 seeds; each row's paired t-test
    against ce (proxy rows against ce's head predictions, which is all ce has) and its Holm p
    within each family choice of `dmlft report --holm-family`, by statsmodels."""
    from statsmodels.stats.multitest import multipletests

    tasks = ["mr", "cr", "subj"]
    methods = [("ce", "head"), ("a", "head"), ("a", "proxy"), ("b", "head")]
    runs = []
    values = {}
    for t, task in enumerate(tasks):
        for m, (loss, mode) in enumerate(methods):
            v = 0.6 + 0.05 * t + 0.01 * m + rng.normal(0, 0.02, size=5)
            values[(task, loss, mode)] = v
            for seed, x in enumerate(v):
                runs.append({"dataset": task, "loss": loss, "mode": mode, "seed": seed, "accuracy": float(x)})
    rows = []
    for task in tasks:
        for loss, mode in methods[1:]:
            p = stats.ttest_rel(values[(task, loss, mode)], values[(task, "ce", "head")]).pvalue
            rows.append({"dataset": task, "loss": loss, "mode": mode, "p_ttest": float(p)})
    families = {
        "all": lambda r: "all",
        "per_method": lambda r: (r["loss"], r["mode"]),
        "primary": lambda r: r["mode"] == "head",
    }
    for name, key in families.items():
        groups = {}
        for i, r in enumerate(rows):
            groups.setdefault(key(r), []).append(i)
        for members in groups.values():
            adjusted = multipletests([rows[i]["p_ttest"] for i in members], method="holm")[1]
            for i, a in zip(members, adjusted):
                rows[i][f"holm_{name}"] = float(a)
    return {"runs": runs, "rows": rows}


def reference_cases():
    """Majority class and chance (uniform guessing) of test sets with these class counts, by
    scikit-learn: the majority answer is a constant prediction; chance is the expected
    confusion matrix of uniform guessing (each example predicted as each class with weight 1/k),
    which is what the report's "expected value" means."""
    cases = []
    for counts in [[578, 1147], [300, 100], [5, 5, 5, 5], [86, 113, 9, 65, 81, 146]]:
        k = len(counts)
        y = np.repeat(np.arange(k), counts)
        majority = np.full_like(y, int(np.argmax(counts)))
        y_u = np.repeat(y, k)
        p_u = np.tile(np.arange(k), len(y))
        w_u = np.full(len(y_u), 1.0 / k)
        case = {"counts": counts}
        for name, avg in [("macro_f1", "macro"), ("weighted_f1", "weighted")]:
            case[name] = [
                float(f1_score(y, majority, average=avg, labels=list(range(k)), zero_division=0)),
                float(f1_score(y_u, p_u, average=avg, sample_weight=w_u, zero_division=0)),
            ]
        case["accuracy"] = [float(accuracy_score(y, majority)), float(accuracy_score(y_u, p_u, sample_weight=w_u))]
        if k == 2:
            case["positive_f1"] = [
                float(f1_score(y, majority, pos_label=1, zero_division=0)),
                float(f1_score(y_u, p_u, pos_label=1, sample_weight=w_u, zero_division=0)),
            ]
        cases.append(case)
    return cases


def main():
    rng = np.random.default_rng(20221115)
    OUT.mkdir(parents=True, exist_ok=True)
    files = {
        "stats.json": {
            "summary": summary_cases(rng),
            "paired": paired_cases(rng),
            "holm": holm_cases(rng),
        },
        "metrics.json": {"cases": metric_cases(rng)},
        "embedding.json": {"silhouette": embedding_cases(rng), "pca": pca_cases(rng)},
    }
    # its own generator, so that the files above keep their values
    rng = np.random.default_rng(20261207)
    files["stats_across.json"] = {
        "across_tasks": across_task_cases(rng),
        "friedman": friedman_cases(rng),
        "effect": effect_cases(rng),
        "power": power_cases(),
        "wilcoxon_ties": wilcoxon_ties_cases(rng),
        "holm_families": holm_family_cases(rng),
        "reference_levels": reference_cases(),
    }
    import scipy
    import sklearn
    import statsmodels

    versions = {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}
    for name, body in files.items():
        if name == "stats_across.json":
            versions = {**versions, "statsmodels": statsmodels.__version__, "scikit_posthocs": sp.__version__}
        body = {"generator": "scripts/make_stats_fixtures.py", "versions": versions, **body}
        (OUT / name).write_text(json.dumps(body, indent=1, allow_nan=False) + "\n")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
