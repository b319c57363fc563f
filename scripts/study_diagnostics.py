#!/usr/bin/env python3
"""Training diagnostics of a results folder's records (docs/study/README.md quotes them): per
loss, the optimizer steps per shots, the median pre-clip gradient norm from step 20 on, and the
median CE term at step 10. Usage: scripts/study_diagnostics.py [RESULTS_DIR]"""
import collections
import glob
import json
import statistics
import sys

folder = sys.argv[1] if len(sys.argv) > 1 else "docs/study/results"
steps = collections.Counter()
late_norms = collections.defaultdict(list)
ce_at_10 = collections.defaultdict(list)
for path in glob.glob(f"{folder}/cells/*.json"):
    record = json.load(open(path))
    result = record.get("result") or {}
    cell = record.get("cell") or {}
    name = cell.get("loss_name")
    steps[(name, cell.get("split", {}).get("shots"), result.get("steps"))] += 1
    for point in (result.get("curve") or {}).get("points") or []:
        if point["step"] >= 20:
            late_norms[name].append(point["grad_norm"])
        if point["step"] == 10 and "ce" in point["terms"]:
            ce_at_10[name].append(point["terms"]["ce"])
print("loss, shots, steps: cells")
for key, n in sorted(steps.items(), key=str):
    print(f"  {key}: {n}")
for name in sorted(late_norms):
    print(f"{name}: median pre-clip gradient norm from step 20 on "
          f"{statistics.median(late_norms[name]):.3f} ({len(late_norms[name])} points)")
for name in sorted(ce_at_10):
    print(f"{name}: median CE term at step 10 {statistics.median(ce_at_10[name]):.4f}")
