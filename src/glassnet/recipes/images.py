"""The image data the recipes learn from: the 8x8 digits (always here) or MNIST (downloaded).

Both come as ``(N, 1, H, W)`` float32 tensors with pixels in [0, 1] and int64 labels. MNIST is
downloaded once and cached; offline, with only its 10,000 test images at hand, 8,000 of them train
and the other 2,000 test (see `glassnet.data.datasets.mnist.mnist_train_test`). When not even
those can be found, the recipe stops with a message that says where to put the files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..data import DataLoader, TensorDataset
from ..data.augment import RandomShifts, ShiftedLoader
from ..data.datasets.digits import load_digits, shifted_copies
from ..data.datasets.mnist import mnist_train_test
from ..data.download import DownloadError
from ..tensor import Tensor

DATASETS = ("digits", "mnist")


def load_images(
    data: str, split: str = "auto", say: Callable[..., Any] = print, recipe: str = "this recipe"
) -> tuple[tuple, tuple, str]:
    """(train images, labels), (test images, labels) and a sentence describing them.

    `split` matters for MNIST only: "full", "t10k" or "auto" (see `mnist_train_test`)."""
    if data not in DATASETS:
        raise ValueError(f"{recipe}: data must be one of {DATASETS}, got {data!r}")
    if data == "digits":
        described = "digits: 1,437 training and 360 test images, 1x8x8"
        return load_digits("train", flatten=False), load_digits("test", flatten=False), described
    try:
        return mnist_train_test(split, say)
    except (DownloadError, OSError) as error:
        raise SystemExit(
            f"{recipe} needs MNIST. It downloads it when the internet can be reached; offline, "
            "put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or just the two t10k "
            f"files) in a folder and set GLASSNET_DATA=/that/folder. ({error})"
        ) from error


def training_batches(
    data: str, train: tuple, augment: bool, batch_size: int, seed: int
) -> DataLoader | ShiftedLoader:
    """The training images as shuffled mini-batches, augmented the way that suits them: the 8x8
    digits with four copies shifted by one pixel (five times the data), MNIST with every batch
    shifted by up to 2 pixels as it leaves the loader (seeded with `seed`)."""
    images, labels = train
    if data == "digits" and augment:
        moved, moved_labels = shifted_copies(images.numpy(), labels.numpy())
        images, labels = Tensor(moved), Tensor(moved_labels)
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True)
    if data == "mnist" and augment:
        return ShiftedLoader(loader, RandomShifts(2, seed))
    return loader
