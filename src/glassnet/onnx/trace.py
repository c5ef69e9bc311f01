"""Tracing: run a model once and write down every op it performs, with its arguments.

The dispatch point (glassnet.dispatch) tells an observer about every outermost op a thread runs;
a trace is that list for one forward pass, each op tagged with the layer (module path) that was
running when it ran. Tracing is switched on per thread, like grad mode: other threads keep
running ops untraced. What Python decides between the ops (an ``if`` on a value, a loop whose
length depends on the data) leaves no trace: the record shows only the path this example took.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..autograd import no_grad
from ..dispatch import OpCall, observe
from ..nn.module import Module


@dataclass
class TracedOp:
    """One op of a trace: the call as the dispatch point saw it and the layer it ran in."""

    call: OpCall
    layer: str  # the module path ("blocks.0.attn"), "" for the model itself
    layer_type: str  # the class of that module


@dataclass
class Trace:
    """The ops of one forward pass, in order, and what the model returned."""

    ops: list[TracedOp] = field(default_factory=list)
    output: Any = None


class _TracingState(threading.local):
    active = False


_state = _TracingState()


def is_tracing() -> bool:
    """Whether this thread is tracing a forward pass for export (``glassnet.onnx.export``)."""
    return _state.active


@contextlib.contextmanager
def _tracing() -> Iterator[None]:
    previous = _state.active
    _state.active = True
    try:
        yield
    finally:
        _state.active = previous


def trace(model: Module, inputs: tuple) -> Trace:
    """Run ``model(*inputs)`` under ``no_grad`` in this thread, recording every outermost op and
    the layer it ran in. The model's mode (train/eval) is left as it is."""
    record = Trace()
    layers: list[tuple[str, str]] = [("", type(model).__name__)]
    thread = threading.get_ident()

    def enter(path: str) -> Any:
        def hook(module: Module, args: tuple) -> None:
            if threading.get_ident() == thread:
                layers.append((path, type(module).__name__))

        return hook

    def leave(module: Module, args: tuple, output: Any) -> None:
        if threading.get_ident() == thread and len(layers) > 1:
            layers.pop()

    def seen(call: OpCall) -> None:
        path, kind = layers[-1]
        record.ops.append(TracedOp(call, path, kind))

    handles = []
    for path, module in model.named_modules():
        if path:
            handles.append(module.register_forward_pre_hook(enter(path)))
            handles.append(module.register_forward_hook(leave))
    try:
        with _tracing(), no_grad(), observe(seen):
            record.output = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return record
