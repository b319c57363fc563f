"""Checks a SetFit model folder saved by dmlft (`dmlft run --save-models` on a SetFit cell) with
the Python stack SetFit itself uses: sentence-transformers loads the body from the folder, and
scikit-learn's LogisticRegression, given `setfit_head.json`'s classes_, coef_ and intercept_,
gives the probabilities that `dmlft predict` printed for the same texts.

Usage: python scripts/check_saved_setfit.py MODEL_DIR PREDICTIONS.jsonl
(PREDICTIONS.jsonl from `dmlft predict --model MODEL_DIR --format jsonl TEXT...`). Exits 1 on a
different label or a probability difference larger than 1e-4.
"""
import json
import sys

import numpy as np
from sentence_transformers import SentenceTransformer
from sklearn.linear_model import LogisticRegression


def main() -> int:
    model_dir, predictions = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(predictions, encoding="utf-8") if line.strip()]
    head_file = json.load(open(f"{model_dir}/setfit_head.json", encoding="utf-8"))
    body = SentenceTransformer(model_dir, device="cpu")
    head = LogisticRegression()
    head.classes_ = np.array(head_file["classes"])
    head.coef_ = np.array(head_file["coef"])
    head.intercept_ = np.array(head_file["intercept"])
    names = head_file["label_names"]
    x = body.encode([r["text"] for r in rows], convert_to_numpy=True)
    probs = head.predict_proba(x)
    worst = 0.0
    for row, p in zip(rows, probs):
        theirs = [row["scores"][names[c]] for c in head_file["classes"]]
        worst = max(worst, float(np.max(np.abs(p - np.array(theirs)))))
        label = names[head.classes_[int(np.argmax(p))]]
        if label != row["label"]:
            print(f"label differs for {row['text']!r}: dmlft {row['label']}, Python {label} {p}")
            return 1
    print(f"{len(rows)} texts: same labels, largest probability difference {worst:.2e} "
          f"(body: {body})")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
