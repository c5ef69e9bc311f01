"""Random generators, PyTorch-style: seeds, saved states that resume the very same draws, a global
generator several threads can share, and ``generator=`` wherever randomness is drawn (factories,
initialisers, dropout, DataLoader, samplers, random_split)."""

import threading

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.data import (
    DataLoader,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    random_split,
)
from glassnet.nn import functional as F
from glassnet.nn import init


def draws(generator=None):
    """One of everything that draws, so a replay checks every kind of draw."""
    return [
        gn.rand(3, generator=generator).numpy(),
        gn.randn(2, 2, generator=generator).numpy(),
        gn.randint(0, 10, (4,), generator=generator).numpy(),
        gn.randperm(5, generator=generator).numpy(),
        init.normal_(gn.empty(3), generator=generator).numpy(),
        init.uniform_(gn.empty(3), generator=generator).numpy(),
    ]


def assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


# -- state and seeds ------------------------------------------------------------------------------


def test_a_saved_state_resumes_the_same_draws():
    g = gn.Generator().manual_seed(1234)
    draws(g)  # somewhere in the middle of the stream
    gn.randn(1, generator=g)  # NumPy keeps half of a 64-bit draw for the next 32-bit one
    state = g.get_state()
    first = draws(g)
    assert g.set_state(state) is g
    assert_same(draws(g), first)
    # another generator given the state continues the same stream too
    assert_same(draws(gn.Generator().set_state(state)), first)


def test_get_state_is_a_uint8_tensor_as_in_torch_and_a_copy():
    g = gn.Generator(0)
    state, theirs = g.get_state(), torch.Generator().get_state()
    assert isinstance(state, gn.Tensor) and state.dtype == np.uint8 and state.ndim == 1
    assert theirs.dtype == torch.uint8 and theirs.ndim == 1
    gn.rand(10, generator=g)
    assert not np.array_equal(g.get_state().numpy(), state.numpy())  # the state moved on
    g.set_state(state.numpy())  # a NumPy array of the bytes works too
    np.testing.assert_array_equal(g.get_state().numpy(), state.numpy())


def test_set_state_refuses_what_get_state_did_not_make():
    g = gn.Generator(0)
    with pytest.raises(RuntimeError, match="expected a uint8 tensor of 40 bytes"):
        g.set_state(torch.Generator().get_state().numpy())
    with pytest.raises(RuntimeError, match="dtype float32"):
        g.set_state(gn.zeros(40))


def test_the_global_state_round_trips():
    gn.manual_seed(7)
    state = gn.get_rng_state()
    first = draws()
    gn.set_rng_state(state)
    assert_same(draws(), first)
    gn.manual_seed(7)
    assert_same(draws(), first)


def test_seeds_follow_torch():
    g, t = gn.Generator(), torch.Generator()
    assert g.initial_seed() == t.initial_seed() == 67280421310721
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    for seed in (-1, -(2**63), 2**64 - 1, 0):
        assert gn.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()
        assert gn.initial_seed() == torch.initial_seed()
    for seed in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError):
            torch.manual_seed(seed)
        with pytest.raises(ValueError, match="manual_seed: seed must be an integer from"):
            gn.manual_seed(seed)
    fresh = g.seed()
    assert g.initial_seed() == fresh and 0 <= fresh < 2**64
    assert gn.seed() == gn.initial_seed()


def test_reseeding_keeps_the_generator_so_held_references_see_it():
    rng = gn.random.default_generator()
    gn.manual_seed(3)
    assert gn.random.default_generator() is rng
    expected = np.random.default_rng(3).random(4)  # PCG64 seeded with 3, as NumPy seeds it
    np.testing.assert_array_equal(rng.random(4), expected)


def test_generator_must_be_a_generator():
    with pytest.raises(TypeError, match="generator must be a glassnet.Generator"):
        gn.rand(2, generator=torch.Generator())
    with pytest.raises(TypeError, match="RandomSampler: generator must be"):
        RandomSampler(range(3), generator=42)
    with pytest.raises(TypeError, match="DataLoader: generator must be"):
        DataLoader(TensorDataset(gn.zeros(4)), generator="seed")


# -- threads --------------------------------------------------------------------------------------


def test_two_threads_share_the_global_generator_without_tearing_it():
    """Every draw takes the generator's lock, so each thread's draws are whole blocks of the one
    stream: the blocks both threads got are exactly the blocks of a single-threaded replay."""
    n, k = 10_000, 4
    gn.manual_seed(2024)
    state = gn.get_rng_state()
    got: dict[int, list] = {0: [], 1: []}
    start = threading.Barrier(2)

    def work(who):
        start.wait()
        for _ in range(n):
            got[who].append(tuple(gn.rand(k, dtype=gn.float64).numpy()))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = gn.get_rng_state().numpy()

    gn.set_rng_state(state)
    replay = [tuple(gn.rand(k, dtype=gn.float64).numpy()) for _ in range(2 * n)]
    assert sorted(got[0] + got[1]) == sorted(replay)
    np.testing.assert_array_equal(gn.get_rng_state().numpy(), after)  # nothing drawn twice or lost


def test_states_read_while_other_threads_draw_are_whole():
    """A state saved in the middle of another thread's draws is one the stream really passed
    through: resuming from it gives draws that appear, in order, in the single-threaded stream."""
    gn.manual_seed(11)
    start = gn.get_rng_state()
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            gn.rand(8, dtype=gn.float64)

    worker = threading.Thread(target=draw)
    worker.start()
    try:
        saved = [gn.get_rng_state() for _ in range(50)]
    finally:
        stop.set()
        worker.join()
    gn.set_rng_state(start)
    stream = gn.rand(8 * 200_000, dtype=gn.float64).numpy()
    for state in saved[::10]:
        g = gn.Generator().set_state(state)
        block = gn.rand(8, generator=g, dtype=gn.float64).numpy()
        position = np.flatnonzero(stream == block[0])
        assert position.size == 1 and position[0] % 8 == 0
        np.testing.assert_array_equal(stream[position[0] : position[0] + 8], block)


# -- generator= where randomness is drawn ---------------------------------------------------------


def test_the_same_seed_gives_the_same_dropout_masks_and_leaves_the_global_stream_alone():
    x = gn.ones(4, 6, 3, 3)
    gn.manual_seed(0)
    before = gn.get_rng_state().numpy()
    a = F.dropout(x, 0.5, generator=gn.Generator(1))
    b = F.dropout(x, 0.5, generator=gn.Generator(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(gn.get_rng_state().numpy(), before)
    c = F.dropout2d(x, 0.5, generator=gn.Generator(2)).numpy()
    np.testing.assert_array_equal(c, F.dropout2d(x, 0.5, generator=gn.Generator(2)).numpy())
    assert np.all(c == c[:, :, :1, :1])  # whole channels

    for layer in (nn.Dropout, nn.Dropout2d):
        one, two = layer(0.3, generator=gn.Generator(3)), layer(0.3, generator=gn.Generator(3))
        for _ in range(3):  # the masks differ from step to step, and match between the two
            np.testing.assert_array_equal(one(x).numpy(), two(x).numpy())
        assert repr(layer(0.3, generator=gn.Generator(3))) == repr(
            getattr(torch.nn, layer.__name__)(0.3)
        )


def test_the_same_seed_gives_the_same_dataloader_order():
    data = TensorDataset(gn.arange(20))

    def order(loader):
        return [batch[0].numpy().tolist() for batch in loader]

    one = DataLoader(data, batch_size=6, shuffle=True, generator=gn.Generator(5))
    two = DataLoader(data, batch_size=6, shuffle=True, generator=gn.Generator(5))
    first = order(one)
    assert first == order(two)
    assert order(one) == order(two) != first  # a new order each epoch, the same for both
    assert sorted(sum(first, [])) == list(range(20))


def test_samplers():
    data = list(range(10))
    assert list(SequentialSampler(data)) == data and len(SequentialSampler(data)) == 10

    a, b = (
        RandomSampler(data, generator=gn.Generator(1)),
        RandomSampler(data, generator=gn.Generator(1)),
    )
    assert list(a) == list(b) and sorted(list(a)) == data and len(a) == 10
    drawn = list(RandomSampler(data, replacement=True, num_samples=25, generator=gn.Generator(2)))
    assert len(drawn) == 25 and set(drawn) <= set(data)
    longer = list(RandomSampler(data, num_samples=15, generator=gn.Generator(3)))
    assert len(longer) == 15 and sorted(longer[:10]) == data
    with pytest.raises(ValueError, match="RandomSampler: num_samples must be a positive integer"):
        RandomSampler(data, num_samples=0)

    indices = [3, 5, 7, 9]
    sub = SubsetRandomSampler(indices, generator=gn.Generator(4))
    assert sorted(sub) == indices and len(sub) == 4
    same = list(SubsetRandomSampler(indices, generator=gn.Generator(4)))
    assert list(SubsetRandomSampler(indices, generator=gn.Generator(4))) == same

    loader = DataLoader(TensorDataset(gn.arange(10)), batch_size=4, sampler=sub)
    assert sorted(x for (batch,) in loader for x in batch.numpy().tolist()) == indices


def test_random_split_repeats_with_the_same_generator():
    data = TensorDataset(gn.arange(30))
    a = random_split(data, [0.5, 0.3, 0.2], generator=gn.Generator(42))
    b = random_split(data, [15, 9, 6], generator=gn.Generator(42))
    assert [s.indices for s in a] == [s.indices for s in b]
    assert sorted(sum((list(s.indices) for s in a), [])) == list(range(30))
