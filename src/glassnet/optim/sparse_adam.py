"""SparseAdam: Adam for embedding tables, stepping only the rows a batch used.

With ``Embedding(sparse=True)`` a table's gradient holds just the rows the batch read
(`glassnet.sparse.SparseRows`). SparseAdam updates Adam's two running averages and the weights in
those rows only, so a step costs what the batch touched; rows not read keep their averages as they
were (a "lazy" Adam: their averages do not decay in the meantime). PyTorch's ``optim.SparseAdam``,
step for step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..sparse import SparseRows
from .adam import _check_betas
from .optimizer import Optimizer, _check_nonnegative


class SparseAdam(Optimizer):
    """Adam over sparse gradients (PyTorch's formulation).

    For the rows ``r`` of the coalesced gradient ``g`` (negated if `maximize`), at the
    parameter's step ``t``: ``m[r] += (1-b1) * (g - m[r])``, ``v[r] += (1-b2) * (g*g - v[r])``,
    ``p[r] -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m[r] / (sqrt(v[r]) + eps)``.

    Args:
        params: Parameters (or param-group dicts) whose gradients are sparse: the weights of
            ``Embedding(sparse=True)`` layers. Dense gradients are refused (use `Adam`).
        lr: learning rate. Default: 1e-3.
        betas: decay rates of the two running averages. Default: (0.9, 0.999).
        eps: added to the denominator. Default: 1e-8.
        maximize: maximize the objective instead. Default: False.

    State per parameter: ``"step"``, ``"exp_avg"`` and ``"exp_avg_sq"`` (dense, table-shaped).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))

    accepts_sparse_gradients = True

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        _check_nonnegative(self, options, where, "lr", "eps")
        _check_betas(self, options, where)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for param in group["params"]:
            if param.grad is None:
                continue
            grad = param.grad.data
            if type(grad) is not SparseRows:
                raise RuntimeError(
                    f"SparseAdam does not support dense gradients (a parameter of shape "
                    f"{param.shape} got one), please consider Adam instead"
                )
            p = param.data
            state = self.state[param]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p)
                state["exp_avg_sq"] = np.zeros_like(p)
            state["step"] += 1
            grad = grad.coalesce()
            rows, g = grad.indices, grad.values.astype(p.dtype, copy=False)
            if not len(rows):
                continue
            if group["maximize"]:
                g = -g
            m, v = state["exp_avg"], state["exp_avg_sq"]
            old_m, old_v = m[rows], v[rows]
            m_update = (g - old_m) * (1.0 - beta1)
            v_update = (g * g - old_v) * (1.0 - beta2)
            numerator = m[rows] = old_m + m_update
            v[rows] = old_v + v_update
            denominator = np.sqrt(v_update + old_v)
            denominator += eps
            step = state["step"]
            step_size = lr * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
            p[rows] += (-step_size) * (numerator / denominator)
