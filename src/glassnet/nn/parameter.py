"""Parameters: the weights and biases a network learns.

A Parameter is a Tensor that a Module registers as something to train: it always requires a
gradient, and `module.parameters()` finds it so an optimizer can update it.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor (``requires_grad=True`` by default), found by ``Module.parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = []
        super().__init__(
            data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad
        )

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
