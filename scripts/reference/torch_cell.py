#!/usr/bin/env python3
"""PyTorch reference of one dmlft cell: reads the same CellSpec JSON as
`cargo run -p dmlft-train --example run_cell -- cell.json` and runs the same protocol with
transformers + pytorch-metric-learning, printing the same JSON fields (metrics per inference
mode with `accuracy`, train/eval sizes, steps, final loss, timings).

What is the same as dmlft (crates/train/src): the few-shot sample, the eval subset and the
per-epoch data order (SplitRng re-implemented in scripts/fewshot_split_reference.py); the
tokenizer (the model folder's tokenizer.json, pad to the longest of the batch, truncate to
max_length); the head (BERT family: pooler.dense -> tanh -> dropout -> classifier, reading the
first token or the masked mean of the token states); `ce_weight * CE + sum weight_i * DML_i`
with SoftTriple on all token states (padding included); three AdamW groups (encoder, head =
pooler.dense + classifier, loss parameters) with torch's AdamW; clip_grad_norm_ over all of
them; transformers' get_{cosine,linear,constant}_schedule_with_warmup stepped after each
optimizer step (so the first step runs at lr 0 with warmup).

What cannot be the same: the new classifier weights (normal(0, initializer_range), torch RNG)
and the SoftTriple centers (PML's kaiming_uniform, torch RNG), and dropout masks. These are
seeded with the cell seed but drawn from a different generator than dmlft's: the two runs of a
seed start from different points, which is seed-to-seed noise, not an implementation difference.
`--init-check DIR` removes it: it loads the untrained classifier and the loss parameters that
`run_cell --init-check DIR` saved and prints the first batch's objective with dropout off,
which must agree with dmlft's to float precision.

usage: torch_cell.py CELL.json [--threads N] [--init-check DIR | --init-from DIR]
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fewshot_split_reference as ref  # noqa: E402

import torch  # noqa: E402
from pytorch_metric_learning.losses import SoftTripleLoss  # noqa: E402
from transformers import (AutoModel, AutoTokenizer, get_constant_schedule_with_warmup,  # noqa: E402
                          get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup)


def fail(message):
    sys.stderr.write(f"torch_cell: {message}\n")
    sys.exit(1)


class Classifier(torch.nn.Module):
    """Encoder + dmlft's BERT-family head (crates/model/src/head.rs): dense -> tanh -> dropout ->
    out_proj, reading the first token or the masked mean (crates/model/src/pooling.rs)."""

    def __init__(self, model_dir, num_labels, pooling, dropout):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(model_dir, attn_implementation="eager")
        config = self.encoder.config
        if config.model_type != "bert":
            fail(f"model type {config.model_type!r}: this reference implements the BERT-family head only")
        if dropout is not None:
            config.hidden_dropout_prob = config.attention_probs_dropout_prob = dropout
            for m in self.encoder.modules():
                if isinstance(m, torch.nn.Dropout):
                    m.p = dropout
        # The pooler's dense layer is the head's first layer; the encoder itself stops before it.
        self.dense = self.encoder.pooler.dense
        self.encoder.pooler = None
        head_dropout = getattr(config, "classifier_dropout", None)
        self.dropout = torch.nn.Dropout(head_dropout if head_dropout is not None else config.hidden_dropout_prob)
        self.out_proj = torch.nn.Linear(config.hidden_size, num_labels)
        torch.nn.init.normal_(self.out_proj.weight, std=config.initializer_range)
        torch.nn.init.zeros_(self.out_proj.bias)
        self.pooling = pooling

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        if self.pooling == "first":
            sentence = states[:, 0]
        else:
            mask = attention_mask.unsqueeze(2).to(states.dtype)
            sentence = (states * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
        logits = self.out_proj(self.dropout(torch.tanh(self.dense(sentence))))
        return states, sentence, logits

    def head_parameters(self):
        return list(self.dense.parameters()) + list(self.out_proj.parameters())


class Objective(torch.nn.Module):
    """ce_weight * CE + sum weight_i * DML_i (crates/losses/src/objective.rs); SoftTriple only."""

    def __init__(self, spec, num_classes, hidden):
        super().__init__()
        if spec.get("label_smoothing", 0.0) != 0.0:
            fail("objective.label_smoothing != 0 is not implemented in the reference")
        self.ce_weight = spec["ce_weight"]
        self.terms = torch.nn.ModuleList()
        self.weights, self.names = [], []
        for i, term in enumerate(spec["dml"]):
            loss = term["loss"]
            if loss["kind"] != "soft-triple" or loss.get("tau", 0.0) != 0.0:
                fail(f"objective.dml[{i}]: only soft-triple with tau 0 is implemented in the reference")
            if term.get("embeddings", "all-tokens") != "all-tokens":
                fail(f"objective.dml[{i}].embeddings: only all-tokens is implemented in the reference")
            self.terms.append(SoftTripleLoss(num_classes, hidden, centers_per_class=loss["centers_per_class"],
                                             la=loss["la"], gamma=loss["gamma"], margin=loss["margin"]))
            self.weights.append(term["weight"])
            self.names.append("soft-triple")

    def forward(self, logits, states, labels):
        ce = torch.nn.functional.cross_entropy(logits, labels)
        total = self.ce_weight * ce
        terms = {}
        b, t, h = states.shape
        token_labels = labels.repeat_interleave(t)  # row b*T + t is token t of sentence b
        for name, weight, loss in zip(self.names, self.weights, self.terms):
            value = loss(states.reshape(b * t, h), token_labels)
            total = total + weight * value
            terms[name] = value
        return total, ce, terms

    def class_scores(self, sentence):
        """SoftTriple's soft class similarity (PML's get_logits before la and margin)."""
        if not self.terms:
            return None
        loss = self.terms[0]
        sim = loss.distance(sentence, loss.fc.t()).view(-1, loss.num_classes, loss.centers_per_class)
        prob = torch.softmax(sim * loss.gamma, dim=2)  # PML stores 1 / gamma
        return (prob * sim).sum(2)


def encode(tokenizer, texts, max_length):
    return tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def schedule(optimizer, spec, steps):
    kind, warmup = spec["kind"], spec["warmup_steps"]
    total = spec.get("total_steps") or steps
    if kind == "cosine":
        return get_cosine_schedule_with_warmup(optimizer, warmup, total)
    if kind == "linear":
        return get_linear_schedule_with_warmup(optimizer, warmup, total)
    return get_constant_schedule_with_warmup(optimizer, warmup)


def param_groups(model, objective, opt):
    head_ids = {id(p) for p in model.head_parameters()}
    encoder = [p for p in model.parameters() if id(p) not in head_ids]
    groups = [(encoder, opt["lr"]), (model.head_parameters(), opt.get("head_lr") or opt["lr"]),
              (list(objective.parameters()), opt.get("loss_lr") or opt["lr"])]
    if not opt.get("decay_bias_and_norm", True):
        fail("train.optimizer.decay_bias_and_norm false is not implemented in the reference")
    return [{"params": ps, "lr": lr, "weight_decay": opt["weight_decay"]} for ps, lr in groups if ps]


def argmax(scores):
    return scores.argmax(1).tolist()


def predict(model, objective, tokenizer, texts, max_length, batch_size):
    """Length-sorted batches as dmlft's BatchPlan; scores restored to the examples' order."""
    lengths = [len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]]
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    logits, proxy = [None] * len(texts), [None] * len(texts)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            x = encode(tokenizer, [texts[i] for i in idx], max_length)
            _, sentence, out = model(x["input_ids"], x["attention_mask"], x["token_type_ids"])
            scores = objective.class_scores(sentence)
            for k, i in enumerate(idx):
                logits[i] = out[k]
                proxy[i] = scores[k] if scores is not None else None
    logits = torch.stack(logits)
    proxy = torch.stack(proxy) if proxy[0] is not None else None
    return logits, proxy


def mode_predictions(mode, logits, proxy):
    if mode["mode"] == "head":
        return "head", argmax(logits)
    if proxy is None:
        fail(f"inference mode {mode['mode']} needs a proxy loss")
    if mode["mode"] == "proxy":
        return "proxy", argmax(proxy)
    beta = mode["beta"]
    mixed = beta * torch.softmax(logits.double(), 1) + (1 - beta) * torch.softmax(proxy.double(), 1)
    return f"mix-{beta:g}", argmax(mixed)


def build(cell, num_classes):
    m = cell["model"]
    model = Classifier(m["source"], num_classes, m.get("head_pooling", "first"), m.get("dropout"))
    objective = Objective(cell["objective"], num_classes, model.encoder.config.hidden_size)
    return model, objective


def run(cell, init_from=None):
    started = time.perf_counter()
    seed = cell["split"]["seed"]
    if cell["split"]["protocol"]["kind"] != "per-class":
        fail("split.protocol: only per-class is implemented in the reference")
    train_rows, eval_rows, names, _ = ref.cell_examples(cell["dataset"], cell["data_root"], cell["split"]["shots"],
                                                        seed, cell.get("eval_limit"),
                                                        cell["split"]["protocol"].get("dev_shots", 0))
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(cell["model"]["source"])
    model, objective = build(cell, len(names))
    if init_from:
        load_init(model, objective, init_from)
    t = cell["train"]
    if t.get("grad_accum", 1) != 1:
        fail("train.grad_accum != 1 is not implemented in the reference")
    steps = t["steps"] if t.get("steps") is not None else t["epochs"] * math.ceil(len(train_rows) / t["batch_size"])
    opt = t["optimizer"]
    optimizer = torch.optim.AdamW(param_groups(model, objective, opt), betas=(opt["beta1"], opt["beta2"]),
                                  eps=opt["eps"])
    scheduler = schedule(optimizer, t["schedule"], steps)
    params = [p for g in optimizer.param_groups for p in g["params"]]
    max_len = cell["model"]["max_length"]
    load_s = time.perf_counter() - started

    train_started = time.perf_counter()
    model.train()
    losses = []
    for batch in ref.batch_order(len(train_rows), t["batch_size"], steps, seed):
        x = encode(tokenizer, [train_rows[i][0] for i in batch], max_len)
        labels = torch.tensor([train_rows[i][1] for i in batch])
        states, _, logits = model(x["input_ids"], x["attention_mask"], x["token_type_ids"])
        total, _, _ = objective(logits, states, labels)
        if not torch.isfinite(total):
            fail(f"non-finite loss at step {len(losses)}")
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if t.get("max_grad_norm") is not None:
            torch.nn.utils.clip_grad_norm_(params, t["max_grad_norm"])
        optimizer.step()
        scheduler.step()
        losses.append(total.item())
    train_s = time.perf_counter() - train_started

    eval_started = time.perf_counter()
    model.eval()
    logits, proxy = predict(model, objective, tokenizer, [r[0] for r in eval_rows], max_len, t["eval_batch_size"])
    gold = [r[1] for r in eval_rows]
    metrics = {}
    for mode in cell["inference"] or [{"mode": "head"}]:
        label, predicted = mode_predictions(mode, logits, proxy)
        metrics[label] = {"accuracy": sum(p == g for p, g in zip(predicted, gold)) / len(gold)}
    eval_s = time.perf_counter() - eval_started
    return {
        "metrics": metrics,
        "train_size": len(train_rows),
        "eval_size": len(eval_rows),
        "steps": len(losses),
        "first_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
        "timings": {"load_s": load_s, "train_s": train_s, "eval_s": eval_s,
                    "total_s": time.perf_counter() - started},
        "versions": {"torch": torch.__version__, "threads": torch.get_num_threads()},
    }


def load_init(model, objective, init_dir):
    """Replaces the randomly initialised weights by those `run_cell --init-check DIR` saved: the
    untrained classifier (HF layout) and the SoftTriple centers."""
    from safetensors.torch import load_file
    saved = load_file(os.path.join(init_dir, "model.safetensors"))
    prefix = "bert."
    encoder_state = {k[len(prefix):]: v for k, v in saved.items()
                     if k.startswith(prefix) and not k.startswith(prefix + "pooler.")}
    missing, unexpected = model.encoder.load_state_dict(encoder_state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        fail(f"saved model does not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.dense.weight.data.copy_(saved[prefix + "pooler.dense.weight"])
    model.dense.bias.data.copy_(saved[prefix + "pooler.dense.bias"])
    model.out_proj.weight.data.copy_(saved["classifier.weight"])
    model.out_proj.bias.data.copy_(saved["classifier.bias"])
    with open(os.path.join(init_dir, "loss_params.json")) as f:
        for term, loss in zip(json.load(f), objective.terms):
            loss.fc.data.copy_(torch.tensor(term["centers"]).view(*term["centers_shape"]))


def init_check(cell, init_dir):
    """The first batch's objective with dropout off, from the weights dmlft saved (see module doc)."""
    seed = cell["split"]["seed"]
    train_rows, _, names, train_idx = ref.cell_examples(cell["dataset"], cell["data_root"], cell["split"]["shots"],
                                                        seed, cell.get("eval_limit"))
    model, objective = build(cell, len(names))
    load_init(model, objective, init_dir)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(cell["model"]["source"])
    batch = ref.batch_order(len(train_rows), cell["train"]["batch_size"], 1, seed)[0]
    x = encode(tokenizer, [train_rows[i][0] for i in batch], cell["model"]["max_length"])
    labels = torch.tensor([train_rows[i][1] for i in batch])
    with torch.no_grad():
        states, _, logits = model(x["input_ids"], x["attention_mask"], x["token_type_ids"])
        total, ce, terms = objective(logits, states, labels)
    return {
        "first_batch_texts": [train_rows[i][0] for i in batch],
        "first_batch_labels": labels.tolist(),
        "seq_len": x["input_ids"].shape[1],
        "total": total.item(),
        "ce": ce.item(),
        "dml_terms": {k: v.item() for k, v in terms.items()},
        "logits": logits.flatten().tolist(),
        "train_indices": train_idx,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cell")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--init-check", metavar="DIR")
    p.add_argument("--init-from", metavar="DIR",
                   help="train from the untrained weights `run_cell --init-check DIR` saved (with the cell's "
                        "dropout 0 the run is then deterministic and must track dmlft's)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        with open(args.cell) as f:
            cell = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{args.cell}: {e}")
    out = init_check(cell, args.init_check) if args.init_check else run(cell, args.init_from)
    if not args.init_check:
        sys.stderr.write(f"{cell['dataset_name']} {cell['loss_name']} seed {cell['split']['seed']}: head accuracy "
                         f"{out['metrics']['head']['accuracy']:.4f}, train {out['timings']['train_s']:.1f}s "
                         f"eval {out['timings']['eval_s']:.1f}s\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
