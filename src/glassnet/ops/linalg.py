"""Matrix multiplication: the weighted sums at the heart of every layer.

`a @ b` multiplies the last two dims as matrices and broadcasts any dims before them (a batch of
matrices). Its gradients are matrix products too: dL/da = dL/dout @ b^T and dL/db = a^T @ dL/dout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import unbroadcast
from ..dispatch import op
from ..tensor import Tensor
from .elementwise import operands


@op("matmul")
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D, 2-D, batched and broadcast operands."""
    a, b = operands(a, b)
    x, y = a.data, b.data
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are 0D")
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise RuntimeError(
            f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be multiplied "
            f"({inner_x} columns in the first, {inner_y} rows in the second)"
        )
    if x.ndim > 2 or y.ndim > 2:
        try:
            np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
        except ValueError:
            raise RuntimeError(
                f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be multiplied "
                f"(batch dims {tuple(x.shape[:-2])} and {tuple(y.shape[:-2])} do not broadcast)"
            ) from None
    out = np.matmul(x, y)

    def backward(g: np.ndarray) -> tuple:
        # Treat 1-D operands as matrices (a row, a column), then undo it.
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g
        if y.ndim == 1:
            g2 = g2[..., None]
        if x.ndim == 1:
            g2 = g2[..., None, :]
        ga = gb = None
        if a.requires_grad:
            ga = np.matmul(g2, np.swapaxes(y2, -1, -2))
            ga = unbroadcast(ga, x2.shape).reshape(x.shape)
        if b.requires_grad:
            if y2.ndim == 2 and x2.ndim > 2:
                # a batch of inputs times one weight matrix: fold the batch into one product
                k, m = x2.shape[-1], g2.shape[-1]
                gb = x2.reshape(-1, k).T @ g2.reshape(-1, m)
            else:
                gb = unbroadcast(np.matmul(np.swapaxes(x2, -1, -2), g2), y2.shape)
            gb = gb.reshape(y.shape)
        return ga, gb

    return Tensor._make(out, (a, b), backward, "MatMul")


@op("mm")
def mm(a: Tensor, b: Tensor) -> Tensor:
    """Matrix times matrix: both must be 2-D (no broadcasting), as in PyTorch."""
    if a.data.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got shape {tuple(a.data.shape)}")
    if b.data.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got shape {tuple(b.data.shape)}")
    return matmul(a, b)


@op("bmm")
def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batches of matrices: both 3-D with the same batch size (no broadcasting)."""
    if a.data.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor, got shape {tuple(a.data.shape)}")
    if b.data.ndim != 3:
        raise RuntimeError(f"bmm: batch2 must be a 3D tensor, got shape {tuple(b.data.shape)}")
    if a.data.shape[0] != b.data.shape[0]:
        raise RuntimeError(
            f"bmm: shapes {tuple(a.data.shape)} and {tuple(b.data.shape)} have different batch "
            f"sizes ({a.data.shape[0]} and {b.data.shape[0]})"
        )
    return matmul(a, b)


@op("dot")
def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of the same length."""
    if a.data.ndim != 1 or b.data.ndim != 1:
        raise RuntimeError(
            f"dot: 1D tensors expected, but got {a.data.ndim}D and {b.data.ndim}D tensors "
            f"(shapes {tuple(a.data.shape)} and {tuple(b.data.shape)})"
        )
    return matmul(a, b)
