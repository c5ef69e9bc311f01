"""Initialisation: the random numbers a network starts from.

Weights that start too large make signals explode as they pass through the layers; too small, and
they fade away. The schemes here (Xavier/Glorot, Kaiming/He, orthogonal) scale the random numbers
by the layer's fan-in and fan-out so that signals keep their size, as in ``torch.nn.init``. Each
function fills a tensor in place, keeps its dtype, and returns it; a tensor on the 'meta'
device (a shape without values) is returned untouched, with nothing drawn.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import checks
from ..meta import MetaArray
from ..random import GeneratorLike, as_rng
from ..tensor import Tensor

_LINEAR_GAIN_NAMES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """How much to scale weights to make up for what `nonlinearity` does to a signal's size:
    1 for linear layers and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (slope `param`, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_GAIN_NAMES:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    supported = ", ".join([*_LINEAR_GAIN_NAMES, "tanh", "relu", "leaky_relu", "selu"])
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; expected one of {supported}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """How many inputs feed each output (fan-in) and how many outputs each input feeds (fan-out)
    for a weight of shape (out, in, *kernel): ``in * prod(kernel)`` and ``out * prod(kernel)``."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {shape})"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# -- filling a tensor ------------------------------------------------------------------------------


def _array(function: str, tensor: Any, floating: bool = True) -> np.ndarray:
    """The array behind `tensor`, checked: initialisers fill glassnet Tensors (and random ones
    only floating-point Tensors)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{function}: expected a glassnet Tensor, got {type(tensor).__name__}")
    if floating:
        checks.floating_point(tensor.data, "tensor", function)
    return tensor.data


def _fill(array: np.ndarray, sample: Callable[..., np.ndarray]) -> None:
    """Fill `array` in place with ``sample(size=..., dtype=..., out=...)``, a NumPy Generator
    method. NumPy can draw float32 and float64 straight into contiguous memory; other arrays get
    a float32 or float64 draw that is then cast. A meta tensor has no values: nothing is drawn."""
    if type(array) is MetaArray:
        return
    if array.dtype in (np.float32, np.float64) and array.flags.c_contiguous:
        sample(dtype=array.dtype, out=array)
    else:
        array[...] = sample(
            size=array.shape, dtype=np.float64 if array.itemsize > 4 else np.float32
        )


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: GeneratorLike = None
) -> Tensor:
    """Fill `tensor` with values drawn uniformly from [a, b)."""
    array = _array("uniform_", tensor)
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    _fill(array, as_rng(generator).random)
    # in-place arithmetic with Python floats keeps the tensor's dtype
    array *= float(b) - float(a)
    array += float(a)
    return tensor


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: GeneratorLike = None
) -> Tensor:
    """Fill `tensor` with values drawn from the normal distribution N(mean, std^2)."""
    array = _array("normal_", tensor)
    if not std >= 0:
        raise ValueError(f"normal_: expected std >= 0, got std={std}")
    _fill(array, as_rng(generator).standard_normal)
    array *= float(std)
    array += float(mean)
    return tensor


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: GeneratorLike = None,
) -> Tensor:
    """Fill `tensor` from N(mean, std^2) truncated to [a, b]: values outside are redrawn until
    they fall inside. Note that `a` and `b` are absolute bounds, not multiples of `std`."""
    array = _array("trunc_normal_", tensor)
    if not std > 0:
        raise ValueError(f"trunc_normal_: expected std > 0, got std={std}")
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    if type(array) is MetaArray:
        return tensor
    z = _truncated_standard_normal(
        as_rng(generator), array.size, (a - mean) / std, (b - mean) / std
    )
    # clip: z * std + mean may round just past a bound
    array[...] = np.clip(z * float(std) + float(mean), a, b).reshape(array.shape)
    return tensor


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _truncated_standard_normal(
    rng: np.random.Generator, n: int, alpha: float, beta: float
) -> np.ndarray:
    """`n` draws from N(0, 1) restricted to [alpha, beta], by rejection: propose from N(0, 1), or
    for a narrow interval uniformly on [alpha, beta] (kept with probability pdf(z) / pdf(z0)),
    whichever keeps more proposals."""
    # the probability inside [alpha, beta], computed on the side where it loses no precision
    mass = (
        _normal_cdf(-alpha) - _normal_cdf(-beta)
        if alpha > 0
        else _normal_cdf(beta) - _normal_cdf(alpha)
    )
    z0 = min(max(0.0, alpha), beta)  # where the density peaks inside the interval
    width = beta - alpha
    uniform_rate = (
        mass * math.sqrt(2 * math.pi) * math.exp(0.5 * z0 * z0) / width
        if math.isfinite(width)
        else 0.0
    )
    rate = max(mass, uniform_rate)
    if rate < 1e-4:
        raise ValueError(
            f"trunc_normal_: the interval [a, b] lies too far from the mean (from {alpha:.3g} to "
            f"{beta:.3g} standard deviations): only {mass:.2g} of the distribution falls inside, "
            "too little to sample by redrawing"
        )
    out = np.empty(n)
    filled = 0
    while filled < n:
        count = int((n - filled) / rate * 1.1) + 32  # enough to finish in one round, usually
        if uniform_rate > mass:
            z = rng.uniform(alpha, beta, count)
            z = z[rng.random(count) < np.exp(0.5 * (z0 * z0 - z * z))]
        else:
            z = rng.standard_normal(count)
            z = z[(z >= alpha) & (z <= beta)]
        z = z[: n - filled]
        out[filled : filled + z.size] = z
        filled += z.size
    return out


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill `tensor` with the value `val`."""
    _array("constant_", tensor, floating=False)[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill `tensor` with zeros."""
    _array("zeros_", tensor, floating=False)[...] = 0
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    """Fill `tensor` with ones."""
    _array("ones_", tensor, floating=False)[...] = 1
    return tensor


def eye_(tensor: Tensor) -> Tensor:
    """Fill the 2-D `tensor` with the identity matrix (ones on the diagonal, zeros elsewhere):
    a linear layer that starts by passing its input through unchanged."""
    array = _array("eye_", tensor, floating=False)
    if array.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {array.shape}")
    if type(array) is MetaArray:
        return tensor
    array[...] = np.eye(*array.shape, dtype=array.dtype)
    return tensor


# -- scaled by fan-in and fan-out -----------------------------------------------------------------


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: GeneratorLike = None) -> Tensor:
    """Xavier/Glorot uniform: U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)),
    which keeps the signal's variance about the same forwards and backwards."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array("xavier_uniform_", tensor))
    if tensor.data.size == 0:
        return tensor
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: GeneratorLike = None) -> Tensor:
    """Xavier/Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_array("xavier_normal_", tensor))
    if tensor.data.size == 0:
        return tensor
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(
    function: str, tensor: Tensor, a: float, mode: str, nonlinearity: str
) -> float | None:
    """gain / sqrt(fan), or None for an empty tensor (nothing to fill, as PyTorch warns)."""
    _array(function, tensor)
    if tensor.data.size == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: GeneratorLike = None,
) -> Tensor:
    """Kaiming/He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), the gain of
    `nonlinearity` (with negative slope `a` for leaky_relu) and fan the fan-in or fan-out
    (`mode`). It keeps the signal's variance through ReLU-like layers."""
    std = _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: GeneratorLike = None,
) -> Tensor:
    """Kaiming/He normal: N(0, std^2) with std = gain / sqrt(fan) (see `kaiming_uniform_`)."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: GeneratorLike = None) -> Tensor:
    """A (semi-)orthogonal matrix times `gain`: rows (or columns, whichever are fewer) are
    orthonormal, so the layer preserves lengths. Dimensions after the first are flattened. The
    matrix is the Q of a QR factorisation of a Gaussian matrix, with the signs of R's diagonal
    moved into Q so that the result is uniformly distributed."""
    array = _array("orthogonal_", tensor)
    if array.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
            f"{array.shape}"
        )
    if array.size == 0 or type(array) is MetaArray:
        return tensor
    rows = array.shape[0]
    cols = array.size // rows
    flat = as_rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    array[...] = (q * float(gain)).reshape(array.shape)
    return tensor
