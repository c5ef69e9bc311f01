"""Randomness: seeded generators, one global default and any number of private ones.

Initial weights, shuffling, dropout masks and random tensors draw from the global generator unless
they are handed their own (``generator=``), so ``glassnet.manual_seed(0)`` makes a whole training
run repeatable. A ``glassnet.Generator`` mirrors ``torch.Generator``: ``manual_seed``, ``seed``,
``initial_seed``, and ``get_state`` / ``set_state`` to save the stream and resume it exactly.

Threads may share a generator. Each draw holds the generator's lock, the one NumPy's bit generator
takes for every draw anyway (so guarding costs nothing extra), and seeding and the state functions
take that same lock: a state is never read or written half-way through another thread's draw.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import checks

# The seeds torch.manual_seed accepts; a negative one stands for 2**64 + seed, as in PyTorch.
_SEED_LOW, _SEED_HIGH = -(2**63), 2**64 - 1

# torch.Generator()'s seed when none is given.
_DEFAULT_SEED = 67280421310721

# get_state's bytes: PCG64's 128-bit state and increment, then the buffered 32-bit half-draw
# (`has_uint32` as 4 bytes, `uinteger` as 4 bytes), all little-endian.
_STATE_BYTES = 16 + 16 + 4 + 4


class Generator:
    """A stream of random numbers with its own seed and state (mirrors ``torch.Generator``).

    Pass one as ``generator=`` to a random factory, an initialiser, dropout, a DataLoader, a
    sampler or ``random_split`` to keep that randomness apart from the global stream.

    Args:
        seed: the starting seed (as ``Generator().manual_seed(seed)``); by default PyTorch's
            fixed default seed, 67280421310721, as ``torch.Generator()`` has.

    Example::

        >>> g = glassnet.Generator().manual_seed(0)
        >>> state = g.get_state()           # a uint8 Tensor of 40 bytes
        >>> a = glassnet.rand(3, generator=g)
        >>> g.set_state(state)
        >>> bool((glassnet.rand(3, generator=g) == a).all())
        True
    """

    device = "cpu"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.Generator(np.random.PCG64())
        self.manual_seed(_DEFAULT_SEED if seed is None else seed)

    @property
    def lock(self):
        """The re-entrant lock every draw from this generator holds (NumPy's own)."""
        return self.rng.bit_generator.lock

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (an integer, as PyTorch accepts); returns the generator.

        The stream is seeded in place, so code already holding this generator sees the new one."""
        seed = checks.integer(
            seed, "seed", "manual_seed", low=_SEED_LOW, high=_SEED_HIGH,
            type_error=TypeError,
        )  # fmt: skip
        seed %= 2**64
        state = np.random.PCG64(seed).state
        with self.lock:
            self.rng.bit_generator.state = state
            self._initial_seed = seed
        return self

    def seed(self) -> int:
        """Reseed from the operating system's randomness; returns the new seed."""
        seed = _fresh_seed()
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._initial_seed

    def get_state(self):
        """The whole state as a uint8 Tensor of 40 bytes (PyTorch also returns a uint8 Tensor; the
        bytes are PCG64's, not torch's). ``set_state`` of it resumes the very same draws."""
        from .tensor import Tensor  # random is imported before tensor by the package

        with self.lock:
            state = self.rng.bit_generator.state
        words = [(state["state"]["state"], 16), (state["state"]["inc"], 16)]
        words += [(state["has_uint32"], 4), (state["uinteger"], 4)]
        data = b"".join(value.to_bytes(size, "little") for value, size in words)
        return Tensor(np.frombuffer(data, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from ``get_state`` (a uint8 Tensor or array of 40 bytes); returns the
        generator. The seed ``initial_seed`` reports does not change, as in PyTorch."""
        array = np.asarray(getattr(new_state, "data", new_state))
        if array.dtype != np.uint8 or array.shape != (_STATE_BYTES,):
            raise RuntimeError(
                f"Generator.set_state: expected a uint8 tensor of {_STATE_BYTES} bytes from "
                f"get_state(), got dtype {array.dtype} and shape {tuple(array.shape)}"
            )
        data = array.tobytes()
        state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(data[0:16], "little"),
                "inc": int.from_bytes(data[16:32], "little"),
            },
            "has_uint32": int.from_bytes(data[32:36], "little"),
            "uinteger": int.from_bytes(data[36:40], "little"),
        }
        with self.lock:
            self.rng.bit_generator.state = state
        return self

    def integers(self, *args: Any, **kwargs: Any) -> Any:
        """NumPy's ``Generator.integers`` on this stream (for code that draws arrays directly)."""
        return self.rng.integers(*args, **kwargs)

    def permutation(self, n: int) -> np.ndarray:
        """A random order of ``range(n)`` from this stream."""
        return self.rng.permutation(n)

    def __repr__(self) -> str:
        return f"glassnet.Generator(initial_seed={self._initial_seed})"


def _fresh_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


# The global generator, seeded afresh in each process as PyTorch's is. It is never replaced, only
# reseeded, so a reference to it stays valid.
_default = Generator(_fresh_seed())

GeneratorLike = Generator | np.random.Generator | None


def manual_seed(seed: int) -> Generator:
    """Restart the global generator from `seed`; returns it (like ``torch.manual_seed``)."""
    return _default.manual_seed(seed)


def seed() -> int:
    """Reseed the global generator from the operating system's randomness; returns the seed."""
    return _default.seed()


def initial_seed() -> int:
    """The seed the global generator last started from."""
    return _default.initial_seed()


def get_rng_state():
    """The global generator's state as a uint8 Tensor (see ``Generator.get_state``)."""
    return _default.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator's state from ``get_rng_state()``."""
    _default.set_state(new_state)


def default_generator() -> np.random.Generator:
    """The NumPy generator behind the global one (drawn from under its lock by NumPy)."""
    return _default.rng


def as_rng(generator: GeneratorLike, where: str = "") -> np.random.Generator:
    """The NumPy generator behind `generator`, or the global one when it is None; a TypeError
    naming `where` for anything else."""
    if generator is None:
        return _default.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    prefix = f"{where}: " if where else ""
    raise TypeError(
        f"{prefix}generator must be a glassnet.Generator or a NumPy Generator, got "
        f"{type(generator).__name__}"
    )
