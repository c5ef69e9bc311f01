"""Making tensors: from data, filled with a constant, evenly spaced, or random.

Python floats give float32 tensors and ints give int64, as in PyTorch. Random tensors draw from the
one seeded generator (`glassnet.manual_seed`), or from a `generator=` of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import checks, meta
from .dtypes import get_default_dtype
from .random import GeneratorLike, as_rng
from .tensor import Tensor, to_array


def _shape(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], Sequence | np.ndarray):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _random_float_dtype(name: str, dtype: Any) -> np.dtype:
    """The dtype of random floats: a floating point one (PyTorch refuses integer dtypes too)."""
    return checks.floating_point(_float_dtype(dtype), "dtype", name)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (numbers, nested lists, an array or a tensor)."""
    return _make(np.array(to_array(data, dtype), copy=True), requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Like `tensor`, but shares memory with a NumPy array or tensor of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return Tensor(to_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of `size`; ``device="meta"`` gives the shape without values (glassnet.meta)."""
    return _make(meta.full(_shape(size), 0, _float_dtype(dtype), device), requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(meta.full(_shape(size), 1, _float_dtype(dtype), device), requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(meta.empty(_shape(size), _float_dtype(dtype), device), requires_grad)


def full(
    size: Sequence[int],
    fill_value: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    if dtype is None:
        dtype = to_array(fill_value).dtype
    return _make(meta.full(_shape((size,)), fill_value, dtype, device), requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in [start, end); integers when all arguments are integers."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(
            f"arange: upper bound and lower bound inconsistent with step sign (start={start}, "
            f"end={end}, step={step})"
        )
    if dtype is None:
        all_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if all_int else get_default_dtype()
    return _make(np.arange(start, end, step).astype(dtype), requires_grad)


def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _make(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(
    *size: Any, generator: GeneratorLike = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    dtype = _random_float_dtype("rand", dtype)
    return _make(
        as_rng(generator).random(_shape(size), dtype=np.float64).astype(dtype), requires_grad
    )


def randn(
    *size: Any, generator: GeneratorLike = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal random numbers (mean 0, standard deviation 1)."""
    dtype = _random_float_dtype("randn", dtype)
    return _make(as_rng(generator).standard_normal(_shape(size)).astype(dtype), requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    generator: GeneratorLike = None,
    dtype: Any = None,
) -> Tensor:
    """Random integers in [low, high) (``randint(high, size)`` also works, as in PyTorch)."""
    if isinstance(high, Sequence | np.ndarray):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    data = as_rng(generator).integers(low, high, size=_shape((size,)))
    return Tensor(data.astype(np.int64 if dtype is None else dtype))


def randperm(n: int, generator: GeneratorLike = None) -> Tensor:
    return Tensor(as_rng(generator).permutation(n).astype(np.int64))


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros_like(to_array(t), dtype=dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones_like(to_array(t), dtype=dtype), requires_grad)


def empty_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.empty_like(to_array(t), dtype=dtype), requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.full_like(to_array(t), fill_value, dtype=dtype), requires_grad)


def rand_like(t: Tensor, dtype: Any = None, generator: GeneratorLike = None) -> Tensor:
    return rand(to_array(t).shape, generator=generator, dtype=dtype or to_array(t).dtype)


def randn_like(t: Tensor, dtype: Any = None, generator: GeneratorLike = None) -> Tensor:
    return randn(to_array(t).shape, generator=generator, dtype=dtype or to_array(t).dtype)


def randint_like(
    t: Tensor, low: int, high: int | None = None, generator: GeneratorLike = None, dtype: Any = None
) -> Tensor:
    """Random integers in [low, high) with t's shape, and t's dtype unless `dtype` is given (as
    in PyTorch, so a float tensor gives whole numbers as floats)."""
    arr = to_array(t)
    return randint(low, high, arr.shape, generator=generator, dtype=dtype or arr.dtype)
