"""Adam and AdamW: gradient descent with a step size adapted to each weight.

Adam keeps two running averages per weight: of the gradient (the direction, smoothed like
momentum) and of its square (how large gradients usually are). Dividing one by the square root of
the other gives every weight a step of about `lr`, whatever the scale of its gradient. AdamW
shrinks the weights directly ("decoupled" weight decay) rather than adding an L2 term to the
gradient, which keeps the decay from being rescaled by the adaptive step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check_nonnegative


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014), with PyTorch's formulation and options.

    With gradient ``g`` (negated if `maximize`; plus ``weight_decay * p`` unless decoupled) at
    step ``t``: ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g``, and
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``, where `amsgrad` uses the
    running maximum of ``v`` in place of ``v``.

    Args:
        params: Parameters or param-group dicts to optimize.
        lr: learning rate. Default: 1e-3.
        betas: decay rates ``(b1, b2)`` of the two running averages, each in [0, 1).
            Default: (0.9, 0.999).
        eps: added to the denominator, so it is never zero. Default: 1e-8.
        weight_decay: L2 penalty. Default: 0.
        amsgrad: use the AMSGrad variant (the maximum of past ``v``). Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.
        decoupled_weight_decay: shrink weights by ``p *= 1 - lr * weight_decay`` as AdamW does.
            Default: False.

    State per parameter: ``"step"``, ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and, with amsgrad,
    ``"max_exp_avg_sq"``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        _check_nonnegative(self, options, where, "lr", "eps", "weight_decay")
        _check_betas(self, options, where)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        decoupled = group["decoupled_weight_decay"]
        amsgrad = group["amsgrad"]
        for param in group["params"]:
            if param.grad is None:
                continue
            p = param.data
            state = self.state[param]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p)
                state["exp_avg_sq"] = np.zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(p)
            state["step"] += 1
            step = state["step"]
            if decoupled:
                if weight_decay != 0.0:
                    p *= 1.0 - lr * weight_decay
                d = self._direction(p, param.grad.data, 0.0, group["maximize"])
            else:
                d = self._direction(p, param.grad.data, weight_decay, group["maximize"])
            m, v, tmp = state["exp_avg"], state["exp_avg_sq"], self._buffer(p)
            np.subtract(d, m, out=tmp)
            tmp *= 1.0 - beta1
            m += tmp
            v *= beta2
            np.multiply(d, d, out=tmp)
            tmp *= 1.0 - beta2
            v += tmp
            step_size = lr / (1.0 - beta1**step)
            bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
            if amsgrad:
                v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            # m / (sqrt(v) / c + eps) == m / (sqrt(v) + eps * c) * c: moving the bias correction c
            # onto the scalars saves a pass over the array.
            np.sqrt(v, out=tmp)
            tmp += eps * bias_correction2_sqrt
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size * bias_correction2_sqrt
            p += tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2017): each step first shrinks the
    weights, ``p *= 1 - lr * weight_decay``, then takes Adam's step on the plain gradient.

    Args are those of `Adam`, except that `weight_decay` defaults to 1e-2 and decay is always
    decoupled.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _check_betas(opt: Optimizer, options: dict[str, Any], where: str) -> None:
    if "betas" not in options:
        return
    betas = options["betas"]
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(
            f"{type(opt).__name__} ({where}): betas must be a pair (b1, b2), got {betas!r}"
        )
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"{type(opt).__name__} ({where}): betas[{i}] must be in [0, 1), got {beta!r}"
            )
