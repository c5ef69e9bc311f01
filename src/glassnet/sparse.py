"""Sparse gradients: the few rows of a big table that one batch touched.

A batch of 1,024 ratings reads at most 1,024 rows of a table of 1,682 movie vectors (or of
millions, in a real shop). The gradient of the table is zero everywhere else, so storing it dense
costs memory and time proportional to the table, not to the batch. `SparseRows` keeps only the
rows read: their indices and one row of values for each, as PyTorch's sparse COO gradients of
``Embedding(sparse=True)`` do (``weight.grad.is_sparse``). Indices may repeat until `coalesce`
sums the rows of equal indices; `optim.SparseAdam` steps only those rows (the dense optimizers
refuse such a gradient, as PyTorch's Adam does).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class SparseRows:
    """A gradient of shape `shape` that is zero except in rows `indices`, which hold `values`.

    Args:
        indices: int64 (nnz,), the row of each entry (repeats allowed: they add up).
        values: (nnz, *shape[1:]), the entries.
        shape: the dense shape, (rows, *row_shape).

    Adding two gives one whose entries are both lists joined (as PyTorch leaves them
    uncoalesced); adding a dense array gives a dense array.
    """

    __array_ufunc__ = None  # NumPy defers: ``dense + sparse`` calls SparseRows.__radd__
    is_sparse = True
    base = None  # owns its arrays (autograd asks before keeping a gradient array)

    def __init__(self, indices: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> None:
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.values = np.asarray(values)
        self.shape = tuple(shape)
        if self.values.shape != (len(self.indices), *self.shape[1:]):
            raise ValueError(
                f"SparseRows: values must have shape {(len(self.indices), *self.shape[1:])} for "
                f"{len(self.indices)} indices of a {self.shape} tensor, got {self.values.shape}"
            )

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def coalesce(self) -> SparseRows:
        """The same gradient with each row once, rows in increasing order, equal rows summed."""
        order = np.argsort(self.indices, kind="stable")
        ordered, values = self.indices[order], self.values[order]
        if not len(ordered):
            return SparseRows(ordered, values, self.shape)
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        if len(starts) != len(ordered):
            values = np.add.reduceat(values, starts, axis=0)
        return SparseRows(ordered[starts], values, self.shape)

    def to_dense(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=self.dtype)
        np.add.at(dense, self.indices, self.values)
        return dense

    def fill(self, value: float) -> None:
        """Zero the gradient in place (``optimizer.zero_grad(set_to_none=False)``): no rows."""
        if value != 0:
            raise ValueError(f"SparseRows.fill: only 0 keeps a gradient sparse, got {value!r}")
        self.indices = self.indices[:0]
        self.values = self.values[:0]

    def astype(self, dtype: Any, copy: bool = True) -> SparseRows:
        return SparseRows(self.indices, self.values.astype(dtype, copy=copy), self.shape)

    def __neg__(self) -> SparseRows:
        return SparseRows(self.indices, -self.values, self.shape)

    def __mul__(self, scalar: float) -> SparseRows:
        return SparseRows(self.indices, self.values * scalar, self.shape)

    __rmul__ = __mul__

    def __add__(self, other: Any) -> Any:
        if isinstance(other, SparseRows):
            self._check_shape(other.shape)
            return SparseRows(
                np.concatenate([self.indices, other.indices]),
                np.concatenate([self.values, other.values]),
                self.shape,
            )
        other = np.asarray(other)
        self._check_shape(other.shape)
        dense = np.array(other, dtype=np.result_type(other, self.values))
        np.add.at(dense, self.indices, self.values)
        return dense

    __radd__ = __add__

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        if tuple(shape) != self.shape:
            raise ValueError(f"SparseRows: cannot add a {tuple(shape)} gradient to a {self.shape}")

    def __repr__(self) -> str:
        return f"SparseRows(shape={self.shape}, nnz={len(self.indices)}, dtype={self.dtype})"


def is_sparse(grad: Any) -> bool:
    """Whether `grad` (a gradient Tensor or its array) holds only some rows (`SparseRows`)."""
    return isinstance(getattr(grad, "data", grad), SparseRows)
