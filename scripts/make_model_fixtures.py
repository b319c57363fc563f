#!/usr/bin/env python3
"""Reference fixtures for dmlft-model's parity tests, and the check of checkpoints saved by Rust.

Run with the reference interpreter:

    PY=$(DMLFT_PYREF=/work/.pyref scripts/pyref-env.sh)

    # 1. (re)generate crates/model/tests/fixtures/ (tiny random RoBERTa, BERT, ELECTRA, MPNet,
    #    DeBERTa-v2/v3 and ModernBERT checkpoints with their inputs and transformers' outputs, and
    #    for all but BERT and RoBERTa the gradients of a CE loss; all-MiniLM-L6-v2 reference outputs when
    #    models/all-MiniLM-L6-v2 exists, see scripts/fetch-model.sh)
    $PY scripts/make_model_fixtures.py

    # 2. round trip Rust -> transformers: let the Rust code save fine-tuned-style checkpoints
    #    (each folder gets config.json, model.safetensors and dmlft_logits.safetensors holding
    #    the inputs and the logits the Rust model computed), then load them with transformers
    #    and compare the logits
    cargo run -p dmlft-model --example save_for_parity -- /tmp/dmlft-saved
    $PY scripts/make_model_fixtures.py --check-saved /tmp/dmlft-saved/*

    # 3. commit what transformers made of the tiny ones (CI's test compares dmlft's saves with it:
    #    crates/model/tests/suite/saved_in_transformers.rs)
    $PY scripts/make_model_fixtures.py --write-saved-fixture /tmp/dmlft-saved/tiny-*

All fixtures are eval-mode (no dropout), float32, eager attention.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates" / "model" / "tests" / "fixtures"
MINILM = ROOT / "models" / "all-MiniLM-L6-v2"
TOLERANCE = 1e-4


def tiny_config(kind):
    from transformers import BertConfig, RobertaConfig

    common = dict(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        vocab_size=300,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        # Larger than transformers' 0.02 so that every weight visibly moves the outputs.
        initializer_range=0.1,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    if kind == "roberta":
        return RobertaConfig(
            max_position_embeddings=40,
            type_vocab_size=1,
            layer_norm_eps=1e-5,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            **common,
        )
    return BertConfig(
        max_position_embeddings=32,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        **common,
    )


def tiny_model(kind, seed):
    from transformers import BertForSequenceClassification, RobertaForSequenceClassification

    torch.manual_seed(seed)
    cls = RobertaForSequenceClassification if kind == "roberta" else BertForSequenceClassification
    model = cls(tiny_config(kind)).eval()
    # Untrained LayerNorms are exactly (1, 0) and classifier biases exactly 0, which would hide
    # a loader that forgets them: give every parameter a random perturbation.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
    return model


def roberta_inputs():
    """Right padding, left padding, a full-length row and a very short row. <s>=0, pad=1, </s>=2."""
    pad, length = 1, 12
    rows = [
        ("right", [0, 17, 45, 200, 9, 33, 2]),
        ("left", [0, 150, 151, 152, 2]),
        ("full", [0] + [3 + (7 * i) % 290 for i in range(length - 2)] + [2]),
        ("right", [0, 5, 2]),
    ]
    ids, mask = [], []
    for side, toks in rows:
        fill = [pad] * (length - len(toks))
        ones, zeros = [1] * len(toks), [0] * len(fill)
        ids.append(toks + fill if side != "left" else fill + toks)
        mask.append(ones + zeros if side != "left" else zeros + ones)
    ids = torch.tensor(ids)
    return ids, torch.tensor(mask), torch.zeros_like(ids)


def bert_inputs():
    """Single sentences and sentence pairs (token types 0/1), right and left padding.
    [PAD]=0, [CLS]=101 is out of this tiny vocab, so use [CLS]=2, [SEP]=3."""
    cls, sep, length = 2, 3, 12
    rows = [
        ("right", [cls, 10, 11, 12, sep], [0] * 5),
        ("right", [cls, 40, 41, sep, 50, 51, 52, sep], [0] * 4 + [1] * 4),
        ("left", [cls, 60, 61, 62, sep, 70, sep], [0] * 5 + [1] * 2),
        ("full", [cls] + list(range(100, 105)) + [sep] + list(range(200, 204)) + [sep], [0] * 7 + [1] * 5),
    ]
    ids, mask, types = [], [], []
    for side, toks, tt in rows:
        n = length - len(toks)
        if side == "left":
            ids.append([0] * n + toks)
            mask.append([0] * n + [1] * len(toks))
            types.append([0] * n + tt)
        else:
            ids.append(toks + [0] * n)
            mask.append([1] * len(toks) + [0] * n)
            types.append(tt + [0] * n)
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(types)


def run(model, ids, mask, types):
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
    return out.hidden_states[-1].contiguous(), out.logits.contiguous()


def write_tiny(kind, seed):
    model = tiny_model(kind, seed)
    model.config._attn_implementation = "eager"
    ids, mask, types = roberta_inputs() if kind == "roberta" else bert_inputs()
    states, logits = run(model, ids, mask, types)
    folder = FIXTURES / f"tiny-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    save_file(
        {
            "input_ids": ids.to(torch.int64),
            "attention_mask": mask.to(torch.int64),
            "token_type_ids": types.to(torch.int64),
            "token_states": states.float(),
            "logits": logits.float(),
        },
        str(folder / "reference.safetensors"),
    )
    print(f"tiny-{kind}: logits[0] = {logits[0].tolist()}")


# ELECTRA and MPNet: smaller than the BERT/RoBERTa fixtures because they also store the gradient
# of every parameter (a few hundred KB in all per family).
FAMILY_COMMON = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    vocab_size=100,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    initializer_range=0.1,
    num_labels=3,
)
# Labels of the CE loss whose gradients the fixtures hold (one per input row).
GRAD_LABELS = [0, 2, 1, 2]


def family_model(kind, seed):
    """A tiny random ElectraForSequenceClassification (embedding_size 16 < hidden 32, so the
    embeddings_project layer is there) or MPNetForSequenceClassification."""
    from transformers import (
        ElectraConfig,
        ElectraForSequenceClassification,
        MPNetConfig,
        MPNetForSequenceClassification,
    )

    torch.manual_seed(seed)
    if kind == "electra":
        config = ElectraConfig(
            embedding_size=16, max_position_embeddings=40, type_vocab_size=2, layer_norm_eps=1e-12,
            pad_token_id=0, **FAMILY_COMMON,
        )
        model = ElectraForSequenceClassification(config)
    else:
        config = MPNetConfig(
            max_position_embeddings=40, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0,
            eos_token_id=2, relative_attention_num_buckets=32, **FAMILY_COMMON,
        )
        model = MPNetForSequenceClassification(config)
    model = model.eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif "relative_attention_bias" in name:
                # The position bias has to matter next to scores of order 1.
                p.copy_(torch.randn_like(p))
    return model


def family_inputs(kind):
    """Length 20, so that MPNet's relative buckets include log-spaced ones (distances 8..19 fall
    in buckets 8, 9 and 10 of each direction); right and left padding, pairs, a full row."""
    length = 20
    if kind == "electra":
        pad, cls, sep = 0, 2, 3
        rows = [
            ("right", [cls, 10, 11, 12, sep], [0] * 5),
            ("right", [cls, 40, 41, sep, 50, 51, 52, 53, sep], [0] * 4 + [1] * 5),
            ("left", [cls, 60, 61, 62, sep, 70, sep], [0] * 5 + [1] * 2),
            ("full", [cls] + list(range(20, 30)) + [sep] + list(range(70, 77)) + [sep], [0] * 12 + [1] * 8),
        ]
    else:
        # <s>=0, pad=1, </s>=2; a pair is <s> a </s></s> b </s>, no token types.
        pad, bos, eos = 1, 0, 2
        rows = [
            ("right", [bos, 17, 45, 90, 9, 33, eos], None),
            ("right", [bos, 40, 41, eos, eos, 50, 51, 52, eos], None),
            ("left", [bos, 60, 61, 62, eos], None),
            ("full", [bos] + [3 + (7 * i) % 95 for i in range(length - 2)] + [eos], None),
        ]
    ids, mask, types = [], [], []
    for side, toks, tt in rows:
        tt = tt or [0] * len(toks)
        n = length - len(toks)
        if side == "left":
            ids.append([pad] * n + toks)
            mask.append([0] * n + [1] * len(toks))
            types.append([0] * n + tt)
        else:
            ids.append(toks + [pad] * n)
            mask.append([1] * len(toks) + [0] * n)
            types.append(tt + [0] * n)
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(types)


def write_family(kind, seed):
    """tiny-<kind>/: the checkpoint, and reference.safetensors with the inputs, transformers'
    last hidden states, mean-pooled embeddings and logits (eval mode), and the gradient of the
    mean CE loss on GRAD_LABELS with respect to every parameter, as `grad.<tensor name>`."""
    old_family = kind in ("electra", "mpnet")
    model = family_model(kind, seed) if old_family else new_family_model(kind, seed)
    model.config._attn_implementation = "eager"
    ids, mask, types = family_inputs(kind) if old_family else new_family_inputs(kind)
    kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    if kind == "electra" or kind.startswith("deberta"):
        kwargs["token_type_ids"] = types
    folder = FIXTURES / f"tiny-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    # saved before the forward with labels, which writes problem_type into the config
    model.save_pretrained(folder, safe_serialization=True)
    labels = torch.tensor(GRAD_LABELS)
    out = model(labels=labels, **kwargs)
    out.loss.backward()
    states = out.hidden_states[-1].detach()
    if not old_family:
        # ModernBERT's hidden_states stop before its final norm: take the base model's output
        with torch.no_grad():
            base = dict(kwargs, output_hidden_states=False)
            states = model.base_model(**base).last_hidden_state.detach()
    mean = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
    saved = set(load_file(str(folder / "model.safetensors")))
    grads = {f"grad.{n}": p.grad.detach().contiguous() for n, p in model.named_parameters() if n in saved}
    assert len(grads) == len(saved), sorted(saved - {n[5:] for n in grads})
    save_file(
        {
            "input_ids": ids.to(torch.int64),
            "attention_mask": mask.to(torch.int64),
            "token_type_ids": types.to(torch.int64),
            "labels": labels.to(torch.int64),
            "token_states": states.float().contiguous(),
            "mean_pooled": mean.float().contiguous(),
            "logits": out.logits.detach().float().contiguous(),
            "loss": out.loss.detach().reshape(1).float(),
            **grads,
        },
        str(folder / "reference.safetensors"),
    )
    print(f"tiny-{kind}: loss {out.loss.item():.6f}, {len(grads)} gradients, logits[0] = {out.logits[0].tolist()}")


# DeBERTa-v2/v3 and ModernBERT: the same sizes and inputs as ELECTRA / MPNet. Two DeBERTa
# configs cover both attention layouts: v3's (shared keys, log buckets narrower than the inputs,
# normalised relative embeddings, no absolute positions, no token types) and v2's (separate
# position projections, absolute positions, token types, no buckets).
NEW_FAMILIES = {
    "deberta-v3": dict(
        share_att_key=True, pos_att_type=["p2c", "c2p"], position_buckets=8, max_relative_positions=-1,
        norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0, relative_attention=True,
        max_position_embeddings=40, layer_norm_eps=1e-7, pad_token_id=0,
    ),
    "deberta-v2": dict(
        share_att_key=False, pos_att_type=["c2p", "p2c"], max_relative_positions=12, norm_rel_ebd="none",
        position_biased_input=True, type_vocab_size=2, relative_attention=True,
        max_position_embeddings=40, layer_norm_eps=1e-7, pad_token_id=0,
    ),
    # local windows (8: keys within 4 positions) shorter than the inputs; layer 0 global, 1 local,
    # 2 global; mean pooling; norms and the head's dense layer with biases, the attention and MLP
    # without, so both kinds of layout are read.
    "modernbert": dict(
        num_hidden_layers=3, global_attn_every_n_layers=2, local_attention=8, global_rope_theta=1000.0,
        local_rope_theta=50.0, classifier_pooling="mean", norm_bias=True, classifier_bias=True,
        attention_bias=False, mlp_bias=False, max_position_embeddings=64, pad_token_id=0,
        bos_token_id=2, eos_token_id=3, cls_token_id=2, sep_token_id=3, norm_eps=1e-5,
    ),
}


def new_family_model(kind, seed):
    from transformers import (
        DebertaV2Config,
        DebertaV2ForSequenceClassification,
        ModernBertConfig,
        ModernBertForSequenceClassification,
    )

    torch.manual_seed(seed)
    if kind.startswith("deberta"):
        config = DebertaV2Config(**{**FAMILY_COMMON, **NEW_FAMILIES[kind]})
        model = DebertaV2ForSequenceClassification(config)
    else:
        common = {k: v for k, v in FAMILY_COMMON.items() if k not in ("hidden_act", "hidden_dropout_prob",
                                                                        "attention_probs_dropout_prob")}
        config = ModernBertConfig(
            hidden_activation="gelu", embedding_dropout=0.1, mlp_dropout=0.1, attention_dropout=0.1,
            classifier_dropout=0.1, **{**common, **NEW_FAMILIES[kind]},
        )
        model = ModernBertForSequenceClassification(config)
    model = model.eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name or "norm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif "rel_embeddings" in name:
                # positions have to matter next to content scores of order 1
                p.copy_(torch.randn_like(p))
    return model


def new_family_inputs(kind):
    """ELECTRA's rows (right and left padding, pairs, a full row of 20). [PAD]=0, [CLS]=2,
    [SEP]=3. The left-padded row has 3 pads, fewer than ModernBERT's half window of 4, so its
    first (padding) token, which the DeBERTa head reads, has real keys in its window: a query
    whose keys are all masked gets uniform weights in transformers (every score is replaced by
    finfo.min), which dmlft reproduces in the forward pass but whose gradient transformers takes
    through the replaced scores."""
    ids, mask, types = family_inputs("electra")
    left = 2
    ids[left] = torch.tensor([0, 0, 0, 2] + list(range(60, 74)) + [3, 3])
    mask[left] = torch.tensor([0, 0, 0] + [1] * 17)
    types[left] = torch.tensor([0] * 12 + [1] * 8)
    if kind == "modernbert":
        types = torch.zeros_like(ids)
    return ids, mask, types


SENTENCES = [
    "a gripping, funny film.",
    "the quarterly tax report is due on monday.",
    "an exciting and hilarious movie.",
    "a dull, boring film.",
    "ok",
    "This is a considerably longer sentence, written so that the batch needs a lot of padding elsewhere.",
    "What time does the train to the airport leave?",
    "I loved it!",
    "Neither the acting nor the script could save this muddled, overlong and ultimately pointless remake.",
    "Cats sleep most of the day.",
    "The committee will meet again in March to review the budget.",
    "Fine.",
]


def write_minilm():
    if not (MINILM / "model.safetensors").exists():
        print(f"skipping all-MiniLM-L6-v2 reference: {MINILM} is missing (run scripts/fetch-model.sh)")
        return
    from transformers import AutoTokenizer, BertModel

    tok = AutoTokenizer.from_pretrained(MINILM)
    enc = tok(SENTENCES, padding=True, truncation=True, max_length=64, return_tensors="pt")
    model = BertModel.from_pretrained(MINILM, attn_implementation="eager").eval()
    with torch.no_grad():
        states = model(**enc).last_hidden_state
    mask = enc["attention_mask"]
    lengths = mask.sum(1)
    width = states.shape[1]
    # Whole batch would be ~450 KB; keep the first, second, last real and last (padded) position.
    positions = torch.stack([torch.zeros_like(lengths), torch.ones_like(lengths), lengths - 1, torch.full_like(lengths, width - 1)], 1)
    picked = torch.stack([states[i, positions[i]] for i in range(len(SENTENCES))])
    mean = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
    folder = FIXTURES / "minilm"
    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "input_ids": enc["input_ids"].to(torch.int64),
            "attention_mask": mask.to(torch.int64),
            "token_type_ids": enc["token_type_ids"].to(torch.int64),
            "positions": positions.to(torch.int64),
            "token_states_at_positions": picked.float().contiguous(),
            "mean_pooled": mean.float().contiguous(),
        },
        str(folder / "reference.safetensors"),
    )
    (folder / "sentences.json").write_text(json.dumps(SENTENCES, indent=1) + "\n")
    print(f"minilm: batch {tuple(states.shape)}, CLS[0,:6] = {states[0, 0, :6].tolist()}")


def transformers_logits(folder):
    """A checkpoint saved by dmlft (save_for_parity), loaded by transformers: its config, its
    logits on the folder's inputs, and the inputs and logits dmlft computed."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager").eval()
    ref = load_file(str(folder / "dmlft_logits.safetensors"))
    with torch.no_grad():
        logits = model(
            input_ids=ref["input_ids"], attention_mask=ref["attention_mask"], token_type_ids=ref["token_type_ids"]
        ).logits
    return config, logits, ref


def check_saved(folders):
    """Load each Rust-saved checkpoint with transformers and compare its logits with Rust's."""
    worst = 0.0
    for folder in map(Path, folders):
        config, logits, ref = transformers_logits(folder)
        diff = (logits - ref["logits"]).abs().max().item()
        worst = max(worst, diff)
        print(
            f"{folder}: {config.architectures[0]}, num_labels {config.num_labels}, "
            f"logits {tuple(logits.shape)}, max |transformers - rust| = {diff:.3e}"
        )
    if worst > TOLERANCE:
        print(f"FAIL: max abs difference {worst:.3e} > {TOLERANCE}")
        return 1
    print(f"OK: all within {TOLERANCE}")
    return 0


def tensors_digest(path):
    """sha256 over a safetensors file's tensors (sorted names, dtype, shape, bytes); the Rust
    test computes the same (crates/model/tests/suite/saved_in_transformers.rs)."""
    import hashlib

    from safetensors import safe_open

    digest = hashlib.sha256()
    with safe_open(str(path), framework="pt") as f:
        for name in sorted(f.keys()):
            t = f.get_tensor(name)
            assert t.dtype == torch.float32, f"{name}: {t.dtype}"
            shape = ",".join(str(d) for d in t.shape)
            digest.update(f"{name}\0F32\0{shape}\0".encode())
            digest.update(t.contiguous().numpy().astype("<f4").tobytes())
    return digest.hexdigest()


def write_saved_fixture(folders):
    """What transformers makes of checkpoints saved by dmlft (save_for_parity): the tensors it
    loaded (digest), the config it read and its logits on the folder's inputs, into
    crates/model/tests/fixtures/saved-by-dmlft.json (CI compares dmlft's saves with it)."""
    out = {}
    for folder in map(Path, folders):
        config, logits, ref = transformers_logits(folder)
        out[folder.name] = {
            "architecture": config.architectures[0],
            "num_labels": config.num_labels,
            "id2label": {str(k): v for k, v in config.id2label.items()},
            "tensors_sha256": tensors_digest(folder / "model.safetensors"),
            "logits_shape": list(logits.shape),
            "logits": [float(v) for v in logits.flatten()],
        }
        print(f"{folder}: {config.architectures[0]}, max |transformers - rust| = "
              f"{(logits - ref['logits']).abs().max().item():.3e}")
    path = FIXTURES / "saved-by-dmlft.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


FAMILY_SEEDS = {"electra": 13, "mpnet": 14, "deberta-v3": 15, "deberta-v2": 16, "modernbert": 17}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check-saved", nargs="+", metavar="DIR", help="checkpoint folders saved by dmlft-model")
    parser.add_argument("--write-saved-fixture", nargs="+", metavar="DIR",
                        help="tiny checkpoint folders saved by save_for_parity: write saved-by-dmlft.json")
    parser.add_argument("--only", nargs="+", choices=sorted(FAMILY_SEEDS), metavar="KIND",
                        help="regenerate only these tiny-<KIND> family fixtures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check_saved:
        return check_saved(args.check_saved)
    if args.write_saved_fixture:
        return write_saved_fixture(args.write_saved_fixture)
    if args.only:
        for kind in args.only:
            write_family(kind, seed=FAMILY_SEEDS[kind])
        return 0
    write_tiny("roberta", seed=11)
    write_tiny("bert", seed=12)
    for kind, seed in FAMILY_SEEDS.items():
        write_family(kind, seed)
    write_minilm()
    return 0


if __name__ == "__main__":
    sys.exit(main())
