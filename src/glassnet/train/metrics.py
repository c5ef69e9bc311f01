"""Metrics: numbers that say how well a model is doing, in words a person understands.

The loss is what the optimizer minimises; accuracy (the share of examples whose highest-scoring
class is the right one) and the confusion matrix (which classes get mistaken for which) are what we
read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


def _array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def predicted_classes(output: Any) -> np.ndarray:
    """Class predictions from a model's output: argmax over classes, or a threshold at 0 for a
    single logit per example (binary classification)."""
    out = _array(output)
    if out.ndim >= 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(out.shape[0], -1)[:, 0] > 0).astype(np.int64)


def correct_count(output: Any, target: Any) -> int:
    """How many predictions match the targets (class indices)."""
    return int((predicted_classes(output) == _array(target).reshape(-1)).sum())


def accuracy(output: Any, target: Any) -> float:
    """Share of examples classified correctly, between 0 and 1."""
    target = _array(target)
    if target.size == 0:
        return float("nan")
    return correct_count(output, target) / target.size


def confusion_matrix(predicted: Any, target: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts[i, j]: how many examples of true class i were predicted as class j."""
    predicted = _array(predicted).reshape(-1).astype(np.int64)
    target = _array(target).reshape(-1).astype(np.int64)
    if predicted.shape != target.shape:
        raise ValueError(
            f"confusion_matrix: {predicted.size} predictions but {target.size} targets"
        )
    if num_classes is None:
        num_classes = int(max(predicted.max(initial=-1), target.max(initial=-1))) + 1
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (target, predicted), 1)
    return counts


def format_confusion_matrix(counts: np.ndarray, labels: list[str] | None = None) -> str:
    """A confusion matrix as a text table: rows are true classes, columns predicted ones."""
    n = counts.shape[0]
    labels = labels or [str(i) for i in range(n)]
    width = max(len(str(counts.max())), max(len(s) for s in labels), 3)
    head = " " * (width + 9) + " ".join(f"{s:>{width}}" for s in labels)
    lines = ["true \\ predicted", head]
    for i in range(n):
        row = " ".join(f"{c:>{width}}" for c in counts[i])
        lines.append(f"{'':>8}{labels[i]:>{width}} {row}")
    return "\n".join(lines)
