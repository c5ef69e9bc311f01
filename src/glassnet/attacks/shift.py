"""Distribution shift: accuracy on images that differ from the training images in one way.

Networks "fail unpredictably when the statistical patterns in deployment data differ from
training data". No attacker is needed: a turned page, a noisy sensor or faded ink will do. Each
shift here changes every test image in one way, by a growing amount, and `shift_curves` reports
the accuracy at each level (level 0, or contrast 1, is the clean test set):

- rotation: turned by `level` degrees (nearest pixel, the corners filled with 0),
- noise: Gaussian noise of standard deviation `level` added to every pixel (then clipped),
- contrast: blended with its mean brightness; `level` is the contrast kept (1 = unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..data.transforms import adjust_contrast, gaussian_noise, rotate
from ..nn.module import Module
from ..random import Generator
from .common import check_images, check_labels
from .robustness import accuracy_of

DEFAULT_LEVELS: dict[str, tuple[float, ...]] = {
    "rotation": (0, 15, 30, 45, 60, 90),
    "noise": (0, 0.1, 0.2, 0.3, 0.5),
    "contrast": (1, 0.5, 0.3, 0.2, 0.1),
}


def shifted(
    images: np.ndarray,
    kind: str,
    level: float,
    generator: Generator | np.random.Generator | None = None,
) -> np.ndarray:
    """`images` (N, C, H, W) or (N, H, W), in [0, 1], changed by one shift at one level."""
    if kind == "rotation":
        return rotate(images, float(level))
    if kind == "noise":
        return gaussian_noise(images, float(level), generator=generator)
    if kind == "contrast":
        return adjust_contrast(images, float(level))
    raise ValueError(f"shifted: unknown shift {kind!r}; use one of {list(DEFAULT_LEVELS)}")


def shift_curves(
    model: Module,
    images: Any,
    labels: Any,
    levels: Mapping[str, Sequence[float]] = DEFAULT_LEVELS,
    generator: Generator | np.random.Generator | None = None,
) -> dict[str, list[tuple[float, float]]]:
    """For each shift in `levels`, the (level, accuracy) of `model` on the shifted images.

    The noise comes from `generator` (glassnet's global one by default)."""
    x = check_images("shift_curves", images, (0.0, 1.0))
    y = check_labels("shift_curves", labels, len(x))
    return {
        kind: [(level, accuracy_of(model, shifted(x, kind, level, generator), y)) for level in lv]
        for kind, lv in levels.items()
    }


def format_shift_table(curves: Mapping[str, Sequence[tuple[float, float]]]) -> str:
    """One line per shift: the accuracy at each level."""
    units = {"rotation": "deg", "noise": "std", "contrast": "x"}
    lines = []
    for kind, points in curves.items():
        cells = "  ".join(f"{level:g}{units.get(kind, '')}: {acc:6.1%}" for level, acc in points)
        lines.append(f"{kind:<9} {cells}")
    return "\n".join(lines)
