"""Module backward hooks: see the gradients flowing into and out of one layer.

``module.register_full_backward_hook(hook)`` calls ``hook(module, grad_input, grad_output)`` once
per backward: `grad_output` holds the gradients of the loss with respect to the module's outputs,
`grad_input` those with respect to its tensor inputs (None for an input that needs none). As in
PyTorch, the inputs and outputs of each call pass through an identity node; when gradients
reach those nodes, they are what the hook is shown (and a tuple the hook returns replaces
`grad_input`).
"""

from __future__ import annotations

from typing import Any

from ..autograd import record
from ..tensor import Tensor


class BackwardHookCall:
    """One call of a module that has full backward hooks."""

    def __init__(self, module: Any, hooks: list) -> None:
        self.module = module
        self.hooks = hooks
        self.grad_outputs: tuple = ()
        self.n_inputs = 0
        self.inputs_wrapped = False

    def wrap_inputs(self, args: tuple) -> tuple:
        """`args` with each tensor that requires grad passed through one identity node."""
        tensors = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(tensors)
        wanted = [i for i in tensors if args[i].requires_grad]
        if not wanted:
            return args
        slot = {i: k for k, i in enumerate(tensors)}

        def backward(*grads: Any) -> tuple:
            grad_input: list = [None] * self.n_inputs
            for i, g in zip(wanted, grads):
                grad_input[slot[i]] = g
            grad_input = self.call_hooks(grad_input)
            return tuple(grad_input[slot[i]] for i in wanted)

        self.inputs_wrapped = True
        return tuple(_through_identity(args, wanted, backward))

    def wrap_outputs(self, output: Any) -> Any:
        """`output` (a tensor or a tuple) through one identity node that notes its gradients."""
        single = isinstance(output, Tensor)
        items = (output,) if single else output
        if not isinstance(items, tuple):
            return output
        wanted = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not wanted:
            return output

        def backward(*grads: Any) -> tuple:
            self.grad_outputs = grads
            if not self.inputs_wrapped:  # no input needs a gradient: the hook runs now
                self.call_hooks([None] * self.n_inputs)
            return grads

        new = _through_identity(items, wanted, backward)
        return new[0] if single else tuple(new)

    def call_hooks(self, grad_input: list) -> list:
        as_tensors = tuple(None if g is None else Tensor(g) for g in grad_input)
        grad_output = tuple(None if g is None else Tensor(g) for g in self.grad_outputs)
        for hook in self.hooks:
            result = hook(self.module, as_tensors, grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, tuple | list) else (result,)
                if len(result) != len(as_tensors):
                    raise RuntimeError(
                        f"backward hook of {type(self.module).__name__} returned {len(result)} "
                        f"gradients, expected {len(as_tensors)} (one per tensor input)"
                    )
                as_tensors = result
        return [None if g is None else g.data if isinstance(g, Tensor) else g for g in as_tensors]


def _through_identity(items: tuple, wanted: list, backward: Any) -> list:
    """`items` with the tensors at positions `wanted` replaced by the outputs of one identity
    node whose backward is `backward`."""
    outs = record(
        [items[i].data for i in wanted],
        tuple(items[i] for i in wanted),
        backward,
        "BackwardHookFunction",
        saved=(),
    )
    new = list(items)
    for i, out in zip(wanted, outs):
        new[i] = out
    return new
