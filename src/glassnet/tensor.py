"""Tensors: the numbers a neural network works on.

A tensor is an n-dimensional array of numbers (a NumPy array, in `.data`) that can remember how it
was computed. When `requires_grad` is True, every operation on it records a step of the graph, so
that `loss.backward()` can later work out how much each weight contributed to the error (`.grad`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import autograd
from .autograd import Node
from .dtypes import bool_, float16, float32, float64, get_default_dtype, int32, int64
from .meta import CPU, META, MetaArray, MetaTensorError, as_device
from .sparse import SparseRows


def to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn Python numbers, nested lists, NumPy arrays or Tensors into an array with PyTorch's
    dtypes: Python floats become float32 (the default dtype), ints int64, bools bool."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in PyTorch
        arr = np.asarray(data)
    elif type(data) is MetaArray:  # a shape without values (the meta device)
        arr = data
    else:
        arr = np.asarray(data)
        if arr.dtype == np.float64:  # Python floats
            arr = arr.astype(get_default_dtype())
        elif arr.dtype.kind in "iu" and arr.dtype != np.uint8:
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


class Tensor:
    """An n-dimensional array of numbers that records the operations done to it.

    Args:
        data: anything `numpy.asarray` accepts; Python floats become float32.
        requires_grad: record operations so that `backward()` fills `.grad`.
        dtype: convert to this dtype (``glassnet.float32``, ``glassnet.int64``, ...).

    Example::

        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    # _output_nr: which output of its node this tensor is; _version: when it was last changed in
    # place (see autograd.bump_version); _hooks: a leaf's gradient hooks.
    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_node",
        "_output_nr",
        "_version",
        "_hooks",
        "__weakref__",
    )
    __array_ufunc__ = None  # make NumPy defer: `np.float32(2) * t` calls Tensor.__rmul__
    __hash__ = object.__hash__  # tensors are hashed by identity, as in PyTorch

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data: np.ndarray = to_array(data, dtype)
        self.grad: Tensor | None = None
        self._node: Node | None = None
        self._output_nr = 0
        self._version = 0
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(
        data: np.ndarray, parents: tuple, backward: Any, name: str, saved: tuple | None = None
    ) -> Tensor:
        """Wrap an op's output array; record the op when any input requires a gradient.

        `saved` lists the inputs whose values `backward` reads (default: all `parents`); they
        are checked for in-place changes before backward runs. Ops that only pass gradients
        through (add, reshape, sum) save nothing: ``saved=()``."""
        kind = type(data)
        if kind is not np.ndarray:
            if kind is MetaArray:
                _check_same_device(parents, name)
            else:
                data = np.asarray(data)  # NumPy gives scalars for 0-d results: keep an array
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out._output_nr = 0
        out._version = 0
        out._hooks = None
        if autograd._GradMode.enabled:
            for p in parents:
                if p.requires_grad:
                    out.requires_grad = True
                    out._node = Node(parents, backward, name, saved)
                    return out
        out.requires_grad = False
        out._node = None
        return out

    @staticmethod
    def _leaf(data: np.ndarray) -> Tensor:
        """A tensor outside any graph around an array that is already right (a gradient)."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out.requires_grad, out._node = data, None, False, None
        out._output_nr, out._version, out._hooks = 0, 0, None
        return out

    # -- what a tensor is -------------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def size(self, dim: int | None = None) -> tuple | int:
        return self.data.shape if dim is None else self.data.shape[dim]

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return self.data.size

    def element_size(self) -> int:
        return self.data.itemsize

    @property
    def device(self) -> str:
        """'cpu', or 'meta' for a tensor with a shape and no values (see glassnet.meta)."""
        return META if type(self.data) is MetaArray else CPU

    @property
    def is_meta(self) -> bool:
        return type(self.data) is MetaArray

    @property
    def is_sparse(self) -> bool:
        """Whether this holds only some rows (the gradient of an ``Embedding(sparse=True)``: see
        `glassnet.sparse.SparseRows`)."""
        return type(self.data) is SparseRows

    def to_dense(self) -> Tensor:
        """A sparse tensor's values in full (zeros in the rows it does not hold); a dense one
        itself."""
        return Tensor._leaf(self.data.to_dense()) if type(self.data) is SparseRows else self

    def coalesce(self) -> Tensor:
        """A sparse tensor with each row once, in order, equal rows summed (PyTorch's name)."""
        if type(self.data) is not SparseRows:
            raise RuntimeError("coalesce expected a sparse tensor, got a dense one")
        return Tensor._leaf(self.data.coalesce())

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        return self._node

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __repr__(self) -> str:
        if type(self.data) is SparseRows:
            return f"tensor({self.data!r})"
        if type(self.data) is MetaArray:  # PyTorch's form: no values to show
            extras = [f"size={self.data.shape}"]
            if self.data.dtype != float32:
                extras.append(f"dtype=glassnet.{self.data.dtype}")
            if self.requires_grad:
                extras.append("requires_grad=True")
            return "tensor(..., device='meta', " + ", ".join(extras) + ")"
        body = np.array2string(
            self.data, separator=", ", prefix="tensor(", precision=4, floatmode="fixed"
        )
        extras = []
        if self.data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=glassnet.{self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # -- leaving the graph ------------------------------------------------------------------------

    def item(self) -> Any:
        if self.data.size != 1:
            raise RuntimeError(  # PyTorch's exception and message
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        if type(self.data) is MetaArray:
            self.data.__array__()  # raises MetaTensorError: no values to hand out
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return bool(self.data.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if type(self.data) is MetaArray:
            self.data.__array__()  # raises MetaTensorError
        return self.data if dtype is None else self.data.astype(dtype)

    def detach(self) -> Tensor:
        """The same numbers, cut off from the graph (shares memory, like PyTorch)."""
        return Tensor._make(self.data, (), None, "Detach", saved=())

    def detach_(self) -> Tensor:
        self._node = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        return _ops.clone(self)

    def contiguous(self) -> Tensor:
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.data.dtype}"
            )
        if not requires_grad and self._node is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use detach() instead"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor too after `backward()`."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        autograd.retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose `.grad` is kept (see `retain_grad`)."""
        return autograd.retains_grad(self)

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` each time this tensor's gradient has been computed (once per
        backward, with the whole gradient); a tensor it returns replaces the gradient. Returns a
        handle whose ``remove()`` unregisters the hook."""
        return autograd.register_tensor_hook(self, hook)

    # -- dtype conversion -------------------------------------------------------------------------

    def to(self, *args: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Tensor:
        """``t.to(glassnet.float64)``, ``t.to("meta")`` (the same shape, without values).

        Moving a meta tensor to "cpu" is an error, as in PyTorch: there are no values to move.
        """
        for arg in args:
            if isinstance(arg, str):
                device = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                dtype = arg
        out = self if dtype is None else _ops.astype(self, dtype)
        if device is None or as_device(device, "Tensor.to") == out.device:
            return out
        if out.device == "meta":
            raise MetaTensorError(
                f"Tensor.to('cpu'): this tensor is on the 'meta' device (shape {self.shape}): "
                "it has no values to copy; use module.to_empty(device='cpu') and initialise it"
            )
        return Tensor._make(
            MetaArray(out.shape, out.dtype), (out,), lambda g: (g,), "ToMeta", saved=()
        )

    def astype(self, dtype: Any) -> Tensor:
        return _ops.astype(self, dtype)

    def type(self, dtype: Any) -> Tensor:
        return _ops.astype(self, dtype)

    def float(self) -> Tensor:
        return _ops.astype(self, float32)

    def double(self) -> Tensor:
        return _ops.astype(self, float64)

    def half(self) -> Tensor:
        return _ops.astype(self, float16)

    def long(self) -> Tensor:
        return _ops.astype(self, int64)

    def int(self) -> Tensor:
        return _ops.astype(self, int32)

    def bool(self) -> Tensor:
        return _ops.astype(self, bool_)

    def cpu(self) -> Tensor:
        return self

    # -- backpropagation --------------------------------------------------------------------------

    def backward(
        self, gradient: Tensor | np.ndarray | None = None, retain_graph: bool = False
    ) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one.

        Called on a scalar loss, it needs no argument. For a non-scalar tensor, pass the gradient
        of some scalar with respect to it (its shape must match).
        """
        autograd.backward(self, None if gradient is None else [gradient], retain_graph)

    def zero_(self) -> Tensor:
        self.data[...] = 0
        autograd.bump_version(self)
        return self

    def fill_(self, value: Any) -> Tensor:
        self.data[...] = value
        autograd.bump_version(self)
        return self

    def copy_(self, src: Any) -> Tensor:
        self.data[...] = to_array(src)
        autograd.bump_version(self)
        return self

    # -- in-place arithmetic: `w -= lr * w.grad` --------------------------------------------------

    def _in_place(self, op: Any, other: Any, name: str) -> Tensor:
        """`self = op(self, other)` in place, with PyTorch's rules.

        Under `no_grad` (or when nothing needs a gradient) the numbers change in the same array,
        so views and optimizers holding it see the change. A leaf that requires grad cannot be
        changed in place while the graph is recorded: its gradient would be wrong. A tensor in the
        middle of a graph gets a new graph node, as if written `x = x + y`.
        """
        records = autograd._GradMode.enabled and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        )
        if not records:
            with autograd.no_grad():
                result = op(self, other).data
            if not np.can_cast(result.dtype, self.data.dtype, "same_kind"):
                raise RuntimeError(
                    f"result type {result.dtype} can't be cast to the desired output type "
                    f"{self.data.dtype} in {name}"
                )
            self.data[...] = result
            autograd.bump_version(self)
            return self
        if self._node is None and self.requires_grad:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation "
                f"({name}); wrap it in `with glassnet.no_grad():`"
            )
        if self.data.base is not None and self._node is not None:
            raise RuntimeError(
                f"{name}: in-place operation on a view of another tensor (from indexing, reshape "
                "or transpose) while the graph is recorded; glassnet does not track views, so "
                "write it out of place (x = x + y) or inside `with glassnet.no_grad():`"
            )
        result = op(self._stand_in(), other)
        if result.data.dtype != self.data.dtype:
            result = result.to(self.data.dtype)
        self._take_place_of(result)
        return self

    def _stand_in(self) -> Tensor:
        """A new tensor object for this tensor's current value and place in the graph: what an
        in-place op recorded in the graph takes as its input (the old value)."""
        before = Tensor._make(self.data, (), None, "StandIn")
        before.requires_grad, before._node = self.requires_grad, self._node
        before._output_nr, before._version = self._output_nr, self._version
        return before

    def _take_place_of(self, result: Tensor) -> None:
        """Become `result` (the output of an in-place op recorded in the graph): its numbers and
        its node; the version moves on, so nodes that saved the old value raise in backward."""
        self.data, self._node, self.requires_grad = result.data, result._node, result.requires_grad
        self._output_nr = result._output_nr
        autograd.bump_version(self)

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place(_ops.add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place(_ops.sub, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place(_ops.mul, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place(_ops.div, other, "/=")

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._in_place(
            lambda a, b: _ops.add(a, b * alpha if alpha != 1 else b), other, "add_"
        )

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._in_place(
            lambda a, b: _ops.sub(a, b * alpha if alpha != 1 else b), other, "sub_"
        )

    def mul_(self, other: Any) -> Tensor:
        return self._in_place(_ops.mul, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        return self._in_place(_ops.div, other, "div_")

    # -- arithmetic (see ops/elementwise.py) ------------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def neg(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: Any) -> Tensor:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _ops.pow(base, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _cmp.floor_divide(self, other)

    def __mod__(self, other: Any) -> Tensor:
        return _cmp.remainder(self, other)

    # comparisons give boolean tensors, outside the graph
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _cmp.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _cmp.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _cmp.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _cmp.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _cmp.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _cmp.ge(self, other)

    def __invert__(self) -> Tensor:
        return _cmp.bitwise_not(self)

    def __and__(self, other: Any) -> Tensor:
        return _cmp.bitwise_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return _cmp.bitwise_or(self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _cmp.bitwise_xor(self, other)

    def eq(self, other: Any) -> Tensor:
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        return self.__ne__(other)

    def lt(self, other: Any) -> Tensor:
        return self.__lt__(other)

    def le(self, other: Any) -> Tensor:
        return self.__le__(other)

    def gt(self, other: Any) -> Tensor:
        return self.__gt__(other)

    def ge(self, other: Any) -> Tensor:
        return self.__ge__(other)

    def equal(self, other: Tensor) -> bool:
        return self.data.shape == other.data.shape and bool(np.all(self.data == other.data))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(np.allclose(self.data, _ops.raw(other), rtol=rtol, atol=atol))

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _cmp.all(self, dim, keepdim)

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _cmp.any(self, dim, keepdim)

    def isnan(self) -> Tensor:
        return _cmp.isnan(self)

    def isinf(self) -> Tensor:
        return _cmp.isinf(self)

    def isfinite(self) -> Tensor:
        return _cmp.isfinite(self)

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        return _ops.add(self, other if alpha == 1 else _ops.mul(other, alpha))

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        return _ops.sub(self, other if alpha == 1 else _ops.mul(other, alpha))

    def mul(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return _ops.pow(self, exponent)

    def matmul(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def mm(self, other: Any) -> Tensor:
        return _ops.linalg.mm(self, other)

    def bmm(self, other: Any) -> Tensor:
        return _ops.linalg.bmm(self, other)

    def dot(self, other: Any) -> Tensor:
        return _ops.linalg.dot(self, other)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def rsqrt(self) -> Tensor:
        return _ops.pow(self, -0.5)

    def square(self) -> Tensor:
        return _ops.mul(self, self)

    def reciprocal(self) -> Tensor:
        return _ops.div(1.0, self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1; its gradient is 0 (PyTorch still records it in the graph)."""
        return _ops.sign(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return _ops.clamp(self, min, max)

    clip = clamp

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        np.clip(self.data, min, max, out=self.data)
        autograd.bump_version(self)
        return self

    def maximum(self, other: Any) -> Tensor:
        return _ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _ops.minimum(self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        return _ops.where(condition, self, other)

    def floor(self) -> Tensor:
        return _cmp.floor(self)

    def ceil(self) -> Tensor:
        return _cmp.ceil(self)

    def round(self) -> Tensor:
        return _cmp.round(self)

    def softmax(self, dim: int) -> Tensor:
        return _ops.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _ops.log_softmax(self, dim)

    # -- reductions (see ops/reduction.py) --------------------------------------------------------

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return _ops.sum(self, dim, keepdim, dtype)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops.mean(self, dim, keepdim)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return _ops.maximum(self, dim)
        return _ops.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return _ops.minimum(self, dim)
        return _ops.min(self, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _ops.argmin(self, dim, keepdim)

    def var(
        self,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(
        self,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _ops.logsumexp(self, dim, keepdim)

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops.norm(self, p, dim, keepdim)

    # -- shape (see ops/shape.py) -----------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], int | Sequence):
            return _ops.astype(self, shape[0])
        return _ops.reshape(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _ops.reshape(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        return _ops.unflatten(self, dim, sizes)

    def squeeze(self, dim: Any = None) -> Tensor:
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _ops.unsqueeze(self, dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _ops.transpose(self, dim0, dim1)

    def swapaxes(self, dim0: int, dim1: int) -> Tensor:
        return _ops.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.data.ndim}")
        return _ops.permute(self, *reversed(range(self.data.ndim)))

    @property
    def T(self) -> Tensor:  # noqa: N802
        return _ops.permute(self, *reversed(range(self.data.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        return _ops.transpose(self, -2, -1)

    def permute(self, *dims: Any) -> Tensor:
        return _ops.permute(self, *dims)

    def expand(self, *sizes: Any) -> Tensor:
        return _ops.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return _ops.expand(self, other.shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _ops.expand(self, shape)

    def repeat(self, *sizes: Any) -> Tensor:
        return _ops.repeat(self, *sizes)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple:
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        return _ops.unbind(self, dim)

    def flip(self, dims: Any) -> Tensor:
        return _ops.flip(self, dims)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _ops.setitem(self, index, value)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return _ops.where(mask, value, self)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        return _ops.gather(self, dim, index)


autograd.Tensor = Tensor  # autograd makes gradient tensors; it was imported before this class


def _check_same_device(parents: tuple, name: str) -> None:
    """An op with a meta output: every input must be on the meta device too (a 0-d CPU tensor,
    such as a Python number, may join any device, as in PyTorch)."""
    for p in parents:
        if type(p.data) is not MetaArray and p.data.ndim and name not in _TRANSFERS:
            raise RuntimeError(
                f"{name}: expected all tensors to be on the same device, but found at least two "
                f"devices, meta and cpu (an input of shape {tuple(p.data.shape)} is on cpu); "
                "move it with .to('meta') first"
            )


_TRANSFERS = ("ToMeta",)  # ops whose whole point is to move a tensor to another device

from . import ops as _ops  # noqa: E402
from .ops import comparison as _cmp  # noqa: E402  (the ops need the Tensor class defined above)
