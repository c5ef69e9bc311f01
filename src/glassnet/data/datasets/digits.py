"""Handwritten digits: 1,797 real 8x8 grey-scale images of the digits 0 to 9.

This is the UCI "optical recognition of handwritten digits" test set that scikit-learn ships: each
image is 64 numbers, how much ink fell in each cell of an 8x8 grid. It is the smallest real image
dataset worth learning from: a small network reads it in seconds, and still gets some digits wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from ...random import Generator
from ...tensor import Tensor
from ..dataset import TensorDataset

SPLIT_SEED = 0
"""The seed of the fixed train/test split; changing it would change every reported accuracy."""

_SPLITS = ("train", "test", "all")


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    """All images scaled to [0, 1] (float32, (1797, 64)) and their labels (int64), read once."""
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits reads the digits that scikit-learn ships, and scikit-learn is not "
            "installed: pip install glassnet[extras]"
        ) from error
    bunch = sklearn_load_digits()
    images = (bunch.data / 16.0).astype(np.float32)
    return images, bunch.target.astype(np.int64)


@lru_cache(maxsize=1)
def _split_indices() -> dict[str, np.ndarray]:
    """Positions of the train and test images: a stratified 80/20 split with a fixed seed."""
    _, labels = _load()
    n = len(labels)
    n_test = -(-n // 5)  # 20% rounded up, as scikit-learn's train_test_split(test_size=0.2) counts
    classes, counts = np.unique(labels, return_counts=True)
    # Each digit's share of the test set: floor(count * n_test / n), and the few images left over
    # go to the digits with the largest remainders (the lower digit first on a tie).
    shares, remainders = np.divmod(counts * n_test, n)
    shares[np.argsort(-remainders, kind="stable")[: n_test - shares.sum()]] += 1
    rng = Generator(SPLIT_SEED).rng
    test = [
        rng.permutation(np.flatnonzero(labels == digit))[:share]
        for digit, share in zip(classes, shares)
    ]
    is_test = np.zeros(n, dtype=bool)
    is_test[np.concatenate(test)] = True
    return {"train": np.flatnonzero(~is_test), "test": np.flatnonzero(is_test), "all": np.arange(n)}


def load_digits(split: str = "train", flatten: bool = True) -> tuple[Tensor, Tensor]:
    """The handwritten digits as tensors: images with pixel values in [0, 1] and labels 0-9.

    Args:
        split: ``"train"`` (1,437 images), ``"test"`` (360) or ``"all"`` (1,797).
        flatten: images as rows of 64 numbers (n, 64); False gives (n, 1, 8, 8) for convolutions.

    The split is fixed, so results can be compared between runs and machines: for each digit its
    images (in scikit-learn's order) are shuffled by a generator seeded with `SPLIT_SEED` (0) and
    the first ones go to the test set; each digit gets its share of the 360 test images (20% of
    1,797, rounded up as scikit-learn's ``train_test_split(test_size=0.2)`` counts), so both
    splits hold every digit in the same proportions. Both keep scikit-learn's order.

    Returns:
        X: float32 Tensor (n, 64) or (n, 1, 8, 8), the original ink counts 0..16 divided by 16;
        y: int64 Tensor (n,).

    Needs scikit-learn (``pip install glassnet[extras]``), which ships the data.
    """
    if split not in _SPLITS:
        raise ValueError(f"digits: split should be one of {', '.join(_SPLITS)}, got {split!r}")
    images, labels = _load()
    rows = _split_indices()[split]
    X = images[rows]
    return Tensor(X if flatten else X.reshape(-1, 1, 8, 8)), Tensor(labels[rows])


class Digits(TensorDataset):
    """The handwritten digits as a Dataset of (image, label) pairs; see `load_digits`.

    Args:
        split: ``"train"``, ``"test"`` or ``"all"``.
        flatten: images of 64 numbers, or (1, 8, 8) when False.
        transform: applied to each image when it is read (e.g. to add noise); without one, a
            DataLoader gathers whole batches at once.
    """

    def __init__(
        self,
        split: str = "train",
        flatten: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
    ) -> None:
        super().__init__(*load_digits(split, flatten))
        self.split = split
        self.transform = transform

    def __getitem__(self, index: Any) -> tuple[Any, Tensor]:
        image, label = super().__getitem__(index)
        return (image if self.transform is None else self.transform(image)), label

    def _rows_are_samples(self) -> bool:
        return self.transform is None

    def __repr__(self) -> str:
        return f"Digits(split={self.split!r}, samples={len(self)})"


def shifted_copies(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 images plus four copies moved one pixel up, down, left and right (the pixel row or
    column that comes in is blank), with their labels: five times the data, a simple data
    augmentation. Images may be (N, 64), (N, 8, 8) or (N, 1, 8, 8); the copies keep that shape."""
    grids = images.reshape(-1, 8, 8)
    copies = [grids]
    for axis in (1, 2):
        for step in (1, -1):
            moved = np.roll(grids, step, axis=axis)
            edge = 0 if step == 1 else -1
            if axis == 1:
                moved[:, edge, :] = 0
            else:
                moved[:, :, edge] = 0
            copies.append(moved)
    return np.concatenate(copies).reshape(-1, *images.shape[1:]), np.tile(labels, len(copies))
