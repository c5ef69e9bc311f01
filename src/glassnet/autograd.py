"""Backpropagation: the chain rule, run backwards over the graph that the forward pass recorded.

Every operation on tensors that need gradients leaves a `Node` behind: which tensors went in, and a
small function that turns the gradient of the output into gradients of the inputs. `backward()`
visits those nodes from the loss back to the weights, in reverse topological order, and adds up the
gradients that reach each weight. That is all "learning from errors" needs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

BackwardFn = Callable[[np.ndarray], tuple]


class Node:
    """One recorded operation: its inputs and the function that sends gradients back to them."""

    __slots__ = ("parents", "backward", "name")

    def __init__(self, parents: tuple, backward: BackwardFn, name: str) -> None:
        self.parents = parents
        self.backward: BackwardFn | None = backward
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


# --------------------------------------------------------------------------------------------------
# Grad mode: whether operations record the graph.


class _GradModeState(threading.local):
    """Grad mode lives in one object per thread, as in PyTorch: a `no_grad` block in one thread
    (a playground tab drawing its heatmaps) never switches off the graph of another thread that
    is training. Every new thread starts with grad mode on (the class attribute)."""

    enabled = True


_GradMode = _GradModeState()


def is_grad_enabled() -> bool:
    """True when operations record the graph for backpropagation."""
    return _GradMode.enabled


class _GradModeContext:
    """Base for `no_grad`, `enable_grad` and `set_grad_enabled`: context manager and decorator."""

    _mode = True

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        # `@no_grad` without parentheses, as PyTorch 2 allows: decorate the function at once.
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments (or one function to decorate)")
        return cls()(orig_func)

    def __enter__(self) -> None:
        self._prev = _GradMode.enabled
        _GradMode.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _GradMode.enabled = prev

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 (PyTorch's name)
    """Turn off graph recording: for inference and for updating weights by hand."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turn graph recording back on inside a `no_grad` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Turn graph recording on or off by a flag: ``with set_grad_enabled(is_training): ...``."""

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = _GradMode.enabled
        _GradMode.enabled = self._mode  # takes effect immediately, as in PyTorch

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        _GradMode.enabled = self._prev  # as a decorator it only applies while `fn` runs
        return super().__call__(fn)


# --------------------------------------------------------------------------------------------------
# The backward pass.


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` down to `shape`: the reverse of NumPy broadcasting.

    When an input of shape (3, 1) was broadcast to (5, 3, 4) in the forward pass, each of its
    numbers was used many times, so its gradient is the sum over all the places it was copied to.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _topological_order(root: Tensor) -> list:
    """Tensors made by operations, each after every tensor it was computed from (no recursion)."""
    order: list = []
    visited: set[int] = set()
    stack: list = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in tensor._node.parents:
            if parent._node is not None and id(parent) not in visited:
                stack.append((parent, False))
    return order


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool) -> None:
    """Send `grad` (d loss / d root) back through the graph and accumulate leaf gradients."""
    from .tensor import Tensor

    grads: dict[int, np.ndarray] = {id(root): grad}
    taken: set[int] = {id(grad)}  # arrays some leaf already holds as its .grad
    borrowed: set[int] = set()  # leaf gradients that may still be on their way to another tensor

    def accumulate_leaf(leaf: Tensor, g: np.ndarray) -> None:
        if g.shape != leaf.data.shape:
            g = np.broadcast_to(g, leaf.data.shape)
        current = leaf.grad
        if current is None:
            # Keep the array without copying when nothing else can hold it; an op's backward may
            # hand the same array to two inputs (add does), and views share their base's memory.
            if id(g) in taken or g.base is not None or g.dtype != leaf.data.dtype:
                g = np.array(g, dtype=leaf.data.dtype)
            else:
                borrowed.add(id(g))
            taken.add(id(g))
            grad_tensor = Tensor.__new__(Tensor)
            grad_tensor.data, grad_tensor.grad, grad_tensor.requires_grad = g, None, False
            grad_tensor._node, grad_tensor._retains_grad = None, False
            leaf.grad = grad_tensor
        elif id(current.data) in borrowed:  # never write into an array another tensor may read
            current.data = (current.data + g).astype(leaf.data.dtype, copy=False)
        else:
            np.add(current.data, g, out=current.data, casting="unsafe")

    for tensor in reversed(_topological_order(root)):
        g = grads.pop(id(tensor), None)
        if g is None:
            continue
        node = tensor._node
        if tensor._retains_grad:
            accumulate_leaf(tensor, g)
        backward = node.backward
        if backward is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward(). Specify retain_graph=True if you need "
                "to backward through the graph a second time."
            )
        parent_grads = backward(g)
        if not retain_graph:
            node.backward = None
        for parent, pg in zip(node.parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if parent._node is None:
                accumulate_leaf(parent, pg)
            else:
                key = id(parent)
                prev = grads.get(key)
                grads[key] = pg if prev is None else prev + pg
