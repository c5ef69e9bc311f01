"""Batch normalisation: rescale every channel to mean 0 and variance 1 over the batch.

Deep networks train faster when each layer's inputs stay in the same range while the weights
before them change. `batch_norm` subtracts each channel's mean and divides by its standard
deviation, both measured over the batch (and over positions, for images), then lets the network
scale and shift the result back with a learned weight and bias. While training it also keeps a
running average of those statistics, which evaluation uses instead, so that one sample's output
no longer depends on the others in its batch.

The whole computation is one graph node. Its backward is the closed form of the chain rule through
the batch statistics: with x̂ the normalised input, M the values per channel and g the output's
gradient, dx = w / σ · (g - mean(g) - x̂ · mean(g · x̂)), dw = Σ g · x̂ and db = Σ g.

`layer_norm` and `rms_norm` normalise each sample over its own last dimensions instead, the way
transformers do: no batch statistics, so training and evaluation compute the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import checks
from ..dispatch import op
from ..tensor import Tensor


def _channel_sum(a: np.ndarray) -> np.ndarray:
    """Sum over every axis but the channel axis (1): (N, C, *) -> (C,)."""
    if a.ndim == 2:
        return a.sum(axis=0)
    return a.reshape(a.shape[0], a.shape[1], -1).sum(axis=(0, 2))


def _check_channels(x: np.ndarray, **per_channel: Tensor | None) -> None:
    channels = x.shape[1]
    for name, t in per_channel.items():
        if t is not None and t.data.shape != (channels,):
            raise ValueError(
                f"batch_norm: {name} has shape {t.data.shape} but the input of shape {x.shape} "
                f"has {channels} channels (dimension 1), so it needs shape ({channels},)"
            )


@op("batch_norm")
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    *,
    num_batches_tracked: Tensor | None = None,
    sum_across: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Tensor:
    """Normalise each channel (dimension 1) of an (N, C, *) input: y = (x - mean) / sqrt(var + eps)
    * weight + bias, PyTorch's ``F.batch_norm``.

    Args:
        input: (N, C), (N, C, L) or (N, C, H, W), any number of trailing dimensions.
        running_mean, running_var: (C,) running statistics, or None. While training they are
            updated in place: new = (1 - momentum) * old + momentum * batch statistic, the
            variance unbiased (divided by M - 1). Outside training they are what normalises.
        weight, bias: (C,) learned scale and shift, or None for 1 and 0.
        training: normalise with the batch's own mean and (biased) variance.
        momentum: the weight of the new batch in the running averages; None averages all
            batches seen so far equally (the factor is 1 / num_batches_tracked).
        eps: added to the variance so that a constant channel does not divide by zero.
        num_batches_tracked: a 0-d integer tensor counting the updates of the running
            statistics; incremented in place whenever they are updated.
        sum_across: while training, a function that sums an array over every process of a
            data-parallel run (SyncBatchNorm): the statistics are then those of all processes'
            batches together, and so are the sums the input's gradient needs.
    """
    x = input.data
    if x.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of shape (N, C, *) with at least 2 dimensions, "
            f"got shape {x.shape}"
        )
    checks.floating_point(x, "input", "batch_norm")
    _check_channels(x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(
                f"batch_norm: input has dtype {x.dtype} but {name} has dtype {t.dtype}; "
                f"convert one of them (e.g. input.to({t.dtype}))"
            )
    count = x.size // x.shape[1]  # values per channel
    if training:
        if count == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.shape}"
            )
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
        update = running_mean is not None or running_var is not None
        if update and momentum is None and num_batches_tracked is None:
            raise ValueError(
                "batch_norm: momentum=None (a cumulative average of all batches) needs "
                "num_batches_tracked to count them"
            )
        return _train(
            input,
            running_mean,
            running_var,
            weight,
            bias,
            momentum,
            eps,
            num_batches_tracked,
            count,
            sum_across,
        )
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if running_mean is None or running_var is None:
        raise ValueError(
            "batch_norm: running_mean and running_var must be given outside training (they "
            "replace the batch's statistics); pass training=True to normalise with the batch's"
        )
    return _evaluate(input, running_mean, running_var, weight, bias, eps)


def _parents(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> tuple:
    return tuple(t for t in (input, weight, bias) if t is not None)


def _update_running_stats(
    running_mean: Tensor | None,
    running_var: Tensor | None,
    num_batches_tracked: Tensor | None,
    momentum: float | None,
    mean: np.ndarray,
    var: np.ndarray,
    count: int,
) -> None:
    """Move the running averages towards this batch's mean and unbiased variance, in place."""
    if num_batches_tracked is not None:
        num_batches_tracked.data += 1
    factor = momentum if momentum is not None else 1.0 / float(num_batches_tracked.data)
    if running_mean is not None:
        running_mean.data *= 1.0 - factor
        running_mean.data += factor * mean
    if running_var is not None:
        running_var.data *= 1.0 - factor
        running_var.data += (factor * count / (count - 1)) * var


def _train(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    momentum: float | None,
    eps: float,
    num_batches_tracked: Tensor | None,
    count: int,
    sum_across: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Tensor:
    x = input.data
    channels = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # broadcasts a (C,) array over x
    if sum_across is None:
        mean = _channel_sum(x) / count
    else:  # every process's sums and counts, in one message
        summed = sum_across(np.append(_channel_sum(x).astype(np.float64), count))
        count = int(summed[-1])
        mean = (summed[:-1] / count).astype(x.dtype)
    xhat = x - mean.reshape(channels)
    squares = _channel_sum(xhat * xhat)
    var = (squares if sum_across is None else sum_across(squares)) / count
    invstd = 1.0 / np.sqrt(var + eps)
    xhat *= invstd.reshape(channels)
    if weight is not None:
        out = xhat * weight.data.reshape(channels)
    else:
        out = xhat.copy()  # never hand out xhat itself: backward needs it unchanged
    if bias is not None:
        out += bias.data.reshape(channels)

    if running_mean is not None or running_var is not None:
        _update_running_stats(
            running_mean, running_var, num_batches_tracked, momentum, mean, var, count
        )

    def backward(g: np.ndarray) -> tuple:
        g_sum = _channel_sum(g)
        gx_sum = _channel_sum(g * xhat)
        dx = None
        if input.requires_grad:
            scale = invstd if weight is None else invstd * weight.data
            total_g, total_gx = g_sum, gx_sum  # over every process with sum_across
            if sum_across is not None:
                total_g, total_gx = np.split(sum_across(np.concatenate([g_sum, gx_sum])), 2)
            dx = g - (total_g / count).reshape(channels)
            dx -= xhat * (total_gx / count).reshape(channels)
            dx *= scale.reshape(channels)
        grads = [dx]
        if weight is not None:
            grads.append(gx_sum if weight.requires_grad else None)
        if bias is not None:
            grads.append(g_sum if bias.requires_grad else None)
        return tuple(grads)

    return Tensor._make(out, _parents(input, weight, bias), backward, "BatchNorm")


def _evaluate(
    input: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    eps: float,
) -> Tensor:
    x = input.data
    channels = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    # copies: a later training step updates the running statistics in place before backward
    mean = running_mean.data.astype(x.dtype)
    invstd = (1.0 / np.sqrt(running_var.data + eps)).astype(x.dtype)
    scale = invstd if weight is None else invstd * weight.data
    shift = -mean * scale
    if bias is not None:
        shift += bias.data
    out = x * scale.reshape(channels)
    out += shift.reshape(channels)

    def backward(g: np.ndarray) -> tuple:
        grads = [g * scale.reshape(channels) if input.requires_grad else None]
        g_sum = _channel_sum(g) if weight is not None or bias is not None else None
        if weight is not None:
            # sum(g * x̂) = (sum(g * x) - mean * sum(g)) / σ, without building x̂
            dw = (_channel_sum(g * x) - mean * g_sum) * invstd if weight.requires_grad else None
            grads.append(dw)
        if bias is not None:
            grads.append(g_sum if bias.requires_grad else None)
        return tuple(grads)

    return Tensor._make(out, _parents(input, weight, bias), backward, "BatchNorm")


# -- layer and RMS normalisation ------------------------------------------------------------------
#
# These normalise each sample on its own, over its last dimensions (a token's features), so they
# need no running statistics and behave the same in training and evaluation. The input is viewed
# as rows (M, n), n the size of `normalized_shape`; sums along a row are matrix-vector products
# with a vector of ones, which BLAS runs several times faster than NumPy's row reductions.


def _normalized_rows(
    name: str, input: Tensor, normalized_shape: Any, **affine: Tensor | None
) -> tuple[np.ndarray, tuple[int, ...]]:
    """The input as rows (M, n) with n = prod(normalized_shape), after checking every shape."""
    x = input.data
    if isinstance(normalized_shape, int | np.integer):
        normalized_shape = (normalized_shape,)
    shape = tuple(int(s) for s in normalized_shape)
    checks.floating_point(x, "input", name)
    if not shape or len(shape) > x.ndim or x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"{name}: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of shape {x.shape}"
        )
    for what, t in affine.items():
        if t is None:
            continue
        if t.data.shape != shape:
            raise ValueError(
                f"{name}: {what} has shape {t.data.shape} but normalized_shape is {shape}; "
                f"expected {what} of shape {shape}"
            )
        if t.dtype != x.dtype:
            raise TypeError(
                f"{name}: input has dtype {x.dtype} but {what} has dtype {t.dtype}; "
                f"convert one of them (e.g. input.to({t.dtype}))"
            )
    n = math.prod(shape)
    return x.reshape(-1, n), shape


def _row_means(a: np.ndarray, ones_over_n: np.ndarray) -> np.ndarray:
    """The mean of each row of a (M, n) array, as a (M, 1) column."""
    return (a @ ones_over_n)[:, None]


def _row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(a * b) along each row, as a (M, 1) column (no (M, n) temporary)."""
    return np.einsum("ij,ij->i", a, b)[:, None]


def _affine_grads(g2: np.ndarray, xhat: np.ndarray, weight: Tensor | None, bias: Tensor | None):
    """The gradients of out = xhat * weight + bias with respect to weight and bias."""
    grads = []
    if weight is not None:
        dw = np.einsum("ij,ij->j", g2, xhat) if weight.requires_grad else None
        grads.append(None if dw is None else dw.reshape(weight.data.shape))
    if bias is not None:
        db = np.ones(g2.shape[0], dtype=g2.dtype) @ g2 if bias.requires_grad else None
        grads.append(None if db is None else db.reshape(bias.data.shape))
    return grads


def _scaled_output(xhat: np.ndarray, weight: Tensor | None, bias: Tensor | None) -> np.ndarray:
    """xhat * weight + bias in a new array (xhat itself is kept for the backward pass)."""
    n = xhat.shape[1]
    if weight is not None:
        out = xhat * weight.data.reshape(n)
        if bias is not None:
            out += bias.data.reshape(n)
    elif bias is not None:
        out = xhat + bias.data.reshape(n)
    else:
        out = xhat.copy()
    return out


@op("layer_norm")
def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions: y = (x - mean) /
    sqrt(var + eps) * weight + bias, the (biased) statistics taken per sample, PyTorch's
    ``F.layer_norm``. One graph node; backward, with x̂ the normalised rows and ĝ = g * weight:
    dx = (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂)) / σ, dweight = Σ g · x̂, dbias = Σ g."""
    x2, shape = _normalized_rows("layer_norm", input, normalized_shape, weight=weight, bias=bias)
    n = x2.shape[1]
    ones_over_n = np.full(n, 1.0 / n, dtype=x2.dtype)
    xhat = x2 - _row_means(x2, ones_over_n)
    invstd = _row_dots(xhat, xhat)
    invstd *= 1.0 / n
    invstd += eps
    np.sqrt(invstd, out=invstd)
    np.reciprocal(invstd, out=invstd)
    xhat *= invstd
    out = _scaled_output(xhat, weight, bias)

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(xhat.shape)
        dx = None
        if input.requires_grad:
            gw = g2 * weight.data.reshape(n) if weight is not None else g2
            dx = xhat * (_row_dots(gw, xhat) * (1.0 / n))
            np.subtract(gw, dx, out=dx)
            dx -= _row_means(gw, ones_over_n)
            dx *= invstd
            dx = dx.reshape(input.shape)
        return (dx, *_affine_grads(g2, xhat, weight, bias))

    parents = tuple(t for t in (input, weight, bias) if t is not None)
    return Tensor._make(out.reshape(input.shape), parents, backward, "LayerNorm")


@op("rms_norm")
def rms_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` dimensions:
    y = x / sqrt(mean(x²) + eps) * weight, PyTorch's ``F.rms_norm`` (eps None: the dtype's
    machine epsilon). Like layer_norm without centring, and one node; backward, with
    x̂ = x / r and ĝ = g * weight: dx = (ĝ - x̂ · mean(ĝ · x̂)) / r, dweight = Σ g · x̂."""
    x2, shape = _normalized_rows("rms_norm", input, normalized_shape, weight=weight)
    n = x2.shape[1]
    if eps is None:
        eps = float(np.finfo(x2.dtype).eps)
    invrms = _row_dots(x2, x2)
    invrms *= 1.0 / n
    invrms += eps
    np.sqrt(invrms, out=invrms)
    np.reciprocal(invrms, out=invrms)
    xhat = x2 * invrms
    out = _scaled_output(xhat, weight, None)

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(xhat.shape)
        dx = None
        if input.requires_grad:
            gw = g2 * weight.data.reshape(n) if weight is not None else g2
            dx = xhat * (_row_dots(gw, xhat) * (1.0 / n))
            np.subtract(gw, dx, out=dx)
            dx *= invrms
            dx = dx.reshape(input.shape)
        return (dx, *_affine_grads(g2, xhat, weight, None))

    parents = (input,) if weight is None else (input, weight)
    return Tensor._make(out.reshape(input.shape), parents, backward, "RMSNorm")
