"""Pictures of what a network looks at and of what fools it, as PNG files.

`plot_saliency` draws each image next to its saliency maps, red where a pixel raises the class
score and blue where it lowers it, over the faint image; `plot_adversarial` draws images above
their adversarial versions and the (magnified) difference, each titled with the predicted class
and how confident the network is. They use the same off-screen matplotlib set-up as
`glassnet.plot`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..plot import _as_images, _pyplot, _save


def _plane(array: Any) -> np.ndarray:
    """Maps (N, C, H, W) or (N, H, W) as (N, H, W): channels are summed."""
    a = np.asarray(array.data if hasattr(array, "data") else array, dtype=np.float64)
    return a.sum(axis=1) if a.ndim == 4 else a


def plot_saliency(
    images: Any,
    maps: Mapping[str, Any],
    path: str | os.PathLike,
    labels: Sequence[str] | None = None,
    title: str = "saliency: which pixels raise (red) or lower (blue) the class score",
) -> str:
    """One row per image: the image, then one panel per saliency method in `maps` (name ->
    maps of the images' shape), each on its own symmetric colour scale. `labels` titles the
    rows' first panels. Returns the path."""
    plt = _pyplot()
    grey = _as_images(images)
    planes = {name: _plane(m) for name, m in maps.items()}
    for name, plane in planes.items():
        if plane.shape != grey.shape[:3]:
            raise ValueError(
                f"plot_saliency: maps[{name!r}] has shape {plane.shape}, images {grey.shape}"
            )
    n, cols = len(grey), len(planes) + 1
    fig, axes = plt.subplots(n, cols, figsize=(1.7 * cols, 1.8 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(grey[i], cmap="gray_r")
        axes[i, 0].set_title(labels[i] if labels else "image", fontsize=8)
        for ax, (name, plane) in zip(axes[i, 1:], planes.items()):
            limit = float(np.abs(plane[i]).max()) or 1.0
            ax.imshow(grey[i], cmap="gray_r", alpha=0.35)
            ax.imshow(plane[i], cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.75)
            if i == 0:
                ax.set_title(name, fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_adversarial(
    originals: Any,
    adversarial: Any,
    path: str | os.PathLike,
    true: Sequence[int],
    clean_pred: Sequence[int],
    clean_conf: Sequence[float],
    adv_pred: Sequence[int],
    adv_conf: Sequence[float],
    title: str = "adversarial examples",
) -> str:
    """Three rows: the original images (predicted class and confidence), their adversarial
    versions (wrong predictions in red) and the difference between the two (blue darker, red
    lighter). Returns the path."""
    plt = _pyplot()
    a, b = _as_images(originals), _as_images(adversarial)
    if a.shape != b.shape:
        raise ValueError(f"plot_adversarial: {a.shape} originals but {b.shape} adversarial images")
    n = len(a)
    fig, axes = plt.subplots(3, n, figsize=(1.35 * n, 4.6), squeeze=False)
    diff = b - a
    limit = float(np.abs(diff).max()) or 1.0
    for k in range(n):
        for row, (image, pred, conf) in enumerate(
            ((a[k], clean_pred[k], clean_conf[k]), (b[k], adv_pred[k], adv_conf[k]))
        ):
            axes[row, k].imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0)
            wrong = int(pred) != int(true[k])
            axes[row, k].set_title(
                f"{int(pred)} ({conf:.0%})", fontsize=8, color="red" if wrong else "black"
            )
        axes[2, k].imshow(diff[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[0, 0].set_ylabel("original")
    axes[1, 0].set_ylabel("adversarial")
    axes[2, 0].set_ylabel(f"change (±{limit:.2g})")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
