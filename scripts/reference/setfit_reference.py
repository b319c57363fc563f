#!/usr/bin/env python3
"""SetFit (the `setfit` package, https://github.com/huggingface/setfit) on all-MiniLM-L6-v2 with
its default TrainingArguments, on exactly the per-class few-shot samples a dmlft cell draws, and
evaluated on the full official test split. The reference side of dmlft's SetFit parity table.

One JSON line per (dataset, shots, seed) is appended to --output; runs already there are skipped
(checked before each run), so an interrupted sweep resumes where it stopped and processes given
disjoint --seeds can share one output file.

What is dmlft's: the sample (scripts/fewshot_split_reference.py re-implements dmlft-data's
per-class sampler; `--check-dmlft BIN` compares it with `dmlft data sample --json`) and the texts
as dmlft's SentEval loaders read them. What is SetFit's: everything else, with its defaults
(pairs from `sampling_strategy="oversampling"`, CosineSimilarityLoss, batch 16, 1 epoch, lr 2e-5,
warmup 0.1, scikit-learn LogisticRegression() head); only `seed` is set, to the cell seed.

The body is built as the upstream sentence-transformers/all-MiniLM-L6-v2 declares in its
modules.json: Transformer (max_seq_length 256) -> mean Pooling -> Normalize. The model folder that
scripts/fetch-model.sh writes holds only the Hugging Face files, and loading it by path would give
Transformer (max 512) -> mean Pooling without Normalize, so the modules are assembled here.

usage: setfit_reference.py [--datasets sst2,trec] [--shots 8,16] [--seeds 1-10] [--threads 1]
                           [--output FILE] [--data-dir DIR] [--model-dir DIR] [--check-dmlft BIN]
       setfit_reference.py --summary [--output FILE]   (markdown table of the runs in FILE)
Run it under `nice -n 10`; each process uses --threads threads (torch, BLAS, OpenMP).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
import fewshot_split_reference as ref  # noqa: E402

DATASETS = ("sst2", "trec")
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of sentence-transformers/all-MiniLM-L6-v2


def fail(message):
    sys.stderr.write(f"setfit_reference: {message}\n")
    sys.exit(1)


def int_list(text, name):
    """'8,16' or '1-10' or '1-3,7' -> [ints]."""
    values = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                values += range(lo, hi + 1)
            else:
                values.append(int(part))
        except ValueError:
            fail(f"--{name}: {part!r} is not an integer or a range LO-HI (e.g. 1-10)")
    if not values or min(values) < 0:
        fail(f"--{name}: give non-negative integers, e.g. 1-10 or 8,16")
    return values


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="sst2,trec")
    p.add_argument("--shots", default="8,16")
    p.add_argument("--seeds", default="1-10")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output", default=os.path.join(HERE, "results", "setfit-minilm.jsonl"))
    p.add_argument("--data-dir", default=os.environ.get(
        "DMLFT_SENTEVAL_DIR", os.path.join(ROOT, "..", "shared", "datasets", "senteval")))
    p.add_argument("--model-dir", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    p.add_argument("--check-dmlft", metavar="BIN",
                   help="only compare the samples with `BIN data sample --json` and exit")
    p.add_argument("--summary", action="store_true",
                   help="only print a markdown table of the runs in --output and exit")
    a = p.parse_args()
    if a.summary:
        return a
    a.datasets = [d.strip() for d in a.datasets.split(",")]
    for d in a.datasets:
        if d not in DATASETS:
            fail(f"--datasets: {d!r} is not supported; valid: {', '.join(DATASETS)}")
    a.shots = int_list(a.shots, "shots")
    a.seeds = int_list(a.seeds, "seeds")
    if a.threads < 1:
        fail(f"--threads: {a.threads} must be at least 1")
    if not os.path.isdir(os.path.join(a.data_dir, "SST")):
        fail(f"--data-dir: {a.data_dir} is not a SentEval root (no SST/ inside); "
             "set DMLFT_SENTEVAL_DIR or run scripts/fetch-senteval.sh")
    return a


def check_dmlft(args, samples):
    """Every (dataset, shots, seed): same train indices, texts and labels as dmlft's sampler."""
    bad = 0
    for (dataset, shots, seed), (train, names, indices) in samples.items():
        cmd = [args.check_dmlft, "data", "sample", dataset, "--protocol", "per-class", "--shots",
               str(shots), "--seed", str(seed), "--data-dir", args.data_dir, "--json"]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
        theirs = [(r["index"], r["text"], r["label"]) for r in json.loads(out.stdout)["train"]]
        ours = [(i, text, names[label]) for i, (text, label) in zip(indices, train)]
        same = theirs == ours
        bad += not same
        print(f"{dataset} shots {shots} seed {seed}: {len(ours)} examples, "
              f"{'same as dmlft' if same else 'DIFFERENT from dmlft'}")
    if bad:
        fail(f"{bad} sample(s) differ from dmlft's")


def done_runs(path):
    keys = set()
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                    keys.add((r["dataset"], r["shots"], r["seed"]))
                except (json.JSONDecodeError, KeyError) as e:
                    fail(f"{path}:{n}: not a result line of this script ({e})")
    return keys


def build_body(model_dir):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    if not os.path.isfile(os.path.join(model_dir, "model.safetensors")):
        fail(f"--model-dir: {model_dir} has no model.safetensors; run scripts/fetch-model.sh")
    word = Transformer(model_dir, max_seq_length=MAX_SEQ_LENGTH)
    pooling = Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    return SentenceTransformer(modules=[word, pooling, Normalize()], device="cpu")


def run_one(args, dataset, shots, seed, train, test, indices):
    import numpy as np
    import setfit
    import torch
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from sklearn.linear_model import LogisticRegression

    body = build_body(args.model_dir)
    # SetFitModel.from_pretrained builds the head as LogisticRegression(**head_params), {} by default.
    model = SetFitModel(model_body=body, model_head=LogisticRegression())
    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(output_dir=tmp, seed=seed, report_to="none",
                                  save_strategy="no", show_progress_bar=False)
        train_ds = Dataset.from_dict({"text": [t for t, _ in train], "label": [lab for _, lab in train]})
        trainer = Trainer(model=model, args=targs, train_dataset=train_ds)
        t0 = time.perf_counter()
        trainer.train_embeddings(*trainer.dataset_to_parameters(train_ds), args=targs)
        t1 = time.perf_counter()
        trainer.train_classifier(*trainer.dataset_to_parameters(train_ds), args=targs)
        t2 = time.perf_counter()
        n_pairs = len(trainer.st_trainer.train_dataset)
        steps = int(trainer.st_trainer.state.global_step)
    y_pred = np.asarray(model.predict([t for t, _ in test], use_labels=False))
    t3 = time.perf_counter()
    y_true = np.asarray([lab for _, lab in test])
    correct = int((y_pred == y_true).sum())
    import sentence_transformers
    import sklearn
    import transformers
    return {
        "dataset": dataset, "shots": shots, "seed": seed,
        "accuracy": correct / len(test), "n_correct": correct, "n_eval": len(test),
        "n_train": len(train), "n_pairs": n_pairs, "steps": steps,
        "head_iterations": int(np.max(model.model_head.n_iter_)),
        "body_seconds": round(t1 - t0, 2), "head_seconds": round(t2 - t1, 2),
        "train_seconds": round(t2 - t0, 2), "eval_seconds": round(t3 - t2, 2),
        "threads": args.threads, "train_indices": indices,
        "setfit_args": {"seed": seed, "batch_size": list(targs.batch_size),
                        "num_epochs": list(targs.num_epochs),
                        "body_learning_rate": list(targs.body_learning_rate),
                        "sampling_strategy": targs.sampling_strategy,
                        "num_iterations": targs.num_iterations,
                        "warmup_proportion": targs.warmup_proportion,
                        "l2_weight": targs.l2_weight, "head": "LogisticRegression()"},
        "body": f"Transformer(max_seq_length={MAX_SEQ_LENGTH}) + mean Pooling + Normalize",
        "versions": {"setfit": setfit.__version__,
                     "sentence_transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "torch": torch.__version__,
                     "sklearn": sklearn.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def summary(path):
    """Per (dataset, shots): runs, mean accuracy, sample std (ddof 1) and its standard error,
    SetFit's own std (numpy default ddof 0, as its scripts/create_summary_table.py reports), and
    the mean seconds per run."""
    import statistics
    if not os.path.exists(path):
        fail(f"--summary: {path} does not exist")
    groups, seen = {}, set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                r = json.loads(line)
                key = (r["dataset"], r["shots"], r["seed"])
                if key in seen:
                    sys.stderr.write(f"{path}:{n}: {key} again; the first line counts\n")
                    continue
                seen.add(key)
                groups.setdefault((r["dataset"], r["shots"]), []).append(r)
    print("| dataset | shots/class | runs | accuracy % (mean ± std) | std. error | std (ddof 0) "
          "| train s/run | eval s/run |")
    print("|---|---|---|---|---|---|---|---|")
    for (dataset, shots), runs in sorted(groups.items()):
        acc = [100 * r["accuracy"] for r in runs]
        sd = statistics.stdev(acc) if len(acc) > 1 else float("nan")
        print(f"| {dataset} | {shots} | {len(acc)} | {statistics.mean(acc):.2f} ± {sd:.2f} | "
              f"{sd / len(acc) ** 0.5:.2f} | {statistics.pstdev(acc):.2f} | "
              f"{statistics.mean(r['train_seconds'] for r in runs):.0f} | "
              f"{statistics.mean(r['eval_seconds'] for r in runs):.0f} |")


def main():
    args = parse_args()
    if args.summary:
        summary(args.output)
        return
    samples, tests = {}, {}
    for dataset in args.datasets:
        splits, names = ref.load_senteval(dataset, args.data_dir)
        tests[dataset] = splits["test"]
        labels = [lab for _, lab in splits["train"]]
        for shots in args.shots:
            for seed in args.seeds:
                idx, _ = ref.per_class_with_test(labels, len(names), shots, 0, seed)
                samples[(dataset, shots, seed)] = ([splits["train"][i] for i in idx], names, idx)
    if args.check_dmlft:
        check_dmlft(args, samples)
        return

    # Thread counts must be set before numpy/torch/sklearn start their pools.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    torch.set_num_threads(args.threads)

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    for (dataset, shots, seed), (train, names, idx) in samples.items():
        # Read again before every run, so that several processes can share one output file.
        if (dataset, shots, seed) in done_runs(args.output):
            print(f"{dataset} shots {shots} seed {seed}: already in {args.output}, skipped")
            continue
        record = run_one(args, dataset, shots, seed, train, tests[dataset], idx)
        with open(args.output, "a") as f:
            f.write(json.dumps(record) + "\n")
        print(f"{dataset} shots {shots} seed {seed}: accuracy {record['accuracy']:.4f}, "
              f"{record['n_pairs']} pairs, train {record['train_seconds']} s, "
              f"eval {record['eval_seconds']} s", flush=True)


if __name__ == "__main__":
    main()
