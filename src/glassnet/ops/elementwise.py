"""Elementwise operations: the same function applied to every number, with its derivative beside it.

Each op computes its output with NumPy and defines `backward`, which turns the gradient of the
output into a gradient for each input by the chain rule: d(loss)/d(input) = d(loss)/d(output) *
d(output)/d(input). Operands broadcast as in NumPy; `unbroadcast` sums gradients back to each
input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import save_output, unbroadcast
from ..dispatch import op
from ..dtypes import get_default_dtype
from ..tensor import Tensor, to_array


def raw(x: Any) -> Any:
    """The array inside a Tensor, or `x` itself (a Python number or an array)."""
    return x.data if isinstance(x, Tensor) else x


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _scalar_dtype(value: Any) -> np.dtype:
    if isinstance(value, bool | np.bool_):
        return np.dtype(bool)
    if isinstance(value, int | np.integer):
        return np.dtype(np.int64)
    return get_default_dtype()


def _priority(x: Any) -> int:
    """How much an operand's dtype counts in promotion: a tensor with dims over a 0-d tensor over a
    Python number."""
    if isinstance(x, Tensor):
        return 2 if x.data.ndim > 0 else 1
    return 0


def result_dtype(a: Any, b: Any) -> np.dtype:
    """PyTorch's type promotion. The higher kind (bool < integer < float < complex) wins; a Python
    number of the higher kind gives the default dtype of that kind (a float with an int tensor gives
    float32, never float64). Within one kind, a tensor with dims beats a 0-d tensor, which beats a
    Python number; operands of equal standing promote as NumPy does (int8 + uint8 = int16)."""
    da = a.data.dtype if isinstance(a, Tensor) else _scalar_dtype(a)
    db = b.data.dtype if isinstance(b, Tensor) else _scalar_dtype(b)
    if da == db:
        return da
    ka, kb = _KIND_RANK[da.kind], _KIND_RANK[db.kind]
    if ka != kb:
        winner, dtype = (a, da) if ka > kb else (b, db)
        if isinstance(winner, Tensor) or dtype.kind != "f":
            return dtype
        return get_default_dtype()
    pa, pb = _priority(a), _priority(b)
    if pa == pb:
        return np.result_type(da, db)
    return da if pa > pb else db


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of the promoted dtype (Python numbers become 0-d constants)."""
    dtype = result_dtype(a, b)
    if not isinstance(a, Tensor):
        a = Tensor(np.asarray(a, dtype=dtype))
    elif a.data.dtype != dtype:
        a = astype(a, dtype)
    if not isinstance(b, Tensor):
        b = Tensor(np.asarray(b, dtype=dtype))
    elif b.data.dtype != dtype:
        b = astype(b, dtype)
    return a, b


@op("astype")
def astype(a: Tensor, dtype: Any) -> Tensor:
    """Convert to another dtype; the gradient flows back converted to the original dtype."""
    dtype = np.dtype(dtype)
    if a.data.dtype == dtype:
        return a
    src = a.data.dtype

    def backward(g: np.ndarray) -> tuple:
        return (g.astype(src),)

    differentiable = dtype.kind in "fc"
    return Tensor._make(
        a.data.astype(dtype), (a,) if differentiable else (), backward, "ToCopy", saved=()
    )


@op("clone")
def clone(a: Tensor) -> Tensor:
    return Tensor._make(a.data.copy(), (a,), lambda g: (g,), "Clone", saved=())


# -- arithmetic ---------------------------------------------------------------------------------


@op("add")
def add(a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    sa, sb = a.data.shape, b.data.shape

    def backward(g: np.ndarray) -> tuple:
        return (unbroadcast(g, sa), unbroadcast(g, sb))

    return Tensor._make(a.data + b.data, (a, b), backward, "Add", saved=())


@op("sub")
def sub(a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    sa, sb = a.data.shape, b.data.shape

    def backward(g: np.ndarray) -> tuple:
        return (unbroadcast(g, sa), unbroadcast(-g, sb) if b.requires_grad else None)

    return Tensor._make(a.data - b.data, (a, b), backward, "Sub", saved=())


@op("mul")
def mul(a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    x, y = a.data, b.data

    def backward(g: np.ndarray) -> tuple:
        return (
            unbroadcast(g * y, x.shape) if a.requires_grad else None,
            unbroadcast(g * x, y.shape) if b.requires_grad else None,
        )

    return Tensor._make(x * y, (a, b), backward, "Mul")


@op("div")
def div(a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    if a.data.dtype.kind in "biu":  # true division of integers gives floats, as in PyTorch
        a, b = astype(a, get_default_dtype()), astype(b, get_default_dtype())
    x, y = a.data, b.data
    out = x / y

    def backward(g: np.ndarray) -> tuple:
        return (
            unbroadcast(g / y, x.shape) if a.requires_grad else None,
            unbroadcast(-g * out / y, y.shape) if b.requires_grad else None,
        )

    return Tensor._make(out, (a, b), backward, "Div")


@op("neg")
def neg(a: Tensor) -> Tensor:
    return Tensor._make(-a.data, (a,), lambda g: (-g,), "Neg", saved=())


@op("pow")
def pow(a: Any, b: Any) -> Tensor:  # noqa: A001
    """a ** b. A Python-number exponent is the common case (x ** 2) and takes the short path.

    Gradients follow PyTorch where the formulas break down: an exponent of 0 gives the base a zero
    gradient (even at 0), and a base of 0 gives the exponent a zero gradient (for exponents >= 0).
    """
    if isinstance(b, np.generic):  # a NumPy scalar counts as a Python number, as in PyTorch
        b = b.item()
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        x = a.data
        if x.dtype.kind in "biu" and isinstance(b, float):
            x = x.astype(get_default_dtype())
        out = x**b

        def backward_scalar(g: np.ndarray) -> tuple:
            if b == 0:
                return (np.zeros_like(g),)
            if b == 2:
                return (g * 2 * x,)
            return (g * b * x ** (b - 1),)

        return Tensor._make(out, (a,), backward_scalar, "Pow")
    a, b = operands(a, b)
    x, y = a.data, b.data
    out = x**y

    def backward(g: np.ndarray) -> tuple:
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if a.requires_grad:
                d_base = np.where(y == 0, 0, y * x ** (y - 1))
                ga = unbroadcast((g * d_base).astype(g.dtype, copy=False), x.shape)
            if b.requires_grad:
                # log of a negative base is NaN, as in PyTorch: the power is not differentiable
                d_exponent = np.where((x == 0) & (y >= 0), 0, out * np.log(x))
                gb = unbroadcast((g * d_exponent).astype(g.dtype, copy=False), y.shape)
        return ga, gb

    return Tensor._make(out, (a, b), backward, "Pow")


# -- unary functions ----------------------------------------------------------------------------


def _floating(a: Tensor) -> np.ndarray:
    return a.data if a.data.dtype.kind in "fc" else a.data.astype(get_default_dtype())


@op("exp")
def exp(a: Tensor) -> Tensor:
    out = np.exp(_floating(a))
    return save_output(Tensor._make(out, (a,), lambda g: (g * out,), "Exp", saved=()))


@op("log")
def log(a: Tensor) -> Tensor:
    x = _floating(a)
    return Tensor._make(np.log(x), (a,), lambda g: (g / x,), "Log")


@op("log1p")
def log1p(a: Tensor) -> Tensor:
    x = _floating(a)
    return Tensor._make(np.log1p(x), (a,), lambda g: (g / (1 + x),), "Log1p")


@op("sqrt")
def sqrt(a: Tensor) -> Tensor:
    out = np.sqrt(_floating(a))
    return save_output(Tensor._make(out, (a,), lambda g: (g / (2 * out),), "Sqrt", saved=()))


@op("abs")
def abs(a: Tensor) -> Tensor:  # noqa: A001
    x = a.data
    return Tensor._make(np.abs(x), (a,), lambda g: (g * np.sign(x),), "Abs")


@op("sign")
def sign(a: Tensor) -> Tensor:
    """-1, 0 or 1; its gradient is 0 (PyTorch still records it in the graph)."""
    return Tensor._make(np.sign(a.data), (a,), lambda g: (np.zeros_like(g),), "Sign", saved=())


@op("sin")
def sin(a: Tensor) -> Tensor:
    x = _floating(a)
    return Tensor._make(np.sin(x), (a,), lambda g: (g * np.cos(x),), "Sin")


@op("cos")
def cos(a: Tensor) -> Tensor:
    x = _floating(a)
    return Tensor._make(np.cos(x), (a,), lambda g: (-g * np.sin(x),), "Cos")


def _shrink(g: np.ndarray, t: Tensor) -> np.ndarray:
    """A gradient summed back to the shape of `t`, in its dtype."""
    return unbroadcast(g, t.data.shape).astype(t.data.dtype, copy=False)


@op("clamp")
def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; the gradient passes where the value was not clipped (bounds
    included, as in PyTorch). Bounds may be numbers or tensors (which broadcast, and receive the
    gradient where they are the value taken); when min > max every value becomes max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    dtype = a.data.dtype
    for bound in (min, max):
        if bound is not None:
            dtype = result_dtype(Tensor(np.empty((1,) * a.data.ndim, dtype)), bound)
    x = a.data if a.data.dtype == dtype else a.data.astype(dtype)
    lo, hi = raw(min), raw(max)
    if isinstance(lo, np.ndarray) and lo.dtype != dtype:
        lo = lo.astype(dtype)
    if isinstance(hi, np.ndarray) and hi.dtype != dtype:
        hi = hi.astype(dtype)
    out = np.asarray(np.clip(x, lo, hi)).astype(dtype, copy=False)
    bounds = [t for t in (min, max) if isinstance(t, Tensor)]

    def backward(g: np.ndarray) -> tuple:
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        grads = [_shrink(g * inside, a)]
        if isinstance(min, Tensor):  # min is taken below it, unless max overrides it
            taken = x < lo if hi is None else (x < lo) & (lo < hi)
            grads.append(_shrink(g * taken, min) if min.requires_grad else None)
        if isinstance(max, Tensor):
            taken = x > hi if lo is None else (x > hi) | (hi < lo)
            grads.append(_shrink(g * taken, max) if max.requires_grad else None)
        return tuple(grads)

    return Tensor._make(out, (a, *bounds), backward, "Clamp")


def _pick(a: Tensor, b: Tensor, out: np.ndarray, a_wins: np.ndarray, tie: np.ndarray, name: str):
    # NOTE: at ties PyTorch splits the gradient evenly between both inputs; so do we.
    weight_a = a_wins.astype(out.dtype) + 0.5 * tie

    def backward(g: np.ndarray) -> tuple:
        return (
            unbroadcast(g * weight_a, a.data.shape) if a.requires_grad else None,
            unbroadcast(g * (1 - weight_a), b.data.shape) if b.requires_grad else None,
        )

    return Tensor._make(out, (a, b), backward, name)


@op("maximum")
def maximum(a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    x, y = a.data, b.data
    return _pick(a, b, np.maximum(x, y), x > y, x == y, "Maximum")


@op("minimum")
def minimum(a: Any, b: Any) -> Tensor:
    a, b = operands(a, b)
    x, y = a.data, b.data
    return _pick(a, b, np.minimum(x, y), x < y, x == y, "Minimum")


@op("where")
def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick from `a` where `condition` is true and from `b` elsewhere; gradients follow the pick."""
    cond = np.asarray(raw(condition), dtype=bool)
    a, b = operands(a, b)
    x, y = a.data, b.data

    def backward(g: np.ndarray) -> tuple:
        zero = np.zeros((), dtype=g.dtype)
        return (
            unbroadcast(np.where(cond, g, zero), x.shape) if a.requires_grad else None,
            unbroadcast(np.where(cond, zero, g), y.shape) if b.requires_grad else None,
        )

    return Tensor._make(np.where(cond, x, y), (a, b), backward, "Where")


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """`data` as a Tensor, without copying when it already is one of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.data.dtype == np.dtype(dtype)):
        return data
    return Tensor(to_array(data, dtype))
