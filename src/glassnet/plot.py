"""Plots: training curves and confusion matrices as PNG files, so learning can be seen.

matplotlib draws them off-screen (the Agg backend), so plots work on servers with no display.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError("plots need matplotlib: pip install 'glassnet[extras]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_history(history: Any, path: str | os.PathLike, title: str = "training") -> str:
    """Loss and accuracy per epoch (training and validation) side by side; returns the path."""
    plt = _pyplot()
    curves = history.history if hasattr(history, "history") else dict(history)
    metrics = [m for m in ("loss", "accuracy") if m in curves or f"val_{m}" in curves]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in curves:
                values = curves[key]
                ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{title}: {metric}")
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)


def plot_confusion_matrix(
    counts: np.ndarray, path: str | os.PathLike, labels: list[str] | None = None
) -> str:
    """The confusion matrix as a heatmap with the counts written in each cell."""
    plt = _pyplot()
    n = counts.shape[0]
    labels = labels or [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(0.5 * n + 2.5, 0.5 * n + 2))
    ax.imshow(counts, cmap="Blues")
    for i in range(n):
        for j in range(n):
            color = "white" if counts[i, j] > counts.max() / 2 else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(n), labels)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (test set)")
    return _save(fig, path)


def _grid_shape(n: int) -> tuple[int, int]:
    cols = int(np.ceil(np.sqrt(n)))
    return int(np.ceil(n / cols)), cols


def _as_images(images: Any) -> np.ndarray:
    """(N, H, W) grey or (N, H, W, 3) colour images from (N, H, W), (N, 1, H, W) or (N, 3, H, W)."""
    arr = np.asarray(images.data if hasattr(images, "data") else images, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr[:, 0] if arr.shape[1] == 1 else np.moveaxis(arr, 1, -1)
    if arr.ndim not in (3, 4):
        raise ValueError(f"expected images of shape (N, H, W) or (N, C, H, W), got {arr.shape}")
    return arr


def plot_image_grid(
    images: Any,
    path: str | os.PathLike,
    true: Any = None,
    predicted: Any = None,
    class_names: list[str] | None = None,
    title: str = "test images",
) -> str:
    """A grid of images, each titled with its predicted and true label; wrong predictions in red."""
    plt = _pyplot()
    arr = _as_images(images)
    rows, cols = _grid_shape(len(arr))
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.6 * rows), squeeze=False)
    name = (lambda i: class_names[int(i)]) if class_names else (lambda i: str(int(i)))
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(arr):
            continue
        ax.imshow(arr[k], cmap="gray_r" if arr.ndim == 3 else None)
        if predicted is not None:
            p = np.asarray(predicted)[k]
            t = None if true is None else np.asarray(true)[k]
            wrong = t is not None and int(p) != int(t)
            label = name(p) if t is None else f"{name(p)} (true {name(t)})" if wrong else name(p)
            ax.set_title(label, fontsize=8, color="red" if wrong else "black")
    fig.suptitle(title)
    return _save(fig, path)


def plot_filters(weight: Any, path: str | os.PathLike, title: str = "first-layer filters") -> str:
    """Each learned filter of a convolution (weight (C_out, C_in, kH, kW)) as a small image,
    blue for negative weights and red for positive; colour inputs show the first channel only."""
    plt = _pyplot()
    w = np.asarray(weight.data if hasattr(weight, "data") else weight, dtype=np.float32)
    if w.ndim != 4:
        raise ValueError(f"expected a conv weight (C_out, C_in, kH, kW), got shape {w.shape}")
    rows, cols = _grid_shape(w.shape[0])
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.1 * rows), squeeze=False)
    limit = float(np.abs(w).max()) or 1.0
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < w.shape[0]:
            ax.imshow(w[k, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    return _save(fig, path)
