#!/usr/bin/env python3
"""Writes crates/train/tests/fixtures/neighbours.json: the kNN and nearest-centroid inference
modes (crates/train/src/modes.rs, `TrainingSet`) checked against scikit-learn.

  knn       KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute") on the raw
            embeddings. scikit-learn breaks a vote tie by the lowest label; dmlft by the larger
            summed cosine similarity first, then the lowest label. `expected` applies dmlft's
            rule to scikit-learn's own neighbours (kneighbors); the script asserts that it equals
            scikit-learn's prediction wherever the vote has a single winner, and records how many
            test rows had a tie (so the test exercises the rule).
  centroid  NearestCentroid() fitted on L2-normalised training embeddings, predicting
            L2-normalised test embeddings.

Inputs are float32 values (what the Rust side holds), given to scikit-learn as float64.

Run: .venv-ref/bin/python scripts/make_neighbour_fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.preprocessing import normalize

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(
    os.path.dirname(HERE), "crates", "train", "tests", "fixtures", "neighbours.json"
)


def case(name, rng, classes, per_class, n_test, dim, ks, spread):
    # class means apart, rows spread around them: a mix of easy and contested test rows
    means = rng.normal(size=(classes, dim))
    y_train = np.repeat(np.arange(classes), per_class)
    spread = np.broadcast_to(np.asarray(spread, dtype=float), (classes,))
    x_train = means[y_train] + spread[y_train, None] * rng.normal(size=(len(y_train), dim))
    y_test = rng.integers(0, classes, size=n_test)
    x_test = means[y_test] + spread[y_test, None] * rng.normal(size=(n_test, dim))
    x_train = x_train.astype(np.float32)
    x_test = x_test.astype(np.float32)
    a, b = x_train.astype(np.float64), x_test.astype(np.float64)
    sims = normalize(b) @ normalize(a).T
    knn = []
    for k in ks:
        clf = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(a, y_train)
        sk = clf.predict(b)
        _, idx = clf.kneighbors(b)
        expected, ties = [], 0
        for row, nb in enumerate(idx):
            votes, sums = {}, {}
            for j in nb:
                c = int(y_train[j])
                votes[c] = votes.get(c, 0) + 1
                sums[c] = sums.get(c, 0.0) + sims[row, j]
            top = max(votes.values())
            tied = sorted(c for c in votes if votes[c] == top)
            if len(tied) > 1:
                ties += 1
                best = max(sums[c] for c in tied)
                expected.append(min(c for c in tied if sums[c] == best))
            else:
                expected.append(tied[0])
                assert tied[0] == sk[row], (name, k, row)
        knn.append(
            {"k": k, "expected": expected, "sklearn": [int(v) for v in sk], "vote_ties": ties}
        )
    nc = NearestCentroid().fit(normalize(a), y_train)
    # how many rows the cosine to the renormalised centroid would classify differently: the
    # fixture must tell scikit-learn's rule (Euclidean to the plain mean) from that one
    cos = (normalize(b) @ normalize(nc.centroids_).T).argmax(1)
    differs = int((nc.classes_[cos] != nc.predict(normalize(b))).sum())
    return {
        "name": name,
        "classes": classes,
        "x_train": [[float(v) for v in r] for r in x_train],
        "y_train": [int(v) for v in y_train],
        "x_test": [[float(v) for v in r] for r in x_test],
        "knn": knn,
        "centroid": [int(v) for v in nc.predict(normalize(b))],
        "centroid_differs_from_cosine": differs,
    }


def main():
    rng = np.random.default_rng(20261207)
    cases = [
        case("three-classes", rng, 3, 4, 40, 8, [1, 2, 3, 4, 5], 1.2),
        case("binary", rng, 2, 6, 30, 6, [1, 3, 4, 12], 1.5),
        # one tight class and one diffuse: centroids of unequal length
        case("unequal-spread", rng, 3, 5, 60, 4, [1, 3], [0.2, 2.5, 1.0]),
    ]
    assert any(c["centroid_differs_from_cosine"] for c in cases), "centroid rules agree everywhere"
    assert any(k["vote_ties"] for c in cases for k in c["knn"]), "no vote tie to test"
    doc = {"generator": "scripts/make_neighbour_fixtures.py", "sklearn": sklearn.__version__, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(OUT, os.path.getsize(OUT), "bytes;", [(c["name"], [k["vote_ties"] for k in c["knn"]], c["centroid_differs_from_cosine"]) for c in cases])


if __name__ == "__main__":
    main()
