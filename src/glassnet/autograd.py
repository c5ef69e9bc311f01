"""Backpropagation: the chain rule, run backwards over the graph that the forward pass recorded.

Every operation on tensors that need gradients leaves a `Node` behind: which tensors went in, and a
small function that turns the gradient of the output into gradients of the inputs. `backward()`
visits those nodes from the loss back to the weights, in reverse topological order, and adds up the
gradients that reach each weight. That is all "learning from errors" needs.

Four rules keep it honest, as in PyTorch:
- An op with several outputs (an LSTM's outputs and final states, `split`, `sort`'s values and
  indices) is ONE node; its backward receives one gradient per output (None where none came).
- Every tensor has a version: changing it in place (``x += 1``, ``x.zero_()``, an optimizer step)
  bumps it. A node remembers when it saved its inputs; if one of them changed since, backward
  raises instead of computing a gradient from the wrong numbers.
- Hooks (`Tensor.register_hook`) see a gradient once per backward, when it is complete: for a
  weight, when every use of it in the graph has sent its share.
- Grad mode is per thread: `no_grad` in one thread never switches off another thread's graph.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .hooks import RemovableHandle, add_hook, check_callable
from .sparse import SparseRows

# The Tensor class: autograd is imported before it exists, so tensor.py binds it here once defined
# (backward makes gradient tensors on its hot path, where a function-level import costs ~1 us).
Tensor: Any = None

BackwardFn = Callable[..., tuple]

# One clock for the whole process: a node notes the time it saved its inputs, an in-place change
# stamps the tensor it changed. itertools.count is atomic in CPython, so threads never share a tick.
_clock = itertools.count(1)


def bump_version(tensor: Tensor) -> None:
    """Record that `tensor`'s numbers were changed in place."""
    tensor._version = next(_clock)


class Node:
    """One recorded operation: its inputs and the function that sends gradients back to them.

    `saved` are the inputs whose values backward reads (all of them unless the op says otherwise:
    an addition reads none); `tick` is when they were saved. `extras` holds what only some nodes
    have (hooks on their outputs, outputs that retain their gradient, an output backward reads).
    """

    __slots__ = ("parents", "backward", "name", "n_outputs", "saved", "tick", "extras")

    def __init__(
        self,
        parents: tuple,
        backward: BackwardFn,
        name: str,
        saved: tuple | None = None,
        n_outputs: int = 1,
    ) -> None:
        self.parents = parents
        self.backward: BackwardFn | None = backward
        self.name = name
        self.n_outputs = n_outputs
        self.saved = parents if saved is None else saved
        self.tick = next(_clock)
        self.extras: dict | None = None

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    def extra(self, key: str) -> dict:
        """The dict `extras[key]`, made on first use."""
        if self.extras is None:
            self.extras = {}
        return self.extras.setdefault(key, {})

    def check_saved(self) -> None:
        """Raise if a tensor this node saved was changed in place after it was saved."""
        for position, t in enumerate(self.saved):
            if t is not None and t._version > self.tick:
                raise _modified_error(self.name, f"input {position}", t)
        if self.extras is not None and "output" in self.extras:
            out = self.extras["output"]()
            if out is not None and out._version > self.tick:
                raise _modified_error(self.name, "output", out)


def _modified_error(op: str, which: str, t: Tensor) -> RuntimeError:
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: the {which} of {op} (a tensor of shape {tuple(t.shape)}, dtype {t.dtype}) "
        f"was changed in place after {op} saved it for backward. Make the change out of place "
        "(x = x + 1 instead of x += 1), or after calling backward()."
    )


def save_output(tensor: Tensor) -> Tensor:
    """Mark `tensor` (an op's output) as read by its node's backward, so changing it in place
    before backward raises (exp, sigmoid and tanh compute their derivative from their output)."""
    node = tensor._node
    if node is not None:
        if node.extras is None:
            node.extras = {}
        node.extras["output"] = weakref.ref(tensor)
    return tensor


def record(
    arrays: Sequence, parents: tuple, backward: BackwardFn, name: str, saved: tuple | None = None
) -> tuple:
    """Several output tensors of ONE node: `backward(*grads)` gets one gradient per output (None
    for an output no gradient reached) and returns one per parent. `parents` may hold None (an
    absent bias): it stays out of the graph and its gradient is dropped. Integer outputs (indices)
    never require grad."""
    present = tuple(p for p in parents if p is not None)
    node = None
    if _GradMode.enabled and any(p.requires_grad for p in present):
        if len(present) != len(parents):
            full = backward

            def backward(*grads: Any) -> tuple:
                return tuple(g for g, p in zip(full(*grads), parents) if p is not None)

        node = Node(present, backward, name, saved, len(arrays))
    outputs = []
    for k, array in enumerate(arrays):
        out = Tensor._make(array, (), None, name)
        if node is not None and array.dtype.kind in "fc":
            out._node, out._output_nr, out.requires_grad = node, k, True
        outputs.append(out)
    return tuple(outputs)


def register_tensor_hook(tensor: Tensor, hook: Callable) -> RemovableHandle:
    """`Tensor.register_hook`: call ``hook(grad)`` when `tensor`'s gradient is computed."""
    check_callable(hook, "Tensor.register_hook")
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor._node is None:
        if tensor._hooks is None:
            tensor._hooks = OrderedDict()
        return add_hook(tensor._hooks, hook)
    hooks = tensor._node.extra("hooks")
    return add_hook(hooks.setdefault(tensor._output_nr, OrderedDict()), hook)


def retain_grad(tensor: Tensor) -> None:
    """`Tensor.retain_grad`: keep `.grad` for a tensor in the middle of the graph too."""
    if tensor._node is not None:
        tensor._node.extra("retained")[tensor._output_nr] = weakref.ref(tensor)


def retains_grad(tensor: Tensor) -> bool:
    node = tensor._node
    return bool(node and node.extras and tensor._output_nr in node.extras.get("retained", {}))


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
    return np.asarray(grad)  # a sum down to shape () gives a NumPy scalar


def _graph(roots: list) -> tuple[list, dict]:
    """The nodes behind `roots`, each before the nodes that made its inputs (no recursion), and
    for every leaf that requires grad, how many edges of the graph reach it."""
    order: list = []
    visited: set = set()  # nodes (hashed by identity)
    uses: dict[int, int] = {}
    stack: list = [(node, False) for node in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in node.parents:
            made_by = parent._node
            if made_by is None:
                if parent.requires_grad:
                    uses[id(parent)] = uses.get(id(parent), 0) + 1
            elif made_by not in visited:
                stack.append((made_by, False))
    order.reverse()
    return order, uses


def _as_array(g: Any) -> Any:
    """NumPy turns 0-d results (a sum of two 0-d arrays too) into scalars; gradients stay arrays."""
    return np.asarray(g) if isinstance(g, np.generic | float | int) else g


def _run_hooks(hooks: OrderedDict, g: np.ndarray) -> np.ndarray:
    """Call each hook with the gradient as a Tensor; a value one returns replaces it."""
    for hook in list(hooks.values()):
        result = hook(Tensor._leaf(g))
        if result is not None:
            g = result.data if isinstance(result, Tensor) else np.asarray(result)
    return g


class _BackwardPass:
    """One call of backward: gradients waiting at each node, and each leaf's running sum until
    every edge that reaches it has delivered (then its hooks run and `.grad` grows)."""

    def __init__(self, retain_graph: bool, capture: dict | None) -> None:
        self.retain_graph = retain_graph
        self.capture = capture  # autograd.grad: {id(leaf) or (id(node), output): gradient}
        self.pending: dict[Node, Any] = {}  # a node's gradient(s) so far
        self.leaf_sums: dict[int, list] = {}
        self.taken: set[int] = set()  # arrays some tensor already holds as its .grad
        self.borrowed: set[int] = set()  # .grad arrays that may still reach another tensor

    def run(self, roots: Sequence, grads: Sequence) -> None:
        nodes = []
        for tensor, g in zip(roots, grads):
            self.taken.add(id(g))
            self.send(tensor, g)
            if tensor._node is not None:
                nodes.append(tensor._node)
        order, uses = _graph(nodes)
        pending, leaf_sums = self.pending, self.leaf_sums
        for node in order:
            g = pending.pop(node, None)
            if g is not None:
                self.run_node(node, g)
            for parent in node.parents:
                if parent._node is None and parent.requires_grad:
                    # one edge into this leaf walked; after the last, its gradient is complete
                    left = uses[id(parent)] = uses[id(parent)] - 1
                    if left == 0 and id(parent) in leaf_sums:
                        self.finish_leaf(parent, leaf_sums.pop(id(parent))[1])
        for leaf, g in list(leaf_sums.values()):  # roots that are leaves
            self.finish_leaf(leaf, g)

    def send(self, tensor: Tensor, g: np.ndarray) -> None:
        """A share of the gradient arrives at `tensor`."""
        node = tensor._node
        if node is None:
            entry = self.leaf_sums.get(id(tensor))
            if entry is None:
                self.leaf_sums[id(tensor)] = [tensor, g]
            else:
                entry[1] = _as_array(entry[1] + g)
        elif node.n_outputs == 1:
            prev = self.pending.get(node)
            self.pending[node] = g if prev is None else _as_array(prev + g)
        else:
            slots = self.pending.get(node)
            if slots is None:
                slots = self.pending[node] = [None] * node.n_outputs
            k = tensor._output_nr
            slots[k] = g if slots[k] is None else _as_array(slots[k] + g)

    def run_node(self, node: Node, g: Any) -> None:
        if node.extras is not None or self.capture is not None:
            g = self.at_outputs(node, g)
        backward = node.backward
        if backward is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward(). Specify retain_graph=True if you need "
                "to backward through the graph a second time."
            )
        node.check_saved()
        parent_grads = backward(g) if node.n_outputs == 1 else backward(*g)
        if not self.retain_graph:
            node.backward = None
        for parent, pg in zip(node.parents, parent_grads):
            if pg is not None and parent.requires_grad:
                self.send(parent, pg if type(pg) is np.ndarray else _as_array(pg))

    def at_outputs(self, node: Node, g: Any) -> Any:
        """Run the hooks of the node's outputs, keep retained gradients, capture for grad()."""
        grads = [g] if node.n_outputs == 1 else g
        extras = node.extras or {}
        for k, hooks in extras.get("hooks", {}).items():
            if grads[k] is not None and hooks:
                grads[k] = _run_hooks(hooks, grads[k])
        for k, ref in extras.get("retained", {}).items():
            tensor = ref()
            if tensor is not None and grads[k] is not None and self.capture is None:
                self.accumulate(tensor, grads[k])
        if self.capture is not None:
            for k, gk in enumerate(grads):
                if (id(node), k) in self.capture and gk is not None:
                    self.capture[(id(node), k)] = gk
        return grads[0] if node.n_outputs == 1 else grads

    def finish_leaf(self, leaf: Tensor, g: np.ndarray) -> None:
        if g.shape != leaf.data.shape:
            g = np.broadcast_to(g, leaf.data.shape)
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
        if self.capture is None:
            self.accumulate(leaf, g)
        elif id(leaf) in self.capture:
            self.capture[id(leaf)] = g

    def accumulate(self, tensor: Tensor, g: np.ndarray) -> None:
        """tensor.grad += g, without copying `g` when nothing else can hold it."""
        if g.shape != tensor.data.shape:
            g = np.broadcast_to(g, tensor.data.shape)
        current = tensor.grad
        if type(g) is SparseRows or (current is not None and type(current.data) is SparseRows):
            # rows of an Embedding(sparse=True): the entries join (a dense gradient absorbs them)
            total = g if current is None else current.data + g
            tensor.grad = Tensor._leaf(total.astype(tensor.data.dtype, copy=False))
        elif current is None:
            # An op's backward may hand the same array to two inputs (add does), and views share
            # their base's memory: copy those, keep the rest.
            if id(g) in self.taken or g.base is not None or g.dtype != tensor.data.dtype:
                g = np.array(g, dtype=tensor.data.dtype)
            else:
                self.borrowed.add(id(g))
            self.taken.add(id(g))
            tensor.grad = Tensor._leaf(g)
        elif id(current.data) in self.borrowed:  # never write into an array another may read
            current.data = (current.data + g).astype(tensor.data.dtype, copy=False)
        else:
            np.add(current.data, g, out=current.data, casting="unsafe")


def root_gradients(tensors: Sequence, grad_tensors: Sequence | None, where: str) -> list:
    """The gradient each root starts with: ones for a scalar, else the one given (same shape)."""
    from .tensor import to_array

    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(
            f"{where}: got {len(tensors)} tensors and {len(grad_tensors)} gradients; "
            "give one gradient (or None) per tensor"
        )
    grads = []
    for position, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(
                f"element {position} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this tensor has "
                    f"shape {t.data.shape}: pass a gradient of that shape to {where}"
                )
            g = np.ones_like(t.data)
        else:
            g = np.array(to_array(g, t.data.dtype))  # a copy: backward may keep it as a .grad
            if g.shape != t.data.shape:
                raise RuntimeError(
                    f"{where}: gradient has shape {g.shape} but the tensor has shape {t.data.shape}"
                )
        grads.append(g)
    return grads


def _tensors(value: Any) -> tuple:
    """One tensor (or array), or a sequence of them, as a tuple."""
    return (value,) if isinstance(value, Tensor | np.ndarray) else tuple(value)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
) -> None:
    """Accumulate into every leaf's `.grad` the gradient of `tensors` (PyTorch's
    ``torch.autograd.backward``; ``loss.backward()`` is this with one tensor)."""
    tensors = _tensors(tensors)
    if grad_tensors is not None:
        grad_tensors = (
            _tensors(grad_tensors) if not isinstance(grad_tensors, list) else grad_tensors
        )
    grads = root_gradients(tensors, grad_tensors, "backward()")
    _BackwardPass(bool(retain_graph), None).run(tensors, grads)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, returned instead of accumulated into
    `.grad` (which stays as it was), as ``torch.autograd.grad`` does. First-order only."""
    if create_graph:
        raise NotImplementedError(
            "autograd.grad(create_graph=True): glassnet computes first-order gradients only; "
            "backward functions work on arrays and do not record a graph of their own"
        )
    outputs, inputs = _tensors(outputs), _tensors(inputs)
    if grad_outputs is not None:
        grad_outputs = (
            _tensors(grad_outputs) if not isinstance(grad_outputs, list) else grad_outputs
        )
    grads = root_gradients(outputs, grad_outputs, "autograd.grad()")
    keys = []
    for position, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"autograd.grad(): input {position} (shape {tuple(t.shape)}) does not require grad"
            )
        keys.append(id(t) if t._node is None else (id(t._node), t._output_nr))
    capture: dict = dict.fromkeys(keys)
    _BackwardPass(bool(retain_graph), capture).run(outputs, grads)
    result = []
    for position, (t, key) in enumerate(zip(inputs, keys)):
        g = capture[key]
        if g is None:
            if materialize_grads:
                g = np.zeros_like(t.data)
            elif not allow_unused:
                raise RuntimeError(
                    f"autograd.grad(): input {position} (shape {tuple(t.shape)}) was not used in "
                    "the graph of the outputs. Set allow_unused=True if this is expected."
                )
        result.append(None if g is None else Tensor(np.array(g, dtype=t.data.dtype)))
    return tuple(result)


# --------------------------------------------------------------------------------------------------
# Custom operations, as in PyTorch: subclass Function, write forward and backward, call apply.


class FunctionCtx:
    """What `Function.forward` and `Function.backward` share: tensors saved for backward (checked
    against in-place changes when read back), and which inputs need a gradient."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple = ()
        self._tick = 0

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        self._saved = tensors
        self._tick = next(_clock)

    @property
    def saved_tensors(self) -> tuple:
        for position, t in enumerate(self._saved):
            if t is not None and t._version > self._tick:
                raise _modified_error("a custom Function", f"saved tensor {position}", t)
        return self._saved

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs no gradient reached."""
        self.materialize_grads = bool(value)


class Function:
    """A differentiable operation written by the user::

        class StraightThrough(glassnet.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.round()

            @staticmethod
            def backward(ctx, grad):
                return grad  # pretend rounding was the identity

        y = StraightThrough.apply(x)

    `forward(ctx, *args)` runs without recording a graph and returns a Tensor or a tuple of them;
    `backward(ctx, *grads)` gets one gradient per output and returns one per input of forward
    (None for inputs that are not tensors or need none).
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a Function subclass must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must implement backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        single = isinstance(result, Tensor)
        results = (result,) if single else tuple(result)
        outputs = [r for r in results if isinstance(r, Tensor)]
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        name = cls.__name__

        def backward(*grads: Any) -> tuple:
            if ctx.materialize_grads:
                grads = tuple(
                    np.zeros_like(o.data) if g is None else g for g, o in zip(grads, outputs)
                )
            given = cls.backward(ctx, *(None if g is None else Tensor(g) for g in grads))
            given = given if isinstance(given, tuple) else (given,)
            if len(given) != len(args):
                raise RuntimeError(
                    f"function {name}Backward returned an incorrect number of gradients "
                    f"(expected {len(args)}, got {len(given)})"
                )
            return tuple(_function_grad(name, i, given[i], args[i]) for i in positions)

        made = iter(
            record(
                [o.data for o in outputs],
                tuple(args[i] for i in positions),
                backward,
                name,
                saved=(),
            )
        )
        wrapped = tuple(next(made) if isinstance(r, Tensor) else r for r in results)
        return wrapped[0] if single else wrapped


def _function_grad(name: str, position: int, g: Any, arg: Tensor) -> np.ndarray | None:
    if g is None:
        return None
    g = g.data if isinstance(g, Tensor) else np.asarray(g)
    if g.shape != arg.data.shape:
        raise RuntimeError(
            f"function {name}Backward returned an invalid gradient at index {position} - got "
            f"shape {g.shape} but expected shape {arg.data.shape}"
        )
    return g.astype(arg.data.dtype, copy=False)
