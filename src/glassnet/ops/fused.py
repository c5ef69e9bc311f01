"""Fused operations: the hot paths of a network, each one graph node with a hand-written backward.

`linear` is a whole fully connected layer, x @ W^T + b, in one step: one matrix product forward
and at most two back (for the input's gradient and the weights'), where separate matmul, transpose
and add nodes would cost several. `dropout` zeroes random inputs during training and scales the
rest, so that the expected output is unchanged.

The three matrix products of `linear` are written as transposes of the products OpenBLAS runs
fastest: on the machines glassnet was measured on, (W @ X^T)^T took 0.6-0.7x the time of X @ W^T
(see benchmarks/). The results are the same numbers, laid out column-major, which every NumPy
operation accepts. The weight's gradient stays row-major like the weight, so that the optimizer's
update runs over both arrays in order.
"""

from __future__ import annotations

import numpy as np

from ..random import as_rng
from ..tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, PyTorch's layout: input (*, in_features), weight (out_features, in_features),
    bias (out_features,); output (*, out_features)."""
    x, w = input.data, weight.data
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise _shape_error(x, w)
    if x.dtype != w.dtype:
        raise TypeError(
            f"linear: input has dtype {x.dtype} but weight has dtype {w.dtype}; "
            f"convert one of them (e.g. input.to({w.dtype}))"
        )
    n_out = w.shape[0]
    x2 = x if x.ndim == 2 else x.reshape(-1, w.shape[1])
    out = (w @ x2.T).T
    if bias is not None:
        if bias.data.shape != (n_out,):
            raise ValueError(
                f"linear: bias has shape {bias.data.shape} but weight shape {w.shape} needs "
                f"a bias of shape ({n_out},)"
            )
        out += bias.data
    if x.ndim != 2:
        out = out.reshape(*x.shape[:-1], n_out)

    def backward(g: np.ndarray) -> tuple:
        g2 = g if g.ndim == 2 else g.reshape(-1, n_out)
        return (
            (w.T @ g2.T).T.reshape(x.shape) if input.requires_grad else None,
            g2.T @ x2 if weight.requires_grad else None,
            g2.sum(axis=0) if bias is not None and bias.requires_grad else None,
        )

    parents = (input, weight) if bias is None else (input, weight, bias)
    return Tensor._make(out, parents, backward, "Linear")


def _shape_error(x: np.ndarray, w: np.ndarray) -> Exception:
    if w.ndim != 2:
        return ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}"
        )
    if x.ndim == 0:
        return ValueError("linear: input must have at least 1 dimension, got a 0-d tensor")
    return ValueError(
        f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight expects "
        f"{w.shape[1]} (weight shape {w.shape})"
    )


def check_dropout_probability(p: float) -> float:
    """`p` as a float, or a ValueError if it is not a probability."""
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Inverted dropout: during training, zero each element with probability `p` and scale the
    survivors by 1 / (1 - p); outside training, return the input unchanged.

    The mask comes from glassnet's seeded generator (or `generator`), so `manual_seed` repeats it.
    """
    p = check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"dropout expects a floating point tensor, got dtype {x.dtype}")
    if p == 1.0:
        mask = np.zeros_like(x)
    else:
        mask = (as_rng(generator).random(x.shape, dtype=np.float32) >= p).astype(x.dtype)
        mask *= 1.0 / (1.0 - p)

    def backward(g: np.ndarray) -> tuple:
        return (g * mask,)

    return Tensor._make(x * mask, (input,), backward, "Dropout")
