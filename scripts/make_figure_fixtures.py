#!/usr/bin/env python3
"""Writes crates/eval/tests/fixtures/figures/ from the committed study (docs/study/results):
a small real results folder for the figure test (crates/eval/tests/suite/figure_checks.rs).

* runs.json: the run records (dataset, shots, loss, mode, pair key, metrics) of three tasks
  (MR, TREC, MRPC), both shots counts, every method and seed, as `dmlft report` reads them;
* training.json: the training curves of MR and TREC (every loss, seeds 1-2), which hold the
  cases the figures must draw: 3-step and 480-step SetFit runs, ProxyAnchor near 8 beside CE
  near 0, identical learning-rate schedules;
* class_counts.json: per task, the class counts of each test set (majority / chance lines).

Run from the repository root: python3 scripts/make_figure_fixtures.py
"""
import glob
import json
import os

STUDY = "docs/study/results"
OUT = "crates/eval/tests/fixtures/figures"
TASKS = ("mr", "trec", "mrpc")
CURVE_TASKS = ("mr", "trec")
CURVE_SEEDS = (1, 2)


def main():
    os.makedirs(OUT, exist_ok=True)
    sections = json.load(open(f"{STUDY}/report/runs.json"))
    runs = [
        {k: r[k] for k in ("dataset", "shots", "loss", "mode", "pair_key", "metrics")}
        for s in sections
        for r in s["runs"]
        if r["dataset"] in TASKS
    ]
    runs.sort(key=lambda r: (r["dataset"], r["shots"], r["loss"], r["mode"], r["pair_key"]))
    training = []
    counts = {}
    seen = set()
    settings = {}
    for path in sorted(glob.glob(f"{STUDY}/cells/*.json")):
        cell = json.load(open(path))
        if cell["status"] != "done":
            continue
        c = cell["cell"]
        task, seed = c["dataset_name"], c["split"]["seed"]
        head = cell["result"]["metrics"].get("head")
        if task in TASKS and head:
            support = [k["support"] for k in head["per_class"]]
            if support not in counts.setdefault(task, []):
                counts[task].append(support)
        curve = cell["result"].get("curve")
        if task not in CURVE_TASKS or seed not in CURVE_SEEDS or not curve:
            continue
        # one setting (the first learning rate of a swept one) per task, shots and loss
        method = (task, c["split"]["shots"], c["loss_name"])
        axes = json.dumps(cell.get("axes"), sort_keys=True)
        if settings.setdefault(method, axes) != axes or (method, seed) in seen:
            continue
        seen.add((method, seed))
        points = curve["points"]
        values = {"loss": [float("%.6g" % p["loss"]) for p in points]}
        for term in points[0]["terms"]:
            values[f"term {term}"] = [float("%.6g" % p["terms"][term]) for p in points]
        for group in points[0]["lr"]:
            values[f"lr {group}"] = [p["lr"][group] for p in points]
        values["grad norm"] = [float("%.6g" % p["grad_norm"]) for p in points]
        training.append(
            {
                "dataset": task,
                "shots": c["split"]["shots"],
                "loss": c["loss_name"],
                "steps": [float(p["step"]) for p in points],
                "values": values,
            }
        )
    training.sort(key=lambda t: (t["dataset"], t["shots"], t["loss"]))
    for name, data in (("runs", runs), ("training", training), ("class_counts", counts)):
        with open(f"{OUT}/{name}.json", "w") as f:
            json.dump(data, f, separators=(",", ":"), sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
