"""Gradient clipping: keep one bad batch from throwing the weights far away.

Gradients can explode, in recurrent networks especially. Clipping by norm rescales all gradients
together when their overall length (norm) exceeds a limit, keeping their direction; clipping by
value caps each gradient entry on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...tensor import Tensor


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale the gradients in place so that their total norm is at most `max_norm`.

    The total norm is the norm of all gradients taken together as one vector. If it exceeds
    `max_norm`, every gradient is multiplied by ``max_norm / (total_norm + 1e-6)``; otherwise they
    are left alone. Parameters without a gradient are skipped.

    Args:
        parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``).
        max_norm: the largest total norm allowed.
        norm_type: the p of the p-norm; ``float("inf")`` for the largest absolute entry.
            Default: 2.
        error_if_nonfinite: raise if the total norm is nan or infinite. Default: False.

    Returns:
        The total norm of the gradients before clipping, as a 0-d Tensor.
    """
    grads = _grads(parameters)
    if not max_norm >= 0.0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    dtype = np.result_type(*grads)
    norms = np.array([_vector_norm(g, norm_type) for g in grads], dtype=dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{float(total)}, so it cannot be clipped; pass error_if_nonfinite=False to scale "
            "the gradients by it anyway"
        )
    coef = float(max_norm) / (float(total) + 1e-6)
    # `not coef >= 1` rather than `coef < 1`, so that a nan norm spreads to the gradients as in
    # PyTorch instead of silently passing; the user asked for that, so NumPy need not warn.
    if not coef >= 1.0:
        with np.errstate(invalid="ignore"):
            for g in grads:
                g *= coef
    return Tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient entry in place to ``[-clip_value, clip_value]``.

    Args:
        parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``).
        clip_value: the largest absolute value a gradient entry may keep.
    """
    if not clip_value >= 0.0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.data for p in parameters if p.grad is not None]


def _vector_norm(x: np.ndarray, p: float) -> float:
    """The p-norm of all entries of `x`, as ``torch.linalg.vector_norm`` defines it."""
    if x.size == 0:
        return 0.0
    if p == 2.0:
        flat = x.ravel()
        return math.sqrt(float(np.dot(flat, flat)))
    if p == math.inf:
        return float(np.max(np.abs(x)))
    if p == -math.inf:
        return float(np.min(np.abs(x)))
    if p == 0.0:
        return float(np.count_nonzero(x))
    if p == 1.0:
        return float(np.sum(np.abs(x)))
    return float(np.sum(np.abs(x) ** p) ** (1.0 / p))
