"""The DataLoader: cuts a dataset into mini-batches, in a fresh random order every epoch.

Training on one sample at a time is noisy and slow; on all of them at once, costly. A mini-batch
(say 32 samples) is the middle way: the loader picks the samples (shuffled or in order), fetches
them, and stacks them into tensors whose first dimension is the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..random import Generator, as_rng
from ..tensor import Tensor
from .collate import default_collate, default_convert
from .dataset import Dataset, Subset, TensorDataset


def _tensor_rows(dataset: Dataset) -> tuple[list[np.ndarray], np.ndarray | None] | None:
    """The arrays behind a TensorDataset (seen through any Subsets), and which of their rows the
    dataset's positions map to (None: position i is row i); None when samples are not rows."""
    rows = None
    while isinstance(dataset, Subset):
        indices = np.asarray(dataset.indices, dtype=np.intp)
        rows = indices if rows is None else indices[rows]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and dataset._rows_are_samples():
        return [t.data for t in dataset.tensors], rows
    return None


class DataLoader:
    """Iterate over `dataset` in mini-batches (PyTorch's ``torch.utils.data.DataLoader``).

    Args:
        dataset: a map-style dataset (``__len__`` and ``__getitem__``).
        batch_size: samples per batch; None yields single samples, unbatched.
        shuffle: draw a new random order at the start of every epoch.
        drop_last: skip the last batch when it is smaller than `batch_size`.
        collate_fn: turns a list of samples into a batch (default: `default_collate`).
        generator: the random stream for shuffling (``glassnet.Generator`` or a NumPy Generator);
            the global one, set by ``glassnet.manual_seed``, when None.
        sampler: an iterable of dataset indices with a length, giving the order instead of
            `shuffle`.

    A TensorDataset (or a Subset of one) with the default collate_fn is batched in one step per
    tensor: the batch's rows are gathered with a single index array and the batch is a tuple of
    Tensors. In order (no shuffle, no sampler) the batches are views of the dataset's arrays, so
    writing into a batch in place writes into the dataset.

    Example::

        >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
        >>> for inputs, targets in loader:
        ...     loss = F.cross_entropy(model(inputs), targets)
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        drop_last: bool = False,
        collate_fn: Callable[[list], Any] | None = None,
        generator: Generator | np.random.Generator | None = None,
        sampler: Iterable | None = None,
    ) -> None:
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                "DataLoader expects a dataset with __len__ and __getitem__, got "
                f"{type(dataset).__name__}"
            )
        if batch_size is not None and (
            not isinstance(batch_size, int | np.integer)
            or isinstance(batch_size, bool)
            or batch_size <= 0
        ):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}"
            )
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if flag is not None and not isinstance(flag, bool):
                raise TypeError(f"DataLoader: {name} should be True or False, got {flag!r}")
        if batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None disables batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(
                f"DataLoader: collate_fn should be callable, got {type(collate_fn).__name__}"
            )
        as_rng(generator, "DataLoader")  # refuses anything that is not a generator, now
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator
        self.sampler = sampler

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_order(self) -> Sequence:
        """The dataset positions of one epoch, in the order they are visited."""
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        if self.shuffle:
            return as_rng(self.generator).permutation(n)
        return range(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._epoch_order()
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for index in order.tolist() if isinstance(order, np.ndarray) else order:
                yield convert(self.dataset[index])
            return
        n, size = len(order), self.batch_size
        stop = n - n % size if self.drop_last else n
        rows = _tensor_rows(self.dataset) if self.collate_fn is None else None
        if rows is None:
            collate = self.collate_fn or default_collate
            if isinstance(order, np.ndarray):
                order = order.tolist()  # user datasets get Python ints, as in PyTorch
            for start in range(0, stop, size):
                yield collate([self.dataset[i] for i in order[start : start + size]])
            return
        arrays, positions = rows
        if positions is None and isinstance(order, range):
            for start in range(0, stop, size):
                yield tuple(Tensor(a[start : start + size]) for a in arrays)
            return
        order = np.asarray(order, dtype=np.intp)
        if positions is not None:
            order = positions[order]
        for start in range(0, stop, size):
            batch = order[start : start + size]
            yield tuple(Tensor(a.take(batch, axis=0)) for a in arrays)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)} samples, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, batches={len(self)})"
        )
