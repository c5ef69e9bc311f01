"""Shape operations: the same numbers, arranged differently (reshaped, transposed, sliced, joined).

None of them changes a value, so their backward passes only move gradients back to where each number
came from: reshape the gradient back, transpose it back, or scatter it into the slots it was read
from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import record
from ..dispatch import op
from ..tensor import Tensor
from .elementwise import as_tensor, raw, result_dtype
from .reduction import normalize_dims


def _sizes(args: tuple) -> tuple:
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _axis(dim: int, ndim: int) -> int:
    (axis,) = normalize_dims(dim, ndim)
    return axis


@op("reshape")
def reshape(a: Tensor, *shape: Any) -> Tensor:
    x = a.data
    shape = _sizes(shape)
    try:
        out = x.reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"shape '{list(shape)}' is invalid for input of size {x.size} (shape {x.shape})"
        ) from None
    return Tensor._make(out, (a,), lambda g: (g.reshape(x.shape),), "Reshape", saved=())


view = reshape


@op("flatten")
def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    shape = a.data.shape
    if not shape:
        return reshape(a, (1,))
    start, end = _axis(start_dim, len(shape)), _axis(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    merged = int(np.prod(shape[start : end + 1]))
    return reshape(a, shape[:start] + (merged,) + shape[end + 1 :])


@op("unflatten")
def unflatten(a: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    shape = a.data.shape
    axis = _axis(dim, len(shape))
    return reshape(a, shape[:axis] + tuple(sizes) + shape[axis + 1 :])


@op("squeeze")
def squeeze(a: Tensor, dim: Any = None) -> Tensor:
    x = a.data
    if dim is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = tuple(ax for ax in normalize_dims(dim, x.ndim) if x.ndim and x.shape[ax] == 1)
    return Tensor._make(
        np.squeeze(x, axes), (a,), lambda g: (g.reshape(x.shape),), "Squeeze", saved=()
    )


@op("unsqueeze")
def unsqueeze(a: Tensor, dim: int) -> Tensor:
    x = a.data
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-x.ndim - 1}, {x.ndim}], "
            f"but got {dim})"
        )
    axis = dim % (x.ndim + 1)
    return Tensor._make(
        np.expand_dims(x, axis), (a,), lambda g: (g.reshape(x.shape),), "Unsqueeze", saved=()
    )


@op("permute")
def permute(a: Tensor, *dims: Any) -> Tensor:
    x = a.data
    dims = _sizes(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: dims {list(dims)} must be a permutation of the {x.ndim} dimensions"
        )
    dims = tuple(_axis(d, x.ndim) for d in dims) if x.ndim else ()
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute: dims {list(dims)} repeat a dimension")
    inverse = tuple(np.argsort(dims))
    return Tensor._make(
        x.transpose(dims), (a,), lambda g: (g.transpose(inverse),), "Permute", saved=()
    )


@op("transpose")
def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    x = a.data
    d0, d1 = _axis(dim0, x.ndim), _axis(dim1, x.ndim)
    return Tensor._make(
        np.swapaxes(x, d0, d1), (a,), lambda g: (np.swapaxes(g, d0, d1),), "Transpose", saved=()
    )


@op("expand")
def expand(a: Tensor, *sizes: Any) -> Tensor:
    """Repeat size-1 dims without copying (-1 keeps a dim); the gradient sums the copies."""
    from ..autograd import unbroadcast

    x = a.data
    sizes = _sizes(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({x.ndim})"
        )
    if any(s == -1 for s in sizes[:lead]):
        raise RuntimeError(
            f"expand: the expanded size of the tensor (-1) isn't allowed in a leading, "
            f"non-existing dimension (sizes {list(sizes)} for shape {x.shape})"
        )
    target = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        out = np.broadcast_to(x, target)
    except ValueError:
        raise RuntimeError(f"expand: cannot expand shape {x.shape} to {target}") from None
    return Tensor._make(out, (a,), lambda g: (unbroadcast(g, x.shape),), "Expand", saved=())


@op("repeat")
def repeat(a: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes` times along each dim (PyTorch's repeat, NumPy's tile)."""
    x = a.data
    reps = _sizes(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    xs = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
    out = np.tile(xs, reps)

    def backward(g: np.ndarray) -> tuple:
        # split every axis into (repeat, size) and sum over the repeats
        split = []
        for r, n in zip(reps, xs.shape):
            split += [r, n]
        summed = g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return (summed.reshape(x.shape),)

    return Tensor._make(out, (a,), backward, "Repeat", saved=())


@op("flip")
def flip(a: Tensor, dims: Any) -> Tensor:
    x = a.data
    axes = normalize_dims(dims, x.ndim)
    return Tensor._make(np.flip(x, axes), (a,), lambda g: (np.flip(g, axes),), "Flip", saved=())


# -- joining and splitting ----------------------------------------------------------------------


def _common(tensors: Sequence[Any], name: str) -> list[Tensor]:
    if len(tensors) == 0:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    tensors = [as_tensor(t) for t in tensors]
    dtype = tensors[0].data.dtype
    for t in tensors[1:]:
        dtype = result_dtype(Tensor(np.empty((1,), dtype)), t)
    from .elementwise import astype

    return [astype(t, dtype) for t in tensors]


@op("cat")
def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    tensors = _common(tensors, "cat")
    # as in PyTorch, legacy empty 1-D tensors (shape (0,)) are skipped whatever the other shapes;
    # they stay inputs of the graph and get an empty gradient
    skip = [t.data.shape == (0,) for t in tensors]
    if all(skip):
        skip = [False] * len(tensors)
    joined = [t for t, s in zip(tensors, skip) if not s]
    axis = _axis(dim, joined[0].data.ndim)
    arrays = [t.data for t in joined]
    for t in arrays[1:]:
        if t.ndim != arrays[0].ndim or any(
            n != m for i, (n, m) in enumerate(zip(t.shape, arrays[0].shape)) if i != axis
        ):
            raise RuntimeError(
                f"cat(): sizes of tensors must match except in dimension {axis}: got "
                f"{[a.shape for a in arrays]}"
            )
    bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]

    def backward(g: np.ndarray) -> tuple:
        pieces = iter(np.split(g, bounds, axis=axis))
        return tuple(np.zeros((0,), g.dtype) if s else next(pieces) for s in skip)

    return Tensor._make(
        np.concatenate(arrays, axis=axis), tuple(tensors), backward, "Cat", saved=()
    )


@op("stack")
def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    tensors = _common(tensors, "stack")
    shapes = {t.data.shape for t in tensors}
    if len(shapes) != 1:
        raise RuntimeError(
            f"stack expects each tensor to be equal size, but got {[t.shape for t in tensors]}"
        )
    axis = _axis(dim, tensors[0].data.ndim + 1)
    out = np.stack([t.data for t in tensors], axis=axis)

    def backward(g: np.ndarray) -> tuple:
        return tuple(np.moveaxis(g, axis, 0))

    return Tensor._make(out, tuple(tensors), backward, "Stack", saved=())


@op("split")
def split(a: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Cut along `dim` into pieces of one size (the last may be smaller) or of given sizes."""
    axis = _axis(dim, a.data.ndim)
    length = a.data.shape[axis]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split expects split_size be positive, but got {size}")
        sizes = [min(size, length - s) for s in range(0, length, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's "
                f"size at dimension {axis}), but got split_sizes={sizes}"
            )
    return _pieces(a, axis, sizes, "Split")


def _pieces(a: Tensor, axis: int, sizes: list, name: str) -> tuple:
    """Views of consecutive slices of `a` along `axis`, as the outputs of ONE node, whose
    backward lays each piece's gradient back in its place (zeros where none came)."""
    x = a.data
    bounds = np.cumsum([0, *sizes]).tolist()
    places = [(slice(None),) * axis + (slice(lo, hi),) for lo, hi in zip(bounds, bounds[1:])]

    def backward(*grads: np.ndarray | None) -> tuple:
        if all(g is not None for g in grads) and grads:
            return (np.concatenate(grads, axis=axis),)
        full = np.zeros(x.shape, x.dtype)
        for place, g in zip(places, grads):
            if g is not None:
                full[place] = g
        return (full,)

    return record([x[place] for place in places], (a,), backward, name, saved=())


@op("chunk")
def chunk(a: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = _axis(dim, a.data.ndim)
    length = a.data.shape[axis]
    if length == 0:  # PyTorch gives `chunks` empty pieces
        return _pieces(a, axis, [0] * chunks, "Chunk")
    return split(a, -(-length // chunks), dim)


@op("unbind")
def unbind(a: Tensor, dim: int = 0) -> tuple:
    """The slices along `dim`, that dim removed: the outputs of one node."""
    x = a.data
    axis = _axis(dim, x.ndim)

    def backward(*grads: np.ndarray | None) -> tuple:
        zero = np.zeros(x.shape[:axis] + x.shape[axis + 1 :], x.dtype)
        return (np.stack([zero if g is None else g for g in grads], axis=axis),)

    slices = [x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis])]
    return record(slices, (a,), backward, "Unbind", saved=())


# -- indexing -----------------------------------------------------------------------------------


def _convert_index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays; a bare index becomes a 1-tuple."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        item = raw(item)
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype.kind not in "biu":
            raise IndexError(
                f"tensors used as indices must be long, int or bool tensors, got {item.dtype}"
            )
        out.append(item)
    return tuple(out)


def _is_basic(index: tuple) -> bool:
    return all(
        item is None or item is Ellipsis or isinstance(item, slice | int | np.integer)
        for item in index
    )


@op("getitem")
def getitem(a: Tensor, index: Any) -> Tensor:
    """x[index] with ints, slices, None, Ellipsis, integer tensors and boolean masks.

    The gradient is scattered back to the positions read; with integer indices a position read
    several times receives the sum of their gradients.
    """
    x = a.data
    index = _convert_index(index)
    out = x[index]
    basic = _is_basic(index)

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(x.shape, dtype=g.dtype)
        if basic or all(not isinstance(i, np.ndarray) or i.dtype == bool for i in index):
            grad[index] = g
        else:
            np.add.at(grad, index, g)
        return (grad,)

    return Tensor._make(
        out, (a,), backward, "Index", saved=()
    )  # _make turns a NumPy scalar into an array


@op("setitem")
def setitem(a: Tensor, index: Any, value: Any) -> None:
    """x[index] = value. When gradients are recorded, `a` becomes the result of a new graph node
    whose inputs are the old `a` and `value`, so gradients flow to both (as in PyTorch)."""
    from .. import autograd

    index = _convert_index(index)
    value_t = value if isinstance(value, Tensor) else None
    value_arr = raw(value)
    recording = autograd.is_grad_enabled() and (
        a.requires_grad or (value_t is not None and value_t.requires_grad)
    )
    if not recording:
        a.data[index] = value_arr
        autograd.bump_version(a)
        return
    if a.requires_grad and a._node is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation; "
            "wrap it in `with glassnet.no_grad():` or operate on a clone()"
        )
    old = a._stand_in()
    new = a.data.copy()
    new[index] = value_arr
    shape_of_value = np.shape(value_arr)

    def backward(g: np.ndarray) -> tuple:
        from ..autograd import unbroadcast

        g_old = g.copy()
        g_old[index] = 0
        g_value = None
        if value_t is not None and value_t.requires_grad:
            g_value = unbroadcast(np.asarray(g[index]), shape_of_value)
        return g_old, g_value

    parents = (old, value_t) if value_t is not None else (old,)
    a._take_place_of(Tensor._make(new, parents, backward, "CopySlices", saved=()))


@op("gather")
def gather(a: Tensor, dim: int, index: Any) -> Tensor:
    """Pick values along `dim` at positions `index`: out[i][j][k] = a[i][index[i][j][k]][k] for
    dim=1. `index` has as many dims as `a`, and is no larger than `a` in the other dims."""
    x = a.data
    axis = _axis(dim, x.ndim)
    idx = np.asarray(raw(index))
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {idx.dtype}")
    if idx.ndim != x.ndim:
        raise RuntimeError(
            f"gather(): Index tensor must have the same number of dimensions as input tensor "
            f"(index shape {idx.shape}, input shape {x.shape})"
        )
    for d, (n, m) in enumerate(zip(idx.shape, x.shape)):
        if d != axis and n > m:
            raise RuntimeError(
                f"gather(): Size does not match at dimension {d}: expected index {idx.shape} to "
                f"be no larger than self {x.shape} apart from dimension {axis}"
            )
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[axis]):
        raise RuntimeError(
            f"gather(): index out of bounds for dimension {axis} with size {x.shape[axis]}"
        )
    full = list(np.indices(idx.shape, sparse=True))
    full[axis] = idx
    full = tuple(full)
    out = x[full]

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(x.shape, dtype=g.dtype)
        np.add.at(grad, full, g)
        return (grad,)

    return Tensor._make(out, (a,), backward, "Gather", saved=())


@op("pad")
def pad(a: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with a constant: `pad` lists (left, right) pairs starting from the LAST dim, as in
    torch.nn.functional.pad. Negative padding crops."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    x = a.data
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(
            f"pad: padding length must be even and at most 2*ndim ({2 * x.ndim}), got {len(pad)}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    out = np.pad(x, grow, constant_values=value)
    crop = tuple(
        slice(max(-lo, 0), out.shape[i] - max(-hi, 0)) for i, (lo, hi) in enumerate(widths)
    )
    out = out[crop]
    inner = tuple(
        slice(max(lo, 0), max(lo, 0) + n - max(-lo, 0) - max(-hi, 0))
        for (lo, hi), n in zip(widths, x.shape)
    )
    src = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(x.shape, dtype=g.dtype)
        grad[src] = g[inner]
        return (grad,)

    return Tensor._make(np.ascontiguousarray(out), (a,), backward, "ConstantPad", saved=())
