"""The ONNX graph being written: named values, weights, constants and nodes.

ONNX describes a network as a graph of nodes (``MatMul``, ``Conv``, ...), each reading and writing
named values; the weights are "initializers", values stored in the file. `Graph` hands out those
names: every Tensor of the traced forward pass gets the name of the value that computes it, every
Parameter the name it has in the state_dict. Nodes are built with the `onnx` package's own
builders (``onnx.helper.make_node``), never by hand.

Sizes that change with the input (a batch, a sequence length) cannot be baked into the graph as
numbers. The exporter traces the model twice, the second time with every dynamic axis of the
inputs changed; a size that differs between the two traces is computed in the graph from the
input's shape (``Shape``), where a dimension of an input, or of the op's own input, matches it
in both traces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..tensor import Tensor
from .trace import TracedOp


class OnnxExportError(RuntimeError):
    """A model, or one op of it, that cannot be written as an ONNX graph; says which and why."""


@dataclass
class Step:
    """One traced op as a converter sees it: its arguments in the first trace (`a`) and in the
    second (`b`, where the dynamic axes had other sizes), by parameter name, and its results."""

    name: str
    a: dict[str, Any]
    b: dict[str, Any]
    result_a: Any
    result_b: Any
    traced: TracedOp

    def where(self) -> str:
        layer = self.traced.layer
        place = f"layer {layer!r} ({self.traced.layer_type})" if layer else self.traced.layer_type
        return f"op {self.name!r} in {place}"

    def fail(self, why: str) -> OnnxExportError:
        return OnnxExportError(f"glassnet.onnx.export: {self.where()}: {why}")


@dataclass
class _Known:
    name: str
    tensor: Tensor  # kept alive so that its id is not reused
    version: int


class Graph:
    """Values, initializers and nodes of the graph under construction (see module docstring)."""

    def __init__(self, opset: int, parameters: dict[int, tuple[str, Tensor]]) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._parameters = parameters
        self._known: dict[int, _Known] = {}
        self._constants: dict[int, tuple[Any, str]] = {}
        self._varying: dict[int, Any] = {}
        self._taken: set[str] = set()
        self._count = 0
        self.inputs: list[tuple[str, tuple, tuple]] = []  # name, shape in trace a, in trace b
        self.step: Step | None = None

    # -- names -------------------------------------------------------------------------------

    def fresh(self, hint: str) -> str:
        self._count += 1
        prefix = f"/{self.step.traced.layer}" if self.step and self.step.traced.layer else ""
        name = f"{prefix}/{hint}_{self._count}"
        self._taken.add(name)
        return name

    def bind(self, tensor: Tensor, name: str) -> None:
        """`tensor` is computed by the value `name` from now on."""
        self._known[id(tensor)] = _Known(name, tensor, tensor._version)
        self._taken.add(name)

    def add_input(self, tensor: Tensor, name: str, shape_b: tuple) -> None:
        self.bind(tensor, name)
        self.inputs.append((name, tuple(tensor.shape), tuple(shape_b)))

    def knows(self, tensor: Any) -> bool:
        return id(tensor) in self._known or id(tensor) in self._parameters

    def value(self, x: Any, dtype: Any = None) -> str:
        """The name of the value holding `x`: a traced tensor, a parameter (its initializer), a
        tensor or array made outside the traced ops (a constant, if it was the same in both
        traces), or a Python number (a constant of `dtype`)."""
        if isinstance(x, Tensor):
            known = self._known.get(id(x))
            if known is not None:
                if x._version != known.version:
                    raise self._fail(
                        "a tensor was changed in place after it was computed; the exporter "
                        "follows values, not memory: write the change out of place (x = x + y)"
                    )
                return known.name
            if id(x) in self._parameters:
                return self._parameter(x)
            return self._constant(x, x.data)
        if isinstance(x, np.ndarray | np.generic):
            return self._constant(x, np.asarray(x))
        if isinstance(x, bool | int | float):
            return self.const(np.array(x, dtype=dtype if dtype is not None else np.float32))
        raise self._fail(f"cannot use a {type(x).__name__} as a value of the graph")

    def _parameter(self, p: Tensor) -> str:
        name, _ = self._parameters[id(p)]
        if name not in self._taken:
            self.initializers.append(numpy_helper.from_array(np.asarray(p.data, order="C"), name))
            self._taken.add(name)
        return name

    def _constant(self, obj: Any, array: np.ndarray) -> str:
        if id(obj) in self._varying:
            raise self._fail(
                f"a tensor of shape {tuple(array.shape)} made outside the traced ops (through "
                ".data, NumPy or a Python number) differs between two runs on different inputs: "
                "it depends on the input, and tracing cannot follow it; compute it with "
                "glassnet ops"
            )
        if id(obj) not in self._constants:
            self._constants[id(obj)] = (obj, self.const(array))
        return self._constants[id(obj)][1]

    def note_foreign(self, a: Any, b: Any) -> None:
        """`a` (first trace) and `b` (second trace) sit at the same place of the same op's
        arguments; remember `a` as varying if it is a tensor or array not computed by the
        traced ops whose values differ between the traces."""
        if isinstance(a, Tensor) and self.knows(a):
            return
        arr_a = a.data if isinstance(a, Tensor) else a
        arr_b = b.data if isinstance(b, Tensor) else b
        if not isinstance(arr_a, np.ndarray):
            return
        if not isinstance(arr_b, np.ndarray) or arr_a.shape != arr_b.shape:
            self._varying[id(a)] = a
        elif not np.array_equal(arr_a, arr_b, equal_nan=True):
            self._varying[id(a)] = a

    # -- building ------------------------------------------------------------------------------

    def const(self, array: np.ndarray, hint: str = "const") -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array, order="C"), name))
        return name

    def ints(self, values: Sequence[int]) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), "ints")

    def scalar(self, value: float, dtype: Any) -> str:
        return self.const(np.array(value, dtype=dtype), "scalar")

    def node(self, op_type: str, inputs: Sequence[str | None], outputs: int = 1, **attrs: Any):
        """Add a node; returns its output's name (or a list of names when `outputs` > 1)."""
        names = [self.fresh(op_type) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        given = ["" if i is None else i for i in inputs]
        while given and not given[-1]:  # optional inputs left out at the end are not written
            given.pop()
        self.nodes.append(helper.make_node(op_type, given, names, **attrs))
        return names[0] if outputs == 1 else names

    def reduce(self, op_type: str, x: str, axes: Sequence[int] | None, keepdims: bool) -> str:
        """A Reduce* node over `axes` (all when None): axes are an input from opset 18 on (13 for
        ReduceSum), an attribute before."""
        as_input = self.opset >= 18 or op_type == "ReduceSum"
        keep = int(keepdims)
        if axes is None:
            return self.node(op_type, [x], keepdims=keep)
        if as_input:
            return self.node(op_type, [x, self.ints(axes)], keepdims=keep)
        return self.node(op_type, [x], keepdims=keep, axes=list(axes))

    def cast(self, x: str, dtype: Any) -> str:
        return self.node("Cast", [x], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    # -- sizes that follow the input ------------------------------------------------------------

    def dim(
        self, a: int, b: int, candidates: Sequence[tuple[str, tuple, tuple]] = ()
    ) -> str | None:
        """A 1-element int64 value holding a size that is `a` in the first trace and `b` in the
        second: a constant when they agree, else the dimension of a candidate value (name, shape
        in trace a, shape in trace b) or of a graph input that matches in both; None if none."""
        if a == b:
            return self.ints([a])
        for name, shape_a, shape_b in (*candidates, *self.inputs):
            for j, (da, db) in enumerate(zip(shape_a, shape_b)):
                if (da, db) == (a, b) and len(shape_a) == len(shape_b):
                    return self.node("Shape", [name], start=j, end=j + 1)
        return None

    def shape(
        self,
        shape_a: Sequence[int],
        shape_b: Sequence[int],
        candidates: Sequence[tuple[str, tuple, tuple]] = (),
        infer_one: bool = False,
    ) -> str:
        """An int64 shape value that is `shape_a` in trace a and `shape_b` in trace b. With
        `infer_one` (for Reshape) one size nothing matches may be left to ONNX as -1."""
        if len(shape_a) != len(shape_b):
            raise self._fail(
                f"its result has rank {len(shape_a)} on one input and {len(shape_b)} on another: "
                "the computation depends on the input's values (tracing records one path)"
            )
        if tuple(shape_a) == tuple(shape_b):
            return self.ints(shape_a)
        pieces, inferred = [], False
        for a, b in zip(shape_a, shape_b):
            piece = self.dim(a, b, candidates)
            if piece is None and infer_one and not inferred:
                piece, inferred = self.ints([-1]), True
            if piece is None:
                raise self._fail(
                    f"a size that is {a} for the example and {b} for an input with other dynamic "
                    "sizes matches no dimension of the inputs, so the graph cannot compute it"
                )
            pieces.append(piece)
        return self.node("Concat", pieces, axis=0)

    def _fail(self, why: str) -> OnnxExportError:
        if self.step is None:
            return OnnxExportError(f"glassnet.onnx.export: {why}")
        return self.step.fail(why)
