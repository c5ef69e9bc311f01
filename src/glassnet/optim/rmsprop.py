"""RMSprop: divide each gradient by a running root-mean-square of its recent values.

Weights whose gradients are usually large take smaller steps and those with small gradients larger
ones, so one learning rate suits them all. The centered variant subtracts the squared mean
gradient, dividing by an estimate of the gradient's variance instead of its raw second moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check_nonnegative


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), with PyTorch's formulation and options.

    With gradient ``g`` (negated if `maximize`, plus ``weight_decay * p``):
    ``v = alpha*v + (1-alpha)*g*g``; ``avg = sqrt(v - mean_g**2)`` if `centered` (with
    ``mean_g = alpha*mean_g + (1-alpha)*g``) else ``sqrt(v)``; then with momentum
    ``b = momentum*b + g / (avg + eps)`` and ``p -= lr * b``, without it
    ``p -= lr * g / (avg + eps)``.

    Args:
        params: Parameters or param-group dicts to optimize.
        lr: learning rate. Default: 1e-2.
        alpha: decay rate of the running averages. Default: 0.99.
        eps: added to the denominator, so it is never zero. Default: 1e-8.
        weight_decay: L2 penalty. Default: 0.
        momentum: momentum factor. Default: 0.
        centered: normalise by the estimated variance of the gradient. Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    State per parameter: ``"step"``, ``"square_avg"``, plus ``"momentum_buffer"`` (momentum > 0)
    and ``"grad_avg"`` (centered).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        _check_nonnegative(self, options, where, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        momentum = float(group["momentum"])
        weight_decay = float(group["weight_decay"])
        for param in group["params"]:
            if param.grad is None:
                continue
            p = param.data
            state = self.state[param]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p)
                if momentum > 0.0:
                    state["momentum_buffer"] = np.zeros_like(p)
                if group["centered"]:
                    state["grad_avg"] = np.zeros_like(p)
            state["step"] += 1
            d = self._direction(p, param.grad.data, weight_decay, group["maximize"])
            v, tmp = state["square_avg"], self._buffer(p)
            v *= alpha
            np.multiply(d, d, out=tmp)
            tmp *= 1.0 - alpha
            v += tmp
            if group["centered"]:
                mean = state["grad_avg"]
                np.subtract(d, mean, out=tmp)
                tmp *= 1.0 - alpha
                mean += tmp
                np.multiply(mean, mean, out=tmp)
                np.subtract(v, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(d, tmp, out=tmp)
            if momentum > 0.0:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += tmp
                np.multiply(buf, -lr, out=tmp)
            else:
                tmp *= -lr
            p += tmp
