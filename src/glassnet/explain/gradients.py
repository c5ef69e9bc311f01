"""Gradients with respect to the input: how a network's answer changes when its input does.

Training asks how the loss changes with each weight; looking inside a trained network (saliency)
and attacking it (adversarial examples) ask the same question of each input pixel instead. Both
run the model with its weights frozen: `inspecting(model)` switches it to evaluation mode (batch
norm uses its running statistics, dropout is off) and turns off ``requires_grad`` on every
parameter, so no gradient is computed for a weight or added to its ``.grad``; on the way out it
puts every module's mode and every parameter's flag back as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..nn.module import Module
from ..tensor import Tensor


@contextmanager
def inspecting(model: Module) -> Iterator[Module]:
    """Inside the block, `model` is in eval mode with all its parameters frozen; afterwards each
    module's train/eval flag and each parameter's ``requires_grad`` are what they were."""
    if not isinstance(model, Module):
        raise TypeError(f"expected a glassnet Module, got {type(model).__name__}")
    modes = [(module, module.training) for module in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad = False
        yield model
    finally:
        for module, training in modes:
            module.training = training
        for p, requires_grad in flags:
            p.requires_grad = requires_grad


def as_batch(name: str, inputs: Any) -> np.ndarray:
    """`inputs` (a Tensor or an array of one batch, (N, ...)) as a floating-point array."""
    array = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
    if array.ndim < 2 or array.dtype.kind != "f":
        raise ValueError(
            f"{name}: expected a floating-point batch of inputs (N, ...), got shape "
            f"{array.shape} and dtype {array.dtype}"
        )
    return array


def input_gradient(
    model: Module, inputs: np.ndarray, objective: Callable[[Tensor], Tensor]
) -> tuple[np.ndarray, np.ndarray]:
    """d objective(model(inputs)) / d inputs, and the model's output, for one batch.

    Call it inside `inspecting(model)`; `objective` turns the output into one number (a sum over
    the batch keeps each example's gradient its own, since examples do not interact in eval mode).
    """
    x = Tensor(inputs, requires_grad=True)
    with enable_grad():
        output = model(x)
        objective(output).backward()
    return x.grad.data, output.data


def class_scores(output: Tensor, targets: np.ndarray) -> Tensor:
    """The sum over the batch of each example's score (logit) for its target class."""
    return output[np.arange(len(targets)), targets].sum()


def resolve_targets(name: str, target: Any, output: np.ndarray) -> np.ndarray:
    """One class index per example: `target` (an int for all, or one per example) or, when it
    is None, the class the model predicts."""
    n, classes = output.shape[0], output.shape[-1]
    if output.ndim != 2:
        raise ValueError(f"{name}: expected the model to output (N, classes), got {output.shape}")
    if target is None:
        return output.argmax(axis=1)
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu" or t.ndim > 1:
        raise ValueError(f"{name}: target must be a class index or one per example, got {target!r}")
    t = np.broadcast_to(t, (n,)) if t.ndim == 0 else t
    if t.shape != (n,) or t.min() < 0 or t.max() >= classes:
        raise ValueError(
            f"{name}: target must hold {n} class indices in [0, {classes}), got {t.tolist()}"
        )
    return t.astype(np.int64)
