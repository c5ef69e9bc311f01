"""The fast gradient sign method (FGSM): one step of size eps up the loss.

Goodfellow et al. (2014) showed that a network that is nearly linear near its inputs can be
fooled by moving every pixel by the same small eps, each in the direction that raises the loss:
x_adv = clip(x + eps * sign(d loss / d x)). Thousands of tiny changes add up to a large change
in the score, though no single pixel changes much.
"""

from __future__ import annotations

from typing import Any

from ..explain.gradients import inspecting
from ..nn.module import Module
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


def fgsm(
    model: Module,
    images: Any,
    labels: Any,
    eps: float,
    *,
    target: Any = None,
    clip: Range = (0.0, 1.0),
    loss_fn: LossFn = DEFAULT_LOSS,
) -> Tensor:
    """Adversarial versions of a batch of `images`: x + eps * sign(d loss(model(x), labels) / dx),
    clipped to the valid range `clip` (pixels in [0, 1] by default; None for no clipping).

    With `target` (a class, or one per image) the attack is targeted: it steps down the loss of
    the target class instead, x - eps * sign(d loss(model(x), target) / dx), and `labels` may be
    None. The model runs in eval mode with frozen weights and is left as it was.

    Returns a new Tensor (no gradient) of the images' shape and dtype.
    """
    name = "fgsm"
    eps = check_eps(name, eps)
    x = check_images(name, images, clip)
    y, t = check_classes(name, labels, target, len(x))
    with inspecting(model):
        step = ascent_direction(model, x, y, t, loss_fn)
    return Tensor(project(x + eps * step, x, eps, clip).astype(x.dtype))
