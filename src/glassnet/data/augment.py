"""Augmentation on the way out of a loader: each batch a little different every epoch.

A network that sees every digit in exactly the same place learns that place. Moving each image by
a pixel or two in a random direction (a random crop of the image padded with zeros) shows it the
same digit elsewhere, so it learns the strokes instead. `ShiftedLoader` wraps a DataLoader and
shifts every batch's images as they leave it, drawing the shifts from its own seeded generator,
which it names in `generators` so that a checkpoint saves where that stream stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..random import Generator
from ..tensor import Tensor


class RandomShifts:
    """Move each image of a batch ``(N, C, H, W)`` by up to `pad` pixels in each direction (a
    random crop of the zero-padded image), one shift per image, all drawn at once from
    `generator` (a glassnet Generator; a new one seeded with `seed` by default)."""

    def __init__(self, pad: int, seed: int = 0, generator: Generator | None = None) -> None:
        if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
            raise ValueError(f"RandomShifts: pad must be a non-negative integer, got {pad!r}")
        self.pad = pad
        self.generator = generator if generator is not None else Generator(seed)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if images.ndim != 4:
            raise ValueError(
                f"RandomShifts: expected images (N, C, H, W), got shape {tuple(images.shape)}"
            )
        n, _, h, w = images.shape
        p = self.pad
        padded = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)))
        dy, dx = self.generator.integers(0, 2 * p + 1, (2, n))
        rows = (dy[:, None] + np.arange(h))[:, None, :, None]  # (n, 1, h, 1)
        cols = (dx[:, None] + np.arange(w))[:, None, None, :]  # (n, 1, 1, w)
        channels = np.arange(images.shape[1])[None, :, None, None]
        return padded[np.arange(n)[:, None, None, None], channels, rows, cols]


class ShiftedLoader:
    """A DataLoader whose batches ``(images, labels)`` pass through RandomShifts on the way out."""

    def __init__(self, loader: Any, shifts: RandomShifts) -> None:
        self.loader, self.shifts = loader, shifts

    @property
    def generators(self) -> list[Generator]:
        """The random streams this loader draws from besides the DataLoader's own."""
        return [self.shifts.generator]

    @property
    def generator(self) -> Any:
        return getattr(self.loader, "generator", None)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for images, labels in self.loader:
            yield Tensor(self.shifts(images.numpy())), labels
