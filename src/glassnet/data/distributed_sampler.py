"""DistributedSampler: each rank of a data-parallel run gets its own share of every epoch.

All ranks draw the same random order (from a seed they share plus the epoch number, so a new
order each epoch, the same on every rank) and rank r takes every N-th index starting at r. The
order is padded with its own first indices, or trimmed, so every rank gets the same number of
samples: the ranks then take the same number of steps and none waits at a collective for a
batch that never comes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from .. import checks
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Indices of this rank's share of `dataset` (PyTorch's ``DistributedSampler``).

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: the number of ranks (default: the process group's world size).
        rank: this rank (default: the process group's rank).
        shuffle: a fresh random order every epoch (call ``set_epoch`` before each one).
        seed: the shared seed; the order of epoch e comes from ``seed + e``.
        drop_last: drop the tail that does not divide evenly among the ranks, instead of
            padding with the order's first indices (some samples then appear twice).
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        who = "DistributedSampler"
        if num_replicas is None or rank is None:
            from ..distributed.group import current_group

            group = current_group(who)
            num_replicas = group.size if num_replicas is None else num_replicas
            rank = group.rank if rank is None else rank
        checks.positive_int(num_replicas, "num_replicas", who)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"{who}: invalid rank {rank!r}, rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0

    @property
    def num_samples(self) -> int:
        n, ranks = len(self.dataset), self.num_replicas
        if self.drop_last and n % ranks:
            return math.ceil((n - ranks) / ranks)
        return math.ceil(n / ranks)

    @property
    def total_size(self) -> int:
        return self.num_samples * self.num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        total = self.total_size
        if total > n:  # pad with the order's own first indices, repeating it if need be
            order = np.resize(order, total) if n else order
        order = order[:total]
        return iter(order[self.rank : total : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Which epoch comes next: with `shuffle`, each epoch has its own order."""
        self.epoch = int(epoch)
