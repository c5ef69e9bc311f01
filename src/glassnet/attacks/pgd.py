"""Projected gradient descent (PGD): many small steps up the loss, kept within eps of the image.

Madry et al. (2017) made FGSM iterative: start at a random point of the eps-ball around the image
(random_start), take `steps` steps of `step_size` in the direction sign(d loss / d x), and after
each step project back: every pixel within eps of the original and inside the valid range.
Where FGSM trusts one linear guess, PGD follows the loss around its bends, so it finds much
stronger perturbations of the same size; it is the standard way to measure how robust a network
is, and to train it to be robust (adversarial training, see `AdversarialBatches`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..explain.gradients import inspecting
from ..nn.module import Module
from ..random import Generator, as_rng
from ..tensor import Tensor
from .common import (
    DEFAULT_LOSS,
    LossFn,
    Range,
    ascent_direction,
    check_classes,
    check_eps,
    check_images,
    project,
)


def pgd(
    model: Module,
    images: Any,
    labels: Any,
    eps: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    start: Any = None,
    target: Any = None,
    clip: Range = (0.0, 1.0),
    loss_fn: LossFn = DEFAULT_LOSS,
    generator: Generator | np.random.Generator | None = None,
) -> Tensor:
    """Adversarial versions of a batch of `images` by L-infinity PGD.

    Args:
        model: the classifier (run in eval mode with frozen weights, and left as it was).
        images: a batch (N, ...) inside the valid range `clip`.
        labels: the true classes (N,); may be None for a targeted attack.
        eps: the largest change of any pixel (>= 0).
        steps: how many gradient steps.
        step_size: the size of each step; 2.5 * eps / steps by default (Madry et al.).
        random_start: begin at x + U(-eps, eps) (drawn from `generator`, glassnet's global
            one by default) instead of at x itself.
        start: an explicit starting perturbation of the images' shape (values within eps),
            instead of a random one; for reproducing a run step by step.
        target: a class, or one per image, to push the images towards (a targeted attack).
        clip: the valid input range, (0, 1) for pixels; None for no range.
        loss_fn: the loss whose gradient is followed; cross-entropy by default.

    Each step: x_adv <- x_adv + step_size * sign(g), then x_adv <- clip(x + clamp(x_adv - x,
    -eps, eps)), with g the gradient of the loss of `labels` (or minus that of `target`).
    Returns a new Tensor (no gradient) of the images' shape and dtype.
    """
    name = "pgd"
    eps = check_eps(name, eps)
    x = check_images(name, images, clip)
    y, t = check_classes(name, labels, target, len(x))
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"{name}: steps must be a non-negative integer, got {steps!r}")
    step_size = 2.5 * eps / max(steps, 1) if step_size is None else step_size
    if not step_size >= 0:
        raise ValueError(f"{name}: step_size must be >= 0, got {step_size!r}")
    if start is not None:
        delta = np.asarray(start.data if isinstance(start, Tensor) else start, dtype=x.dtype)
        if delta.shape != x.shape or np.abs(delta).max(initial=0.0) > eps + 1e-6:
            raise ValueError(
                f"{name}: start must have the images' shape {x.shape} and values within "
                f"eps={eps}, got shape {delta.shape}"
            )
    elif random_start:
        delta = as_rng(generator).uniform(-eps, eps, x.shape).astype(x.dtype)
    else:
        delta = np.zeros_like(x)
    adv = project(x + delta, x, eps, clip)
    with inspecting(model):
        for _ in range(steps):
            adv = adv + step_size * ascent_direction(model, adv, y, t, loss_fn)
            adv = project(adv, x, eps, clip)
    return Tensor(adv.astype(x.dtype))
