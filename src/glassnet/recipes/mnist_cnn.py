"""Recipe: a convolutional network reads MNIST, the classic 28x28 handwritten digits.

With the full dataset (downloaded once, checked and cached; see `glassnet.data.datasets.mnist`) it
trains on the 60,000 training images and tests on the 10,000 test images. Offline, with only the
10,000 test images at hand (`GLASSNET_DATA=/folder/with/the/files`), it trains on 8,000 of them
and tests on the other 2,000 (a fixed, seeded split), which is enough to see a CNN beat 98%.
The network is a SmallCNN (conv-BN-ReLU blocks) trained on randomly shifted images (random crops
of the image padded by 2 pixels, a data augmentation that makes the network robust to position).
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import manual_seed, tensor
from ..data import DataLoader, TensorDataset
from ..data.datasets.mnist import load_mnist
from ..data.download import DownloadError
from ..explain import summary
from ..models import MLP, SmallCNN
from ..optim import AdamW
from ..optim.lr_scheduler import CosineAnnealingLR
from ..plot import plot_filters
from ..train import fit
from .common import report_classifier
from .digits_cnn import weight_sharing_comparison

OFFLINE_TRAIN = 8000  # of the 10,000 test images, when only those are available
SPLIT_SEED = 0


def load_data(split: str, say) -> tuple[tuple, tuple, str]:
    """(train images, labels), (test images, labels) and a description of what was used.

    split: "full" (60,000 / 10,000), "t10k" (8,000 / 2,000 of the test set) or "auto" (full if it
    can be had, else t10k)."""
    if split not in ("auto", "full", "t10k"):
        raise ValueError(f"mnist-cnn: split must be 'auto', 'full' or 't10k', got {split!r}")
    if split in ("auto", "full"):
        try:
            train = load_mnist("train")
            test = load_mnist("test")
            return train, test, "MNIST: 60,000 training and 10,000 test images"
        except (DownloadError, OSError) as error:
            if split == "full":
                raise
            say(f"the full MNIST could not be had ({type(error).__name__}); trying t10k only")
    try:
        images, labels = load_mnist("test")
    except (DownloadError, OSError) as error:
        raise SystemExit(
            "mnist-cnn needs MNIST. It downloads it when the internet can be reached; offline, "
            "put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
            "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or just the two t10k "
            "files) in a folder and set GLASSNET_DATA=/that/folder. "
            f"({error})"
        ) from error
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    first, rest = order[:OFFLINE_TRAIN], order[OFFLINE_TRAIN:]
    x, y = images.numpy(), labels.numpy()
    return (
        (tensor(x[first]), tensor(y[first])),
        (tensor(x[rest]), tensor(y[rest])),
        f"MNIST t10k only: {len(first):,} images to train on and the other {len(rest):,} to test "
        f"(permutation seed {SPLIT_SEED})",
    )


class RandomShifts:
    """Each batch's images moved by up to `pad` pixels in each direction (a random crop of the
    zero-padded image), drawn from numpy's seeded generator for the whole batch at once."""

    def __init__(self, pad: int, seed: int) -> None:
        self.pad = pad
        self.rng = np.random.default_rng(seed)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        n, _, h, w = images.shape
        p = self.pad
        padded = np.pad(images[:, 0], ((0, 0), (p, p), (p, p)))
        dy, dx = self.rng.integers(0, 2 * p + 1, (2, n))
        rows = (dy[:, None] + np.arange(h))[:, :, None]  # (n, h, 1)
        cols = (dx[:, None] + np.arange(w))[:, None, :]  # (n, 1, w)
        return padded[np.arange(n)[:, None, None], rows, cols][:, None]


class ShiftedLoader:
    """A DataLoader whose batches pass through RandomShifts on the way out."""

    def __init__(self, loader: DataLoader, shifts: RandomShifts) -> None:
        self.loader, self.shifts = loader, shifts

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for images, labels in self.loader:
            yield tensor(self.shifts(images.numpy())), labels


def run(
    out_dir: str = "runs/mnist-cnn",
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 3e-3,
    widths: tuple[int, ...] = (16, 32, 64),
    split: str = "auto",
    augment: bool = True,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a SmallCNN on MNIST (or its 10k test set, split 8,000/2,000); evaluate, plot, save."""
    say = print if verbose else (lambda *a, **k: None)
    manual_seed(seed)
    (x_train, y_train), (x_test, y_test), described = load_data(split, say)
    say(described)

    model = SmallCNN(in_channels=1, num_classes=10, widths=widths)
    cnn_table = summary(model, input_shape=(1, 28, 28))
    mlp_table = summary(MLP([784, 256, 128, 10]), input_shape=(784,))
    say(cnn_table)
    say("a fully connected network for the same 784 pixels:")
    say(mlp_table)
    say(weight_sharing_comparison(model.features[0][0], (1, 28, 28)))

    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    train_data = ShiftedLoader(loader, RandomShifts(2, seed)) if augment else loader
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    history = fit(
        model,
        train_data,
        epochs=epochs,
        optimizer=optimizer,
        scheduler=scheduler,
        val_data=(x_test, y_test),
        progress=progress,
    )
    seconds = time.perf_counter() - start

    report = report_classifier(
        model,
        history,
        x_test,
        y_test,
        out_dir,
        "MNIST CNN",
        seconds=seconds,
        extra_plots=[
            lambda *_: plot_filters(
                model.features[0][0].weight, os.path.join(out_dir, "filters.png")
            )
        ],
        say=say,
    )
    return {**report, "parameters": cnn_table.total_params, "data": described}
