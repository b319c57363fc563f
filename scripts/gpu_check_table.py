#!/usr/bin/env python3
"""The Markdown table of scripts/gpu-check.sh, from the files its steps leave in OUT_DIR.

    python3 scripts/gpu_check_table.py OUT_DIR            # prints the table (gpu-check.sh saves it)
    python3 scripts/gpu_check_table.py --sample OUT_DIR   # writes sample inputs first (--dry-run)

Inputs (each optional; a missing one gives "not run"):
  steps.tsv                       step, status (ok / failed / skipped: why), seconds
  env.json                        `dmlft env --json`
  gpu.txt                         `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader`
  tests.txt                       the CUDA test binary's output (libtest)
  bench/dmlft-MODEL-PREC.json     bench_model --json rows (PREC f32 / bf16)
  bench/torch-MODEL-PREC.json     scripts/bench/model_torch.py --json rows
  cell-PREC/cells/*.json          the dmlft result record of the end-to-end cell
Standard library only: it runs where PyTorch may be missing.
"""
import json
import pathlib
import re
import sys

MODELS = [("minilm", "all-MiniLM-L6-v2"), ("base", "RoBERTa-base shape"), ("large", "RoBERTa-large shape")]
PRECISIONS = ["f32", "bf16"]


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def first_row(path):
    rows = load_json(path)
    if isinstance(rows, list) and rows:
        return rows[0]
    return None


def ms(v):
    return f"{v:.1f} ms" if isinstance(v, (int, float)) else "n/a"


def ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return f"{a / b:.2f}"
    return "-"


def steps_status(out):
    status = {}
    path = out / "steps.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 3:
                status[parts[0]] = (parts[1], parts[2])
    return status


def tests_summary(out):
    path = out / "tests.txt"
    if not path.exists():
        return None
    text = path.read_text(errors="replace")
    results = re.findall(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", text, re.M)
    passed = sum(1 for _, r in results if r == "ok")
    failed = [name for name, r in results if r == "FAILED"]
    return passed, len(results), failed


def header(out):
    gpu = (out / "gpu.txt").read_text().strip() if (out / "gpu.txt").exists() else "GPU unknown"
    env = load_json(out / "env.json") or {}
    commit = str(env.get("git_commit", "unknown"))[:12]
    return (f"GPU: {gpu}; dmlft {env.get('dmlft_version', '?')} (git {commit}), "
            f"burn {env.get('burn_version', '?')}")


def table(out):
    status = steps_status(out)
    rows = ["| check | precision | dmlft (burn-cuda) | PyTorch | dmlft / PyTorch | result |",
            "| --- | --- | ---: | ---: | ---: | --- |"]
    tests = tests_summary(out)
    if tests is None:
        st = status.get("tests", ("not run", ""))[0]
        rows.append(f"| parity tests (model, losses, AdamW, cell, half precision) | f32, f16, bf16 | - | - | - | {st} |")
    else:
        passed, total, failed = tests
        verdict = "ok" if total and not failed else "FAILED: " + ", ".join(failed) if failed else "no tests ran"
        rows.append(f"| parity tests (model, losses, AdamW, cell, half precision) | f32, f16, bf16 | "
                    f"{passed}/{total} passed | - | - | {verdict} |")
    for key, label in MODELS:
        for prec in PRECISIONS:
            d = first_row(out / "bench" / f"dmlft-{key}-{prec}.json")
            t = first_row(out / "bench" / f"torch-{key}-{prec}.json")
            st = status.get(f"bench-{key}-{prec}", ("not run", ""))[0]
            torch_prec = "autocast bf16" if prec == "bf16" else "f32"
            for mode, name in [("train", "train step"), ("infer", "inference")]:
                batch = (d or t or {}).get(f"{mode}_batch", "?")
                seq = (d or t or {}).get("seq", 64)
                dv = (d or {}).get(f"{mode}_ms")
                tv = (t or {}).get(f"{mode}_ms")
                result = "ok" if d else st
                rows.append(f"| {label} {name} b{batch}x{seq} | {prec} (torch {torch_prec}) | {ms(dv)} | {ms(tv)} | "
                            f"{ratio(dv, tv)} | {result} |")
    for prec in PRECISIONS:
        records = sorted((out / f"cell-{prec}" / "cells").glob("*.json")) if (out / f"cell-{prec}").exists() else []
        record = load_json(records[0]) if records else None
        st = status.get(f"cell-{prec}", ("not run", ""))[0]
        label = "paper-2211.15195 cell (synthetic RoBERTa-large, SST2 fold 0, CE + SoftTriple)"
        if record and record.get("result"):
            r = record["result"]
            t = r["timings"]
            acc = r["metrics"].get("head", {}).get("accuracy", float("nan"))
            rows.append(f"| {label} | {prec} | {r['steps']} steps: train {t['train_s']:.1f} s, eval {t['eval_s']:.1f} s "
                        f"({r['eval_size']} sentences), total {t['total_s']:.1f} s | - | - | "
                        f"{record.get('status', '?')}: final loss {r['final_loss']:.4f}, head accuracy {acc:.3f} (random weights) |")
        else:
            why = (record or {}).get("error") or st
            rows.append(f"| {label} | {prec} | - | - | - | {why} |")
    return header(out) + "\n\n" + "\n".join(rows) + "\n"


def write_sample(out):
    """Inputs of the shape the real steps write, with made-up numbers: exercises this script."""
    (out / "bench").mkdir(parents=True, exist_ok=True)
    (out / "gpu.txt").write_text("SAMPLE GPU, 0.0, 0 MiB\n")
    (out / "env.json").write_text(json.dumps({"dmlft_version": "0.0.0", "git_commit": "sample", "burn_version": "0.21.0"}))
    (out / "tests.txt").write_text("test encoder::tiny_bert ... ok\ntest losses::every_loss ... ok\n")
    for key, _ in MODELS:
        for i, prec in enumerate(PRECISIONS):
            row = dict(seq=64, infer_batch=64, train_batch=20, train_ms=10.0 + i, infer_ms=5.0 + i)
            (out / "bench" / f"dmlft-{key}-{prec}.json").write_text(json.dumps([row]))
            (out / "bench" / f"torch-{key}-{prec}.json").write_text(json.dumps([dict(row, train_ms=8.0, infer_ms=4.0)]))
    cell = out / "cell-f32" / "cells"
    cell.mkdir(parents=True, exist_ok=True)
    (cell / "sample.json").write_text(json.dumps({"status": "done", "result": {
        "steps": 120, "eval_size": 2000, "final_loss": 0.7, "metrics": {"head": {"accuracy": 0.5}},
        "timings": {"train_s": 1.0, "eval_s": 1.0, "total_s": 2.5}}}))
    (out / "steps.tsv").write_text("cell-bf16\tskipped: sample\t0\n")


def main(argv):
    args = [a for a in argv if a != "--sample"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out = pathlib.Path(args[0])
    if "--sample" in argv:
        write_sample(out)
    sys.stdout.write(table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
