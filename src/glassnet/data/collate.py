"""Collating: turning a list of samples into one batch.

A batch of (image, label) samples becomes one (images, labels) pair of stacked tensors, so the
network sees all samples of the batch at once. The structure of a sample (a tuple, a dict, nested
lists) is kept; only its leaves are stacked along a new first dimension.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor

_UNSUPPORTED = "default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists"


def _stack(arrays: list[np.ndarray]) -> Tensor:
    try:
        return Tensor(np.stack(arrays))
    except ValueError:
        first = arrays[0].shape
        entry = next(i for i, a in enumerate(arrays) if a.shape != first)
        raise ValueError(
            "default_collate: samples must have equal shapes to be stacked into a batch, got "
            f"{first} at entry 0 and {arrays[entry].shape} at entry {entry}; pass a collate_fn "
            "to batch them differently"
        ) from None


def _is_text(array: np.ndarray | np.generic) -> bool:
    return array.dtype.kind in "OSU"


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, keeping the samples' structure (like PyTorch's).

    - Tensors and NumPy arrays are stacked into one Tensor with a new first dimension (a batch is
      data: no graph is recorded).
    - Python ints become an int64 Tensor, bools a bool Tensor, floats a Tensor of the default
      dtype (float32; PyTorch makes float64 here, but glassnet stays in float32 end to end).
    - NumPy scalars become a Tensor of their own dtype; strings are left as they are.
    - Dicts are collated key by key, named tuples field by field; other tuples and lists are
      collated position by position into a list (PyTorch's convention), recursively.

    Example::

        >>> default_collate([(Tensor([1.0, 2.0]), 0), (Tensor([3.0, 4.0]), 1)])
        [tensor([[1.0000, 2.0000],
                [3.0000, 4.0000]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([sample.data for sample in batch])
    if isinstance(elem, np.ndarray | np.generic) and not _is_text(elem):
        return _stack([np.asarray(sample) for sample in batch])
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=get_default_dtype()))
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(column) for column in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):
            return type(elem)(*columns)
        return columns
    raise TypeError(f"{_UNSUPPORTED}; found {type(elem).__name__}")


def default_convert(data: Any) -> Any:
    """Turn the NumPy arrays inside one sample into Tensors without batching (used when a
    DataLoader has ``batch_size=None``). Containers are converted recursively; tuples become lists
    and Python numbers stay as they are, as in PyTorch."""
    if isinstance(data, np.ndarray | np.generic) and not _is_text(data):
        return Tensor(np.asarray(data))
    if isinstance(data, Tensor | str | bytes):
        return data
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, Sequence):
        return [default_convert(d) for d in data]
    return data
