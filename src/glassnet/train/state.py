"""Training state as plain data: nested dicts of numbers and arrays, split into JSON and arrays.

A checkpoint holds the model's weights, the optimizer's moment estimates, the scheduler's step,
the random generators' states, the position in the data, the history... a tree of dicts, lists,
numbers and arrays. `pack` turns such a tree into a JSON document in which every array is replaced
by a reference, plus a flat dict of those arrays (which safetensors stores). `unpack` puts the tree
back together, exactly: floats survive JSON bit for bit (Python writes the shortest repr that
reads back the same), and dict keys that are not strings, tuples and NumPy scalars are marked so
that they come back as what they were. Nothing is ever unpickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

_ARRAY = "__array__"
_TUPLE = "__tuple__"
_ITEMS = "__items__"  # a dict whose keys are not all strings, as [key, value] pairs
_SCALAR = "__scalar__"  # a NumPy scalar: [dtype, value]


def pack(tree: Any, prefix: str = "") -> tuple[Any, dict[str, np.ndarray]]:
    """(a JSON-ready copy of `tree` with arrays replaced by references, the arrays by name).

    Raises TypeError naming the path of anything that is neither a number, a string, None, an
    array, a Tensor, a list, a tuple nor a dict (a function, say): such state cannot be saved
    without pickling it."""
    arrays: dict[str, np.ndarray] = {}

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, Tensor):
            node = node.data
        if isinstance(node, np.ndarray):
            name = f"{prefix}{len(arrays)}"
            arrays[name] = np.asarray(node, order="C")  # no copy when C-ordered; 0-d stays 0-d
            return {_ARRAY: name}
        if isinstance(node, np.generic):
            return {_SCALAR: [node.dtype.str, node.item()]}
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if isinstance(node, tuple):
            return {_TUPLE: [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]}
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in node):
                return {k: walk(v, f"{path}.{k}") for k, v in node.items()}
            return {_ITEMS: [[walk(k, path), walk(v, f"{path}[{k!r}]")] for k, v in node.items()]}
        raise TypeError(
            f"cannot save training state at {path or 'the top'}: {type(node).__name__} is not "
            "a number, string, array, list or dict (functions and objects would need pickle)"
        )

    return walk(tree, ""), arrays


def unpack(document: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The tree `pack` split into `document` and `arrays`; a KeyError names a missing array."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if _ARRAY in node:
            name = node[_ARRAY]
            if name not in arrays:
                raise KeyError(f"the saved state refers to array {name!r}, which is missing")
            return arrays[name]
        if _SCALAR in node:
            dtype, value = node[_SCALAR]
            return np.dtype(dtype).type(value)
        if _TUPLE in node:
            return tuple(walk(v) for v in node[_TUPLE])
        if _ITEMS in node:
            return {_hashable(walk(k)): walk(v) for k, v in node[_ITEMS]}
        return {k: walk(v) for k, v in node.items()}

    return walk(document)


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list | tuple) else key
