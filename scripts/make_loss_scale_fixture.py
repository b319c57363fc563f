"""Reference behaviour of dynamic loss scaling: torch.amp.GradScaler's skip / backoff / growth
over a fixed pattern of clean and overflowing steps, and GradScaler's default hyperparameters.

Run: "$(scripts/pyref-env.sh)" scripts/make_loss_scale_fixture.py
Writes crates/train/tests/fixtures/loss_scale.json.
"""
import json
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/train/tests/fixtures"
OUT.mkdir(parents=True, exist_ok=True)

config = {"init_scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3}
# 1 = all gradients finite, 0 = an inf in the gradients (and a NaN once).
pattern = [1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1]

scaler = torch.amp.GradScaler("cpu", **config)
p = torch.nn.Parameter(torch.zeros(2))
opt = torch.optim.SGD([p], lr=0.5)
steps = []
for i, finite in enumerate(pattern):
    opt.zero_grad()
    bad = float("nan") if i == 10 else float("inf")
    weights = torch.tensor([1.0, 1.0 if finite else bad])
    scaler.scale((p * weights).sum()).backward()
    before = p.detach().clone()
    scaler.step(opt)
    scaler.update()
    steps.append({"finite": bool(finite), "stepped": not torch.equal(before, p.detach()),
                  "scale_after": scaler.get_scale()})

defaults = torch.amp.GradScaler("cpu")
fixture = {
    "config": config,
    "steps": steps,
    "defaults": {
        "init_scale": defaults.get_scale(),
        "growth_factor": defaults.get_growth_factor(),
        "backoff_factor": defaults.get_backoff_factor(),
        "growth_interval": defaults.get_growth_interval(),
    },
    "torch": torch.__version__,
}
(OUT / "loss_scale.json").write_text(json.dumps(fixture, indent=1) + "\n")
print(f"wrote {OUT / 'loss_scale.json'}: {len(steps)} steps")
