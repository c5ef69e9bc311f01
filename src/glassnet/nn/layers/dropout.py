"""Dropout: during training, switch off a random part of the units at every step.

Each element is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so the
expected output stays the same. No unit can rely on any other being present, which keeps a network
from memorising its training data. In evaluation mode (`model.eval()`) it does nothing. Dropout2d
drops whole feature maps of a convolutional network instead of single values.
"""

from __future__ import annotations

from ... import checks
from ...ops.fused import dropout, dropout2d
from ...random import GeneratorLike, as_rng
from ...tensor import Tensor
from ..module import Module


class Dropout(Module):
    """Zero each element with probability `p` while training (scaling the rest by 1 / (1 - p)).

    Args:
        p: probability of an element to be zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility; the output is always a new tensor.
        generator: the random stream of the masks (a ``glassnet.Generator``; glassnet's own
            addition), so one model's dropout can be repeated apart from the global stream. The
            global generator when None.

    Shape:
        any; the output has the input's shape.
    """

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, generator: GeneratorLike = None
    ) -> None:
        super().__init__()
        self.p = checks.probability(p, "p", type(self).__name__)
        self.inplace = inplace
        as_rng(generator, type(self).__name__)
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of an (N, C, H, W) input with probability `p` while training (one draw
    per sample and channel), scaling the rest by 1 / (1 - p).

    Args:
        p: probability of a channel to be zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility; the output is always a new tensor.
        generator: the random stream of the masks, as for Dropout.

    Shape:
        ``(N, C, H, W)``; the output has the input's shape. A 3-D input is read as (N, C, L),
        as PyTorch does (with a warning).
    """

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, generator=self.generator)
