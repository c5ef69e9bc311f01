"""The dispatch point: the one place every op passes through.

An op (ops/) is an ordinary function over Tensors: it computes its output arrays and records its
backward with `Tensor._make`. Decorating it with ``@op("name")`` routes every call through
`dispatch` below, which knows which op ran, with which arguments, and what came out. What later
capabilities need from the engine hangs off this one place, never off `if` branches inside ops:

- **Kernels: which code computes an op.** ``register_kernel("convolution", "meta", fn)`` gives an
  op another implementation for inputs of one kind: "meta" (the shape rules of glassnet.meta,
  used by convolution and pooling, whose NumPy code fills buffers of its own), and in the same
  way "cuda" for a GPU backend or a fast CPU kernel. An op without a kernel for its inputs' kind
  runs its own code: NumPy's functions, which meta arrays answer by shape rules.
- **Observers: who watches ops run.** ``with observe(callback):`` calls ``callback(call)`` with an
  `OpCall` (name, arguments, result) after every op this thread runs, at the outermost level only
  (an op built from other ops is one call), with or without grad mode: tracing a forward pass for
  ONNX export, or timing each op for a profiler.
- **Devices.** `Tensor._make`, through which every op's output passes, refuses to mix devices
  (a meta input with a CPU one), naming both.

When no kernel is registered for an op and no observer is active, a call costs one extra Python
function call (about 0.1 us) on top of the op itself.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .meta import MetaArray

OPS: dict[str, Callable] = {}  # every op by name, as written (its default implementation)
_KERNELS: dict[str, dict[str, Callable]] = {}  # op name -> kind of inputs -> implementation


@dataclass
class OpCall:
    """One op as it ran: its name, its arguments and its result (Tensors as they were)."""

    name: str
    args: tuple
    kwargs: dict
    result: Any


class _ThreadState(threading.local):
    observers: tuple = ()  # class attributes: what every new thread starts with
    depth = 0


_state = _ThreadState()


def kind_of(args: tuple, kwargs: dict) -> str:
    """The kind of device an op's tensor arguments live on: "meta" if any is a meta tensor, else
    "cpu". (The GPU backend adds "cuda" here.)"""
    for value in (*args, *kwargs.values()):
        if type(getattr(value, "data", None)) is MetaArray:
            return "meta"
    return "cpu"


def op(name: str) -> Callable[[Callable], Callable]:
    """Route every call of the decorated function through the dispatch point as op `name`."""

    def decorate(fn: Callable) -> Callable:
        if name in OPS:
            raise ValueError(f"op {name!r} is defined twice ({OPS[name].__qualname__})")
        OPS[name] = fn
        kernels = _KERNELS.setdefault(name, {})

        @functools.wraps(fn)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            impl = kernels.get(kind_of(args, kwargs), fn) if kernels else fn
            if not _state.observers:
                return impl(*args, **kwargs)
            return _observed(name, impl, args, kwargs)

        dispatch.op_name = name  # type: ignore[attr-defined]
        return dispatch

    return decorate


def register_kernel(name: str, kind: str) -> Callable[[Callable], Callable]:
    """Decorator: `fn` computes op `name` when its inputs are of `kind` ("meta", "cuda", ...).
    It takes the op's own arguments and returns what the op returns."""

    def decorate(fn: Callable) -> Callable:
        kernels = _KERNELS.setdefault(name, {})
        if kind in kernels:
            raise ValueError(f"op {name!r} already has a {kind!r} kernel")
        kernels[kind] = fn
        return fn

    return decorate


def kernels_of(name: str) -> dict[str, Callable]:
    """The kinds of input op `name` has a kernel of its own for."""
    return dict(_KERNELS.get(name, {}))


def _observed(name: str, impl: Callable, args: tuple, kwargs: dict) -> Any:
    state = _state
    state.depth += 1
    try:
        result = impl(*args, **kwargs)
    finally:
        state.depth -= 1
    if state.depth == 0:
        call = OpCall(name, args, kwargs, result)
        for callback in state.observers:
            callback(call)
    return result


@contextlib.contextmanager
def observe(callback: Callable[[OpCall], None]) -> Iterator[None]:
    """Call ``callback(call)`` after each outermost op this thread runs inside the block."""
    state = _state
    previous, depth = state.observers, state.depth
    state.observers = (*previous, callback)
    state.depth = 0
    try:
        yield
    finally:
        state.observers, state.depth = previous, depth


@contextlib.contextmanager
def recording() -> Iterator[list[OpCall]]:
    """``with recording() as calls:`` lists the outermost ops run in the block, in order."""
    calls: list[OpCall] = []
    with observe(calls.append):
        yield calls
