"""Checks that transformers loads a folder saved by dmlft and gives the head probabilities that
`dmlft predict --mode head` printed for the same texts.

Usage: python scripts/check_saved_with_transformers.py MODEL_DIR PREDICTIONS.jsonl
(PREDICTIONS.jsonl from `dmlft predict --model MODEL_DIR --format jsonl TEXT...`). Exits 1 on
a difference larger than 1e-4. Only for folders whose head reads the first token (transformers'
head; `cell.json` model.head_pooling = "first").
"""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def main() -> int:
    model_dir, predictions = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(predictions, encoding="utf-8") if line.strip()]
    manifest = json.load(open(f"{model_dir}/loss.json", encoding="utf-8"))
    max_length = manifest["inference"]["max_length"]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    worst = 0.0
    for row in rows:
        enc = tok(row["text"], truncation=True, max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            probs = torch.softmax(model(**enc).logits[0], dim=-1).tolist()
        theirs = [row["scores"][name] for name in labels]
        worst = max(worst, max(abs(a - b) for a, b in zip(probs, theirs)))
        if labels[max(range(len(probs)), key=probs.__getitem__)] != row["label"]:
            print(f"label differs for {row['text']!r}: {row['label']} vs {probs}")
            return 1
    print(f"{len(rows)} texts: largest probability difference {worst:.2e}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
