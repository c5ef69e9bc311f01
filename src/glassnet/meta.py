"""The meta device: tensors that have a shape and a dtype but no numbers.

Counting what a network would need does not need the network. ``nn.Linear(150528, 10**6,
device="meta")`` knows its weight is 1,000,000 x 150,528 float32 numbers without finding the
600 GB to hold them; ``with glassnet.device("meta"): model = resnet50()`` builds a whole model
that way, and `summary()` runs it to print every layer's output shape. As in PyTorch,
`.device` reports ``"meta"``, `.shape`, `.numel()` and `.dtype` work, and anything that would
read the numbers (``.item()``, ``.numpy()``, ``np.asarray``) raises a `MetaTensorError`.

How it works: a meta tensor's ``.data`` is a `MetaArray`, a stand-in for a NumPy array that
holds a shape and a dtype and no memory. NumPy lets other array types answer its functions
(``__array_ufunc__``, NEP 13, and ``__array_function__``, NEP 18): a MetaArray answers every
elementwise function, reduction and matrix product with a new MetaArray of the result's shape
and dtype, worked out by the rules NumPy itself follows (broadcasting, the matmul signature,
the reduced axes) without computing anything; reshapes, transposes and indexing go the same way.
So glassnet's ops, written for NumPy arrays, return meta tensors when given meta tensors, and
the normal path does not change at all: NumPy only consults an object that is not an ndarray.
The few ops that fill buffers of their own (convolution, pooling, resizing) have a "meta" kernel
at the dispatch point (glassnet.dispatch): it runs the op's own checks and returns `meta_result`
of the output shape they work out.

`device` is a string ("cpu" or "meta") that, like ``torch.device``, is also a context manager
that sets the default device for layers and factory functions created inside it.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple
from numpy.lib.mixins import NDArrayOperatorsMixin

DEVICES = ("cpu", "meta")


class MetaTensorError(RuntimeError):
    """Raised when the values of a meta tensor (which has none) are read."""


def _no_values(shape: tuple, dtype: np.dtype, what: str) -> MetaTensorError:
    return MetaTensorError(
        f"{what}: this tensor is on the 'meta' device (shape {shape}, dtype {dtype}): it has a "
        "shape but no values. Build it on device='cpu', or call module.to_empty(device='cpu') "
        "and initialise the parameters, to get numbers."
    )


# --------------------------------------------------------------------------------------------------
# Devices


def _device_name(value: Any, where: str) -> str:
    name = str(value)
    if name == "cpu" or name == "cpu:0":
        return "cpu"
    if name == "meta":
        return "meta"
    raise TypeError(  # the type of error Module.to has always raised for a device
        f"{where}: expected the device 'cpu' or 'meta' (shapes without values; glassnet runs on "
        f"the CPU only), got {value!r}"
    )


class device(str):  # noqa: N801 (PyTorch's name)
    """A device name, ``glassnet.device("meta")`` or ``glassnet.device("cpu")``.

    It is a ``str`` (so ``t.device == "cpu"`` holds) with ``.type``, and, like ``torch.device``,
    a context manager: inside ``with glassnet.device("meta"):`` layers and factory functions
    created without a ``device=`` argument are made on that device.
    """

    def __new__(cls, name: Any) -> device:
        return str.__new__(cls, _device_name(name, "glassnet.device"))

    @property
    def type(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"device(type={str(self)!r})"

    def __enter__(self) -> device:
        _device_stack().append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _device_stack().pop()


CPU = device("cpu")
META = device("meta")
_thread_devices = threading.local()  # each thread's stack of `with device(...)` blocks


def _device_stack() -> list[device]:
    """This thread's default devices, innermost last: per thread, as in PyTorch, so a `with
    glassnet.device("meta")` block in one thread never moves another thread's new tensors."""
    stack = getattr(_thread_devices, "stack", None)
    if stack is None:
        stack = _thread_devices.stack = [CPU]
    return stack


def as_device(value: Any, where: str = "device") -> device:
    """`value` ("cpu", "meta", a `device`, or anything whose str() is one of them) as a
    `device`; None gives the default device."""
    if value is None:
        return _device_stack()[-1]
    return META if _device_name(value, where) == "meta" else CPU


def get_default_device() -> device:
    """The device of layers and tensors made without a ``device=`` argument ("cpu" unless set)."""
    return _device_stack()[-1]


def set_default_device(value: Any) -> None:
    """Make layers and factory functions created in this thread put their tensors on `value`
    ("cpu" or "meta"); other threads keep their own default, as in PyTorch."""
    _device_stack()[-1] = as_device(value, "set_default_device")


# --------------------------------------------------------------------------------------------------
# Making arrays on a device


def empty(shape: Sequence[int], dtype: Any, device: Any = None) -> np.ndarray | MetaArray:
    """An uninitialised array of `shape` on `device` (a `MetaArray` on "meta")."""
    if as_device(device) == "meta":
        return MetaArray(shape, dtype)
    return np.empty(shape, dtype=dtype)


def full(
    shape: Sequence[int], value: Any, dtype: Any, device: Any = None
) -> np.ndarray | MetaArray:
    """An array of `shape` filled with `value` on `device` (a `MetaArray` on "meta")."""
    if as_device(device) == "meta":
        return MetaArray(shape, dtype)
    return np.full(shape, value, dtype=dtype)


def meta_result(shape: Sequence[int], dtype: Any, parents: tuple, name: str) -> Any:
    """A meta Tensor of `shape` as the output of op `name` on `parents`: an op with a meta input
    returns this instead of computing. Its backward gives meta gradients of the parents' shapes."""
    from .tensor import Tensor

    def backward(g: Any) -> tuple:
        return tuple(MetaArray(p.data.shape, p.data.dtype) for p in parents)

    return Tensor._make(MetaArray(shape, dtype), parents, backward, name)


# --------------------------------------------------------------------------------------------------
# The array without values


def _stand_in(shape: tuple) -> np.ndarray:
    """A read-only array of `shape` that takes no memory (every stride 0): reshaping,
    transposing and slicing it give views, whose shapes are those of the real operation."""
    return np.broadcast_to(np.zeros((), dtype=bool), shape)


def _probe(x: Any) -> Any:
    """A one-element array of `x`'s dtype and number of dimensions, standing in for `x` when
    NumPy is asked for a result's dtype; Python numbers stay as they are (they promote weakly)."""
    if isinstance(x, MetaArray | np.ndarray):
        return np.ones((1,) * x.ndim, dtype=x.dtype)
    return x


def _shape(x: Any) -> tuple:
    return x.shape if isinstance(x, MetaArray | np.ndarray) else np.shape(x)


def _matmul_shape(a: tuple, b: tuple) -> tuple:
    """The shape of a @ b by NumPy's rules: 1-D operands get a dimension added (and removed)."""
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {b2[-2]} is "
            f"different from {a2[-1]}); shapes {a} and {b}"
        )
    out = (*np.broadcast_shapes(a2[:-2], b2[:-2]), a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _reduced_shape(shape: tuple, axis: Any, keepdims: bool) -> tuple:
    axes = range(len(shape)) if axis is None else normalize_axis_tuple(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _written(out: Any, result: MetaArray, what: str) -> MetaArray:
    """The `out=` array of an operation with meta inputs: it must be meta too."""
    if out is None:
        return result
    if isinstance(out, tuple):
        if len(out) != 1:
            raise NotImplementedError(f"{what}: meta arrays support one output")
        out = out[0]
    if type(out) is not MetaArray:
        raise MetaTensorError(
            f"{what}: a result computed from a meta tensor cannot be written into an array "
            f"with values (out= of shape {_shape(out)})"
        )
    if out.shape != result.shape:
        raise ValueError(
            f"{what}: out= has shape {out.shape} but the result has shape {result.shape}"
        )
    return out


_REDUCTIONS = ("sum", "mean", "prod", "max", "min", "any", "all", "var", "std")  # as methods


class MetaArray(NDArrayOperatorsMixin):
    """An array with a shape and a dtype but no values (see the module docstring).

    Arithmetic, NumPy's ufuncs, reductions, matrix products, reshapes, transposes and indexing
    give new MetaArrays of the right shape and dtype; reading values raises `MetaTensorError`.
    """

    __slots__ = ("shape", "dtype")
    base = None  # it is no view of another array

    def __init__(self, shape: Sequence[int] | int, dtype: Any) -> None:
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
        if not all(isinstance(n, int | np.integer) and n >= 0 for n in shape):
            raise ValueError(f"MetaArray: sizes must be non-negative integers, got {shape}")
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)

    # -- what it is -------------------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """The bytes the values would take (none are held)."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    # -- values: there are none -------------------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise _no_values(self.shape, self.dtype, "reading its values as a NumPy array")

    def item(self, *args: Any) -> Any:
        raise _no_values(self.shape, self.dtype, "item()")

    def tolist(self) -> Any:
        raise _no_values(self.shape, self.dtype, "tolist()")

    def tobytes(self, *args: Any, **kwargs: Any) -> bytes:
        raise _no_values(self.shape, self.dtype, "tobytes()")

    def __bool__(self) -> bool:
        raise _no_values(self.shape, self.dtype, "bool()")

    def __float__(self) -> float:
        raise _no_values(self.shape, self.dtype, "float()")

    def __int__(self) -> int:
        raise _no_values(self.shape, self.dtype, "int()")

    def __index__(self) -> int:
        raise _no_values(self.shape, self.dtype, "using it as an index")

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def fill(self, value: Any) -> None:
        """Nothing to fill: writing into a meta array changes nothing (as in PyTorch)."""

    def __setitem__(self, index: Any, value: Any) -> None:
        self[index]  # noqa: B018 (checks the index against the shape)

    # -- new shapes -------------------------------------------------------------------------------

    def _like(self, shape: tuple, dtype: Any = None) -> MetaArray:
        return MetaArray(shape, self.dtype if dtype is None else dtype)

    def __getitem__(self, index: Any) -> MetaArray:
        return self._like(_stand_in(self.shape)[_plain_index(index)].shape)

    def reshape(self, *shape: Any, order: str = "C") -> MetaArray:
        return self._like(_stand_in(self.shape).reshape(*shape, order=order).shape)

    def transpose(self, *axes: Any) -> MetaArray:
        return self._like(_stand_in(self.shape).transpose(*axes).shape)

    def swapaxes(self, a: int, b: int) -> MetaArray:
        return self._like(_stand_in(self.shape).swapaxes(a, b).shape)

    def squeeze(self, axis: Any = None) -> MetaArray:
        return self._like(_stand_in(self.shape).squeeze(axis).shape)

    @property
    def T(self) -> MetaArray:  # noqa: N802
        return self._like(self.shape[::-1])

    @property
    def mT(self) -> MetaArray:  # noqa: N802
        return self.swapaxes(-1, -2)

    def ravel(self, order: str = "C") -> MetaArray:
        return self._like((self.size,))

    flatten = ravel

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return self._like(self.shape, dtype)

    def copy(self, order: str = "C") -> MetaArray:
        return self._like(self.shape)

    def view(self, *args: Any, **kwargs: Any) -> MetaArray:
        return self._like(self.shape)

    # -- reductions -------------------------------------------------------------------------------

    def _reduce(self, name: str, axis: Any, keepdims: bool, out: Any, **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # var of one element with ddof=1, and the like
            probe = getattr(_probe(self), name)(axis=axis, keepdims=keepdims, **kwargs)
        result = self._like(_reduced_shape(self.shape, axis, keepdims), np.asarray(probe).dtype)
        return _written(out, result, name)

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False):
        return self._reduce("sum", axis, keepdims, out, dtype=dtype)

    def prod(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False):
        return self._reduce("prod", axis, keepdims, out, dtype=dtype)

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False):
        return self._reduce("mean", axis, keepdims, out, dtype=dtype)

    def var(
        self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0, keepdims=False
    ) -> Any:
        return self._reduce("var", axis, keepdims, out, dtype=dtype, ddof=ddof)

    def std(
        self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0, keepdims=False
    ) -> Any:
        return self._reduce("std", axis, keepdims, out, dtype=dtype, ddof=ddof)

    def max(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any):
        return self._reduce("max", axis, keepdims, out)

    def min(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any):
        return self._reduce("min", axis, keepdims, out)

    def any(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any):
        return self._reduce("any", axis, keepdims, out)

    def all(self, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any):
        return self._reduce("all", axis, keepdims, out)

    def argmax(self, axis: int | None = None, out: Any = None, keepdims: bool = False):
        return _written(out, self._like(_reduced_shape(self.shape, axis, keepdims), np.intp), "")

    argmin = argmax

    def cumsum(self, axis: int | None = None, dtype: Any = None, out: Any = None) -> MetaArray:
        shape = (self.size,) if axis is None else self.shape
        return _written(out, self._like(shape, np.cumsum(_probe(self), dtype=dtype).dtype), "")

    def clip(self, min: Any = None, max: Any = None, out: Any = None, **kwargs: Any):  # noqa: A002
        return np.clip(self, min, max, out=out, **kwargs)

    # -- NumPy's functions ------------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.pop("out", None)
        what = f"{ufunc.__name__}.{method}" if method != "__call__" else ufunc.__name__
        kwargs.pop("where", None)
        if method == "at":
            if type(inputs[0]) is not MetaArray:
                raise _no_values(inputs[1].shape, inputs[1].dtype, what)
            return None
        with np.errstate(all="ignore"):
            probe = getattr(ufunc, method)(*map(_probe, inputs), **kwargs)
        if method == "__call__":
            shapes = [_shape(x) for x in inputs]
            if ufunc.signature is None:
                shape = np.broadcast_shapes(*shapes)
            elif ufunc is np.matmul:
                shape = _matmul_shape(*shapes)
            else:
                raise NotImplementedError(f"{what} has no shape rule for meta arrays")
            if isinstance(probe, tuple):  # several outputs (divmod, frexp)
                if out is not None:
                    raise NotImplementedError(f"{what}: out= with several outputs on meta arrays")
                return tuple(MetaArray(shape, p.dtype) for p in probe)
            return _written(out, MetaArray(shape, np.asarray(probe).dtype), what)
        if method == "reduce":
            axis = kwargs.get("axis", 0)
            shape = _reduced_shape(inputs[0].shape, axis, kwargs.get("keepdims", False))
            return _written(out, MetaArray(shape, np.asarray(probe).dtype), what)
        if method == "accumulate":
            return _written(out, MetaArray(inputs[0].shape, np.asarray(probe).dtype), what)
        if method == "outer":
            shape = _shape(inputs[0]) + _shape(inputs[1])
            return _written(out, MetaArray(shape, np.asarray(probe).dtype), what)
        raise NotImplementedError(f"{what} has no shape rule for meta arrays")

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
        rule = _FUNCTIONS.get(func)
        if rule is None:
            raise NotImplementedError(
                f"numpy.{func.__name__} has no shape rule for meta arrays (glassnet's meta device "
                "supports elementwise functions, reductions, matmul, reshapes and indexing)"
            )
        return rule(*args, **kwargs)


def _plain_index(index: Any) -> Any:
    """`index` with meta integer arrays replaced by zeros of their shape (a valid index with the
    same result shape); a meta boolean mask has no knowable result size."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if type(index) is MetaArray:
        if index.dtype.kind == "b":
            raise MetaTensorError(
                "indexing with a boolean mask on the 'meta' device: the result's size depends on "
                "the mask's values, which a meta tensor does not have"
            )
        return np.zeros(index.shape, dtype=np.intp)
    return index


# -- NumPy functions on meta arrays, by rule ------------------------------------------------------


def _like_rule(
    a: Any, dtype: Any = None, *args: Any, shape: Any = None, **kwargs: Any
) -> MetaArray:
    return MetaArray(_shape(a) if shape is None else shape, a.dtype if dtype is None else dtype)


def _full_like(a: Any, fill_value: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> MetaArray:
    return _like_rule(a, dtype, **kwargs)


def _view_rule(func: Callable) -> Callable:
    """A NumPy function that returns a view (reshape, transpose, ...): applied to a stand-in of
    no memory, it gives the result's shape."""

    def rule(a: Any, *args: Any, **kwargs: Any) -> MetaArray:
        return MetaArray(func(_stand_in(_shape(a)), *args, **kwargs).shape, a.dtype)

    return rule


def _method_rule(name: str) -> Callable:
    def rule(a: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(a, name)(*args, **kwargs)

    return rule


def _concatenate(arrays: Sequence[Any], axis: int | None = 0, out: Any = None, **kwargs) -> Any:
    shapes = [_shape(a) for a in arrays]
    if axis is None:
        shape: tuple = (sum(math.prod(s) for s in shapes),)
    else:
        axis = normalize_axis_tuple(axis, len(shapes[0]))[0]
        rest = {s[:axis] + s[axis + 1 :] for s in shapes}
        if len(rest) != 1 or len({len(s) for s in shapes}) != 1:
            raise ValueError(
                f"concatenate: all the input array dimensions except for the concatenation axis "
                f"must match exactly, got shapes {shapes}"
            )
        shape = shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1 :]
    dtype = np.result_type(*(_probe(a) for a in arrays))
    return _written(out, MetaArray(shape, kwargs.get("dtype") or dtype), "concatenate")


def _stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, **kwargs: Any) -> Any:
    shapes = {_shape(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"stack: all input arrays must have the same shape, got {sorted(shapes)}")
    (shape,) = shapes
    axis = normalize_axis_tuple(axis, len(shape) + 1)[0]
    dtype = np.result_type(*(_probe(a) for a in arrays))
    result = MetaArray(shape[:axis] + (len(arrays),) + shape[axis:], dtype)
    return _written(out, result, "stack")


def _pad(array: Any, pad_width: Any, *args: Any, **kwargs: Any) -> MetaArray:
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (array.ndim, 2))
    return MetaArray(
        tuple(n + int(a) + int(b) for n, (a, b) in zip(array.shape, widths)), array.dtype
    )


def _where(condition: Any, x: Any = None, y: Any = None) -> MetaArray:
    if x is None or y is None:
        raise MetaTensorError("where(condition) on the 'meta' device: its size depends on values")
    shape = np.broadcast_shapes(_shape(condition), _shape(x), _shape(y))
    return MetaArray(shape, np.result_type(_probe(x), _probe(y)))


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kwargs: Any) -> Any:
    shape = np.broadcast_shapes(*(_shape(v) for v in (a, a_min, a_max) if v is not None))
    dtype = np.clip(_probe(a), _probe(a_min), _probe(a_max), **kwargs).dtype
    return _written(out, MetaArray(shape, dtype), "clip")


def _copyto(dst: Any, src: Any, *args: Any, **kwargs: Any) -> None:
    if type(dst) is not MetaArray:
        raise _no_values(src.shape, src.dtype, "copyto() into an array with values")
    np.broadcast_shapes(_shape(src), dst.shape)


def _result_type(*arrays_and_dtypes: Any) -> np.dtype:
    return np.result_type(*(a.dtype if type(a) is MetaArray else a for a in arrays_and_dtypes))


def _take(a: Any, indices: Any, axis: int | None = None, out: Any = None, **kwargs: Any) -> Any:
    index_shape = _shape(indices)
    if axis is None:
        shape = index_shape
    else:
        axis = normalize_axis_tuple(axis, a.ndim)[0]
        shape = a.shape[:axis] + index_shape + a.shape[axis + 1 :]
    return _written(out, MetaArray(shape, a.dtype), "take")


def _take_along_axis(arr: Any, indices: Any, axis: int | None = -1, **kwargs: Any) -> MetaArray:
    if axis is None:
        return MetaArray(_shape(indices), arr.dtype)
    axis = normalize_axis_tuple(axis, arr.ndim)[0]
    index_shape = _shape(indices)
    shape = arr.shape[:axis] + index_shape[axis : axis + 1] + arr.shape[axis + 1 :]
    return MetaArray(np.broadcast_shapes(shape, index_shape), arr.dtype)


def _no_rule(name: str) -> Callable:
    def rule(*args: Any, **kwargs: Any) -> Any:
        meta = next(a for a in args if type(a) is MetaArray)
        raise _no_values(meta.shape, meta.dtype, name)

    return rule


_FUNCTIONS: dict[Callable, Callable] = {
    np.zeros_like: _like_rule,
    np.ones_like: _like_rule,
    np.empty_like: _like_rule,
    np.full_like: _full_like,
    np.reshape: lambda a, *args, **kwargs: a.reshape(*args, **kwargs),
    np.ravel: lambda a, order="C": a.ravel(),
    np.transpose: lambda a, axes=None: a.transpose(axes),
    np.moveaxis: _view_rule(np.moveaxis),
    np.swapaxes: _view_rule(np.swapaxes),
    np.squeeze: _view_rule(np.squeeze),
    np.expand_dims: _view_rule(np.expand_dims),
    np.broadcast_to: _view_rule(np.broadcast_to),
    np.flip: _view_rule(np.flip),
    np.lib.stride_tricks.sliding_window_view: _view_rule(np.lib.stride_tricks.sliding_window_view),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.pad: _pad,
    np.where: _where,
    np.clip: _clip,
    np.copyto: _copyto,
    np.take: _take,
    np.take_along_axis: _take_along_axis,
    np.result_type: _result_type,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.may_share_memory: lambda *args, **kwargs: False,
    np.shares_memory: lambda *args, **kwargs: False,
    np.argmax: _method_rule("argmax"),
    np.argmin: _method_rule("argmin"),
    np.cumsum: _method_rule("cumsum"),
    np.amax: _method_rule("max"),
    np.amin: _method_rule("min"),
    np.max: _method_rule("max"),
    np.min: _method_rule("min"),
    **{getattr(np, name): _method_rule(name) for name in _REDUCTIONS},
    **{
        f: _no_rule(f"numpy.{f.__name__}")
        for f in (np.array_equal, np.allclose, np.isclose, np.nonzero, np.flatnonzero, np.unique)
    },
}
