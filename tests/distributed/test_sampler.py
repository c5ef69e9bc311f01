"""DistributedSampler: every sample to exactly one rank per epoch, the same count on every rank,
and PyTorch's order where there is no randomness."""

from __future__ import annotations

from collections import Counter

import pytest
import torch.utils.data

import glassnet as gn
from glassnet.data import DistributedSampler


def shares(n: int, ranks: int, **options) -> list[list[int]]:
    return [list(DistributedSampler(range(n), ranks, r, **options)) for r in range(ranks)]


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_every_sample_goes_to_exactly_one_rank_each_epoch(ranks):
    for epoch in range(3):
        samplers = [DistributedSampler(range(24), ranks, r, seed=5) for r in range(ranks)]
        for s in samplers:
            s.set_epoch(epoch)
        seen = Counter(i for s in samplers for i in s)
        assert seen == Counter(range(24))


def test_epochs_differ_and_ranks_share_one_order():
    first, second = DistributedSampler(range(50), 2, 0), DistributedSampler(range(50), 2, 0)
    second.set_epoch(1)
    assert list(first) != list(second)
    assert list(first) == list(DistributedSampler(range(50), 2, 0))  # the seed is shared


@pytest.mark.parametrize("n, ranks", [(10, 4), (11, 4), (3, 4), (7, 2)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_every_rank_gets_the_same_count_as_pytorch(n, ranks, drop_last):
    ours = shares(n, ranks, shuffle=False, drop_last=drop_last)
    theirs = [
        list(torch.utils.data.DistributedSampler(range(n), ranks, r, False, drop_last=drop_last))
        for r in range(ranks)
    ]
    assert ours == theirs
    assert len({len(s) for s in ours}) == 1
    assert all(len(s) == len(DistributedSampler(range(n), ranks, 0, drop_last=drop_last))
               for s in ours)  # fmt: skip


def test_padding_repeats_the_first_samples_and_drop_last_drops_the_tail():
    padded = shares(10, 4, shuffle=False)
    assert sorted(i for s in padded for i in s) == sorted([*range(10), 0, 1])
    dropped = shares(10, 4, shuffle=False, drop_last=True)
    assert sorted(i for s in dropped for i in s) == list(range(8))


def test_bad_rank_and_missing_group_are_named():
    with pytest.raises(
        ValueError, match=r"invalid rank 4, rank should be in the interval \[0, 3\]"
    ):
        DistributedSampler(range(10), 4, 4)
    with pytest.raises(RuntimeError, match="DistributedSampler: .*init_process_group"):
        DistributedSampler(range(10))


def test_a_loader_with_it_serves_the_ranks_share():
    data = gn.data.TensorDataset(gn.arange(12))
    loader = gn.data.DataLoader(data, batch_size=2, sampler=DistributedSampler(data, 3, 1))
    got = [int(v) for (batch,) in loader for v in batch.data]
    assert got == list(DistributedSampler(data, 3, 1))
