#!/usr/bin/env python3
"""Regenerates the fixtures of "the authors' samples" (crates/data/tests/fixtures/authors/):

- numpy_random_state.json: NumPy's legacy MT19937 `RandomState` seen from outside: the state
  words after seeding, raw 32-bit draws, bounded integers (`randint`) for ranges around powers of
  two, `shuffle`, `permutation` and `choice(replace=False)` for several sizes, and one long
  sequence of mixed calls on a single generator.
- newline_tokens.json: what transformers' RobertaTokenizerFast (on the tiny byte-level BPE of
  crates/data/tests/fixtures/tokenizers/roberta-bpe) makes of the authors' raw texts: the " \n"
  that `readlines()` keeps, SST-2's trailing space, MRPC's merged "nan" pairs. dmlft's tokenizer
  must give the same ids, i.e. keep the newline as a token.
- authors_samples.json: the exact few-shot samples of the papers' code (wsosnowski/dml_bert and
  sewerynkarolina/TripleEntropy share `utils/load_dataset.py` and the sampling code) for all seven
  tasks: the pool (its size, class counts, a hash of its texts in load order), the pool order
  after `sklearn.utils.shuffle(df, random_state=S)`, every `KFold(shuffle=True)` held-out fold,
  and the training rows of every fold drawn by `np.random.choice(train_index, n, replace=False)`
  in the global NumPy sequence of `train_cross_validation.py`.

The pools are rebuilt here from SentEval's files and the two files in ../shared/datasets/authors
exactly as the authors' `data/` folder held them (GLUE's SST-2 train.tsv, GLUE's MRPC train.tsv,
the HF `trec` train split), then read by a copy of the authors' `prepare_dataset`; nothing here
uses dmlft. Two unavoidable substitutions, both checked below:
- TREC: `datasets.load_dataset('trec')` needs the network; `authors/TREC/trec.tsv` is that split.
- pandas >= 2 removed `error_bad_lines=False` (-> `on_bad_lines='skip'`) and reads text as the
  new string dtype, on which `.astype(str)` keeps NaN; `future.infer_string = False` restores the
  object columns of pandas 1.5 (the authors' pin), where NaN became the text "nan".

Run:  DMLFT_SENTEVAL_DIR=../shared/datasets/senteval DMLFT_AUTHORS_DIR=../shared/datasets/authors \
      /work/.pyref/bin/python scripts/make_authors_sample_fixtures.py
"""
import hashlib
import json
import os
import pathlib
import shutil
import tempfile

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from sklearn.utils import shuffle

pd.set_option("future.infer_string", False)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/data/tests/fixtures/authors"
SENTEVAL = pathlib.Path(
    os.environ.get("DMLFT_SENTEVAL_DIR", ROOT.parent / "shared/datasets/senteval")
)
AUTHORS = pathlib.Path(os.environ.get("DMLFT_AUTHORS_DIR", SENTEVAL.parent / "authors"))

TASKS = ["mr", "cr", "subj", "mpqa", "sst2", "trec", "mrpc"]
# pandas 1.5's default NA strings (pandas 2 added "None"); no field of the pools may be "None",
# so that the pandas running this script and the authors' pandas agree.
PANDAS_15_NA = {
    "-1.#IND", "1.#QNAN", "1.#IND", "-1.#QNAN", "#N/A N/A", "#N/A", "N/A", "n/a", "NA",
    "<NA>", "#NA", "NULL", "null", "NaN", "-NaN", "nan", "-nan", "",
}


def sha256_text(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_ints(values):
    """sha256 of the decimal numbers joined by ","; the Rust tests hash the same way."""
    return sha256_text(",".join(str(int(v)) for v in values))


# ----------------------------------------------------------------------------------------------
# The authors' data/ folder, rebuilt from SentEval + the two authors' files.


def format_mrpc_train(senteval_mrpc, dev_ids_file, out_file):
    """GLUE's download_glue_data.py `format_mrpc`, train part: SentEval's train file minus the
    408 dev pairs, each row re-joined from `row.strip().split('\\t')`; the header (with its BOM)
    copied as read."""
    dev_ids = []
    with open(dev_ids_file, encoding="utf-8") as ids_fh:
        for row in ids_fh:
            dev_ids.append(row.strip().split("\t"))
    kept = 0
    with open(senteval_mrpc, encoding="utf-8") as data_fh, open(
        out_file, "w", encoding="utf-8"
    ) as train_fh:
        header = data_fh.readline()
        train_fh.write(header)
        for row in data_fh:
            label, id1, id2, s1, s2 = row.strip().split("\t")
            if [id1, id2] not in dev_ids:
                train_fh.write("%s\t%s\t%s\t%s\t%s\n" % (label, id1, id2, s1, s2))
                kept += 1
    assert kept == 3668, kept


def build_data_folder(data):
    for task, names in [
        ("MR", ["rt-polarity.neg", "rt-polarity.pos"]),
        ("CR", ["custrev.neg", "custrev.pos"]),
        ("SUBJ", ["subj.objective", "subj.subjective"]),
        ("MPQA", ["mpqa.neg", "mpqa.pos"]),
    ]:
        (data / task).mkdir(parents=True)
        for name in names:
            shutil.copyfile(SENTEVAL / task / name, data / task / name)
    # GLUE's SST-2 train.tsv: a `sentence<TAB>label` header over SentEval's sentiment-train lines.
    (data / "SST-2").mkdir()
    with open(data / "SST-2/train.tsv", "wb") as out:
        out.write(b"sentence\tlabel\n")
        out.write((SENTEVAL / "SST/binary/sentiment-train").read_bytes())
    (data / "MRPC").mkdir()
    format_mrpc_train(
        SENTEVAL / "MRPC/msr_paraphrase_train.txt",
        AUTHORS / "MRPC/dev_ids.tsv",
        data / "MRPC/train.tsv",
    )
    (data / "TREC").mkdir()
    shutil.copyfile(AUTHORS / "TREC/trec.tsv", data / "TREC/trec.tsv")


def load_trec_train(path):
    """What `datasets.load_dataset('trec')['train']` yields: (label-coarse, text) in file order."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            text, coarse = line.rstrip("\n").rsplit("\t", 1)
            rows.append({"label-coarse": int(coarse), "text": text})
    return rows


# ----------------------------------------------------------------------------------------------
# The authors' utils/load_dataset.py `prepare_dataset`, kept line for line (run inside data/'s
# parent folder), with the two substitutions of the module docstring.


def prepare_dataset(dataset="sst2", seed=42):
    if dataset == "sst2":
        df = pd.read_csv("data/SST-2/train.tsv", sep="\t")
    elif dataset == "trec":
        dataset = {"train": load_trec_train("data/TREC/trec.tsv")}
        df = pd.DataFrame(
            list(
                zip(
                    [(eval["label-coarse"]) for eval in dataset["train"]],
                    [(eval["text"]) for eval in dataset["train"]],
                )
            ),
            columns=["label", "sentence"],
        )
    elif dataset in ("mr", "cr", "mpqa", "subj"):
        folder, neg, pos = {
            "mr": ("MR", "rt-polarity.neg", "rt-polarity.pos"),
            "cr": ("CR", "custrev.neg", "custrev.pos"),
            "mpqa": ("MPQA", "mpqa.neg", "mpqa.pos"),
            "subj": ("SUBJ", "subj.objective", "subj.subjective"),
        }[dataset]
        d = []
        with open(f"data/{folder}/{neg}", "r") as f:
            for elem in f.readlines():
                d.append({"sentence": elem, "label": 0})
        with open(f"data/{folder}/{pos}", "r") as f:
            for elem in f.readlines():
                d.append({"sentence": elem, "label": 1})
        df = pd.DataFrame(d)
    elif dataset == "mrpc":
        df = pd.read_csv("data/MRPC/train.tsv", sep="\t", on_bad_lines="skip")
        df = df.rename(
            columns={"Quality": "label", "#1 String": "question", "#2 String": "sentence"}
        )
        df["question"] = df["question"].astype(str)
        df["sentence"] = df["sentence"].astype(str)
    else:
        raise ValueError(f"Cannot load the dataset: {dataset}.")
    df = shuffle(df, random_state=seed)
    return df


# ----------------------------------------------------------------------------------------------
# Fixtures


def pool_rows(df):
    """The pool in load order (before the shuffle) as (label, text, text_pair)."""
    ordered = df.sort_index()
    assert list(ordered.index) == list(range(len(df)))
    pair = "question" in df.columns
    rows = []
    for _, r in ordered.iterrows():
        if pair:
            rows.append((int(r["label"]), r["question"], r["sentence"]))
        else:
            rows.append((int(r["label"]), r["sentence"], None))
    return rows


def pool_digest(rows):
    """sha256 over every row: label \\x1f text \\x1f pair (empty when none) \\x1e."""
    parts = []
    for label, text, pair in rows:
        assert isinstance(text, str) and (pair is None or isinstance(pair, str))
        for field in (text, pair or ""):
            assert field.strip() not in ("None",), field
        parts.append(f"{label}\x1f{text}\x1f{pair or ''}\x1e")
    return sha256_text("".join(parts))


def authors_folds(df, n_split, seed, sample_size):
    """train_cross_validation.py's sampling, with the global NumPy calls in their order:
    `np.random.seed(seed)` at the start; per fold the training Dataset's `np.random.choice`, then
    `set_seed(seed)` and HF `Trainer.__init__`'s `set_seed(42)` (TrainingArguments.seed default).
    Training itself draws nothing from NumPy."""
    np.random.seed(seed)
    kf = KFold(n_splits=n_split, random_state=seed, shuffle=True)
    folds = []
    for fold_id, (train_index, valid_index) in enumerate(kf.split(df)):
        index = np.random.choice(train_index, sample_size, replace=False)
        np.random.seed(seed)  # utils.training.set_seed(seed) before the Trainer
        np.random.seed(42)  # Trainer.__init__: set_seed(args.seed), TrainingArguments.seed = 42
        assert list(valid_index) == sorted(valid_index)
        folds.append(
            {
                "fold": fold_id,
                "test_size": len(valid_index),
                "test_head": [int(i) for i in valid_index[:5]],
                "test_sha256": sha256_ints(valid_index),
                "train_iloc": [int(i) for i in index],
                "train_rows": [int(df.index[i]) for i in index],
            }
        )
    return folds


CONFIGS = (
    # the papers' settings (n_split 4, seed 2048, sample 20), both shuffle seeds, every task
    [(t, s, 4, 2048, 20) for t in TASKS for s in (42, 2048)]
    # other seeds, fold counts and sample sizes
    + [
        ("mr", 42, 5, 1, 8),
        ("cr", 42, 40, 2048, 20),  # the README's `--n-split 40`
        ("trec", 42, 10, 7, 50),
        ("sst2", 2048, 3, 0, 64),
        ("mrpc", 42, 2, 4294967295, 20),
        ("subj", 7, 4, 123, 100),
    ]
)


def authors_samples():
    with tempfile.TemporaryDirectory() as tmp:
        build_data_folder(pathlib.Path(tmp) / "data")
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            pools, samples = {}, []
            for task, shuffle_seed, n_split, seed, sample_size in CONFIGS:
                df = prepare_dataset(task, shuffle_seed)
                if task not in pools:
                    rows = pool_rows(df)
                    counts = np.bincount([r[0] for r in rows]).tolist()
                    pools[task] = {
                        "size": len(rows),
                        "class_counts": counts,
                        "sha256": pool_digest(rows),
                        "first_rows": [list(r) for r in rows[:3]],
                        "last_rows": [list(r) for r in rows[-2:]],
                    }
                order = [int(i) for i in df.index]
                samples.append(
                    {
                        "task": task,
                        "shuffle_seed": shuffle_seed,
                        "n_split": n_split,
                        "seed": seed,
                        "sample_size": sample_size,
                        "pool_order_head": order[:10],
                        "pool_order_sha256": sha256_ints(order),
                        "folds": authors_folds(df, n_split, seed, sample_size),
                    }
                )
        finally:
            os.chdir(cwd)
    # Facts stated in the reference notes (§1.3a): checked so a changed input file is noticed here.
    assert pools["mrpc"]["size"] == 3549 and pools["mrpc"]["class_counts"] == [1155, 2394]
    assert pools["trec"]["class_counts"] == [1162, 1250, 86, 1223, 896, 835]
    assert pools["sst2"]["size"] == 67349
    return {"pools": pools, "samples": samples}


def numpy_random_state():
    out = {"seeding": [], "raw": [], "randint": [], "shuffle": [], "permutation": [], "choice": []}
    for seed in (0, 1, 42, 2048, 5489, 4294967295):
        key = np.random.RandomState(seed).get_state()[1]
        out["seeding"].append(
            {"seed": seed, "key_head": [int(k) for k in key[:4]], "key_623": int(key[623])}
        )
        draws = np.random.RandomState(seed).randint(0, 2**32, size=8, dtype=np.uint64)
        out["raw"].append({"seed": seed, "draws": [int(d) for d in draws]})
    highs = [1, 2, 3, 5, 7, 8, 9, 10, 100, 1000, 2**31 - 1, 2**31, 2**31 + 1]
    highs += [2**32 - 1, 2**32, 2**32 + 1, 2**33 + 5, 2**40, 2**62 + 12345]
    for seed in (0, 42, 2048):
        for high in highs:
            draws = np.random.RandomState(seed).randint(0, high, size=6)
            out["randint"].append({"seed": seed, "high": high, "draws": [int(d) for d in draws]})
    sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129]
    sizes += [255, 256, 257, 1000, 1023, 1024, 1025, 65535, 65536, 65537]
    for seed in (42, 2048):
        for n in sizes:
            a = np.arange(n)
            np.random.RandomState(seed).shuffle(a)
            perm = np.random.RandomState(seed).permutation(n)
            for name, values in (("shuffle", a), ("permutation", perm)):
                entry = {"seed": seed, "n": n, "sha256": sha256_ints(values)}
                if n <= 33:
                    entry["values"] = [int(v) for v in values]
                else:
                    entry["head"] = [int(v) for v in values[:8]]
                out[name].append(entry)
    for seed, n, k in [(2048, 7996, 20), (42, 7996, 20), (42, 10, 10), (1, 5, 0), (7, 3000, 64)]:
        population = np.arange(n) * 3 + 1
        picked = np.random.RandomState(seed).choice(population, k, replace=False)
        out["choice"].append(
            {"seed": seed, "population": "3 * i + 1 for i < n", "n": n, "k": k,
             "values": [int(v) for v in picked]}
        )
    # One generator through a mixed sequence: state carries over between calls.
    rs = np.random.RandomState(2048)
    seq = []
    a = np.arange(50)
    rs.shuffle(a)
    seq.append({"op": "shuffle", "n": 50, "values": [int(v) for v in a]})
    seq.append({"op": "randint", "high": 1000, "values": [int(v) for v in rs.randint(0, 1000, size=5)]})
    seq.append({"op": "randint", "high": 2**40, "values": [int(v) for v in rs.randint(0, 2**40, size=3)]})
    seq.append({"op": "permutation", "n": 20, "values": [int(v) for v in rs.permutation(20)]})
    seq.append({"op": "raw", "values": [int(v) for v in rs.randint(0, 2**32, size=4, dtype=np.uint64)]})
    out["sequence"] = {"seed": 2048, "ops": seq}
    return out


NEWLINE_TEXTS = [
    ("simplistic , silly and tedious . \n", None),
    ("\n", None),
    ("complaining \n", None),
    ("simplistic , silly and tedious .", None),
    ("hide new secretions from the parental units ", None),
    ("the film is a mess \t of ideas \n and more", "nan"),
]


def newline_tokens():
    from transformers import RobertaTokenizerFast

    bpe_dir = ROOT / "crates/data/tests/fixtures/tokenizers/roberta-bpe"
    tokenizer = RobertaTokenizerFast.from_pretrained(str(bpe_dir))
    newline = tokenizer.convert_tokens_to_ids("\u010a")  # byte-level BPE's "\n"
    cases = []
    for text, pair in NEWLINE_TEXTS:
        ids = tokenizer(text, pair, truncation=True, max_length=64)["input_ids"]
        if text.endswith("\n"):
            # The newline is a token of its own, just before </s>.
            assert ids[-2] == newline, (text, ids)
        cases.append({"text": text, "text_pair": pair, "max_length": 64, "input_ids": ids})
    return {"newline_id": newline, "cases": cases}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "newline_tokens.json").write_text(json.dumps(newline_tokens(), indent=1) + "\n")
    (OUT / "numpy_random_state.json").write_text(json.dumps(numpy_random_state(), indent=1) + "\n")
    (OUT / "authors_samples.json").write_text(json.dumps(authors_samples(), indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
