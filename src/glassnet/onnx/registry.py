"""Which ONNX nodes stand for which glassnet op: a table from op name to converter.

A converter reads one traced op (a `Step`: its arguments and results in both traces) and adds the
nodes that compute the same thing to the `Graph`; it returns the name of the value holding each
result (a list for an op with several results, None where a result is None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .graph import Graph, Step

Converter = Callable[[Graph, Step], Any]
CONVERTERS: dict[str, Converter] = {}


def converts(*names: str) -> Callable[[Converter], Converter]:
    """Register the decorated function as the converter of the ops `names`."""

    def register(fn: Converter) -> Converter:
        for name in names:
            if name in CONVERTERS:
                raise ValueError(f"the ONNX converter of op {name!r} is defined twice")
            CONVERTERS[name] = fn
        return fn

    return register
