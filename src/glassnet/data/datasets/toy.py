"""Toy 2-D datasets: TensorFlow Playground's points in the plane, and a few more.

Each sample is a point (x1, x2) in the square [-6, 6]^2 with a class (0 or 1) or a number to
predict. They are small enough to train on in a second and to draw whole, so you can watch a
network bend its decision boundary around the data. The generators follow the Playground's
`dataset.ts`; its labels -1/+1 are 0/1 here, and every function returns the points shuffled.

`noise` is on the Playground's slider scale, 0 to 50 (percent): for `circle`, `xor`, `plane` and
`multi_gaussian` it perturbs where a label is read (so some labels flip or blur); for `gauss` and
`blobs` it widens the clusters; for `spiral` and `moons` it jitters the points.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from ... import checks
from ...random import Generator, as_rng
from ...tensor import Tensor
from ..dataset import TensorDataset

Seed = int | Generator | np.random.Generator | None
ToyData = tuple[np.ndarray, np.ndarray]


def _rng(seed: Seed) -> np.random.Generator:
    """A private stream for an integer seed; the given (or global) generator otherwise."""
    if checks.is_int(seed):
        return Generator(int(seed)).rng
    if seed is None or isinstance(seed, Generator | np.random.Generator):
        return as_rng(seed)
    raise TypeError(f"seed should be an integer, a Generator or None, got {type(seed).__name__}")


def _check(name: str, n: int, noise: float) -> float:
    """Validate the common arguments; returns the noise as the Playground's fraction (0 to 0.5)."""
    if not checks.is_int(n) or n < 1:
        raise ValueError(
            f"{name}: n (the number of points) should be a positive integer, got {n!r}"
        )
    if not isinstance(noise, numbers.Real) or not 0 <= noise <= 50:
        raise ValueError(
            f"{name}: noise is on TensorFlow Playground's scale from 0 to 50, got {noise!r}"
        )
    return float(noise) / 100


def _finish(rng: np.random.Generator, points: np.ndarray, targets: np.ndarray) -> ToyData:
    order = rng.permutation(len(points))
    return points[order].astype(np.float32), targets[order]


def _angles_to_points(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    # The Playground measures angles from the vertical axis: (r sin t, r cos t).
    return np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)


def circle(n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """A disc of class 1 (radius < 2.5) inside a ring of class 0 (radius 3.5 to 5).

    Returns:
        X: float32 array (n, 2); y: int64 array (n,) of 0/1, half of each (class 1 gets any
        odd one out).
    """
    fraction = _check("circle", n, noise)
    rng = _rng(seed)
    inner = n - n // 2
    radius = np.concatenate([rng.uniform(0.0, 2.5, inner), rng.uniform(3.5, 5.0, n // 2)])
    points = _angles_to_points(radius, rng.uniform(0.0, 2 * math.pi, n))
    shifted = points + rng.uniform(-5.0, 5.0, (n, 2)) * fraction
    labels = (np.hypot(shifted[:, 0], shifted[:, 1]) < 2.5).astype(np.int64)
    return _finish(rng, points, labels)


def xor(n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """Four quadrants: class 1 where x1 and x2 have the same sign, class 0 where they differ.

    Points keep 0.3 away from the axes. Returns X float32 (n, 2) and y int64 (n,).
    """
    fraction = _check("xor", n, noise)
    rng = _rng(seed)
    points = rng.uniform(-5.0, 5.0, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    shifted = points + rng.uniform(-5.0, 5.0, (n, 2)) * fraction
    labels = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return _finish(rng, points, labels)


def gauss(n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """Two Gaussian clouds: class 1 around (2, 2), class 0 around (-2, -2).

    The variance grows from 0.5 (noise 0) to 4 (noise 50). Returns X float32 (n, 2), y int64 (n,).
    """
    fraction = _check("gauss", n, noise)
    rng = _rng(seed)
    std = math.sqrt(0.5 + 7.0 * fraction)
    positive = n - n // 2
    labels = np.concatenate([np.ones(positive, np.int64), np.zeros(n // 2, np.int64)])
    centers = np.where(labels[:, None] == 1, 2.0, -2.0)
    points = centers + rng.normal(0.0, std, (n, 2))
    return _finish(rng, points, labels)


def spiral(n: int = 500, noise: float = 0.0, seed: Seed = None, classes: int = 2) -> ToyData:
    """Two interleaved spiral arms of 1.75 turns each, radius 0 to 5; class 0 is class 1's arm
    turned by half a circle. Returns X float32 (n, 2), y int64 (n,).

    With `classes` = k (2 to 8) there are k arms, each turned by 1/k of a circle from the last,
    for multi-class classification; the arm turned by j/k of a circle has class k - 1 - j.
    """
    fraction = _check("spiral", n, noise)
    if not checks.is_int(classes) or not 2 <= classes <= 8:
        raise ValueError(f"spiral: classes should be an integer from 2 to 8, got {classes!r}")
    rng = _rng(seed)
    arms, labels = [], []
    for arm in range(classes):
        count = n // classes + (arm < n % classes)
        step = np.arange(count) / max(count, 1)
        turn = 2 * math.pi * arm / classes
        arms.append(_angles_to_points(5.0 * step, 1.75 * 2 * math.pi * step + turn))
        labels.append(np.full(count, classes - 1 - arm, np.int64))
    points = np.concatenate(arms) + rng.uniform(-1.0, 1.0, (n, 2)) * fraction
    return _finish(rng, points, np.concatenate(labels))


def plane(n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """Regression on a tilted plane: the target is (x1 + x2) / 10, from -1.2 to 1.2.

    Returns X float32 (n, 2) uniform in [-6, 6]^2 and y float32 (n,).
    """
    fraction = _check("plane", n, noise)
    rng = _rng(seed)
    points = rng.uniform(-6.0, 6.0, (n, 2))
    shifted = points + rng.uniform(-6.0, 6.0, (n, 2)) * fraction
    return _finish(rng, points, (shifted.sum(axis=1) / 10.0).astype(np.float32))


# Centre x, centre y and sign of the Playground's six bumps: a 3 x 2 checkerboard of +1 and -1.
_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def multi_gaussian(n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """Regression on six bumps: the target is +1 or -1 at a bump's centre, falling linearly to 0
    at distance 2; where bumps overlap, the one largest in absolute value wins.

    Returns X float32 (n, 2) uniform in [-6, 6]^2 and y float32 (n,) in [-1, 1].
    """
    fraction = _check("multi_gaussian", n, noise)
    rng = _rng(seed)
    points = rng.uniform(-6.0, 6.0, (n, 2))
    shifted = points + rng.uniform(-6.0, 6.0, (n, 2)) * fraction
    distance = np.hypot(*(shifted[:, None, :] - _BUMPS[:, :2]).transpose(2, 0, 1))
    heights = _BUMPS[:, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)
    strongest = np.abs(heights).argmax(axis=1)
    targets = heights[np.arange(n), strongest].astype(np.float32)
    return _finish(rng, points, targets)


def moons(n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """Two interleaving half circles, as scikit-learn's ``make_moons`` draws them (class 0 the
    upper arc, class 1 the lower), stretched by 10/3 and centred so that x1 spans [-5, 5].

    noise / 100 is the standard deviation of the Gaussian jitter in ``make_moons``'s units (noise
    10 matches ``make_moons(noise=0.1)``). Returns X float32 (n, 2), y int64 (n,).
    """
    fraction = _check("moons", n, noise)
    rng = _rng(seed)
    outer, inner = n // 2, n - n // 2
    upper = np.linspace(0.0, math.pi, outer)
    lower = np.linspace(0.0, math.pi, inner)
    points = np.concatenate(
        [
            np.stack([np.cos(upper), np.sin(upper)], axis=1),
            np.stack([1.0 - np.cos(lower), 0.5 - np.sin(lower)], axis=1),
        ]
    )
    points += rng.normal(0.0, 1.0, (n, 2)) * fraction
    labels = np.concatenate([np.zeros(outer, np.int64), np.ones(inner, np.int64)])
    return _finish(rng, (points - (0.5, 0.25)) * (10.0 / 3.0), labels)


def multiclass_blobs(
    n: int = 500, classes: int = 3, noise: float = 0.0, seed: Seed = None
) -> ToyData:
    """`classes` Gaussian clouds (2 to 8) with centres evenly spaced on a circle of radius 3,
    the first at the top; for multi-class classification (softmax over `classes` outputs).

    The standard deviation grows from 0.5 (noise 0) to 2 (noise 50). Returns X float32 (n, 2) and
    y int64 (n,) with labels 0 .. classes-1, as balanced as n allows.
    """
    fraction = _check("multiclass_blobs", n, noise)
    if not checks.is_int(classes) or not 2 <= classes <= 8:
        raise ValueError(
            f"multiclass_blobs: classes should be an integer from 2 to 8, got {classes!r}"
        )
    rng = _rng(seed)
    labels = np.arange(n, dtype=np.int64) % classes
    angle = 2 * math.pi * labels / classes
    centers = _angles_to_points(np.full(n, 3.0), angle)
    points = centers + rng.normal(0.0, 0.5 + 3.0 * fraction, (n, 2))
    return _finish(rng, points, labels)


TOY_DATASETS: dict[str, Callable[..., ToyData]] = {
    "circle": circle,
    "xor": xor,
    "gauss": gauss,
    "spiral": spiral,
    "moons": moons,
    "blobs": multiclass_blobs,
    "plane": plane,
    "multi_gaussian": multi_gaussian,
}
"""Every toy dataset by name; ``blobs`` has three classes unless called directly."""

REGRESSION_DATASETS = frozenset({"plane", "multi_gaussian"})
"""The toy datasets whose targets are numbers (float32) rather than classes (int64)."""


def make_toy_dataset(name: str, n: int = 500, noise: float = 0.0, seed: Seed = None) -> ToyData:
    """The toy dataset called `name` (a key of `TOY_DATASETS`) with `n` points.

    Example::

        >>> X, y = make_toy_dataset("spiral", n=400, noise=10, seed=0)
    """
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy dataset {name!r}; known datasets: {', '.join(TOY_DATASETS)}")
    return TOY_DATASETS[name](n=n, noise=noise, seed=seed)


def as_tensor_dataset(X: np.ndarray, y: np.ndarray) -> TensorDataset:
    """Wrap the arrays of a toy dataset as a TensorDataset, ready for a DataLoader."""
    return TensorDataset(Tensor(np.asarray(X)), Tensor(np.asarray(y)))
