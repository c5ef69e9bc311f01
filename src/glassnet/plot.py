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
