"""ONNX nodes for glassnet's shape ops: reshape, transpose, cat, split, indexing and friends.

The target of a reshape or an expand is read from the op's result in both traces, so a size that
follows the input (the batch, the sequence length) is computed from the input's shape in the
graph rather than written down as the example's number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .graph import Graph, Step
from .registry import converts

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def _axis(dim: int, ndim: int) -> int:
    return dim + ndim if dim < 0 else dim


def _input(g: Graph, s: Step, key: str = "a") -> tuple[str, list]:
    """The value of argument `key` and the candidates for matching dynamic sizes (itself)."""
    x = s.a[key]
    name = g.value(x)
    return name, [(name, tuple(x.shape), tuple(s.b[key].shape))]


def reshape_to(g: Graph, name: str, candidates: list, shape_a: tuple, shape_b: tuple) -> str:
    """Reshape `name` to the shape that is `shape_a` in trace a and `shape_b` in trace b."""
    target = g.shape(shape_a, shape_b, candidates, infer_one=True)
    return g.node("Reshape", [name, target])


@converts("reshape", "flatten", "unflatten")
def reshape(g: Graph, s: Step) -> str:
    name, candidates = _input(g, s)
    return reshape_to(g, name, candidates, tuple(s.result_a.shape), tuple(s.result_b.shape))


@converts("squeeze", "unsqueeze")
def squeeze(g: Graph, s: Step) -> str:
    """Squeeze/Unsqueeze on the axes where the rank changed (read from the shapes)."""
    x = s.a["a"]
    if s.name == "unsqueeze":
        axis = _axis(s.a["dim"], x.ndim + 1)
        return g.node("Unsqueeze", [g.value(x), g.ints([axis])])
    dim = s.a["dim"]
    if dim is None:
        axes = [k for k, (a, b) in enumerate(zip(x.shape, s.b["a"].shape)) if a == b == 1]
    else:
        dims = dim if isinstance(dim, tuple | list) else (dim,)
        axes = [_axis(d, x.ndim) for d in dims if x.shape[d] == 1]
    return g.node("Squeeze", [g.value(x), g.ints(axes)]) if axes else g.value(x)


@converts("permute", "transpose")
def permute(g: Graph, s: Step) -> str:
    x = s.a["a"]
    if s.name == "transpose":
        perm = list(range(x.ndim))
        d0, d1 = _axis(s.a["dim0"], x.ndim), _axis(s.a["dim1"], x.ndim)
        perm[d0], perm[d1] = perm[d1], perm[d0]
    else:
        dims = s.a["dims"]
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], tuple | list) else dims
        perm = [_axis(int(d), x.ndim) for d in dims]
    return g.node("Transpose", [g.value(x)], perm=perm)


@converts("expand")
def expand(g: Graph, s: Step) -> str:
    name, candidates = _input(g, s)
    target = g.shape(tuple(s.result_a.shape), tuple(s.result_b.shape), candidates)
    return g.node("Expand", [name, target])


@converts("repeat")
def repeat(g: Graph, s: Step) -> str:
    x, out = s.a["a"], s.result_a
    name = g.value(x)
    if out.ndim > x.ndim:
        name = g.node("Unsqueeze", [name, g.ints(list(range(out.ndim - x.ndim)))])
    reps = [o // max(i, 1) for o, i in zip(out.shape, (1,) * (out.ndim - x.ndim) + x.shape)]
    return g.node("Tile", [name, g.ints(reps)])


@converts("flip")
def flip(g: Graph, s: Step) -> str:
    x = s.a["a"]
    dims = s.a["dims"]
    axes = [_axis(d, x.ndim) for d in (dims if isinstance(dims, tuple | list) else (dims,))]
    n = len(axes)
    starts, ends = g.ints([-1] * n), g.ints([INT64_MIN] * n)
    return g.node("Slice", [g.value(x), starts, ends, g.ints(axes), g.ints([-1] * n)])


@converts("cat", "stack")
def cat(g: Graph, s: Step) -> str:
    tensors = [t for t in s.a["tensors"] if not (t.ndim == 1 and t.shape[0] == 0)]
    dtype = s.result_a.dtype
    names = [g.value(t) if t.dtype == dtype else g.cast(g.value(t), dtype) for t in tensors]
    ndim = s.result_a.ndim
    axis = _axis(s.a["dim"], ndim)
    if s.name == "stack":
        names = [g.node("Unsqueeze", [n, g.ints([axis])]) for n in names]
    return g.node("Concat", names, axis=axis)


@converts("split", "chunk", "unbind")
def split(g: Graph, s: Step) -> list[str]:
    x = s.a["a"]
    axis = _axis(s.a["dim"], x.ndim)
    pieces_a, pieces_b = s.result_a, s.result_b
    if s.name == "unbind":
        sizes = [1] * len(pieces_a)
    else:
        sizes = [p.shape[axis] for p in pieces_a]
    if len(pieces_a) != len(pieces_b) or any(
        (1 if s.name == "unbind" else pb.shape[axis]) != n for pb, n in zip(pieces_b, sizes)
    ):
        raise s.fail("the pieces' sizes follow a dynamic axis; only fixed-size pieces export")
    outs = g.node("Split", [g.value(x), g.ints(sizes)], outputs=len(sizes), axis=axis)
    outs = outs if isinstance(outs, list) else [outs]
    if s.name == "unbind":
        outs = [g.node("Squeeze", [o, g.ints([axis])]) for o in outs]
    return outs


@converts("gather")
def gather(g: Graph, s: Step) -> str:
    x = s.a["a"]
    return g.node(
        "GatherElements", [g.value(x), g.value(s.a["index"])], axis=_axis(s.a["dim"], x.ndim)
    )


@converts("pad")
def pad(g: Graph, s: Step) -> str:
    """F.pad's (last dim first) pairs as ONNX's begins-then-ends list over all axes."""
    x, widths = s.a["a"], list(s.a["pad"])
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for k in range(len(widths) // 2):
        axis = x.ndim - 1 - k
        begins[axis], ends[axis] = int(widths[2 * k]), int(widths[2 * k + 1])
    value = g.scalar(float(s.a["value"]), x.dtype)
    return g.node("Pad", [g.value(x), g.ints(begins + ends), value], mode="constant")


# -- indexing --------------------------------------------------------------------------------------


def _index_items(index: Any, ndim: int) -> list:
    """The index as a list of per-axis items, Ellipsis expanded into full slices."""
    items = list(index) if isinstance(index, tuple) else [index]
    if any(item is Ellipsis for item in items):
        at = next(k for k, item in enumerate(items) if item is Ellipsis)
        used = sum(1 for item in items if item is not None and item is not Ellipsis)
        items[at : at + 1] = [slice(None)] * (ndim - used)
    return items


def _bound(g: Graph, a: Any, b: Any, default: int, candidates: list, s: Step) -> str:
    if a is None:
        return g.ints([default])
    piece = g.dim(int(a), int(b), candidates)
    if piece is None:
        raise s.fail(
            f"a slice bound that is {a} for the example and {b} for another input matches no "
            "dimension of the inputs"
        )
    return piece


@converts("getitem")
def getitem(g: Graph, s: Step) -> str:
    """Basic indexing (ints, slices, None, ...) and one integer array or tensor along an axis:
    Slice, Gather and Unsqueeze nodes, applied one index item at a time."""
    x = s.a["a"]
    out, candidates = _input(g, s)
    items_a = _index_items(s.a["index"], x.ndim)
    items_b = _index_items(s.b["index"], x.ndim)
    if len(items_a) != len(items_b):
        raise s.fail("the index differs between two inputs (it depends on the input's values)")
    if sum(isinstance(i, Tensor | np.ndarray | list) for i in items_a) > 1:
        raise s.fail("indexing with more than one index array does not export")
    axis = 0
    for item, other in zip(items_a, items_b):
        if item is None:
            out = g.node("Unsqueeze", [out, g.ints([axis])])
            axis += 1
        elif isinstance(item, slice):
            if item != slice(None) and item != slice(None, None, 1):
                step = 1 if item.step is None else int(item.step)
                high, low = (INT64_MAX, INT64_MIN) if step > 0 else (INT64_MIN, INT64_MAX)
                start = _bound(g, item.start, other.start, 0 if step > 0 else low, candidates, s)
                stop = _bound(g, item.stop, other.stop, high, candidates, s)
                out = g.node("Slice", [out, start, stop, g.ints([axis]), g.ints([step])])
            axis += 1
        elif isinstance(item, int | np.integer):
            if int(item) != int(other):
                raise s.fail("an integer index differs between two inputs")
            out = g.node("Gather", [out, g.const(np.array(int(item), np.int64))], axis=axis)
        elif isinstance(item, Tensor | np.ndarray | list):
            array = item.data if isinstance(item, Tensor) else np.asarray(item)
            if array.dtype == np.bool_ or array.ndim != 1:
                raise s.fail("only 1-D integer index arrays export (no boolean masks)")
            index = g.value(item) if isinstance(item, Tensor) else g.const(array.astype(np.int64))
            out = g.node("Gather", [out, index], axis=axis)
            axis += 1
        else:
            raise s.fail(f"an index of type {type(item).__name__} does not export")
    return out if out != candidates[0][0] else g.node("Identity", [out])
