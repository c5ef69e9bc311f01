"""`export`: a glassnet model as an ONNX file, by tracing its forward pass.

The model runs on the example input with tracing on (see `trace`); every op it performs becomes
ONNX nodes (see the ``ops_*`` modules), its parameters the graph's initializers. It runs a second
time on an input whose dynamic axes have other sizes (and whose values are new): the two records
must be the same ops in the same layers, or the model's path depends on the values it sees, which
one traced graph cannot express. Sizes that differ between the two records are computed in the
graph from the input's shape.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from ..dispatch import OPS
from ..io.weights import _atomic_write
from ..nn.module import Module
from ..tensor import Tensor
from .graph import Graph, OnnxExportError, Step
from .registry import CONVERTERS
from .trace import Trace, TracedOp, trace

MIN_OPSET = 17  # LayerNormalization, Shape(start, end), Trilu
DEFAULT_OPSET = 17
DynamicAxes = Mapping[str, Mapping[int, str] | Sequence[int]]


def export(
    model: Module,
    args: Any,
    f: str | os.PathLike,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: DynamicAxes | None = None,
    opset_version: int | None = None,
    check_trace: bool = True,
) -> str:
    """Write `model` as an ONNX file at `f` (atomically); returns the path.

    Args:
        model: the network; exported in eval mode (a model in training mode gets a warning
            and is put back in training mode afterwards, as PyTorch does).
        args: the example input: a Tensor, or a tuple of them for ``model(*args)``.
        f: where to write the ``.onnx`` file.
        input_names, output_names: the graph's input and output names (default ``input``,
            ``output``, or ``input_0``, ``input_1``, ... for several). The model's outputs are
            its returned tensors in order, tuples flattened, None left out.
        dynamic_axes: ``{name: {axis: "symbol"}}`` or ``{name: [axes]}``: the axes of inputs
            (and outputs) whose size may change, e.g. ``{"input": {0: "batch"}}``. Axes that
            share a symbol must have the same size. Every other size is fixed to the example's.
        opset_version: the ONNX opset, from 17 to the newest the installed `onnx` knows
            (default 17).
        check_trace: run the model a second time on a new input (new values, other sizes on
            the dynamic axes) and refuse to export when the two runs record different ops:
            the model then takes decisions on values, which a traced graph cannot follow.
            Without dynamic axes, False skips that second run.

    Raises:
        OnnxExportError: an op without an ONNX equivalent (naming the op and the layer), or a
            model whose recorded ops depend on the input's values.
    """
    opset = _check_opset(opset_version, onnx.defs.onnx_opset_version())
    inputs = _as_inputs(args)
    input_names = _names(input_names, len(inputs), "input")
    axes = _dynamic_axes(dynamic_axes, input_names, inputs)
    modes = [(module, module.training) for module in model.modules()]
    if any(training for _, training in modes):
        warnings.warn(
            f"glassnet.onnx.export: {type(model).__name__} is in training mode; it is exported "
            "in eval mode (dropout off, batch norm with its running statistics), as "
            "model.eval() would run it",
            UserWarning,
            stacklevel=2,
        )
    model.eval()
    try:
        first = trace(model, inputs)
        varied = inputs
        second = first
        if check_trace or any(axes.get(n) for n in input_names):
            varied = _varied_inputs(inputs, input_names, axes)
            second = _second_trace(model, varied, first)
        graph = _build(model, first, second, inputs, varied, input_names, opset)
    finally:
        for module, training in modes:
            module.training = training
    outputs_a, outputs_b = _flat(first.output), _flat(second.output)
    output_names = _names(output_names, len(outputs_a), "output")
    body = _outputs(graph, outputs_a, outputs_b, output_names, axes)
    declared = [
        _value_info(name, tensor.dtype, _dims(name, shape_a, shape_b, axes))
        for (name, shape_a, shape_b), tensor in zip(graph.inputs, inputs)
    ]
    onnx_graph = helper.make_graph(
        graph.nodes, type(model).__name__, declared, body, initializer=graph.initializers
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(onnx_graph, opset_imports=opsets, producer_name="glassnet")
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(proto)
    path = os.fspath(f)
    payload = proto.SerializeToString()
    _atomic_write(path, lambda file: file.write(payload))
    return path


# -- arguments ----------------------------------------------------------------------------------


def _check_opset(opset: int | None, newest: int) -> int:
    opset = DEFAULT_OPSET if opset is None else opset
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"glassnet.onnx.export: opset_version must be an int from {MIN_OPSET} to {newest} "
            f"(the newest the installed onnx knows), got {opset!r}"
        )
    return opset


def _as_inputs(args: Any) -> tuple[Tensor, ...]:
    items = args if isinstance(args, tuple | list) else (args,)
    inputs = []
    for k, item in enumerate(items):
        if isinstance(item, np.ndarray):
            item = Tensor(item)
        if not isinstance(item, Tensor):
            raise TypeError(
                f"glassnet.onnx.export: the example inputs must be Tensors (or NumPy arrays), "
                f"got {type(item).__name__} at position {k}"
            )
        inputs.append(item)
    return tuple(inputs)


def _names(names: Sequence[str] | None, count: int, stem: str) -> list[str]:
    if names is None:
        return [stem] if count == 1 else [f"{stem}_{k}" for k in range(count)]
    names = list(names)
    if len(names) != count or len(set(names)) != len(names):
        raise ValueError(
            f"glassnet.onnx.export: {stem}_names needs {count} distinct names (one per {stem}), "
            f"got {names}"
        )
    return names


def _dynamic_axes(
    dynamic_axes: DynamicAxes | None, input_names: list[str], inputs: tuple
) -> dict[str, dict[int, str]]:
    """{value name: {axis: symbol}}, lists given as axes named ``{name}_dim{axis}``."""
    axes: dict[str, dict[int, str]] = {}
    for name, given in (dynamic_axes or {}).items():
        if isinstance(given, Mapping):
            named = {int(axis): str(symbol) for axis, symbol in given.items()}
        else:
            named = {int(axis): f"{name}_dim{int(axis)}" for axis in given}
        if name in input_names:
            ndim = inputs[input_names.index(name)].ndim
            named = {axis + ndim if axis < 0 else axis: s for axis, s in named.items()}
            if any(not 0 <= axis < ndim for axis in named):
                raise ValueError(
                    f"glassnet.onnx.export: dynamic_axes[{name!r}] names axes {sorted(given)}, "
                    f"but that input has {ndim} dimensions"
                )
        axes[name] = named
    return axes


def _varied_inputs(inputs: tuple, names: list[str], axes: dict) -> tuple[Tensor, ...]:
    """New inputs: each dynamic axis 1, 2, 3, ... larger or smaller (one step per symbol, so two
    symbols never change alike), new values drawn like the example's."""
    rng = np.random.default_rng(0)
    steps: dict[str, int] = {}
    varied = []
    for tensor, name in zip(inputs, names):
        shape = list(tensor.shape)
        for axis, symbol in axes.get(name, {}).items():
            step = steps.setdefault(symbol, len(steps) + 1)
            shape[axis] = shape[axis] - step if shape[axis] > step else shape[axis] + step
        varied.append(Tensor(_like(tensor.data, tuple(shape), rng)))
    return tuple(varied)


def _like(example: np.ndarray, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if example.dtype == np.bool_:
        return rng.random(shape) < 0.5
    low, high = (example.min(), example.max()) if example.size else (0, 1)
    if example.dtype.kind in "iu":
        return rng.integers(low, high, shape, endpoint=True).astype(example.dtype)
    if low == high:
        low, high = low - 1, high + 1
    return rng.uniform(low, high, shape).astype(example.dtype)


def _second_trace(model: Module, varied: tuple, first: Trace) -> Trace:
    try:
        second = trace(model, varied)
    except Exception as error:
        shapes = [tuple(t.shape) for t in varied]
        raise OnnxExportError(
            f"glassnet.onnx.export: the model fails on a second input of shapes {shapes} (the "
            f"example with its dynamic axes resized and new values), which the exported graph "
            f"would have to accept: {type(error).__name__}: {error}"
        ) from error
    _same_path(first, second)
    return second


def _same_path(first: Trace, second: Trace) -> None:
    """The two traces must record the same ops in the same layers with the same settings."""
    for k, (a, b) in enumerate(zip(first.ops, second.ops)):
        if (a.call.name, a.layer) != (b.call.name, b.layer):
            raise _diverged(k, a, b)
        difference = _differs(a.call.args, b.call.args) or _differs(a.call.kwargs, b.call.kwargs)
        if difference:
            raise _diverged(k, a, b, difference)
    if len(first.ops) != len(second.ops):
        shorter = min(len(first.ops), len(second.ops))
        extra = (first if len(first.ops) > shorter else second).ops[shorter]
        raise _diverged(shorter, extra, extra, "one run stops there, the other goes on")


def _diverged(k: int, a: TracedOp, b: TracedOp, detail: str = "") -> OnnxExportError:
    def where(op: TracedOp) -> str:
        return f"{op.call.name!r} in layer {op.layer!r}" if op.layer else repr(op.call.name)

    said = f"; {detail}" if detail else f": {where(a)} on the example, {where(b)} on the other"
    return OnnxExportError(
        f"glassnet.onnx.export: two runs on different inputs record different ops at op {k}"
        f"{said}. The model's path depends on the values it reads (Python control flow on "
        "tensor values): a traced graph records one path only. Move the decision out of the "
        "model, or compute both branches with ops (glassnet.where)"
    )


def _differs(x: Any, y: Any) -> str:
    """Why two recorded arguments are not the same setting ('' if they are): integers may
    differ (sizes that follow the input), tensors in shape only."""
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        same = isinstance(x, Tensor) and isinstance(y, Tensor) and x.ndim == y.ndim
        return "" if same and x.dtype == y.dtype else "a tensor argument changes rank or dtype"
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return "" if x.dtype == y.dtype else "an array argument changes dtype"
    if isinstance(x, tuple | list) and isinstance(y, tuple | list):
        if len(x) != len(y):
            return f"a list argument has {len(x)} entries on one input and {len(y)} on another"
        return next((d for d in map(_differs, x, y) if d), "")
    if isinstance(x, dict) and isinstance(y, dict):
        if x.keys() != y.keys():
            return "keyword arguments differ"
        return next((d for d in (_differs(x[k], y[k]) for k in x) if d), "")
    if isinstance(x, slice) and isinstance(y, slice):
        return _differs((x.start, x.stop, x.step), (y.start, y.stop, y.step))
    if type(x) is not type(y) and not (_is_int(x) and _is_int(y)):
        return f"an argument is {x!r} on one input and {y!r} on another"
    if _is_int(x) or x is None:
        return ""
    if isinstance(x, float) and (x == y or (x != x and y != y)):
        return ""
    return "" if x == y else f"an argument is {x!r} on one input and {y!r} on another"


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


# -- the graph ------------------------------------------------------------------------------------


def _build(
    model: Module,
    first: Trace,
    second: Trace,
    inputs: tuple,
    varied: tuple,
    names: list[str],
    opset: int,
) -> Graph:
    parameters: dict[int, tuple[str, Tensor]] = {}
    for name, tensor in (*model.named_parameters(), *model.named_buffers()):
        parameters.setdefault(id(tensor), (name, tensor))
    graph = Graph(opset, parameters)
    for tensor, other, name in zip(inputs, varied, names):
        graph.add_input(tensor, name, tuple(other.shape))
    for a, b in zip(first.ops, second.ops):
        _convert(graph, a, b)
    graph.step = None
    return graph


def _convert(graph: Graph, a: TracedOp, b: TracedOp) -> None:
    name = a.call.name
    signature = inspect.signature(OPS[name])
    bound_a = signature.bind(*a.call.args, **a.call.kwargs)
    bound_b = signature.bind(*b.call.args, **b.call.kwargs)
    bound_a.apply_defaults()
    bound_b.apply_defaults()
    step = Step(name, bound_a.arguments, bound_b.arguments, a.call.result, b.call.result, a)
    graph.step = step
    converter = CONVERTERS.get(name)
    if converter is None:
        raise step.fail(
            "this op has no ONNX conversion; the ops that export are: "
            + ", ".join(sorted(CONVERTERS))
        )
    _note_foreign(graph, bound_a.arguments, bound_b.arguments)
    out = converter(graph, step)
    results = step.result_a if isinstance(step.result_a, tuple | list) else (step.result_a,)
    names = out if isinstance(out, list) else [out]
    for tensor, value in zip(results, names):
        if isinstance(tensor, Tensor) and value is not None:
            graph.bind(tensor, value)


def _note_foreign(graph: Graph, a: Any, b: Any) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            _note_foreign(graph, a[key], b.get(key))
    elif isinstance(a, tuple | list) and isinstance(b, tuple | list):
        for x, y in zip(a, b):
            _note_foreign(graph, x, y)
    elif isinstance(a, Tensor | np.ndarray):
        graph.note_foreign(a, b)


def _flat(output: Any) -> list[Tensor]:
    if output is None:
        return []
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        return [t for value in output.values() for t in _flat(value)]
    if isinstance(output, tuple | list):
        return [t for value in output for t in _flat(value)]
    raise OnnxExportError(
        f"glassnet.onnx.export: the model returned a {type(output).__name__}; only Tensors, "
        "and tuples, lists and dicts of them, can be graph outputs"
    )


def _outputs(graph: Graph, outputs_a: list, outputs_b: list, names: list[str], axes: dict) -> list:
    """Identity nodes from the values computing the model's outputs to the output names."""
    declared = []
    for tensor, other, name in zip(outputs_a, outputs_b, names):
        graph.nodes.append(_identity(graph.value(tensor), name))
        dims = _dims(name, tensor.shape, other.shape, axes)
        declared.append(_value_info(name, tensor.dtype, dims))
    return declared


def _identity(source: str, name: str) -> Any:
    return helper.make_node("Identity", [source], [name])


def _dims(name: str, shape_a: tuple, shape_b: tuple, axes: dict) -> list:
    """An input's or output's dims: its dynamic axes as symbols (those given, or ``name_dimK``
    where the two traces differ), the others as numbers."""
    given = axes.get(name, {})
    dims: list = []
    for axis, (a, b) in enumerate(zip(shape_a, shape_b)):
        if axis in given:
            dims.append(given[axis])
        elif a != b:
            dims.append(f"{name}_dim{axis}")
        else:
            dims.append(int(a))
    return dims


def _value_info(name: str, dtype: np.dtype, dims: list) -> Any:
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(dtype), dims)
