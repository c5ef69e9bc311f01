"""Argument checks: the one place that says what a layer, op or loader expected and what it got.

Public functions validate their arguments where they come in, with these helpers, so a wrong value
fails at once and every message reads the same way: ``"Linear: in_features must be a non-negative
integer, got -1"`` names the layer or op (`where`), the argument (`name`), what was expected and
the value received. Each check returns the value in its plain form (an ``int``, a ``float``, a
NumPy dtype), ready to store. The error type is ValueError for a bad value and TypeError for a bad
dtype, as in PyTorch; a caller with its own error class (the playground's) passes it as `error`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "floating_point",
    "int_in_range",
    "int_tuple",
    "integer",
    "is_int",
    "is_real",
    "non_negative_int",
    "non_negative_number",
    "number",
    "number_in_range",
    "positive_int",
    "positive_number",
    "probability",
    "same_dtype",
    "same_floating_dtype",
]


def is_int(value: Any) -> bool:
    """Whether `value` is a Python or NumPy integer; a bool is not (True is 1 to Python, but a
    layer given ``True`` for a size was surely given the wrong argument)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """Whether `value` is a Python or NumPy integer or float (not a bool) and not NaN."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and not math.isnan(value)
    )


def _message(where: str, name: str, expected: str, value: Any) -> str:
    prefix = f"{where}: " if where else ""
    return f"{prefix}{name} must be {expected}, got {value!r}"


# -- integers -------------------------------------------------------------------------------------


def integer(
    value: Any,
    name: str,
    where: str,
    *,
    low: int | None = None,
    high: int | None = None,
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> int:
    """`value` as an int if it is an integer in [low, high] (either bound may be None), else
    `error` (or `type_error`, when given, for a value that is not an integer at all)."""
    if high is not None:
        expected = (
            f"an integer from {low} to {high}" if low is not None else f"an integer <= {high}"
        )
    elif low is None:
        expected = "an integer"
    else:
        expected = {0: "a non-negative integer", 1: "a positive integer"}.get(
            low, f"an integer >= {low}"
        )
    if not is_int(value):
        raise (type_error or error)(_message(where, name, expected, value))
    if (low is not None and value < low) or (high is not None and value > high):
        raise error(_message(where, name, expected, value))
    return int(value)


def positive_int(
    value: Any,
    name: str,
    where: str,
    *,
    error: type[Exception] = ValueError,
    type_error: type[Exception] | None = None,
) -> int:
    """`value` as an int if it is an integer >= 1 (a size, a count of layers or steps)."""
    return integer(value, name, where, low=1, error=error, type_error=type_error)


def non_negative_int(
    value: Any, name: str, where: str, *, error: type[Exception] = ValueError
) -> int:
    """`value` as an int if it is an integer >= 0 (a size that may be empty, as in PyTorch)."""
    return integer(value, name, where, low=0, error=error)


def int_in_range(
    value: Any, name: str, where: str, low: int, high: int, *, error: type[Exception] = ValueError
) -> int:
    """`value` as an int if it is an integer from `low` to `high`, both included."""
    return integer(value, name, where, low=low, high=high, error=error)


def int_tuple(value: Any, name: str, where: str, dims: int, minimum: int) -> tuple[int, ...]:
    """`value` (an int, or a sequence of `dims` ints) as a tuple of `dims` ints >= `minimum`: a
    kernel size, stride or padding given once for every spatial dimension or once per dimension."""
    if is_int(value):
        values = (int(value),) * dims
    elif isinstance(value, Sequence) and len(value) == dims and all(map(is_int, value)):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(_message(where, name, f"an int or a tuple of {dims} ints", value))
    if min(values) < minimum:
        raise ValueError(_message(where, name, f"at least {minimum}", value))
    return values


# -- real numbers ---------------------------------------------------------------------------------


def number(
    value: Any,
    name: str,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    expected: str | None = None,
    error: type[Exception] = ValueError,
) -> float:
    """`value` as a float if it is a real number (not NaN, not a bool) within the bounds given;
    `low_open` / `high_open` leave a bound out. `expected` overrides the words of the message."""
    if expected is None:
        if low is not None and high is not None:
            expected = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low == 0:
            expected = "a positive number" if low_open else "a non-negative number"
        elif low is not None:
            expected = f"a number {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            expected = f"a number {'<' if high_open else '<='} {high:g}"
        else:
            expected = "a number"
    inside = is_real(value) and not (
        (low is not None and (value <= low if low_open else value < low))
        or (high is not None and (value >= high if high_open else value > high))
    )
    if not inside:
        raise error(_message(where, name, expected, value))
    return float(value)


def positive_number(
    value: Any, name: str, where: str, *, error: type[Exception] = ValueError
) -> float:
    """`value` as a float if it is a number > 0 (an epsilon, a learning rate, a time limit)."""
    return number(value, name, where, low=0, low_open=True, error=error)


def non_negative_number(
    value: Any, name: str, where: str, *, error: type[Exception] = ValueError
) -> float:
    """`value` as a float if it is a number >= 0 (a clipping threshold, a weight decay)."""
    return number(value, name, where, low=0, error=error)


def number_in_range(
    value: Any,
    name: str,
    where: str,
    low: float,
    high: float,
    *,
    error: type[Exception] = ValueError,
) -> float:
    """`value` as a float if it is a finite number from `low` to `high`, both included."""
    return number(
        value,
        name,
        where,
        low=low,
        high=high,
        expected=f"a number from {low:g} to {high:g}",
        error=error,
    )


def probability(
    value: Any,
    name: str,
    where: str,
    *,
    include_one: bool = True,
    error: type[Exception] = ValueError,
) -> float:
    """`value` as a float if it lies in [0, 1] (or [0, 1) without `include_one`: a dropout rate or
    held-out fraction of 1 would leave nothing)."""
    return number(value, name, where, low=0, high=1, high_open=not include_one, error=error)


# -- dtypes ---------------------------------------------------------------------------------------


def floating_point(dtype: Any, name: str, where: str) -> np.dtype:
    """`dtype` as a NumPy dtype if it is a floating point one, else PyTorch's TypeError. Give it a
    dtype or an array (its dtype is checked)."""
    dtype = np.dtype(
        dtype if isinstance(dtype, type | np.dtype) else getattr(dtype, "dtype", dtype)
    )
    if dtype.kind != "f":
        raise TypeError(f"{where}: {name} must be floating point, got dtype {dtype}")
    return dtype


def same_dtype(where: str, **arrays: Any) -> np.dtype | None:
    """The one dtype of the arrays (or Tensors) given by name, None given none; a TypeError
    listing each one's dtype if they differ (NumPy would silently promote them instead)."""
    given = {name: np.dtype(a.dtype) for name, a in arrays.items() if a is not None}
    dtypes = set(given.values())
    if len(dtypes) > 1:
        found = ", ".join(f"{name} {dtype}" for name, dtype in given.items())
        raise TypeError(f"{where}: {', '.join(given)} must have one dtype, got {found}")
    return dtypes.pop() if dtypes else None


def same_floating_dtype(where: str, **arrays: Any) -> np.dtype | None:
    """The one floating point dtype of the arrays given by name (None ones are skipped), else a
    TypeError naming the first one that is not floating point, or every dtype if they differ."""
    for name, a in arrays.items():
        if a is not None:
            floating_point(a, name, where)
    return same_dtype(where, **arrays)
