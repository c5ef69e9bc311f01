"""Modes: a network behaves differently while it learns and while it is used.

Dropout drops units and batch norm uses the batch's statistics only in training mode; in
evaluation mode they step aside. Using a trained network also needs no graph for backpropagation.
`inference(model)` switches both for the length of a `with` block and puts the model back in the
mode it was in afterwards, even when the block raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..autograd import no_grad
from .module import Module


@contextmanager
def inference(model: Module) -> Iterator[Module]:
    """Run `model` in eval mode without recording a graph, then put every submodule back in
    the mode it was in.

    Example::

        >>> with nn.inference(model):
        ...     scores = model(images)
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield model
    finally:
        for module, training in modes:
            module.training = training
