"""``newsmon train-relevance``: learn the relevance score's weights from the development split.

Every labelled article of the development split (never the held-out split) is tagged as the
daemon tags it; its feature values (``monitor.relevance.score``) and its label (yes or no;
borderline left out) train an L2-regularised logistic regression by plain gradient descent from
zeros, so the same labels always give the same weights. They are written to
``monitor/relevance/weights.json`` with what they were trained on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from monitor.models import TaggedArticle
from monitor.offline.labels import Label
from monitor.relevance.rules import Judge, assess
from monitor.relevance.score import FEATURES

L2 = 0.3
STEPS = 4000
RATE = 0.5
#: Relevant articles are few (about one in twenty): each counts this many times in the loss, so
#: the model does not learn that saying "no" is nearly always right.
POSITIVE_WEIGHT = 3.0


def fit(
    rows: Sequence[tuple[dict[str, float], bool]],
    *,
    l2: float = L2,
    steps: int = STEPS,
    rate: float = RATE,
    positive_weight: float = POSITIVE_WEIGHT,
) -> dict[str, float]:
    """Weights of a logistic regression over ``FEATURES`` (the bias is not regularised)."""
    x = np.array([[values.get(name, 0.0) for name in FEATURES] for values, _gold in rows], dtype=float)
    y = np.array([1.0 if gold else 0.0 for _values, gold in rows])
    weight = np.where(y > 0, positive_weight, 1.0)
    w = np.zeros(len(FEATURES))
    penalty = np.full(len(FEATURES), l2)
    penalty[FEATURES.index("bias")] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (weight * (p - y)) / weight.sum() + penalty * w / weight.sum()
        w -= rate * gradient
    return {name: round(float(value), 4) for name, value in zip(FEATURES, w)}


def log_loss(rows: Sequence[tuple[dict[str, float], bool]], weights: dict[str, float]) -> float:
    total = 0.0
    for values, gold in rows:
        z = sum(weights[name] * values.get(name, 0.0) for name in FEATURES)
        p = min(1 - 1e-9, max(1e-9, 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))))
        total -= math.log(p if gold else 1 - p)
    return total / max(1, len(rows))


def training_rows(
    tagged: Iterable[TaggedArticle], labels: dict[str, Label], judge: Judge, split: str = "dev"
) -> list[tuple[dict[str, float], bool]]:
    """(feature values, relevant) for every scored label of ``split`` among ``tagged``."""
    rows = []
    for item in tagged:
        label = labels.get(item.article.id)
        if label is None or not label.scored or label.split != split:
            continue
        rows.append((assess(item, judge).features, label.relevant))
    return rows


def write_weights(path: Path, weights: dict[str, float], about: dict[str, object]) -> None:
    path.write_text(json.dumps({"trained_on": about, "weights": weights}, indent=2) + "\n", encoding="utf-8")


def train(
    tag: Callable[[list], list[TaggedArticle]], articles: list, labels: dict[str, Label], judge: Judge, batch: int = 32
) -> tuple[dict[str, float], dict[str, object]]:
    """Tag the development articles, fit, and say what the weights were trained on."""
    wanted = [a for a in articles if a.id in labels and labels[a.id].scored and labels[a.id].split == "dev"]
    tagged: list[TaggedArticle] = []
    for start in range(0, len(wanted), batch):
        tagged += tag(wanted[start : start + batch])
    rows = training_rows(tagged, labels, judge)
    weights = fit(rows)
    about = {
        "split": "dev",
        "articles": len(rows),
        "relevant": sum(1 for _values, gold in rows if gold),
        "label_files": sorted({label.origin for label in labels.values()}),
        "l2": L2,
        "positive_weight": POSITIVE_WEIGHT,
        "steps": STEPS,
        "log_loss": round(log_loss(rows, weights), 4),
    }
    return weights, about
