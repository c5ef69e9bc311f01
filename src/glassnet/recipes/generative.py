"""What the generative recipes share: the images, a judge for the samples, and pictures.

The data are the digits (1,797 8x8 images, offline) or MNIST (28x28; offline, the 10,000 test
images split 8,000/2,000 as in mnist-cnn). The judge is an ordinary classifier trained with
glassnet on the real training images, which then reads generated images (see
`glassnet.explain.sample_quality`). Pictures of samples are also saved every few epochs into
``progress/``, so one can watch a model learn to draw.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from .. import manual_seed, tensor
from ..explain import SampleQuality, sample_quality
from ..models import LeNet5, SmallCNN
from ..nn.module import Module
from ..plot import plot_image_mosaic
from ..tensor import Tensor
from ..train import evaluate, fit
from . import images
from .console import writer

DATASETS = images.DATASETS
Say = Callable[..., None]


def check_data(recipe: str, data: str) -> None:
    if data not in DATASETS:
        raise ValueError(f"{recipe}: data must be one of {DATASETS}, got {data!r}")


def load_images(data: str, split: str, say: Say) -> tuple[tuple, tuple, str]:
    """(train images, labels), (test images, labels) as ``(N, 1, H, W)`` tensors with pixels in
    [0, 1], and a description of what was loaded (see `recipes.images.load_images`)."""
    return images.load_images(data, split, say)


def begin(
    recipe: str, data: str, split: str, seed: int, verbose: bool
) -> tuple[Say, tuple, tuple, str]:
    """A recipe's first steps: check `data`, seed glassnet's generator, load the images and say
    what they are. Returns the print function (`console.writer`: clear of the progress bar,
    silent unless `verbose`), the training and test (images, labels) and the description."""
    check_data(recipe, data)
    say = writer(verbose)
    manual_seed(seed)
    train, test, described = load_images(data, split, say)
    say(described)
    return say, train, test, described


def train_judge(data: str, train: tuple, test: tuple, say: Say) -> tuple[Module, float]:
    """A classifier of the real images to judge generated ones: a SmallCNN on the digits
    (about 97% of the test images, 3 s), LeNet-5 on MNIST (about 97%, 6 s on one core)."""
    if data == "digits":
        judge, epochs, lr = SmallCNN(1, 10, (16, 32)), 10, 3e-3
    else:
        judge, epochs, lr = LeNet5(), 5, 2e-3
    fit(judge, train, epochs=epochs, batch_size=64, lr=lr, progress=False)
    accuracy = evaluate(judge, test)["accuracy"]
    say(
        f"judge: a {type(judge).__name__} trained on the real training images reads "
        f"{accuracy:.1%} of the test images correctly"
    )
    return judge, accuracy


def judge_samples(
    judge: Module,
    samples: Tensor,
    out_dir: str,
    title: str,
    say: Say,
    shown: int = 64,
    file: str = "samples.png",
) -> tuple[SampleQuality, str]:
    """Score `samples` with the judge, print the result, and draw the first `shown` of them,
    each titled with the judge's label (and its probability). Returns the score and the path."""
    quality = sample_quality(judge, samples)
    say(f"sample quality: {quality}")
    labels = [f"{p} {c:.2f}" for p, c in zip(quality.predicted[:shown], quality.confidence[:shown])]
    path = plot_image_mosaic(
        samples.numpy()[:shown],
        os.path.join(out_dir, file),
        labels=labels,
        title=f"{title}\nabove each: the judge's label and its probability",
    )
    return quality, path


def one_of_each(labels: Tensor, count: int = 10) -> np.ndarray:
    """Indices of `count` examples: the first of each class in turn (0, 1, 2, ...), repeated."""
    y = labels.numpy()
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    return np.array([by_class[i % len(by_class)][i // len(by_class)] for i in range(count)])


def snapshot_epochs(epochs: int, pictures: int = 10) -> set[int]:
    """About `pictures` evenly spaced epochs (the first and last always) to save progress at."""
    return {int(e) for e in np.linspace(1, epochs, min(pictures, epochs)).round()}


def pca_projection(points: np.ndarray) -> tuple[np.ndarray, str]:
    """Points with more than 2 coordinates projected on their first two principal axes (as they
    are when they have 2), and an axis-label prefix saying which."""
    if points.shape[1] == 2:
        return points, "z"
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T, "principal axis "


def flat(x: Tensor) -> np.ndarray:
    """Images as rows of pixels, float64 (for scikit-learn and error measures)."""
    return x.numpy().reshape(len(x), -1).astype(np.float64)


def as_images(rows: np.ndarray, like: Tensor) -> Tensor:
    return tensor(rows.reshape(-1, *like.shape[1:]).astype(np.float32))
