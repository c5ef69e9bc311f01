"""Stochastic gradient descent: step each weight against its gradient, scaled by the learning rate.

With momentum the step follows a running sum of past gradients instead, like a ball rolling
downhill that keeps its speed through small bumps; Nesterov's variant looks one step ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check_nonnegative


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's formulation).

    With gradient ``g`` (negated if `maximize`) and ``g += weight_decay * p``:
    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` on the first step), then
    ``g = g + momentum * b`` if `nesterov` else ``g = b``, and ``p -= lr * g``.

    Args:
        params: Parameters or param-group dicts to optimize.
        lr: learning rate. Default: 1e-3.
        momentum: momentum factor. Default: 0.
        dampening: how much of the new gradient momentum leaves out. Default: 0.
        weight_decay: L2 penalty. Default: 0.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0). Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    State per parameter: ``"momentum_buffer"`` (when momentum is non-zero).

    Example::

        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        _check_nonnegative(self, options, where, "lr", "momentum", "weight_decay")
        if options.get("nesterov") and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                f"SGD ({where}): Nesterov momentum needs momentum > 0 and dampening = 0, got "
                f"momentum={options['momentum']!r}, dampening={options['dampening']!r}"
            )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        for param in group["params"]:
            if param.grad is None:
                continue
            p = param.data
            d = self._direction(p, param.grad.data, weight_decay, group["maximize"])
            tmp = self._buffer(p)
            if momentum != 0.0:
                state = self.state[param]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = d.copy()
                else:
                    buf *= momentum
                    if dampening == 0.0:
                        buf += d
                    else:
                        np.multiply(d, 1.0 - dampening, out=tmp)
                        buf += tmp
                if group["nesterov"]:
                    np.multiply(buf, momentum, out=tmp)
                    tmp += d
                    d = tmp
                else:
                    d = buf
            np.multiply(d, -lr, out=tmp)
            p += tmp
