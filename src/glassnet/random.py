"""Randomness: one seeded generator for the whole library.

Initial weights, shuffling, dropout masks and random tensors all draw from the same NumPy generator,
so `glassnet.manual_seed(0)` makes a whole training run repeatable.
"""

from __future__ import annotations

import numpy as np

_generator: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator to `seed`; returns it (like ``torch.manual_seed``)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an integer seed, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator every random operation uses unless it is handed its own."""
    return _generator


class Generator:
    """A private stream of random numbers, for a DataLoader or sampler that must not disturb the
    global one (mirrors ``torch.Generator``)."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def manual_seed(self, seed: int) -> Generator:
        self.rng = np.random.default_rng(int(seed))
        return self

    def integers(self, *args, **kwargs):
        return self.rng.integers(*args, **kwargs)

    def permutation(self, n: int) -> np.ndarray:
        return self.rng.permutation(n)


def as_rng(generator: Generator | np.random.Generator | None) -> np.random.Generator:
    """The NumPy generator behind `generator`, or the global one when it is None."""
    if generator is None:
        return _generator
    if isinstance(generator, Generator):
        return generator.rng
    return generator
