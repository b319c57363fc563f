"""Reference values for dmlft-train: transformers' LR schedules and torch.optim.AdamW with
parameter groups and global-norm clipping (torch.nn.utils.clip_grad_norm_).

Run: "$(scripts/pyref-env.sh)" scripts/make_train_fixtures.py
Writes crates/train/tests/fixtures/{schedules,adamw}.json.
"""
import json
import pathlib

import torch
from transformers import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/train/tests/fixtures"
OUT.mkdir(parents=True, exist_ok=True)


def schedule_values(make, steps):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make(opt)
    values = []
    for _ in range(steps):
        values.append(opt.param_groups[0]["lr"])  # lr used by the step about to be taken
        opt.step()
        sched.step()
    return values


schedules = {
    "warmup": 10,
    "total": 120,
    "constant": schedule_values(lambda o: get_constant_schedule_with_warmup(o, 10), 200),
    "linear": schedule_values(lambda o: get_linear_schedule_with_warmup(o, 10, 120), 200),
    "cosine": schedule_values(lambda o: get_cosine_schedule_with_warmup(o, 10, 120), 200),
}
(OUT / "schedules.json").write_text(json.dumps(schedules))

# AdamW: encoder weight [3,4] + bias [4] (no decay), head weight [4,2], loss proxies [2,4].
torch.manual_seed(0)
params = {
    "encoder_weight": torch.randn(3, 4),
    "encoder_bias": torch.randn(4),
    "head_weight": torch.randn(4, 2),
    "loss_proxies": torch.randn(2, 4),
}
steps = 6
grads = [{k: torch.randn_like(v) * (3.0 if s % 2 else 0.1) for k, v in params.items()} for s in range(steps)]
lrs = {"encoder": 1e-2, "head": 5e-2, "loss": 1e-1}
cfg = dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, max_norm=1.0)
tp = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
opt = torch.optim.AdamW(
    [
        {"params": [tp["encoder_weight"]], "lr": lrs["encoder"], "weight_decay": cfg["weight_decay"]},
        {"params": [tp["encoder_bias"]], "lr": lrs["encoder"], "weight_decay": 0.0},
        {"params": [tp["head_weight"]], "lr": lrs["head"], "weight_decay": cfg["weight_decay"]},
        {"params": [tp["loss_proxies"]], "lr": lrs["loss"], "weight_decay": cfg["weight_decay"]},
    ],
    betas=cfg["betas"],
    eps=cfg["eps"],
)
after, norms = [], []
for s in range(steps):
    for k in tp:
        tp[k].grad = grads[s][k].clone()
    norms.append(float(torch.nn.utils.clip_grad_norm_(list(tp.values()), cfg["max_norm"])))
    opt.step()
    after.append({k: v.detach().flatten().tolist() for k, v in tp.items()})

adamw = {
    "config": cfg,
    "lrs": lrs,
    "shapes": {k: list(v.shape) for k, v in params.items()},
    "initial": {k: v.flatten().tolist() for k, v in params.items()},
    "grads": [{k: v.flatten().tolist() for k, v in g.items()} for g in grads],
    "grad_norms_before_clip": norms,
    "after_step": after,
}
(OUT / "adamw.json").write_text(json.dumps(adamw))
print("wrote", OUT)
