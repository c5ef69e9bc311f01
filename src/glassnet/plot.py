"""Plots: training curves and confusion matrices as PNG files, so learning can be seen.

matplotlib draws them off-screen (the Agg backend), so plots work on servers with no display.
"""

from __future__ import annotations

import math
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


def plot_series(
    x: Any,
    series: dict[str, Any],
    path: str | os.PathLike,
    xlabel: str = "step",
    ylabel: str = "value",
    title: str = "",
    figsize: tuple[float, float] = (8, 4),
) -> str:
    """Several curves over the same x values in one chart (a legend names each); entries that
    are None or NaN leave a gap. Returns the path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize)
    for label, values in series.items():
        y = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        ax.plot(x, y, label=label, linewidth=1.3, marker="o" if len(y) <= 60 else None, ms=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_forecast(
    steps: Any,
    truth: Any,
    forecasts: dict[str, Any],
    path: str | os.PathLike,
    zoom: int = 120,
    title: str = "forecasts",
) -> str:
    """A series and forecasts of it: the whole span above, its first `zoom` steps below (where
    a forecast that lags behind the truth can be seen). Returns the path."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(12, 7))
    for ax, end in zip(axes, (len(truth), min(zoom, len(truth)))):
        ax.plot(steps[:end], truth[:end], color="black", linewidth=1.6, label="truth")
        for k, (label, values) in enumerate(forecasts.items()):
            style = "-" if k == 0 else "--"
            ax.plot(steps[:end], values[:end], style, linewidth=1.2, label=label)
        ax.set_xlabel("time step")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right")
    axes[0].set_title(title)
    axes[1].set_title(f"the first {min(zoom, len(truth))} steps")
    fig.tight_layout()
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
    """(N, H, W) grey or (N, H, W, 3) colour images from (N, H, W), (N, 1, H, W) or (N, 3, H, W),
    or from flat rows of N square grey images (N, side * side), as an MLP reads them."""
    arr = np.asarray(images.data if hasattr(images, "data") else images, dtype=np.float32)
    side = math.isqrt(arr.shape[1]) if arr.ndim == 2 else 0
    if arr.ndim == 2 and side * side == arr.shape[1]:
        arr = arr.reshape(len(arr), side, side)
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


def plot_patch_attention(
    images: Any,
    attention: Any,
    path: str | os.PathLike,
    labels: list[str] | None = None,
    title: str = "where the class token looks",
) -> str:
    """A Vision Transformer's attention from its class token to the image patches, per head.

    `attention` is one layer's weights ``(N, heads, 1 + P, 1 + P)`` (token 0 the class token,
    token p + 1 patch p, patches row by row over a square-ish grid matching the image). Each
    row of the figure is one image: the image itself, then one panel per head with the class
    token's weights on the patches drawn over the image (brighter: looked at more). Returns the
    path."""
    plt = _pyplot()
    arr = _as_images(images)
    w = np.asarray(attention.data if hasattr(attention, "data") else attention, dtype=np.float32)
    if w.ndim != 4 or w.shape[0] != len(arr) or w.shape[2] != w.shape[3]:
        raise ValueError(
            f"expected attention of shape (N={len(arr)}, heads, 1 + P, 1 + P), got {w.shape}"
        )
    height, width = arr.shape[1:3]
    patches = w.shape[2] - 1
    side = int(round(np.sqrt(patches * height / width)))
    grid = (side, patches // side) if side and patches % side == 0 else (0, 0)
    if grid[0] * grid[1] != patches or height % grid[0] or width % grid[1]:
        raise ValueError(f"{patches} patches do not tile {height}x{width} images")
    n, heads = len(arr), w.shape[1]
    fig, axes = plt.subplots(n, heads + 1, figsize=(1.5 * (heads + 1), 1.6 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(arr[i], cmap="gray_r" if arr.ndim == 3 else None)
        axes[i, 0].set_title(labels[i] if labels else "image", fontsize=8)
        grey = arr[i] if arr.ndim == 3 else arr[i].mean(axis=-1)
        for h in range(heads):
            ax = axes[i, h + 1]
            cls = w[i, h, 0, 1:].reshape(grid)
            ax.imshow(grey, cmap="gray")
            up = np.kron(cls, np.ones((height // grid[0], width // grid[1])))
            ax.imshow(up, cmap="inferno", alpha=0.6, vmin=0.0, vmax=float(cls.max()) or 1.0)
            if i == 0:
                ax.set_title(f"head {h + 1}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(title)
    return _save(fig, path)


def _shown_char(c: str) -> str:
    """A character as a tick label: spaces and line breaks made visible."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(c, c)


def plot_token_attention(
    tokens: list[str] | str,
    attention: Any,
    path: str | os.PathLike,
    title: str = "attention per head",
) -> str:
    """One layer's attention over a text, one heatmap per head: row i shows how much the
    position of token i (the one predicting the next token) looks at each earlier token
    (brighter: more; each head's colours span its own range).

    `tokens` are the T tokens' texts (a string of characters for a character model);
    `attention` is ``(heads, T, T)``. Returns the path."""
    plt = _pyplot()
    w = np.asarray(attention.data if hasattr(attention, "data") else attention, dtype=np.float32)
    labels = [_shown_char(t) for t in tokens]
    if w.ndim != 3 or w.shape[1:] != (len(labels), len(labels)):
        raise ValueError(
            f"expected attention of shape (heads, T, T) with T = {len(labels)} tokens, got "
            f"{w.shape}"
        )
    heads = w.shape[0]
    rows, cols = _grid_shape(heads)
    size = 2.0 + 0.16 * len(labels)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    ticks = range(len(labels))
    for h, ax in enumerate(axes.flat):
        if h >= heads:
            ax.axis("off")
            continue
        # the first row is always a single 1 (the first token sees only itself): scale to the rest
        top = float(w[h, 1:].max()) if len(labels) > 1 else 1.0
        ax.imshow(w[h], cmap="viridis", vmin=0.0, vmax=top or 1.0)
        ax.set_xticks(ticks, labels, fontsize=7, family="monospace")
        ax.set_yticks(ticks, labels, fontsize=7, family="monospace")
        ax.set_xlabel("looks at")
        ax.set_title(f"head {h + 1}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_latent_space(
    points: Any,
    labels: Any,
    path: str | os.PathLike,
    title: str = "latent space",
    xlabel: str = "z1",
    ylabel: str = "z2",
) -> str:
    """Points in a 2-D latent space (N, 2), one colour per class label, with a legend: where
    the encoder puts each class. Returns the path."""
    plt = _pyplot()
    xy = np.asarray(points.data if hasattr(points, "data") else points, dtype=np.float64)
    classes = np.asarray(labels.data if hasattr(labels, "data") else labels)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(classes) != len(xy):
        raise ValueError(
            f"expected points (N, 2) and N labels, got points {xy.shape} and {len(classes)} labels"
        )
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap("tab10")
    for k, label in enumerate(np.unique(classes)):
        chosen = classes == label
        ax.scatter(*xy[chosen].T, s=8, alpha=0.7, color=cmap(k % 10), label=str(label))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(markerscale=2, fontsize=8, loc="best")
    return _save(fig, path)


def _grey_images(images: Any, who: str) -> np.ndarray:
    arr = _as_images(images)
    if arr.ndim != 3:
        raise ValueError(f"{who} draws grey-scale images, got shape {arr.shape}")
    return arr


def _mosaic_figure(rows: list[np.ndarray], cols: int, caption: int = 0) -> tuple:
    """Rows of grey images (each ``(n, H, W)``, n <= cols) drawn as ONE picture: light-grey
    one-pixel gaps between them, and `caption` blank pixels above each row for text. One imshow
    instead of one plot per image keeps it fast. Returns (figure, axes, the first pixel row of
    each row of images, the first pixel column of each column)."""
    plt = _pyplot()
    height, width = rows[0].shape[1:]
    step = height + 1 + caption
    mosaic = np.full((len(rows) * step + 1, cols * (width + 1) + 1), 0.3, dtype=np.float32)
    tops = [1 + caption + r * step for r in range(len(rows))]
    lefts = [1 + c * (width + 1) for c in range(cols)]
    for top, row in zip(tops, rows):
        mosaic[top - caption : top, 1:-1] = 0.0  # a white band for the captions
        for left, image in zip(lefts, row):
            mosaic[top : top + height, left : left + width] = image
    inches = 0.75 * cols + 0.5
    fig, ax = plt.subplots(figsize=(inches, inches * mosaic.shape[0] / mosaic.shape[1] + 0.4))
    ax.imshow(mosaic, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig, ax, tops, lefts


def plot_image_mosaic(
    images: Any,
    path: str | os.PathLike,
    columns: int | None = None,
    title: str = "",
    labels: Any = None,
) -> str:
    """Grey-scale images tiled row by row into one picture (fast enough to save while a model
    trains), each with its caption from `labels` above it if given. Returns the path."""
    arr = _grey_images(images, "plot_image_mosaic")
    n, height, width = arr.shape
    rows, cols = _grid_shape(n) if columns is None else (-(-n // columns), columns)
    caption = 0 if labels is None else max(4, height // 3)
    fig, ax, tops, lefts = _mosaic_figure(
        [arr[r * cols : (r + 1) * cols] for r in range(rows)], cols, caption
    )
    for k in range(n if labels is not None else 0):
        r, c = divmod(k, cols)
        x, y = lefts[c] + (width - 1) / 2, tops[r] - (caption + 1) / 2
        ax.text(x, y, str(labels[k]), ha="center", va="center", fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def plot_image_rows(
    rows: dict[str, Any], path: str | os.PathLike, title: str = "", column_titles: Any = None
) -> str:
    """Rows of grey-scale images, each row named on its left (e.g. originals above their
    reconstructions, or the steps of a walk between two codes); rows may differ in length.
    Returns the path."""
    arrays = [_grey_images(images, "plot_image_rows") for images in rows.values()]
    height, width = arrays[0].shape[1:]
    fig, ax, tops, lefts = _mosaic_figure(arrays, max(len(a) for a in arrays))
    ax.set_yticks([top + (height - 1) / 2 for top in tops], list(rows), fontsize=9)
    ax.tick_params(length=0)
    if column_titles is not None:
        ax.xaxis.tick_top()
        ticks = [left + (width - 1) / 2 for left in lefts][: len(column_titles)]
        ax.set_xticks(ticks, [str(t) for t in column_titles], fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)
