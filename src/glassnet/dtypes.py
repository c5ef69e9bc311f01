"""Data types: which kind of number a tensor holds (float32 by default, as in PyTorch).

They are NumPy dtypes under PyTorch's names, so ``glassnet.float32`` and ``numpy.float32`` agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")
float = float32  # noqa: A001 (PyTorch's aliases: glassnet.float, glassnet.long)
double = float64
long = int64
half = float16

_default_dtype = float32


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats (float32, as in PyTorch)."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Change the dtype of tensors made from Python floats (float32 or float64)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"default dtype must be a floating point type, got {dtype}")
    _default_dtype = dtype
