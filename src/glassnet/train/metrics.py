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


# -- metrics as objects: accumulated over an epoch's batches, computed at its end ------------------


class Metric:
    """A number accumulated over batches: `update(output, target)` per batch, `compute()` at the
    end, `reset()` before the next epoch. Subclasses keep plain-number state in `self.state`, so
    a checkpoint can save and restore it mid-epoch (`state_dict` / `load_state_dict`)."""

    name = "metric"
    higher_is_better = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.state: dict[str, float] = {"total": 0.0, "count": 0.0}

    def update(self, output: Any, target: Any) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        count = self.state["count"]
        return self.state["total"] / count if count else float("nan")

    def state_dict(self) -> dict[str, float]:
        return dict(self.state)

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.state = {k: float(v) for k, v in state.items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """Share of examples whose highest-scoring class is the target (see `predicted_classes`)."""

    name = "accuracy"

    def update(self, output: Any, target: Any) -> None:
        self.state["total"] += correct_count(output, target)
        self.state["count"] += _array(target).size


class TopKAccuracy(Metric):
    """Share of examples whose target is among the `k` highest-scoring classes."""

    def __init__(self, k: int = 5) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be a positive integer, got {k!r}")
        self.k = k
        self.name = f"top{k}_accuracy"
        super().__init__()

    def update(self, output: Any, target: Any) -> None:
        scores = _array(output)
        scores = scores.reshape(-1, scores.shape[-1])
        target = _array(target).reshape(-1)
        k = min(self.k, scores.shape[-1])
        top = np.argpartition(-scores, k - 1, axis=-1)[:, :k]
        self.state["total"] += int((top == target[:, None]).any(axis=1).sum())
        self.state["count"] += target.size


class MeanAbsoluteError(Metric):
    """Mean of |output - target| over every number predicted."""

    name = "mae"
    higher_is_better = False

    def update(self, output: Any, target: Any) -> None:
        diff = _array(output).astype(np.float64) - _array(target).astype(np.float64)
        self.state["total"] += float(np.abs(diff).sum())
        self.state["count"] += diff.size


class RootMeanSquaredError(Metric):
    """Square root of the mean squared difference, in the target's own units."""

    name = "rmse"
    higher_is_better = False

    def update(self, output: Any, target: Any) -> None:
        diff = _array(output).astype(np.float64) - _array(target).astype(np.float64)
        self.state["total"] += float((diff * diff).sum())
        self.state["count"] += diff.size

    def compute(self) -> float:
        return float(np.sqrt(super().compute()))


class Perplexity(Metric):
    """exp(mean cross-entropy per token): how many choices a language model is as unsure as.

    `output` holds scores over the vocabulary in its last dimension, `target` the token ids."""

    name = "perplexity"
    higher_is_better = False

    def update(self, output: Any, target: Any) -> None:
        logits = _array(output).astype(np.float64)
        logits = logits.reshape(-1, logits.shape[-1])
        target = _array(target).reshape(-1)
        top = logits.max(axis=-1, keepdims=True)
        log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[:, 0]
        picked = logits[np.arange(len(target)), target]
        self.state["total"] += float((log_z - picked).sum())
        self.state["count"] += target.size

    def compute(self) -> float:
        return float(np.exp(super().compute()))


_BY_NAME = {
    "accuracy": Accuracy,
    "mae": MeanAbsoluteError,
    "rmse": RootMeanSquaredError,
    "perplexity": Perplexity,
}


def as_metric(metric: str | Metric) -> Metric:
    """A Metric object from an object or a name: "accuracy", "top5_accuracy" (any k), "mae",
    "rmse", "perplexity"."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        if metric in _BY_NAME:
            return _BY_NAME[metric]()
        if metric.startswith("top") and metric.endswith("_accuracy"):
            k = metric[3 : -len("_accuracy")]
            if k.isdigit() and int(k) > 0:
                return TopKAccuracy(int(k))
    raise ValueError(
        f"unknown metric {metric!r}; available: {sorted(_BY_NAME)}, 'topK_accuracy' (e.g. "
        "'top5_accuracy') or a glassnet.train.Metric object"
    )
