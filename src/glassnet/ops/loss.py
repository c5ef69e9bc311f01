"""Loss functions: one number that says how wrong the network's outputs are.

Training lowers this number. Each loss compares outputs with targets element by element and then
reduces the results ('mean', 'sum' or 'none'), with PyTorch's definitions and argument names. Every
loss is one graph node; cross_entropy fuses log-softmax with the negative log-likelihood, and its
gradient is simply softmax(scores) minus the one-hot target.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import checks
from ..autograd import unbroadcast
from ..dispatch import op
from ..tensor import Tensor
from .activation import sigmoid_array, softplus_array
from .elementwise import as_tensor

_NAN = float("nan")
# PyTorch's floor for p (1 - p) in binary_cross_entropy's gradient: 1e-12 as a float32 holds it
_BCE_EPSILON = float(np.float32(1e-12))


# -- shared checks and reductions -----------------------------------------------------------------


def check_reduction(name: str, reduction: str, allowed: tuple = ("none", "mean", "sum")) -> None:
    """Raise a ValueError naming `name` unless `reduction` is one of `allowed`."""
    if reduction not in allowed:
        options = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{name}: reduction must be one of {options}, got {reduction!r}")


def _floating_input(name: str, input: Tensor) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    checks.floating_point(input.data, "input", name)
    return input.data


def _reduce(loss: np.ndarray, reduction: str, count: float | None = None) -> np.ndarray:
    """Sum or average the per-element losses (`count` overrides the mean's divisor)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        count = loss.size if count is None else count
        total = total / count if count else _NAN
    return np.asarray(total, dtype=loss.dtype)


def _scale(g: np.ndarray, reduction: str, count: float) -> Any:
    """d(reduced loss) / d(each element's loss): g itself for 'none' and 'sum', g / count for
    'mean' (a 0-d array, so it keeps the dtype)."""
    if reduction == "mean":
        return g * (1.0 / count if count else _NAN)
    return g


def _broadcast_pair(name: str, input: Tensor, target: Any) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Input and target for an elementwise loss; the target is converted to the input's dtype, and
    shapes that differ are broadcast with PyTorch's warning (they are almost always a bug)."""
    x = _floating_input(name, input)
    target = as_tensor(target)
    y = target.data
    if y.shape != x.shape:
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ValueError(
                f"{name}: input shape {x.shape} and target shape {y.shape} cannot be broadcast "
                "together"
            ) from None
        warnings.warn(
            f"{name}: using a target size {y.shape} that is different to the input size "
            f"{x.shape}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
    if y.dtype != x.dtype:
        y = y.astype(x.dtype)
    return target, x, y


def _target_grad(target: Tensor, grad: np.ndarray, negate: bool = False) -> np.ndarray | None:
    """A gradient for the target (-grad if `negate`), summed to its shape and dtype; None when the
    target needs none."""
    if not target.requires_grad:
        return None
    grad = unbroadcast(-grad if negate else grad, target.data.shape)
    return grad.astype(target.data.dtype, copy=False)


def _weight_tensor(weight: Any) -> Tensor | None:
    return None if weight is None else as_tensor(weight)


def _constant_weight(name: str, weight: Tensor | None, what: str = "weight") -> None:
    if weight is not None and weight.requires_grad:
        raise RuntimeError(
            f"{name}: {what} cannot require grad: PyTorch does not differentiate this loss with "
            f"respect to its {what} either (pass {what}.detach())"
        )


# -- regression losses ----------------------------------------------------------------------------


@op("mse_loss")
def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((input - target)^2)."""
    check_reduction("mse_loss", reduction)
    target, x, y = _broadcast_pair("mse_loss", input, target)
    d = x - y
    out = _reduce(d * d, reduction)

    def backward(g: np.ndarray) -> tuple:
        gd = d * (_scale(g, reduction, d.size) * 2.0)
        return (
            unbroadcast(gd, x.shape) if input.requires_grad else None,
            _target_grad(target, gd, negate=True),
        )

    return Tensor._make(out, (input, target), backward, "MseLoss")


@op("l1_loss")
def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: mean(|input - target|)."""
    check_reduction("l1_loss", reduction)
    target, x, y = _broadcast_pair("l1_loss", input, target)
    d = x - y
    out = _reduce(np.abs(d), reduction)

    def backward(g: np.ndarray) -> tuple:
        gd = np.sign(d) * _scale(g, reduction, d.size)
        return (
            unbroadcast(gd, x.shape) if input.requires_grad else None,
            _target_grad(target, gd, negate=True),
        )

    return Tensor._make(out, (input, target), backward, "L1Loss")


@op("smooth_l1_loss")
def smooth_l1_loss(
    input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target): squared error
    for small errors, absolute error for large ones."""
    check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    beta = float(beta)
    target, x, y = _broadcast_pair("smooth_l1_loss", input, target)
    d = x - y
    ad = np.abs(d)
    out = _reduce(np.where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta), reduction)

    def backward(g: np.ndarray) -> tuple:
        gd = np.clip(d * (1.0 / beta), -1.0, 1.0)
        gd *= _scale(g, reduction, d.size)
        return (
            unbroadcast(gd, x.shape) if input.requires_grad else None,
            _target_grad(target, gd, negate=True),
        )

    return Tensor._make(out, (input, target), backward, "SmoothL1Loss")


@op("huber_loss")
def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1_loss times delta."""
    check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    delta = float(delta)
    target, x, y = _broadcast_pair("huber_loss", input, target)
    d = x - y
    ad = np.abs(d)
    out = _reduce(np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)), reduction)

    def backward(g: np.ndarray) -> tuple:
        gd = np.clip(d, -delta, delta)
        gd *= _scale(g, reduction, d.size)
        return (
            unbroadcast(gd, x.shape) if input.requires_grad else None,
            _target_grad(target, gd, negate=True),
        )

    return Tensor._make(out, (input, target), backward, "HuberLoss")


# -- binary classification ------------------------------------------------------------------------


def _same_shape_target(
    name: str, input: Tensor, target: Any
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    x = _floating_input(name, input)
    target = as_tensor(target)
    y = target.data
    if y.shape != x.shape:
        raise ValueError(
            f"{name}: target shape {y.shape} must be the same as input shape {x.shape}"
        )
    return target, x, y.astype(x.dtype, copy=False)


def _elementwise_weight(name: str, weight: Tensor | None, x: np.ndarray, what: str = "weight"):
    """A weight array in the input's dtype that broadcasts against it (or None)."""
    if weight is None:
        return None
    weight = as_tensor(weight)
    _constant_weight(name, weight, what)
    w = weight.data
    try:
        np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"{name}: {what} of shape {w.shape} cannot be broadcast to the input's shape {x.shape}"
        ) from None
    return w.astype(x.dtype, copy=False)


@op("binary_cross_entropy")
def binary_cross_entropy(
    input: Tensor, target: Any, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1]; each log is clamped at -100,
    as in PyTorch, so that p = 0 or 1 gives a large but finite loss."""
    name = "binary_cross_entropy"
    check_reduction(name, reduction)
    target, x, y = _same_shape_target(name, input, target)
    w = _elementwise_weight(name, weight, x)
    if x.size and not (x.min() >= 0.0 and x.max() <= 1.0):
        raise ValueError(
            f"{name}: all elements of input should be between 0 and 1 (probabilities), got values "
            f"in [{x.min()}, {x.max()}]; for raw scores use binary_cross_entropy_with_logits"
        )
    with np.errstate(divide="ignore"):
        log_p = np.log(x)
        log_q = np.log1p(-x)
    loss = np.maximum(log_p, -100.0) * y
    loss += np.maximum(log_q, -100.0) * (1.0 - y)
    np.negative(loss, out=loss)
    if w is not None:
        loss = loss * w
    out = _reduce(loss, reduction)

    def backward(g: np.ndarray) -> tuple:
        scale = _scale(g, reduction, x.size)
        if w is not None:
            scale = scale * w
        gx = None
        if input.requires_grad:
            # (p - t) / (p (1 - p)), the denominator kept above 1e-12 as PyTorch does
            gx = (x - y) / np.maximum(x * (1.0 - x), _BCE_EPSILON)
            gx *= scale
        gt = None
        if target.requires_grad:  # d/dt = log(1 - p) - log(p), unclamped as in PyTorch
            with np.errstate(invalid="ignore"):
                gt = _target_grad(target, (log_q - log_p) * scale)
        return (gx, gt)

    return Tensor._make(out, (input, target), backward, "BinaryCrossEntropy")


@op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target) computed from the scores directly, which is
    exact for any score: (1 - t) x + softplus(-x). `pos_weight` multiplies the positive term."""
    name = "binary_cross_entropy_with_logits"
    check_reduction(name, reduction)
    target, x, y = _same_shape_target(name, input, target)
    w = _elementwise_weight(name, weight, x)
    pw = _elementwise_weight(name, pos_weight, x, "pos_weight")
    sp_neg = softplus_array(-x)  # -log(sigmoid(x))
    log_weight = None if pw is None else (pw - 1.0) * y + 1.0
    loss = (1.0 - y) * x
    loss += sp_neg if log_weight is None else log_weight * sp_neg
    if w is not None:
        loss *= w
    out = _reduce(loss, reduction)

    def backward(g: np.ndarray) -> tuple:
        scale = _scale(g, reduction, x.size)
        if w is not None:
            scale = scale * w
        gx = None
        if input.requires_grad:
            if log_weight is None:
                gx = sigmoid_array(x)
                gx -= y
            else:  # (1 - t) - log_weight * sigmoid(-x)
                gx = (1.0 - y) - log_weight * sigmoid_array(-x)
            gx *= scale
        gt = None
        if target.requires_grad:  # d/dt = -x + (pos_weight - 1) softplus(-x)
            gt = -x if pw is None else (pw - 1.0) * sp_neg - x
            gt = _target_grad(target, gt * scale)
        return (gx, gt)

    return Tensor._make(out, (input, target), backward, "BinaryCrossEntropyWithLogits")


# -- distributions --------------------------------------------------------------------------------


@op("kl_div")
def kl_div(input: Tensor, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence, input given as log-probabilities: t (log t - input) summed
    (with 0 log 0 = 0), or exp(t) (t - input) when the target is log-probabilities too.

    'batchmean' divides the sum by the batch size (the true KL divergence per sample); 'mean'
    divides by the number of elements and warns, as PyTorch does.
    """
    name = "kl_div"
    check_reduction(name, reduction, ("none", "batchmean", "mean", "sum"))
    x = _floating_input(name, input)
    target = as_tensor(target)
    t = target.data.astype(x.dtype, copy=False)
    try:
        shape = np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(
            f"{name}: input shape {x.shape} and target shape {t.shape} cannot be broadcast together"
        ) from None
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size, and aligns with the KL "
            "divergence's mathematical definition.",
            stacklevel=2,
        )
    if log_target:
        p = np.exp(t)
        loss = p * (t - x)
    else:
        p = t
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.log(t)
            loss = t * log_t
        loss[t == 0] = 0.0
        loss = loss - t * x
    count = loss.size
    if reduction == "batchmean":
        count = shape[0] if shape else 1
        reduction_kind = "mean"
    else:
        reduction_kind = reduction
    out = _reduce(loss, reduction_kind, count)

    def backward(g: np.ndarray) -> tuple:
        scale = _scale(g, reduction_kind, count)
        gx = (
            unbroadcast(np.broadcast_to(-p * scale, shape), x.shape)
            if input.requires_grad
            else None
        )
        gt = None
        if target.requires_grad:
            if log_target:  # d/dt exp(t) (t - x) = exp(t) (t - x + 1)
                gt = (loss + p) * scale
            else:  # d/dt t log t - t x = log t + 1 - x
                gt = (log_t + 1.0 - x) * scale
            gt = _target_grad(target, np.broadcast_to(gt, shape))
        return (gx, gt)

    return Tensor._make(out, (input, target), backward, "KlDiv")


# -- multi-class classification -------------------------------------------------------------------


def _rows(x: np.ndarray) -> np.ndarray:
    """Scores (N, C, d1, ...) as rows (N*d1*..., C), one row per prediction; (C,) as one row."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x[None]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The inverse of `_rows`: a gradient of rows back to the input's (N, C, d1, ...) layout."""
    if len(shape) == 2:
        return g
    if len(shape) == 1:
        return g[0]
    return np.moveaxis(g.reshape(shape[0], *shape[2:], shape[1]), -1, 1)


def _class_weight(name: str, weight: Tensor | None, x: np.ndarray) -> np.ndarray | None:
    if weight is None:
        return None
    w = as_tensor(weight).data
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    if w.shape != (n_classes,):
        raise ValueError(
            f"{name}: weight has shape {w.shape} but the input has {n_classes} classes; "
            f"expected a weight of shape ({n_classes},)"
        )
    return w.astype(x.dtype, copy=False)


def _class_indices(
    name: str, x: np.ndarray, t: np.ndarray, ignore_index: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets as one class index per row (ignored rows pointing at class 0, harmlessly), and a mask
    of the rows that count (None when all do). Raises for a bad dtype, shape or label."""
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target must hold class indices (an integer tensor), got dtype {t.dtype}; "
            "use target.long()"
        )
    expected = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if t.shape != expected:
        raise ValueError(
            f"{name}: target shape {t.shape} does not match input shape {x.shape}: expected one "
            f"class index per prediction, shape {expected}"
        )
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    t = t.reshape(-1)
    if t.size == 0:
        return t, None
    lo, hi = t.min(), t.max()
    if lo >= 0 and hi < n_classes and not lo <= ignore_index <= hi:
        return t, None
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"{name}: target label {t[bad][0]} is out of range for {n_classes} classes: labels "
            f"must be in [0, {n_classes - 1}] (or ignore_index={ignore_index})"
        )
    return np.where(valid, t, 0), valid


def _row_weights(
    w: np.ndarray | None, t: np.ndarray, valid: np.ndarray | None, dtype: np.dtype
) -> np.ndarray:
    """Each row's weight in the loss: its class's weight, or 0 where the target is ignored."""
    coef = np.ones(t.size, dtype=dtype) if w is None else w[t]
    if valid is not None:
        coef *= valid
    return coef


@op("nll_loss")
def nll_loss(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood: -input[i, target[i]] (times weight[target[i]]), for an input of
    log-probabilities (N, C) or (N, C, d1, ...) and class-index targets (N,) or (N, d1, ...).

    'mean' divides by the total weight of the counted targets, so ignored ones don't dilute it.
    """
    name = "nll_loss"
    check_reduction(name, reduction)
    x = _floating_input(name, input)
    target = as_tensor(target)
    t, valid = _class_indices(name, x, target.data, ignore_index)
    weight = _weight_tensor(weight)
    _constant_weight(name, weight)
    w = _class_weight(name, weight, x)
    x2 = _rows(x)
    rows = np.arange(t.size)
    coef = _row_weights(w, t, valid, x.dtype)
    picked = x2[rows, t]
    if valid is not None:
        picked[~valid] = 0.0  # even where an ignored row holds -inf
    loss = picked * -coef
    denominator = float(coef.sum())
    out = (
        loss.reshape(target.data.shape)
        if reduction == "none"
        else _reduce(loss, reduction, denominator)
    )

    def backward(g: np.ndarray) -> tuple:
        per_row = g.reshape(-1) if reduction == "none" else _scale(g, reduction, denominator)
        g2 = np.zeros_like(x2)
        g2[rows, t] = -coef * per_row
        return (_unrows(g2, x.shape), None)

    return Tensor._make(out, (input, target), backward, "NllLoss")


@op("cross_entropy")
def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy between scores (N, C) or (N, C, d1, ...) and targets that are either
    class indices (N,) / (N, d1, ...) or class probabilities of the input's shape.

    For class indices it is nll_loss(log_softmax(input, 1), target), in one node; 'mean' divides by
    the total weight of the targets that are not ignored. `label_smoothing` mixes each target with
    the uniform distribution over the C classes.
    """
    name = "cross_entropy"
    check_reduction(name, reduction)
    x = _floating_input(name, input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    target = as_tensor(target)
    t = target.data
    if t.dtype.kind == "f":
        if t.shape != x.shape:
            raise ValueError(
                f"{name}: target has dtype {t.dtype} and shape {t.shape}: class indices must be "
                "an integer tensor (use target.long()), and class probabilities a float tensor "
                f"of the input's shape {x.shape}"
            )
        if ignore_index != -100:
            raise ValueError(f"{name}: ignore_index is not supported for probability targets")
        weight = _weight_tensor(weight)
        w = _class_weight(name, weight, x)
        return _soft_cross_entropy(input, target, weight, w, reduction, float(label_smoothing))
    t, valid = _class_indices(name, x, t, ignore_index)
    weight = _weight_tensor(weight)
    _constant_weight(name, weight)
    w = _class_weight(name, weight, x)
    eps = float(label_smoothing)
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    x2 = _rows(x)
    rows = np.arange(t.size)

    e = x2 - x2.max(axis=1, keepdims=True) if x2.size else x2.copy()
    picked = e[rows, t]
    if eps:
        row_sum = e.sum(axis=1) if w is None else e @ w  # sum_k w_k (x_k - max)
    np.exp(e, out=e)
    s = e.sum(axis=1)
    lse = np.log(s)
    coef = _row_weights(w, t, valid, x.dtype)
    if valid is not None:
        picked[~valid] = 0.0
    loss = (lse - picked) * coef  # -w[y] log p[y]
    w_total = float(n_classes) if w is None else float(w.sum())
    if eps:
        smooth = lse * w_total - row_sum  # -sum_k w_k log p_k
        if valid is not None:
            smooth[~valid] = 0.0
        loss *= 1.0 - eps
        loss += smooth * (eps / n_classes)
    denominator = float(coef.sum())
    out = (
        loss.reshape(target.data.shape)
        if reduction == "none"
        else _reduce(loss, reduction, denominator)
    )

    def backward(g: np.ndarray) -> tuple:
        per_row = g.reshape(-1) if reduction == "none" else _scale(g, reduction, denominator)
        # a row's loss is -sum_k c_k log p_k; its gradient is p * sum_k c_k - c
        alpha = (1.0 - eps) * per_row * coef  # c's one-hot part
        total = alpha
        if eps:
            beta = (eps / n_classes) * per_row * (np.ones_like(coef) if valid is None else valid)
            total = alpha + beta * w_total
        grad = e * (total / s)[:, None]
        grad[rows, t] -= alpha
        if eps:
            grad -= beta[:, None] if w is None else beta[:, None] * w
        return (_unrows(grad, x.shape), None)

    return Tensor._make(out, (input, target), backward, "CrossEntropyLoss")


def _soft_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    w: np.ndarray | None,
    reduction: str,
    eps: float,
) -> Tensor:
    """cross_entropy with class-probability targets: -sum_k w_k t_k log softmax(x)_k per row; the
    mean divides by the number of rows."""
    x = input.data
    n_classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    x2 = _rows(x)
    t2 = _rows(target.data.astype(x.dtype, copy=False))
    if eps:
        t2 = t2 * (1.0 - eps) + eps / n_classes
    c = t2 if w is None else t2 * w
    log_p = x2 - x2.max(axis=1, keepdims=True) if x2.size else x2.copy()
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    loss = -(c * log_p).sum(axis=1)
    batch_shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    n_rows = loss.size
    out = loss.reshape(batch_shape) if reduction == "none" else _reduce(loss, reduction)

    def backward(g: np.ndarray) -> tuple:
        per_row = g.reshape(-1) if reduction == "none" else _scale(g, reduction, n_rows)
        per_row = np.broadcast_to(per_row, (n_rows,))[:, None]
        gx = gt = gw = None
        if input.requires_grad:
            gx = np.exp(log_p)
            gx *= c.sum(axis=1, keepdims=True)
            gx -= c
            gx *= per_row
            gx = _unrows(gx, x.shape)
        if target.requires_grad or (weight is not None and weight.requires_grad):
            minus_log_p = -log_p * per_row
            if target.requires_grad:
                gt = minus_log_p * (1.0 - eps) if w is None else minus_log_p * ((1.0 - eps) * w)
                gt = _unrows(gt, x.shape).astype(target.data.dtype, copy=False)
            if weight is not None and weight.requires_grad:
                gw = (minus_log_p * t2).sum(axis=0).astype(weight.data.dtype, copy=False)
        return (gx, gt, gw)

    parents = (input, target) if weight is None else (input, target, weight)
    return Tensor._make(out, parents, backward, "CrossEntropyLoss")
