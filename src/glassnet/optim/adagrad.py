"""Adagrad: give every weight its own learning rate, shrinking with the gradients it has seen.

Each weight accumulates the sum of its squared gradients; its step is the gradient divided by the
square root of that sum. Weights that rarely get a gradient (rare words, say) keep large steps,
while often-updated ones slow down.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonnegative


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), with PyTorch's formulation and options.

    With gradient ``g`` (negated if `maximize`, plus ``weight_decay * p``) at step ``t``:
    ``s += g*g`` and ``p -= lr / (1 + (t-1)*lr_decay) * g / (sqrt(s) + eps)``.

    Args:
        params: Parameters or param-group dicts to optimize.
        lr: learning rate. Default: 1e-2.
        lr_decay: learning-rate decay per step. Default: 0.
        weight_decay: L2 penalty. Default: 0.
        initial_accumulator_value: starting value of the sum ``s``. Default: 0.
        eps: added to the denominator, so it is never zero. Default: 1e-10.
        maximize: maximize the objective instead of minimizing it. Default: False.

    State per parameter (created at once, as PyTorch does): ``"step"`` and ``"sum"``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param, group)

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        _check_nonnegative(
            self,
            options,
            where,
            "lr",
            "lr_decay",
            "weight_decay",
            "initial_accumulator_value",
            "eps",
        )

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> None:
        state = self.state[param]
        state["step"] = 0
        state["sum"] = np.full_like(param.data, float(group["initial_accumulator_value"]))

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        for param in group["params"]:
            if param.grad is None:
                continue
            p = param.data
            state = self.state[param]
            if not state:
                self._init_state(param, group)
            state["step"] += 1
            clr = lr / (1.0 + (state["step"] - 1) * lr_decay)
            d = self._direction(p, param.grad.data, weight_decay, group["maximize"])
            s, tmp = state["sum"], self._buffer(p)
            np.multiply(d, d, out=tmp)
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += eps
            np.divide(d, tmp, out=tmp)
            tmp *= -clr
            p += tmp
