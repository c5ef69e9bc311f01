"""Saliency maps: which pixels a classifier's answer depends on.

A network is "difficult to interpret": millions of weights, no rule to read off. Saliency asks
a narrower question of one image: how much does each input pixel matter to the score of one
class? The answers here are the classic ones, each a map of the input's shape:

- `vanilla_gradient`: d score / d pixel, how fast the score moves when a pixel changes.
- `gradient_x_input`: that gradient times the pixel, a first-order share of the score.
- `smoothgrad`: the gradient averaged over copies of the image with a little noise added, which
  removes much of the speckle a single gradient shows (Smilkov et al., 2017).
- `integrated_gradients`: the gradient averaged along the straight path from a baseline (a black
  image) to the input, times (input - baseline). Its attributions add up to score(input) -
  score(baseline) ("completeness", Sundararajan et al., 2017), so they share out the answer.
- `occlusion`: no gradients at all: grey out a small window at every position and record how
  much the score drops.

The score is the model's raw output (logit) for the `target` class, by default the class it
predicts. The model runs in eval mode with its weights frozen, and is left as it was found.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .. import checks
from ..autograd import no_grad
from ..nn.module import Module
from ..random import Generator, as_rng
from ..tensor import Tensor
from .gradients import as_batch, class_scores, input_gradient, inspecting, resolve_targets


def _gradients(model: Module, x: np.ndarray, target: Any, name: str) -> tuple:
    """(d score / d x, targets) for one batch, the targets resolved on `x` itself."""
    with inspecting(model):
        with no_grad():
            targets = resolve_targets(name, target, model(Tensor(x)).data)
        grad, _ = input_gradient(model, x, partial(class_scores, targets=targets))
    return grad, targets


def vanilla_gradient(model: Module, inputs: Any, target: Any = None) -> Tensor:
    """d score[target] / d input for each example of the batch `inputs` (N, ...).

    `target` is a class index, one per example, or None for the predicted class."""
    x = as_batch("vanilla_gradient", inputs)
    return Tensor(_gradients(model, x, target, "vanilla_gradient")[0])


def gradient_x_input(model: Module, inputs: Any, target: Any = None) -> Tensor:
    """The gradient of the target score times the input, elementwise."""
    x = as_batch("gradient_x_input", inputs)
    return Tensor(_gradients(model, x, target, "gradient_x_input")[0] * x)


def smoothgrad(
    model: Module,
    inputs: Any,
    target: Any = None,
    samples: int = 25,
    noise_level: float = 0.15,
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """The gradient of the target score averaged over `samples` noisy copies of each input.

    The noise is Gaussian with standard deviation `noise_level` times each example's range
    (max - min); it is drawn as ``rng.standard_normal((samples, *inputs.shape))`` from
    `generator` (glassnet's global one by default). The target is fixed on the clean input."""
    name = "smoothgrad"
    x = as_batch(name, inputs)
    checks.positive_int(samples, "samples", name)
    if not noise_level >= 0:
        raise ValueError(f"{name}: noise_level must be non-negative, got {noise_level!r}")
    axes = tuple(range(1, x.ndim))
    spread = x.max(axis=axes, keepdims=True) - x.min(axis=axes, keepdims=True)
    noise = as_rng(generator).standard_normal((samples, *x.shape)) * (noise_level * spread)
    with inspecting(model):
        with no_grad():
            targets = resolve_targets(name, target, model(Tensor(x)).data)
        total = np.zeros_like(x)
        for sample in noise.astype(x.dtype):
            grad, _ = input_gradient(model, x + sample, partial(class_scores, targets=targets))
            total += grad
    return Tensor(total / samples)


def integrated_gradients(
    model: Module,
    inputs: Any,
    target: Any = None,
    baseline: Any = None,
    steps: int = 50,
    batch_size: int = 512,
    return_delta: bool = False,
) -> Tensor | tuple[Tensor, np.ndarray]:
    """(input - baseline) times the gradient of the target score averaged along the straight
    path from `baseline` to the input.

    The average is a midpoint sum over `steps` points at alpha = (k + 1/2) / steps; its error
    falls like 1 / steps^2. `baseline` defaults to zeros (a black image); it may be one input's
    shape or the whole batch's. The points are sent through the model `batch_size` at a time.

    With `return_delta`, also returns, per example, sum(attributions) - (score(input) -
    score(baseline)): how far the sum is from completeness (0 for the exact integral).
    """
    name = "integrated_gradients"
    x = as_batch(name, inputs)
    checks.positive_int(steps, "steps", name)
    base = np.zeros_like(x) if baseline is None else as_batch(name, _batched(baseline, x))
    base = np.broadcast_to(base, x.shape).astype(x.dtype)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(x.dtype)
    n = len(x)
    with inspecting(model):
        with no_grad():
            ends = model(Tensor(np.concatenate([x, base]))).data
        targets = resolve_targets(name, target, ends[:n])
        # every point of every path, step-major: point k of example i is row k * n + i
        points = base + alphas.reshape(-1, *[1] * x.ndim) * (x - base)
        points = points.reshape(steps * n, *x.shape[1:])
        point_targets = np.tile(targets, steps)
        grads = np.empty_like(points)
        for start in range(0, len(points), batch_size):
            part = slice(start, start + batch_size)
            t = point_targets[part]
            grads[part], _ = input_gradient(model, points[part], partial(class_scores, targets=t))
    mean_grad = grads.reshape(steps, *x.shape).mean(axis=0)
    attributions = (x - base) * mean_grad
    if not return_delta:
        return Tensor(attributions)
    rows = np.arange(n)
    gap = ends[rows, targets] - ends[n + rows, targets]
    delta = attributions.reshape(n, -1).sum(axis=1) - gap
    return Tensor(attributions), delta


def _batched(baseline: Any, x: np.ndarray) -> np.ndarray:
    """A baseline of one input's shape gets a batch dimension."""
    b = baseline.data if isinstance(baseline, Tensor) else np.asarray(baseline, dtype=x.dtype)
    if b.ndim == 0:
        return np.full(x.shape, b, dtype=x.dtype)
    return b[None] if b.shape == x.shape[1:] else b


def occlusion(
    model: Module,
    inputs: Any,
    target: Any = None,
    window: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] = 1,
    baseline: float = 0.0,
    batch_size: int = 512,
) -> Tensor:
    """How much the target score drops when a `window` of pixels (all channels) is set to
    `baseline`, for images (N, C, H, W) or (N, H, W).

    The window slides with `stride`; each pixel gets the mean drop over the windows that cover
    it (pixels no window covers get 0). Positive: hiding the pixel lowers the score."""
    name = "occlusion"
    x = as_batch(name, inputs)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected images (N, C, H, W) or (N, H, W), got {x.shape}")
    (kh, kw), (sh, sw) = (
        checks.int_tuple(window, "window", name, 2, 1),
        checks.int_tuple(stride, "stride", name, 2, 1),
    )
    h, w = x.shape[-2:]
    if kh > h or kw > w:
        raise ValueError(f"{name}: window {(kh, kw)} is larger than the image {(h, w)}")
    corners = [(i, j) for i in range(0, h - kh + 1, sh) for j in range(0, w - kw + 1, sw)]
    n = len(x)
    with inspecting(model), no_grad():
        clean = model(Tensor(x)).data
        targets = resolve_targets(name, target, clean)
        rows = np.arange(n)
        drops = np.empty((len(corners), n), dtype=np.float64)
        per_batch = max(1, batch_size // n)
        for first in range(0, len(corners), per_batch):
            chunk = corners[first : first + per_batch]
            hidden = np.repeat(x[None], len(chunk), axis=0)
            for k, (i, j) in enumerate(chunk):
                hidden[k, ..., i : i + kh, j : j + kw] = baseline
            scores = model(Tensor(hidden.reshape(-1, *x.shape[1:]))).data.reshape(len(chunk), n, -1)
            drops[first : first + len(chunk)] = clean[rows, targets] - scores[:, rows, targets]
    total, count = np.zeros((n, h, w)), np.zeros((h, w))
    for (i, j), drop in zip(corners, drops):
        total[:, i : i + kh, j : j + kw] += drop[:, None, None]
        count[i : i + kh, j : j + kw] += 1
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return Tensor(np.broadcast_to(mean[:, None] if x.ndim == 4 else mean, x.shape).astype(x.dtype))
