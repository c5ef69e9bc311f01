"""Reductions: many numbers summarised into fewer (a sum, a mean, a maximum, a variance).

In the backward pass each input receives its share of the output's gradient: every element of a sum
gets all of it, every element of a mean 1/N of it, and only the winner of a maximum gets any.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple
from typing import Any

import numpy as np

from ..autograd import record
from ..dispatch import op
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from . import elementwise as E

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def normalize_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """`dim` (None, an int or a sequence, negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    size = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -size <= d < size:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
                f"but got {d})"
            )
        out.append(int(d) % size)
    return tuple(sorted(set(out))) if ndim else ()


def reduction_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """Like `normalize_dims`, except that an empty tuple means every dim (PyTorch's convention
    for sum, mean, amax, var and friends)."""
    if isinstance(dim, tuple | list) and not dim:
        dim = None
    return normalize_dims(dim, ndim)


def _expand_back(g: np.ndarray, axes: tuple, keepdim: bool, shape: tuple) -> np.ndarray:
    """Broadcast a reduced gradient back over the axes the reduction removed."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


@op("sum")
def sum(a: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A001
    x = a.data
    axes = reduction_dims(dim, x.ndim)
    out = x.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(g: np.ndarray) -> tuple:
        return (_expand_back(g, axes, keepdim, x.shape).astype(x.dtype, copy=False),)

    return Tensor._make(
        out, (a,), backward, "Sum", saved=()
    )  # _make turns a NumPy scalar into an array


@op("mean")
def mean(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = a.data if a.data.dtype.kind in "fc" else a.data.astype(get_default_dtype())
    axes = reduction_dims(dim, x.ndim)
    count = 1
    for ax in axes:
        count *= x.shape[ax]
    out = x.mean(axis=axes, keepdims=keepdim)  # a NumPy scalar for 0-d: _make makes it an array

    def backward(g: np.ndarray) -> tuple:
        return (_expand_back(g / count, axes, keepdim, x.shape),)

    return Tensor._make(out, (a,), backward, "Mean", saved=())


def _extreme(a: Tensor, dim: Any, keepdim: bool, find_max: bool, name: str) -> Any:
    x = a.data
    if x.size == 0 and dim is None:
        raise RuntimeError(f"{name}(): Expected reduction over a non-empty tensor")
    if dim is None or not isinstance(dim, int | np.integer):
        # a full reduction (like amax): ties share the gradient evenly, as in PyTorch
        axes = reduction_dims(dim, x.ndim)
        out = x.max(axis=axes, keepdims=True) if find_max else x.min(axis=axes, keepdims=True)

        def backward_all(g: np.ndarray) -> tuple:
            winners = x == out
            share = winners / winners.sum(axis=axes, keepdims=True)
            return (_expand_back(g, axes, keepdim, x.shape) * share.astype(x.dtype),)

        value = out if keepdim else out.reshape([n for i, n in enumerate(x.shape) if i not in axes])
        return Tensor._make(value, (a,), backward_all, name.capitalize())
    (axis,) = normalize_dims(dim, x.ndim) or (None,)
    if axis is None:  # a 0-d tensor: its one value, at index 0
        out = Tensor._make(x.copy(), (a,), lambda g: (g,), name.capitalize())
        return ValuesIndices(out, Tensor(np.zeros((), dtype=np.int64)))
    idx = np.argmax(x, axis=axis) if find_max else np.argmin(x, axis=axis)
    idx_keep = np.expand_dims(idx, axis)
    values = np.take_along_axis(x, idx_keep, axis=axis)

    def backward(g: np.ndarray | None, _: None = None) -> tuple:
        grad = np.zeros_like(x)
        np.put_along_axis(grad, idx_keep, g if keepdim else np.expand_dims(g, axis), axis=axis)
        return (grad,)

    if not keepdim:
        values = values.squeeze(axis)
    # one node, two outputs (the indices never need a gradient)
    made = record((values, idx_keep if keepdim else idx), (a,), backward, name.capitalize())
    return ValuesIndices(*made)


@op("max")
def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest value; with an int `dim`, (values, indices) along that dim, as in PyTorch."""
    return _extreme(a, dim, keepdim, True, "max")


@op("min")
def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return _extreme(a, dim, keepdim, False, "min")


@op("amax")
def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _extreme(a, reduction_dims(dim, a.data.ndim), keepdim, True, "amax")


@op("amin")
def amin(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _extreme(a, reduction_dims(dim, a.data.ndim), keepdim, False, "amin")


@op("argmax")
def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        idx = np.asarray(np.argmax(a.data))
        return Tensor(idx.reshape((1,) * a.data.ndim) if keepdim else idx)
    return Tensor(np.argmax(a.data, axis=dim, keepdims=keepdim))


@op("argmin")
def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    if dim is None:
        idx = np.asarray(np.argmin(a.data))
        return Tensor(idx.reshape((1,) * a.data.ndim) if keepdim else idx)
    return Tensor(np.argmin(a.data, axis=dim, keepdims=keepdim))


def _correction(unbiased: bool | None, correction: int | None) -> int:
    if correction is not None:
        return int(correction)
    return 0 if unbiased is False else 1


@op("var")
def var(
    a: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> Tensor:
    """Variance: mean squared distance from the mean, divided by N - correction (1 by default).

    As in PyTorch, `var(False)` means unbiased=False over every dim, and with N <= correction
    the result is NaN (or inf), gradients too.
    """
    if isinstance(dim, bool):  # torch's var(unbiased) overload
        dim, unbiased = None, dim
    x = a.data
    axes = reduction_dims(dim, x.ndim)
    ddof = _correction(unbiased, correction)
    count = 1
    for ax in axes:
        count *= x.shape[ax]
    centred = x - x.mean(axis=axes, keepdims=True)
    denom = builtins.max(count - ddof, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray((centred * centred).sum(axis=axes, keepdims=keepdim) / denom)
    scale = 2.0 / denom if denom else math.inf

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(invalid="ignore"):
            return (_expand_back(g, axes, keepdim, x.shape) * scale * centred,)

    return Tensor._make(out.astype(x.dtype, copy=False), (a,), backward, "Var")


@op("std")
def std(
    a: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> Tensor:
    return E.sqrt(var(a, dim, unbiased, keepdim, correction=correction))


@op("logsumexp")
def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed without overflow, by factoring out the maximum (-inf over an
    empty dim, as in PyTorch)."""
    x = a.data if a.data.dtype.kind in "fc" else a.data.astype(get_default_dtype())
    axes = normalize_dims(dim, x.ndim)
    m = x.max(axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    sumexp = np.exp(x - m).sum(axis=axes, keepdims=True)
    with np.errstate(divide="ignore"):
        out_keep = np.log(sumexp) + m

    def backward(g: np.ndarray) -> tuple:
        softmax = np.exp(x - out_keep)
        return (_expand_back(g, axes, keepdim, x.shape) * softmax,)

    out = out_keep if keepdim else np.squeeze(out_keep, axis=axes)
    return Tensor._make(out, (a,), backward, "LogSumExp")


@op("norm")
def norm(a: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm: (sum |x|^p)^(1/p); 'fro' is the 2-norm, inf the largest |x|, -inf the smallest,
    0 the number of nonzeros. At the zero vector the gradient is 0, as in PyTorch."""
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
    if p == 1:
        return sum(E.abs(a), dim, keepdim)
    if p == math.inf:
        return amax(E.abs(a), dim, keepdim)
    if p == -math.inf:
        return amin(E.abs(a), dim, keepdim)
    x = a.data if a.data.dtype.kind in "fc" else a.data.astype(get_default_dtype())
    axes = normalize_dims(dim, x.ndim)
    if p == 0:
        out = np.asarray((x != 0).sum(axis=axes, keepdims=keepdim), dtype=x.dtype)
        return Tensor._make(out, (a,), lambda g: (np.zeros(x.shape, g.dtype),), "Norm")
    p = float(p)
    magnitude = np.abs(x)
    if p == 2:
        out_keep = np.sqrt((x * x).sum(axis=axes, keepdims=True))
    else:
        out_keep = (magnitude**p).sum(axis=axes, keepdims=True) ** (1.0 / p)

    def backward(g: np.ndarray) -> tuple:
        g = g if keepdim else np.expand_dims(g, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                d = x / out_keep
            else:  # sign(x) |x|^(p-1) / norm^(p-1)
                d = np.sign(x) * (magnitude / out_keep) ** (p - 1)
        return (np.where(out_keep == 0, 0, d * g).astype(x.dtype, copy=False),)

    out = out_keep if keepdim else np.squeeze(out_keep, axis=axes)
    return Tensor._make(np.asarray(out), (a,), backward, "Norm")
