"""Comparisons, logic and rounding: ops whose outputs carry no gradient.

``x > 0`` gives a boolean tensor, ``x.floor()`` whole numbers: the answer does not change when the
input moves a little, so there is nothing to backpropagate, and the output stays out of the graph.
They still pass through the dispatch point like every other op (an exported graph needs its masks).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..dispatch import op
from ..tensor import Tensor
from .elementwise import raw


def _constant(data: Any, inputs: tuple, name: str) -> Tensor:
    """`data` as a tensor outside the graph (on its inputs' device: mixing devices raises)."""
    with no_grad():
        return Tensor._make(data, tuple(t for t in inputs if isinstance(t, Tensor)), None, name)


@op("eq")
def eq(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) == raw(b), (a, b), "Eq")


@op("ne")
def ne(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) != raw(b), (a, b), "Ne")


@op("lt")
def lt(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) < raw(b), (a, b), "Lt")


@op("le")
def le(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) <= raw(b), (a, b), "Le")


@op("gt")
def gt(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) > raw(b), (a, b), "Gt")


@op("ge")
def ge(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) >= raw(b), (a, b), "Ge")


@op("bitwise_not")
def bitwise_not(a: Tensor) -> Tensor:
    return _constant(~a.data, (a,), "BitwiseNot")


@op("bitwise_and")
def bitwise_and(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) & raw(b), (a, b), "BitwiseAnd")


@op("bitwise_or")
def bitwise_or(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) | raw(b), (a, b), "BitwiseOr")


@op("bitwise_xor")
def bitwise_xor(a: Tensor, b: Any) -> Tensor:
    return _constant(raw(a) ^ raw(b), (a, b), "BitwiseXor")


@op("floor_divide")
def floor_divide(a: Tensor, b: Any) -> Tensor:
    return _constant(np.floor_divide(raw(a), raw(b)), (a, b), "FloorDivide")


@op("remainder")
def remainder(a: Tensor, b: Any) -> Tensor:
    return _constant(np.remainder(raw(a), raw(b)), (a, b), "Remainder")


@op("isnan")
def isnan(a: Tensor) -> Tensor:
    return _constant(np.isnan(a.data), (a,), "IsNan")


@op("isinf")
def isinf(a: Tensor) -> Tensor:
    return _constant(np.isinf(a.data), (a,), "IsInf")


@op("isfinite")
def isfinite(a: Tensor) -> Tensor:
    return _constant(np.isfinite(a.data), (a,), "IsFinite")


@op("all")
def all(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _constant(np.asarray(np.all(a.data, axis=dim, keepdims=keepdim)), (a,), "All")


@op("any")
def any(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _constant(np.asarray(np.any(a.data, axis=dim, keepdims=keepdim)), (a,), "Any")


@op("floor")
def floor(a: Tensor) -> Tensor:
    return _constant(np.floor(a.data), (a,), "Floor")


@op("ceil")
def ceil(a: Tensor) -> Tensor:
    return _constant(np.ceil(a.data), (a,), "Ceil")


@op("round")
def round(a: Tensor) -> Tensor:  # noqa: A001
    return _constant(np.round(a.data), (a,), "Round")
