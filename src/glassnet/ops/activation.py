"""Activation functions: the nonlinearities between layers, each one node of the graph.

A stack of weighted sums is still one weighted sum; an activation bends each layer's output (relu
cuts the negatives, sigmoid squashes into (0, 1), softmax turns scores into probabilities), and that
is what lets a deep network learn curved functions. Each op keeps just what its derivative needs,
often the output itself: sigmoid' = s (1 - s), tanh' = 1 - t^2.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import save_output
from ..dispatch import op
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .reduction import normalize_dims

# Python floats, never NumPy float64 scalars: those would silently turn float32 math into float64.
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_K = 0.044715


def _at_least_1d(op: Callable) -> Callable:
    """Run `op` on a 0-d tensor as on one element of shape (1,): NumPy turns 0-d results into
    scalars, which the in-place (`out=`) arithmetic of these ops cannot write into."""

    @functools.wraps(op)
    def wrapper(a: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if a.data.ndim == 0:
            return op(a.reshape(1), *args, **kwargs).reshape(())
        return op(a, *args, **kwargs)

    return wrapper


def _floating(a: Tensor) -> np.ndarray:
    """The data of `a`; integer tensors become the default float dtype, as PyTorch promotes them."""
    x = a.data
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) on an array, accurate in both tails: exp(-x) overflows to inf for very
    negative x, and 1 / inf is exactly the 0 the answer rounds to."""
    s = np.asarray(np.negative(x))  # an array even for 0-d x, so that out= below works
    with np.errstate(over="ignore"):
        np.exp(s, out=s)
    s += 1.0
    return np.reciprocal(s, out=s)


def softplus_array(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow: max(z, 0) + log(1 + exp(-|z|))."""
    t = np.asarray(np.abs(z))  # an array even for 0-d z, so that out= below works
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    t += np.maximum(z, 0)
    return t


# -- the rectifier family -------------------------------------------------------------------------


@op("relu")
def relu(a: Tensor) -> Tensor:
    """max(x, 0). NOTE: the gradient at exactly 0 is 0, as in PyTorch."""
    x = a.data
    if x.dtype.kind == "f":
        # NOTE: against an array of zeros rather than the scalar 0: NumPy's maximum is 2-3x
        # slower when one operand is broadcast (measured with NumPy 2.4 on the benchmark machine)
        out = np.zeros_like(x)
        np.maximum(x, out, out=out)
    else:
        out = np.maximum(x, 0)

    def backward(g: np.ndarray) -> tuple:
        return (g * (out > 0),)

    return Tensor._make(out, (a,), backward, "Relu")


@op("leaky_relu")
def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise: negative inputs still pass a little gradient."""
    x = _floating(a)
    slope = float(negative_slope)
    # One slope per element (1 or negative_slope): the output and the gradient are both x times it.
    # Arithmetic on a mask is many times faster than np.where on unpredictable signs.
    factor = (x > 0).astype(x.dtype)
    factor *= 1.0 - slope
    factor += slope

    def backward(g: np.ndarray) -> tuple:
        return (g * factor,)

    return Tensor._make(x * factor, (a,), backward, "LeakyRelu")


@op("elu")
def elu(a: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise: a smooth rectifier that saturates at -alpha."""
    x = _floating(a)
    alpha = float(alpha)
    negative = np.expm1(np.minimum(x, 0))
    if alpha != 1.0:
        negative *= alpha
    out = np.maximum(x, 0)
    out += negative

    def backward(g: np.ndarray) -> tuple:
        # d/dx is 1 for x > 0, else alpha exp(x) = negative + alpha (and negative is 0 for x > 0)
        slope = negative + alpha
        if alpha != 1.0:
            positive = (x > 0).astype(x.dtype)
            positive *= 1.0 - alpha
            slope += positive
        slope *= g
        return (slope,)

    return Tensor._make(out, (a,), backward, "Elu")


@op("hardtanh")
def hardtanh(a: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, else 0 (as PyTorch)."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val})"
        )
    x = a.data
    lo, hi = float(min_val), float(max_val)
    out = np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(g: np.ndarray) -> tuple:
        return (g * ((x > lo) & (x < hi)),)

    return Tensor._make(out, (a,), backward, "Hardtanh")


@op("relu6")
def relu6(a: Tensor) -> Tensor:
    """min(max(x, 0), 6): a ReLU capped at 6 (hardtanh on [0, 6], as PyTorch defines it)."""
    return hardtanh(a, 0.0, 6.0)


# -- smooth activations ---------------------------------------------------------------------------


@op("sigmoid")
def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + exp(-x)): squashes any number into (0, 1); stable at +-1000."""
    out = sigmoid_array(_floating(a))

    def backward(g: np.ndarray) -> tuple:
        d = 1.0 - out
        d *= out
        d *= g
        return (d,)

    return save_output(Tensor._make(out, (a,), backward, "Sigmoid", saved=()))


@op("tanh")
def tanh(a: Tensor) -> Tensor:
    """The hyperbolic tangent: squashes into (-1, 1), centred at 0."""
    out = np.tanh(_floating(a))

    def backward(g: np.ndarray) -> tuple:
        d = np.asarray(out * out)
        np.subtract(1.0, d, out=d)
        d *= g
        return (d,)

    return save_output(Tensor._make(out, (a,), backward, "Tanh", saved=()))


@op("silu")
def silu(a: Tensor) -> Tensor:
    """x * sigmoid(x), also called swish."""
    x = _floating(a)
    s = sigmoid_array(x)

    def backward(g: np.ndarray) -> tuple:
        # d/dx x s(x) = s + x s (1 - s) = s (1 + x (1 - s))
        d = 1.0 - s
        d *= x
        d += 1.0
        d *= s
        d *= g
        return (d,)

    return Tensor._make(x * s, (a,), backward, "Silu")


@op("softplus")
def softplus(a: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, a smooth ReLU; where beta * x > threshold it is x itself."""
    x = _floating(a)
    beta = float(beta)
    z = x * beta if beta != 1.0 else x
    out = softplus_array(z)
    if beta != 1.0:
        out /= beta
    linear = z > threshold
    if linear.any():
        np.copyto(out, x, where=linear)

    def backward(g: np.ndarray) -> tuple:
        # d/dx = sigmoid(beta x) = exp(beta x - softplus(beta x)); exactly 1 where out is x itself
        d = out * beta if beta != 1.0 else out.copy()
        np.subtract(z, d, out=d)
        np.exp(d, out=d)
        d *= g
        return (d,)

    return Tensor._make(out, (a,), backward, "Softplus")


@op("mish")
def mish(a: Tensor) -> Tensor:
    """x * tanh(softplus(x)): a smooth, slightly non-monotonic rectifier."""
    x = _floating(a)
    sp = softplus_array(x)
    t = np.tanh(sp)

    def backward(g: np.ndarray) -> tuple:
        # d/dx = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2), with sigmoid(x) = exp(x - sp)
        d = np.exp(x - sp)
        d *= x
        d *= 1.0 - t * t
        d += t
        d *= g
        return (d,)

    return Tensor._make(x * t, (a,), backward, "Mish")


# -- GELU and the error function ------------------------------------------------------------------

# erf for float32 (Eigen's and XLA's rational approximation on [-4, 4], beyond which float32 erf is
# +-1): x * P(x^2) / Q(x^2).
_ERF32_P = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
_ERF32_Q = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)

# erf/erfc for float64: W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
# approximations for the error function", Math. Comp. 1969; netlib specfun), good to ~1e-16 and
# computed as erfc on |x| > 0.46875 so that the tails keep their relative accuracy.
_CODY_A = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
           3.77485237685302021e02, 3.20937758913846947e03)  # fmt: skip
_CODY_B = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
           2.84423683343917062e03)  # fmt: skip
_CODY_C = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
           6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
           1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)  # fmt: skip
_CODY_D = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_CODY_P = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
           1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)  # fmt: skip
_CODY_Q = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _poly(coefficients: tuple, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """c0 x^n + c1 x^(n-1) + ... + cn by Horner's rule, in one buffer (`out` if given)."""
    if out is None:
        out = np.empty_like(x)
    out.fill(coefficients[0])
    for c in coefficients[1:]:
        out *= x
        out += c
    return out


def _erfc64(x: np.ndarray) -> np.ndarray:
    """erfc(x) = 1 - erf(x) in float64, from Cody's three intervals (each evaluated everywhere, then
    picked: float64 is the precise path for gradient checks, not the fast one)."""
    y = np.abs(x)
    y2 = y * y
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        near = 1.0 - x * _poly(_CODY_A, y2) / _poly(_CODY_B, y2)
        middle = _poly(_CODY_C, y) / _poly(_CODY_D, y)
        inv2 = 1.0 / y2
        far = (_INV_SQRT_PI - inv2 * _poly(_CODY_P, inv2) / _poly(_CODY_Q, inv2)) / y
        tail = np.exp(-y2) * np.where(y <= 4.0, middle, far)
    tail = np.where(x < 0, 2.0 - tail, tail)
    return np.where(y <= 0.46875, near, tail)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x), the standard normal CDF: 0.5 (1 + erf(x / sqrt 2)).

    float64 is exact to ~1e-15 (Cody). float32 uses the one rational function on [-4, 4]: its
    error, up to 4e-7 (3 float32 steps near 1), is on a par with PyTorch's own float32 GELU.
    """
    if x.dtype == np.float64:
        return 0.5 * _erfc64(x * -_SQRT_HALF)
    z = x * _SQRT_HALF
    np.clip(z, -4.0, 4.0, out=z)
    z2 = z * z
    cdf = _poly(_ERF32_P, z2)
    cdf *= z
    cdf /= _poly(_ERF32_Q, z2, out=z)
    cdf += 1.0
    cdf *= 0.5
    return cdf


@op("gelu")
@_at_least_1d
def gelu(a: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the normal CDF; ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as GPT-2 did."""
    x = _floating(a)
    if approximate == "none":
        cdf = normal_cdf(x)

        def backward(g: np.ndarray) -> tuple:
            # d/dx x Phi(x) = Phi(x) + x phi(x), phi the normal density
            d = x * x
            d *= -0.5
            np.exp(d, out=d)
            d *= x
            d *= _INV_SQRT_2PI
            d += cdf
            d *= g
            return (d,)

        return Tensor._make(x * cdf, (a,), backward, "Gelu")
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x2 = x * x
    t = x2 * _GELU_TANH_K
    t += 1.0
    t *= x
    t *= _SQRT_2_OVER_PI
    np.tanh(t, out=t)
    out = t + 1.0
    out *= x
    out *= 0.5

    def backward_tanh(g: np.ndarray) -> tuple:
        # 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 k x^2)
        inner = x2 * (3.0 * _GELU_TANH_K)
        inner += 1.0
        inner *= 1.0 - t * t
        inner *= x * (0.5 * _SQRT_2_OVER_PI)
        inner += 0.5
        inner += 0.5 * t
        inner *= g
        return (inner,)

    return Tensor._make(out, (a,), backward_tanh, "Gelu")


# -- softmax --------------------------------------------------------------------------------------


def _softmax_axis(dim: int, x: np.ndarray) -> tuple | None:
    return normalize_dims(dim, x.ndim) or None


def _shifted(x: np.ndarray, axis: tuple | None) -> np.ndarray:
    """x minus its maximum along `axis`: exp of it can't overflow, and softmax doesn't change."""
    if x.size == 0:
        return x.copy()
    return x - x.max(axis=axis, keepdims=True)


@op("softmax")
@_at_least_1d
def softmax(a: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`: scores to probabilities that sum to 1."""
    x = _floating(a)
    axis = _softmax_axis(dim, x)
    out = _shifted(x, axis)
    np.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)

    def backward(g: np.ndarray) -> tuple:
        # the Jacobian diag(p) - p p^T applied to g, without forming it: p (g - sum(g p))
        d = g * out
        np.subtract(g, d.sum(axis=axis, keepdims=True), out=d)
        d *= out
        return (d,)

    return save_output(Tensor._make(out, (a,), backward, "Softmax", saved=()))


@op("log_softmax")
@_at_least_1d
def log_softmax(a: Tensor, dim: int) -> Tensor:
    """x - log(sum(exp(x))) along `dim`: log-probabilities, exact even for scores like 1000."""
    x = _floating(a)
    axis = _softmax_axis(dim, x)
    out = _shifted(x, axis)
    p = np.exp(out)  # kept as the softmax for backward: cheaper than exp(out) again
    if out.size:  # (an empty input has no sums to take the log of)
        total = p.sum(axis=axis, keepdims=True)
        out -= np.log(total)
        p /= total

    def backward(g: np.ndarray) -> tuple:
        d = p * g.sum(axis=axis, keepdims=True)
        np.subtract(g, d, out=d)
        return (d,)

    return Tensor._make(out, (a,), backward, "LogSoftmax")
