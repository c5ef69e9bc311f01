"""The fully connected layer: every output is a weighted sum of every input, plus a bias.

Linear(in_features, out_features) holds a weight matrix (out_features, in_features) and a bias
vector; for an input x it computes x W^T + b. Its weights start small and random (PyTorch's
default initialisation), so that different units learn different things.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import checks
from ...dtypes import get_default_dtype
from ...meta import empty
from ...ops.fused import linear
from ...tensor import Tensor
from ..init import _calculate_fan_in_and_fan_out, kaiming_uniform_, uniform_
from ..module import Module
from ..parameter import Parameter


class Identity(Module):
    """Returns its input unchanged: a placeholder where a layer is optional (arguments ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """Applies an affine transformation to the last dimension: y = x A^T + b.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if False, the layer learns no additive bias.
        device: ``"cpu"`` or ``"meta"`` (shapes without memory, see ``glassnet.meta``); by
            default ``glassnet.get_default_device()``.
        dtype: the parameters' dtype (default: ``glassnet.get_default_dtype()``, float32).

    Shape:
        input ``(*, in_features)``, output ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in_features)``, initialised from U(-1/sqrt(in), 1/sqrt(in))
            (``kaiming_uniform_`` with a = sqrt(5), as PyTorch does).
        bias: ``(out_features,)``, from the same range.

    Example::

        >>> m = Linear(20, 30)
        >>> m(glassnet.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = checks.non_negative_int(in_features, "in_features", "Linear")
        self.out_features = checks.non_negative_int(out_features, "out_features", "Linear")
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(empty((self.out_features, self.in_features), dtype, device))
        if bias:
            self.bias = Parameter(empty((self.out_features,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = _calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.extra_repr()}): expected input with last dimension "
                f"{self.in_features}, got shape {shape}"
            )
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
