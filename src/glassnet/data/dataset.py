"""Datasets: a numbered collection of samples that a training loop can ask for one at a time.

A dataset answers two questions, `len(dataset)` (how many samples) and `dataset[i]` (the i-th one,
usually an (input, target) pair). Everything else (shuffling, batching) is the DataLoader's job, so
any source of samples, from tensors in memory to files on disk, plugs into the same loop.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..random import Generator, as_rng
from ..tensor import Tensor


class Dataset:
    """The base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    ``a + b`` chains two datasets into one (a ConcatDataset), as in PyTorch.
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples that are rows of tensors: ``dataset[i] == (tensors[0][i], tensors[1][i], ...)``.

    Args:
        *tensors: tensors (or NumPy arrays) with the same size in the first dimension, which
            counts the samples; typically ``TensorDataset(inputs, targets)``.

    Example::

        >>> ds = TensorDataset(glassnet.randn(100, 2), glassnet.zeros(100, dtype=glassnet.int64))
        >>> x, y = ds[0]        # x.shape == (2,), y.shape == ()
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        converted = []
        for position, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor(t)
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset expects tensors or NumPy arrays, got {type(t).__name__} "
                    f"at position {position}"
                )
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor at position {position} is 0-dimensional; "
                    "the first dimension must count the samples"
                )
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(
                "TensorDataset: all tensors must have the same size in the first dimension "
                f"(the number of samples), got sizes {sizes}"
            )
        self.tensors: tuple[Tensor, ...] = tuple(converted)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _rows_are_samples(self) -> bool:
        """True when ``self[i]`` is exactly the i-th row of every tensor, so that a DataLoader may
        gather a whole batch of rows at once. A subclass that changes ``__getitem__`` opts out."""
        return type(self).__getitem__ is TensorDataset.__getitem__


class Subset(Dataset):
    """The samples of `dataset` at positions `indices`, in that order (``subset[i] ==
    dataset[indices[i]]``). Nothing is copied."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other: the samples of the first, then of the second, ...

    Attributes:
        cumulative_sizes: the running total of the datasets' lengths.
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes: list[int] = []
        total = 0
        for position, d in enumerate(self.datasets):
            if not hasattr(d, "__len__"):
                raise TypeError(
                    f"ConcatDataset: dataset at position {position} ({type(d).__name__}) has no "
                    "length"
                )
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        length = len(self)
        if not -length <= index < length:
            raise IndexError(f"ConcatDataset index {index} is out of range for {length} samples")
        if index < 0:
            index += length
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def _split_lengths(lengths: Sequence[int | float], total: int) -> list[int]:
    """Sizes from `lengths`: integers as given, or fractions of `total` as PyTorch rounds them
    (floor each, then hand out the remainder one by one from the first split on)."""
    lengths = list(lengths)
    if any(not isinstance(x, int | float) or isinstance(x, bool) for x in lengths):
        raise TypeError(f"random_split: lengths must be integers or fractions, got {lengths}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for position, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(
                    f"random_split: fraction at position {position} is {fraction}, "
                    "expected a value between 0 and 1"
                )
        sizes = [int(math.floor(total * fraction)) for fraction in lengths]
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for position, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: split at position {position} is empty", stacklevel=3)
        return sizes
    if any(not isinstance(x, int) or x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths {lengths} are neither fractions that sum to 1 nor "
            "non-negative integers"
        )
    if sum(lengths) != total:
        raise ValueError(
            f"random_split: lengths {lengths} sum to {sum(lengths)} but the dataset has {total} "
            "samples; give sizes that add up to its length, or fractions that add up to 1"
        )
    return lengths


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: Generator | np.random.Generator | None = None,
) -> list[Subset]:
    """Split `dataset` at random into non-overlapping Subsets of the given sizes.

    Args:
        dataset: the dataset to split.
        lengths: sizes that add up to ``len(dataset)``, or fractions that add up to 1
            (``[0.8, 0.2]``); fractions are rounded down and the leftover samples go one each to the
            first splits, exactly as PyTorch does.
        generator: the random stream to draw the permutation from (the global one when None).

    Example::

        >>> train, val = random_split(dataset, [0.8, 0.2], generator=glassnet.Generator(42))
    """
    sizes = _split_lengths(lengths, len(dataset))
    order = as_rng(generator).permutation(sum(sizes)).tolist()
    splits, start = [], 0
    for size in sizes:
        splits.append(Subset(dataset, order[start : start + size]))
        start += size
    return splits
