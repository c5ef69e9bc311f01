"""Matrix multiplication: the weighted sums at the heart of every layer.

`a @ b` multiplies the last two dims as matrices and broadcasts any dims before them (a batch of
matrices). Its gradients are matrix products too: dL/da = dL/dout @ b^T and dL/db = a^T @ dL/dout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import unbroadcast
from ..tensor import Tensor
from .elementwise import operands


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
    out = np.matmul(x, y)

    def backward(g: np.ndarray) -> tuple:
        # Treat 1-D operands as matrices (a row, a column), then undo it.
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)
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
