"""ONNX nodes for glassnet's arithmetic: elementwise ops, activations, reductions, products.

Most map one to one (``relu`` to ``Relu``, ``softmax`` to ``Softmax``); the rest are short
compositions of ONNX nodes written in the same order as glassnet's formula (``silu`` is
``x * Sigmoid(x)``, ``softplus`` keeps PyTorch's threshold), so the numbers agree to rounding.
A Python number meets a tensor as a constant of the tensor's dtype, as glassnet computes it.
"""

from __future__ import annotations

import math

import numpy as np

from ..ops.reduction import reduction_dims
from ..tensor import Tensor
from .graph import Graph, Step
from .registry import converts

UNARY = {
    "abs": "Abs",
    "neg": "Neg",
    "exp": "Exp",
    "log": "Log",
    "sqrt": "Sqrt",
    "sin": "Sin",
    "cos": "Cos",
    "sign": "Sign",
    "floor": "Floor",
    "ceil": "Ceil",
    "round": "Round",
    "isnan": "IsNaN",
    "isinf": "IsInf",
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "bitwise_not": "Not",
}
ARITHMETIC = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow"}
ARITHMETIC |= {"maximum": "Max", "minimum": "Min"}
COMPARISON = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater"}
COMPARISON |= {"ge": "GreaterOrEqual", "ne": "Equal"}
LOGICAL = {"bitwise_and": "And", "bitwise_or": "Or", "bitwise_xor": "Xor"}


def dtype_of(x: object) -> np.dtype | None:
    return x.dtype if isinstance(x, Tensor | np.ndarray) else None


def operand(g: Graph, x: object, dtype: np.dtype) -> str:
    """`x` as a value of `dtype`: a Python number becomes a constant of it, a tensor of
    another dtype is cast (ONNX's arithmetic wants both inputs of one type)."""
    if isinstance(x, Tensor | np.ndarray):
        name = g.value(x)
        return name if x.dtype == dtype else g.cast(name, dtype)
    return g.scalar(x, dtype)


@converts(*UNARY)
def unary(g: Graph, s: Step) -> str:
    return g.node(UNARY[s.name], [g.value(s.a["a"])])


@converts("log1p")
def log1p(g: Graph, s: Step) -> str:
    x = s.a["a"]
    return g.node("Log", [g.node("Add", [g.value(x), g.scalar(1.0, x.dtype)])])


@converts("isfinite")
def isfinite(g: Graph, s: Step) -> str:
    x = g.value(s.a["a"])
    return g.node("Not", [g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])])


@converts(*ARITHMETIC)
def arithmetic(g: Graph, s: Step) -> str:
    dtype = s.result_a.dtype
    return g.node(ARITHMETIC[s.name], [operand(g, s.a[k], dtype) for k in ("a", "b")])


@converts(*COMPARISON)
def comparison(g: Graph, s: Step) -> str:
    a, b = s.a["a"], s.a["b"]
    dtype = np.result_type(*(dtype_of(x) for x in (a, b) if dtype_of(x) is not None))
    out = g.node(COMPARISON[s.name], [operand(g, a, dtype), operand(g, b, dtype)])
    return g.node("Not", [out]) if s.name == "ne" else out


@converts(*LOGICAL)
def logical(g: Graph, s: Step) -> str:
    if s.result_a.dtype != np.bool_:
        raise s.fail("only boolean tensors are supported (ONNX's And/Or/Xor)")
    return g.node(LOGICAL[s.name], [operand(g, s.a[k], np.dtype(bool)) for k in ("a", "b")])


@converts("floor_divide")
def floor_divide(g: Graph, s: Step) -> str:
    dtype = s.result_a.dtype
    a, b = (operand(g, s.a[k], dtype) for k in ("a", "b"))
    if dtype.kind != "f":
        raise s.fail(f"only floating point is supported, got {dtype}")
    return g.node("Floor", [g.node("Div", [a, b])])


@converts("remainder")
def remainder(g: Graph, s: Step) -> str:
    """Python's remainder (the sign of the divisor): a - floor(a / b) * b for floats."""
    dtype = s.result_a.dtype
    a, b = (operand(g, s.a[k], dtype) for k in ("a", "b"))
    if dtype.kind != "f":
        return g.node("Mod", [a, b], fmod=0)
    floor = g.node("Floor", [g.node("Div", [a, b])])
    return g.node("Sub", [a, g.node("Mul", [floor, b])])


@converts("where")
def where(g: Graph, s: Step) -> str:
    dtype = s.result_a.dtype
    condition = operand(g, s.a["condition"], np.dtype(bool))
    return g.node("Where", [condition, operand(g, s.a["a"], dtype), operand(g, s.a["b"], dtype)])


@converts("clamp")
def clamp(g: Graph, s: Step) -> str:
    x = s.a["a"]
    out = g.value(x)
    for key, op_type in (("min", "Max"), ("max", "Min")):
        if s.a[key] is not None:
            out = g.node(op_type, [out, operand(g, s.a[key], x.dtype)])
    return out


@converts("astype")
def astype(g: Graph, s: Step) -> str:
    return g.cast(g.value(s.a["a"]), s.result_a.dtype)


@converts("clone")
def clone(g: Graph, s: Step) -> str:
    return g.node("Identity", [g.value(s.a["a"])])


# -- activations -----------------------------------------------------------------------------------


def _clip(g: Graph, x: Tensor, low: float, high: float) -> str:
    return g.node("Clip", [g.value(x), g.scalar(low, x.dtype), g.scalar(high, x.dtype)])


@converts("hardtanh")
def hardtanh(g: Graph, s: Step) -> str:
    return _clip(g, s.a["a"], s.a["min_val"], s.a["max_val"])


@converts("relu6")
def relu6(g: Graph, s: Step) -> str:
    return _clip(g, s.a["a"], 0.0, 6.0)


@converts("leaky_relu")
def leaky_relu(g: Graph, s: Step) -> str:
    return g.node("LeakyRelu", [g.value(s.a["a"])], alpha=float(s.a["negative_slope"]))


@converts("elu")
def elu(g: Graph, s: Step) -> str:
    return g.node("Elu", [g.value(s.a["a"])], alpha=float(s.a["alpha"]))


@converts("silu")
def silu(g: Graph, s: Step) -> str:
    x = g.value(s.a["a"])
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


def softplus_value(g: Graph, x: Tensor, beta: float, threshold: float) -> str:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    name = g.value(x)
    scaled = name if beta == 1.0 else g.node("Mul", [name, g.scalar(beta, x.dtype)])
    soft = g.node("Softplus", [scaled])
    if beta != 1.0:
        soft = g.node("Div", [soft, g.scalar(beta, x.dtype)])
    linear = g.node("Greater", [scaled, g.scalar(threshold, x.dtype)])
    return g.node("Where", [linear, name, soft])


@converts("softplus")
def softplus(g: Graph, s: Step) -> str:
    return softplus_value(g, s.a["a"], float(s.a["beta"]), float(s.a["threshold"]))


@converts("mish")
def mish(g: Graph, s: Step) -> str:
    x = s.a["a"]
    return g.node("Mul", [g.value(x), g.node("Tanh", [softplus_value(g, x, 1.0, 20.0)])])


@converts("gelu")
def gelu(g: Graph, s: Step) -> str:
    x, approximate = s.a["a"], s.a["approximate"]
    name, dtype = g.value(x), x.dtype
    if g.opset >= 20:
        return g.node("Gelu", [name], approximate=approximate)
    half_x = g.node("Mul", [name, g.scalar(0.5, dtype)])
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [name, name]), name])
        inner = g.node("Add", [name, g.node("Mul", [cube, g.scalar(0.044715, dtype)])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), dtype)])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = g.node("Erf", [g.node("Mul", [name, g.scalar(1 / math.sqrt(2), dtype)])])
    return g.node("Mul", [half_x, g.node("Add", [t, g.scalar(1.0, dtype)])])


@converts("softmax", "log_softmax")
def softmax(g: Graph, s: Step) -> str:
    op_type = "Softmax" if s.name == "softmax" else "LogSoftmax"
    return g.node(op_type, [g.value(s.a["a"])], axis=int(s.a["dim"]))


# -- reductions ------------------------------------------------------------------------------------


def _axes(s: Step) -> list[int] | None:
    dims = reduction_dims(s.a.get("dim"), s.a["a"].ndim)
    return None if dims is None else list(np.atleast_1d(dims).tolist())


@converts("sum", "mean", "amax", "amin", "logsumexp")
def reduce(g: Graph, s: Step) -> str:
    op_type = {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax"}.get(s.name)
    op_type = op_type or {"amin": "ReduceMin", "logsumexp": "ReduceLogSumExp"}[s.name]
    x = g.value(s.a["a"])
    if s.name == "sum" and s.a["dtype"] is not None:
        x = g.cast(x, s.result_a.dtype)
    return g.reduce(op_type, x, _axes(s), s.a["keepdim"])


@converts("max", "min")
def extreme(g: Graph, s: Step) -> str | list[str]:
    x, dim, keep = g.value(s.a["a"]), s.a["dim"], bool(s.a["keepdim"])
    op_type = "ReduceMax" if s.name == "max" else "ReduceMin"
    if dim is None or not isinstance(dim, int):
        return g.reduce(op_type, x, _axes(s), keep)
    arg = "ArgMax" if s.name == "max" else "ArgMin"
    values = g.reduce(op_type, x, [dim], keep)
    return [values, g.node(arg, [x], axis=dim, keepdims=int(keep), select_last_index=0)]


@converts("argmax", "argmin")
def arg_extreme(g: Graph, s: Step) -> str:
    x, dim, keep = g.value(s.a["a"]), s.a["dim"], int(bool(s.a["keepdim"]))
    op_type = "ArgMax" if s.name == "argmax" else "ArgMin"
    if dim is None:
        flat = g.node("Reshape", [x, g.ints([-1])])
        out = g.node(op_type, [flat], axis=0, keepdims=0)
        return g.node("Reshape", [out, g.ints([1] * s.a["a"].ndim)]) if keep else out
    return g.node(op_type, [x], axis=int(dim), keepdims=keep)


@converts("var", "std")
def variance(g: Graph, s: Step) -> str:
    """mean((x - mean x)^2) * n / (n - correction), and its square root for std."""
    x = s.a["a"]
    correction = s.a["correction"]
    if correction is None:
        correction = 0 if s.a["unbiased"] is False else 1
    axes = _axes(s)
    n = x.size if axes is None else math.prod(x.shape[k] for k in axes)
    name = g.value(x)
    centred = g.node("Sub", [name, g.reduce("ReduceMean", name, axes, True)])
    squares = g.reduce("ReduceMean", g.node("Mul", [centred, centred]), axes, s.a["keepdim"])
    out = g.node("Mul", [squares, g.scalar(n / max(n - correction, 0), x.dtype)])
    return g.node("Sqrt", [out]) if s.name == "std" else out


# -- products --------------------------------------------------------------------------------------


@converts("matmul", "mm", "bmm", "dot")
def matmul(g: Graph, s: Step) -> str:
    dtype = s.result_a.dtype
    return g.node("MatMul", [operand(g, s.a[k], dtype) for k in ("a", "b")])


@converts("linear")
def linear(g: Graph, s: Step) -> str:
    """y = x W^T + b: Gemm for a matrix input, MatMul (and Add) for more dimensions."""
    x, w, b = s.a["input"], s.a["weight"], s.a["bias"]
    bias = None if b is None else g.value(b)
    if x.ndim == 2:
        return g.node("Gemm", [g.value(x), g.value(w), bias], transB=1)
    out = g.node("MatMul", [g.value(x), g.node("Transpose", [g.value(w)], perm=[1, 0])])
    return out if bias is None else g.node("Add", [out, bias])


@converts("all", "any")
def all_any(g: Graph, s: Step) -> str:
    """Whether every (any) element is nonzero: ReduceMin (ReduceMax) of the truth as 0/1."""
    x = s.a["a"]
    truth = (
        g.value(x)
        if x.dtype == np.bool_
        else g.node("Not", [g.node("Equal", [g.value(x), g.scalar(0, x.dtype)])])
    )
    ones = g.cast(truth, np.int32)
    op_type = "ReduceMin" if s.name == "all" else "ReduceMax"
    return g.cast(g.reduce(op_type, ones, _axes(s), s.a["keepdim"]), np.bool_)


@converts("norm")
def norm(g: Graph, s: Step) -> str:
    """The p-norm: ReduceL1 and ReduceL2 for p 1 and 2, (sum |x|^p)^(1/p) otherwise, the
    largest or smallest |x| for p = ±inf."""
    x, p = s.a["a"], s.a["p"]
    p = 2 if p == "fro" else p
    name = g.value(x) if x.dtype.kind == "f" else g.cast(g.value(x), s.result_a.dtype)
    dtype, axes, keep = s.result_a.dtype, _axes(s), s.a["keepdim"]
    if p in (1, 2):
        return g.reduce("ReduceL1" if p == 1 else "ReduceL2", name, axes, keep)
    magnitude = g.node("Abs", [name])
    if p in (math.inf, -math.inf):
        return g.reduce("ReduceMax" if p > 0 else "ReduceMin", magnitude, axes, keep)
    if p == 0:
        nonzero = g.cast(g.node("Not", [g.node("Equal", [magnitude, g.scalar(0, dtype)])]), dtype)
        return g.reduce("ReduceSum", nonzero, axes, keep)
    powered = g.node("Pow", [magnitude, g.scalar(float(p), dtype)])
    total = g.reduce("ReduceSum", powered, axes, keep)
    return g.node("Pow", [total, g.scalar(1.0 / float(p), dtype)])
