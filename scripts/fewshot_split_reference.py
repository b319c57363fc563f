#!/usr/bin/env python3
"""Independent Python re-implementation of dmlft-data's few-shot split algorithm, written from
the module docs of crates/data/src/{rng.rs,protocol/kfold.rs,protocol/per_class.rs}.

Two uses: (1) a cross-check of the pinned indices in crates/data/tests/suite/protocol.rs and
crates/data/src/rng.rs (run this script: it prints them); (2) a way for Python baselines to
draw exactly the examples a dmlft cell trains and evaluates on. Needs only the standard library.
"""
M64 = (1 << 64) - 1
M128 = (1 << 128) - 1
PCG_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
PARTITION, SAMPLE, HOLDOUT = 1, 2, 3
HOLDOUT_SEED = 2048


def splitmix64(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


class SplitRng:
    """PCG-XSL-RR 128/64 as rand_pcg::Pcg64::new(state, stream)."""

    def __init__(self, seed, purpose, index=0):
        state = (splitmix64(seed) << 64) | splitmix64(seed ^ 0x9E3779B97F4A7C15)
        stream = purpose | (index << 64)
        self.inc = ((stream << 1) | 1) & M128
        self.state = (state + self.inc) & M128
        self._step()

    def _step(self):
        self.state = (self.state * PCG_MULTIPLIER + self.inc) & M128

    def next_u64(self):
        self._step()
        s = self.state
        rot = s >> 122
        x = ((s >> 64) ^ s) & M64
        return ((x >> rot) | (x << (64 - rot))) & M64 if rot else x

    def below(self, n):
        threshold = (1 << 64) % n
        while True:
            x = self.next_u64()
            if x >= threshold:
                return x % n

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def partial_shuffle(self, items, k):
        for i in range(k):
            j = i + self.below(len(items) - i)
            items[i], items[j] = items[j], items[i]


def fold_bounds(n, folds, fold):
    base, extra = divmod(n, folds)
    start = fold * base + min(fold, extra)
    return start, start + base + (1 if fold < extra else 0)


def quotas(total, sizes):
    m = sum(sizes)
    q = [total * c // m for c in sizes]
    left = total - sum(q)
    for k in sorted(range(len(sizes)), key=lambda k: (-(total * sizes[k] % m), k)):
        if left == 0:
            break
        if q[k] < sizes[k]:
            q[k] += 1
            left -= 1
    return q


def kfold(labels, classes, folds, fold, shots, seed, stratified=False):
    """labels: class id per pool example. Returns (train_indices, eval_indices)."""
    n = len(labels)
    order = list(range(n))
    SplitRng(seed, PARTITION).shuffle(order)
    start, end = fold_bounds(n, folds, fold)
    evaluation = sorted(order[start:end])
    candidates = sorted(order[:start] + order[end:])
    rng = SplitRng(seed, SAMPLE, fold)
    if not stratified:
        rng.partial_shuffle(candidates, shots)
        return candidates[:shots], evaluation
    groups = [[i for i in candidates if labels[i] == c] for c in range(classes)]
    drawn = []
    for group, q in zip(groups, quotas(shots, [len(g) for g in groups])):
        rng.partial_shuffle(group, q)
        drawn += group[:q]
    rng.shuffle(drawn)
    return drawn, evaluation


def per_class_no_test(labels, classes, shots, dev_shots, seed):
    """Task without an official test split; labels of the train split (= the pool)."""
    rng = SplitRng(HOLDOUT_SEED, HOLDOUT)
    held_out, rest = [], []
    for c in range(classes):
        group = [i for i, label in enumerate(labels) if label == c]
        h = (len(group) + 2) // 5
        rng.partial_shuffle(group, h)
        held_out += group[:h]
        rest += group[h:]
    held_out.sort()
    rest.sort()
    rng = SplitRng(seed, SAMPLE)
    train, dev = [], []
    for c in range(classes):
        group = [i for i in rest if labels[i] == c]
        rng.partial_shuffle(group, shots + dev_shots)
        train += group[:shots]
        dev += group[shots:shots + dev_shots]
    rng.shuffle(train)
    rng.shuffle(dev)
    return train, dev, held_out


def per_class_with_test(train_labels, classes, shots, dev_shots, seed):
    """Task with an official test split (SST2, SST5, TREC, ...): the shots are drawn from the train
    split, which comes first in the `All` pool, so the indices point into the train split as well.
    Evaluation is the whole test split. Returns (train, dev)."""
    rng = SplitRng(seed, SAMPLE)
    train, dev = [], []
    for c in range(classes):
        group = [i for i, label in enumerate(train_labels) if label == c]
        rng.partial_shuffle(group, shots + dev_shots)
        train += group[:shots]
        dev += group[shots:shots + dev_shots]
    rng.shuffle(train)
    rng.shuffle(dev)
    return train, dev


# --- what dmlft-train's run_cell does with the split (crates/train/src/{setup,train_loop}.rs) ---

# Stream ids of dmlft-data's registry (crates/data/src/rng.rs, `stream`).
EVAL_SUBSET = 0x6576616C73756273  # stream::EVAL_SUBSET ("evalsubs")
DATA_ORDER = 0x7261696E6F726465  # stream::DATA_ORDER ("rainorde"), index = epoch
HEAD_INIT = 0x68656164696E6974  # stream::HEAD_INIT ("headinit")
LOSS_INIT = 0x6C6F7373696E6974  # stream::LOSS_INIT ("lossinit")


def eval_subset(n_eval, limit, seed):
    """Positions (ascending) into the evaluation set that a cell with `eval_limit` keeps."""
    if limit is None or limit >= n_eval:
        return list(range(n_eval))
    order = list(range(n_eval))
    SplitRng(seed, EVAL_SUBSET).shuffle(order)
    return sorted(order[:limit])


def batch_order(n_train, batch_size, steps, seed):
    """Training-example positions of each optimizer step (grad_accum 1): a fresh seeded
    permutation per epoch, consecutive batches, the last partial batch of an epoch kept."""
    batches, order, cursor, epoch = [], [], 0, 0
    for _ in range(steps):
        if cursor >= len(order):
            order = list(range(n_train))
            SplitRng(seed, DATA_ORDER, epoch).shuffle(order)
            epoch += 1
            cursor = 0
        end = min(cursor + batch_size, len(order))
        batches.append(order[cursor:end])
        cursor = end
    return batches


# --- SentEval texts exactly as dmlft-data's loaders give them (crates/data/src/senteval/) ---

def _lines(path, encoding):
    """Split on '\n' only; the empty piece after a final '\n' is dropped (text_file.rs)."""
    with open(path, "rb") as f:
        text = f.read().decode(encoding)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def load_senteval(task, root):
    """{split: [(text, label)]} and label names for the tasks with an official test split that
    are single-text: sst2, sst5, trec. Texts are stripped as the Rust loaders trim them."""
    import os
    if task in ("sst2", "sst5"):
        folder = os.path.join(root, "SST", "binary" if task == "sst2" else "fine")
        splits = {}
        for split in ("train", "dev", "test"):
            rows = []
            for line in _lines(os.path.join(folder, "sentiment-" + split), "utf-8"):
                line = line.strip()
                if task == "sst2":
                    fields = line.split("\t")
                    rows.append((fields[0].strip(), int(fields[1].strip())))
                else:
                    label, text = line.split(" ", 1)
                    rows.append((text.strip(), int(label)))
            splits[split] = rows
        names = ["negative", "positive"] if task == "sst2" else [
            "very negative", "negative", "neutral", "positive", "very positive"]
        return splits, names
    if task == "trec":
        names = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
        splits = {}
        for split, file_name in (("train", "train_5500.label"), ("test", "TREC_10.label")):
            rows = []
            for line in _lines(os.path.join(root, "TREC", file_name), "latin-1"):
                coarse, rest = line.strip().split(":", 1)
                rows.append((rest.split(" ", 1)[1].strip(), names.index(coarse)))
            splits[split] = rows
        return splits, names
    raise ValueError(f"load_senteval: task {task!r} not supported here (sst2, sst5, trec)")


def cell_examples(task, root, shots, seed, eval_limit, dev_shots=0):
    """(train [(text, label)] in draw order, eval [(text, label)], label names, train indices)
    of a per-class cell, as run_cell sees them."""
    splits, names = load_senteval(task, root)
    train_labels = [label for _, label in splits["train"]]
    train_idx, _ = per_class_with_test(train_labels, len(names), shots, dev_shots, seed)
    test = splits["test"]
    keep = eval_subset(len(test), eval_limit, seed)
    return [splits["train"][i] for i in train_idx], [test[i] for i in keep], names, train_idx


if __name__ == "__main__":
    r = SplitRng(2048, SAMPLE)
    print("rng below(1000) x6, seed 2048:", [r.below(1000) for _ in range(6)])
    items = list(range(10))
    SplitRng(42, PARTITION).shuffle(items)
    print("shuffle(0..10), seed 42:", items)
    toy = [i % 3 for i in range(100)]
    train, evaluation = kfold(toy, 3, 4, 1, 6, 2048)
    print("kfold seed 2048 fold 1 shots 6:", train, evaluation[:6])
    train, _ = kfold(toy, 3, 4, 0, 6, 7, stratified=True)
    print("stratified kfold seed 7 fold 0 shots 6:", train)
    train, dev, held_out = per_class_no_test(toy, 3, 2, 1, 42)
    print("per-class seed 42 shots 2 dev 1:", train, dev, held_out[:6])
