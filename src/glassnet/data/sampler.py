"""Samplers: the order in which a DataLoader visits a dataset (PyTorch's ``torch.utils.data``).

A sampler is an iterable of dataset indices with a length; hand one to ``DataLoader(sampler=...)``
in place of ``shuffle``. The random ones take ``generator=`` so their order can be repeated (the
same seed gives the same order) without touching the global random stream; each pass draws a
fresh order from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized

from .. import checks
from ..random import GeneratorLike, as_rng


class Sampler:
    """The base class: subclasses define ``__iter__`` (indices) and ``__len__``."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the dataset's indices, new on every pass.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw indices independently (an index may repeat) instead of a permutation.
        num_samples: how many indices a pass gives (default: the dataset's length). Without
            replacement, more than the length take further permutations one after the other.
        generator: the random stream (``glassnet.Generator``); the global one when None.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: GeneratorLike = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, got {replacement!r}"
            )
        if num_samples is not None:
            checks.positive_int(num_samples, "num_samples", "RandomSampler")
        as_rng(generator, "RandomSampler")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        # the dataset may grow or shrink between passes, as in PyTorch
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, count, rng = len(self.data_source), self.num_samples, as_rng(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, size=count).tolist())
        rounds = [rng.permutation(n).tolist() for _ in range(-(-count // n))] if n else []
        return iter([i for order in rounds for i in order][:count])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, new on every pass (e.g. a validation split).

    Args:
        indices: the dataset indices to visit.
        generator: the random stream (``glassnet.Generator``); the global one when None.
    """

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None) -> None:
        as_rng(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        order = as_rng(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order)

    def __len__(self) -> int:
        return len(self.indices)
