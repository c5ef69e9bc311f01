"""What every attack shares: checking its arguments, and the direction that raises the loss.

An attack moves an input x a little, within an L-infinity ball of radius eps (no pixel changes by
more than eps), in the direction that makes the model most wrong: the sign of the gradient of
the loss with respect to x. A targeted attack instead lowers the loss of a chosen wrong class.
Images stay in their valid range (`clip`, [0, 1] for pixels), so the result is still an image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..explain.gradients import as_batch, input_gradient
from ..nn.module import Module
from ..ops.loss import cross_entropy
from ..tensor import Tensor

LossFn = Callable[[Tensor, Tensor], Tensor]
Range = tuple[float, float] | None


def check_eps(name: str, eps: Any) -> float:
    """`eps` as a float, or a ValueError: it must be a finite number >= 0."""
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.number):
        raise TypeError(f"{name}: eps must be a number, got {eps!r}")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"{name}: eps must be a finite number >= 0, got {eps!r}")
    return float(eps)


def check_images(name: str, images: Any, clip: Range) -> np.ndarray:
    """The batch as an array, checked to lie inside the declared valid range `clip`."""
    x = as_batch(name, images)
    if clip is None:
        return x
    lo, hi = clip
    if not lo < hi:
        raise ValueError(f"{name}: clip must be a range (low, high) with low < high, got {clip}")
    low, high = float(x.min()), float(x.max())
    if low < lo - 1e-6 or high > hi + 1e-6:
        raise ValueError(
            f"{name}: the images must lie in the valid range [{lo}, {hi}] (clip={clip}), but "
            f"their values go from {low:.4g} to {high:.4g}; rescale them, or pass the range "
            "they use as clip=(low, high) (clip=None for no range)"
        )
    return x


def check_labels(name: str, labels: Any, n: int, what: str = "labels") -> np.ndarray:
    """One integer class per example."""
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: {what} must be {n} integer class indices (one per image), got shape "
            f"{y.shape} and dtype {y.dtype}"
        )
    return y.astype(np.int64)


def check_classes(
    name: str, labels: Any, target: Any, n: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(labels, target) as arrays of `n` classes: labels are needed unless the attack is
    targeted; a single target class is meant for every image."""
    if target is None:
        return check_labels(name, labels, n), None
    if isinstance(target, int | np.integer) and not isinstance(target, bool):
        target = np.full(n, int(target))
    t = check_labels(name, target, n, "target")
    return (None if labels is None else check_labels(name, labels, n)), t


def _objective(output: Tensor, classes: np.ndarray, sign: float, loss_fn: LossFn) -> Tensor:
    return loss_fn(output, Tensor(classes)) * sign


def ascent_direction(
    model: Module,
    x: np.ndarray,
    labels: np.ndarray | None,
    target: np.ndarray | None,
    loss_fn: LossFn,
) -> np.ndarray:
    """sign(d loss / d x): up the loss of the true `labels`, or, when a `target` is given, down
    the loss of the target classes. Call it inside `inspecting(model)`."""
    classes, sign = (labels, 1.0) if target is None else (target, -1.0)
    grad, _ = input_gradient(
        model, x, partial(_objective, classes=classes, sign=sign, loss_fn=loss_fn)
    )
    return np.sign(grad)


def project(adv: np.ndarray, x: np.ndarray, eps: float, clip: Range) -> np.ndarray:
    """Pull `adv` back within eps of `x` (each pixel), then into the valid range."""
    adv = x + np.clip(adv - x, -eps, eps)
    return adv if clip is None else np.clip(adv, clip[0], clip[1])


DEFAULT_LOSS: LossFn = cross_entropy
