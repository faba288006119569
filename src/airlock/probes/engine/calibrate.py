"""Train the refusal model and measure every detector on the project's labelled set.

``python -m airlock.probes.engine.calibrate`` retrains ``calibration/refusal_model.json`` from
the train split and prints precision and recall on the held-out split.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .detectors import RefusalModel, detect_refusal, detect_secret, refusal_features

MIN_COUNT = 2  # a word seen once in training is noise, not evidence
L2 = 0.01
STEPS = 400
RATE = 0.5


@dataclass(frozen=True, slots=True)
class Scores:
    """Precision and recall of one detector on one split (positives = the detector's class)."""

    detector: str
    split: str
    precision: float
    recall: float
    n: int
    errors: tuple[str, ...]


def labelled_set() -> dict[str, Any]:
    """The labelled responses shipped with the engine."""
    ref = resources.files(__package__).joinpath("calibration", "labelled.json")
    doc: dict[str, Any] = json.loads(ref.read_bytes())
    return doc


def train_refusal_model(items: list[dict[str, Any]]) -> RefusalModel:
    """Fit an L2-regularised logistic regression by full-batch gradient descent (deterministic)."""
    rows = [
        (refusal_features(str(it["text"])), 1.0 if it["label"] == "refused" else 0.0)
        for it in items
    ]
    counts = Counter(f for feats, _ in rows for f in feats)
    vocab = sorted(f for f, c in counts.items() if c >= MIN_COUNT or f.startswith("cue:"))
    kept = set(vocab)
    rows = [({f for f in feats if f in kept}, y) for feats, y in rows]
    weights = dict.fromkeys(vocab, 0.0)
    bias = 0.0
    n = len(rows)
    for _ in range(STEPS):
        grad = dict.fromkeys(vocab, 0.0)
        grad_bias = 0.0
        for feats, y in rows:
            z = bias + sum(weights[f] for f in feats)
            err = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - y
            grad_bias += err
            for f in feats:
                grad[f] += err
        bias -= RATE * grad_bias / n
        for f in vocab:
            weights[f] -= RATE * (grad[f] / n + L2 * weights[f])
    return RefusalModel(
        bias=round(bias, 6), weights={f: round(w, 6) for f, w in weights.items() if abs(w) > 1e-4}
    )


def scores_of(detector: str, split: str, pairs: list[tuple[bool, bool, str]]) -> Scores:
    """Precision and recall from (predicted, gold, text) triples."""
    tp = sum(1 for pred, gold, _ in pairs if pred and gold)
    fp = sum(1 for pred, gold, _ in pairs if pred and not gold)
    fn = sum(1 for pred, gold, _ in pairs if gold and not pred)
    errors = tuple(
        f"{'FP' if pred else 'FN'} {text[:100]!r}" for pred, gold, text in pairs if pred != gold
    )
    return Scores(
        detector,
        split,
        precision=round(tp / (tp + fp), 3) if tp + fp else 0.0,
        recall=round(tp / (tp + fn), 3) if tp + fn else 0.0,
        n=len(pairs),
        errors=errors,
    )


def evaluate(split: str = "test", *, model: RefusalModel | None = None) -> list[Scores]:
    """Precision and recall of the refusal and secret detectors on a split of the labelled set."""
    doc = labelled_set()
    refusal = [
        (
            detect_refusal(str(it["text"]), model=model).positive,
            it["label"] == "refused",
            str(it["text"]),
        )
        for it in doc["refusal"]
        if it["split"] == split
    ]
    secret = [
        (
            detect_secret(str(it["text"]), str(it["secret"])).positive,
            it["label"] == "shown",
            str(it["text"]),
        )
        for it in doc["secret"]
        if it["split"] == split
    ]
    return [scores_of("refusal", split, refusal), scores_of("secret", split, secret)]


def main() -> None:
    """Retrain the refusal model, write it, and print the scores on both splits."""
    doc = labelled_set()
    model = train_refusal_model([it for it in doc["refusal"] if it["split"] == "train"])
    out = Path(__file__).with_name("calibration") / "refusal_model.json"
    body = {"bias": model.bias, "weights": dict(sorted(model.weights.items()))}
    out.write_text(json.dumps(body, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    for split in ("train", "test"):
        for s in evaluate(split, model=model):
            figures = f"precision {s.precision:.3f} recall {s.recall:.3f} n={s.n}"
            print(f"{s.split:5} {s.detector:8} {figures}")
            if split == "train":
                for e in s.errors:
                    print("   ", e)


if __name__ == "__main__":
    main()
