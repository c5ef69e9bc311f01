"""ONNX nodes for glassnet's layers' ops: convolution, pooling, normalization, embedding,
dropout and upsampling.

Each maps to the ONNX operator of the same meaning (``Conv``, ``MaxPool``,
``BatchNormalization`` with the running statistics, ``LayerNormalization``, ``Gather`` for an
embedding); dropout in evaluation mode is the identity. RMS normalization is written out
(x / sqrt(mean(x^2) + eps) * weight), and nearest-neighbour upsampling is a ``Gather`` of the very
rows and columns glassnet copies, so the two agree exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.conv import _interpolate_plan, _nearest_index
from .graph import Graph, Step
from .registry import converts


def _tuple(value: Any, dims: int) -> list[int]:
    return [int(v) for v in value] if isinstance(value, tuple | list) else [int(value)] * dims


def _unbatched(g: Graph, s: Step, name: str, dims: int) -> tuple[str, bool]:
    """`name` with a batch axis added when the input was unbatched (C, *spatial)."""
    if s.a["input"].ndim == dims + 1:
        return g.node("Unsqueeze", [name, g.ints([0])]), True
    return name, False


def _rebatched(g: Graph, name: str, unbatched: bool) -> str:
    return g.node("Squeeze", [name, g.ints([0])]) if unbatched else name


def _conv_pads(s: Step, padding: Any, kernel: list[int], dilation: list[int], dims: int) -> list:
    if padding == "valid":
        return [0] * (2 * dims)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [t // 2 for t in totals] + [t - t // 2 for t in totals]
    pads = _tuple(padding, dims)
    return pads + pads


@converts("conv1d", "conv2d", "convolution")
def conv(g: Graph, s: Step) -> str:
    x, w, b = s.a["input"], s.a["weight"], s.a["bias"]
    dims = w.ndim - 2
    kernel = list(w.shape[2:])
    dilation = _tuple(s.a["dilation"], dims)
    name, unbatched = _unbatched(g, s, g.value(x), dims)
    out = g.node(
        "Conv",
        [name, g.value(w), None if b is None else g.value(b)],
        kernel_shape=kernel,
        strides=_tuple(s.a["stride"], dims),
        pads=_conv_pads(s, s.a["padding"], kernel, dilation, dims),
        dilations=dilation,
        group=int(s.a["groups"]),
    )
    return _rebatched(g, out, unbatched)


@converts("conv_transpose2d")
def conv_transpose2d(g: Graph, s: Step) -> str:
    x, w, b = s.a["input"], s.a["weight"], s.a["bias"]
    name, unbatched = _unbatched(g, s, g.value(x), 2)
    pads = _tuple(s.a["padding"], 2)
    out = g.node(
        "ConvTranspose",
        [name, g.value(w), None if b is None else g.value(b)],
        kernel_shape=list(w.shape[2:]),
        strides=_tuple(s.a["stride"], 2),
        pads=pads + pads,
        output_padding=_tuple(s.a["output_padding"], 2),
        dilations=_tuple(s.a["dilation"], 2),
        group=int(s.a["groups"]),
    )
    return _rebatched(g, out, unbatched)


# -- pooling ---------------------------------------------------------------------------------------


def _pool_attrs(s: Step, dims: int) -> dict:
    kernel = _tuple(s.a["kernel_size"], dims)
    stride = s.a["stride"]
    stride = (
        kernel if stride is None or (isinstance(stride, tuple | list) and not stride) else stride
    )
    pads = _tuple(s.a["padding"], dims)
    return {
        "kernel_shape": kernel,
        "strides": _tuple(stride, dims),
        "pads": pads + pads,
        "ceil_mode": int(bool(s.a["ceil_mode"])),
    }


@converts("max_pool1d", "max_pool2d")
def max_pool(g: Graph, s: Step) -> str:
    if s.a["return_indices"]:
        raise s.fail("return_indices=True does not export (ONNX numbers indices differently)")
    dims = 1 if s.name == "max_pool1d" else 2
    name, unbatched = _unbatched(g, s, g.value(s.a["input"]), dims)
    attrs = _pool_attrs(s, dims)
    out = g.node("MaxPool", [name], dilations=_tuple(s.a["dilation"], dims), **attrs)
    return _rebatched(g, out, unbatched)


@converts("avg_pool1d", "avg_pool2d")
def avg_pool(g: Graph, s: Step) -> str:
    if s.a.get("divisor_override") is not None:
        raise s.fail("divisor_override does not export (ONNX's AveragePool has no such option)")
    dims = 1 if s.name == "avg_pool1d" else 2
    name, unbatched = _unbatched(g, s, g.value(s.a["input"]), dims)
    attrs = _pool_attrs(s, dims)
    include = int(bool(s.a["count_include_pad"]))
    out = g.node("AveragePool", [name], count_include_pad=include, **attrs)
    return _rebatched(g, out, unbatched)


@converts("adaptive_avg_pool2d")
def adaptive_avg_pool2d(g: Graph, s: Step) -> str:
    """GlobalAveragePool for a 1x1 output; AveragePool when the output size divides the input's
    (then glassnet's windows are the plain non-overlapping ones)."""
    x, out = s.a["input"], s.result_a
    name, unbatched = _unbatched(g, s, g.value(x), 2)
    size, target = x.shape[-2:], out.shape[-2:]
    if tuple(target) == (1, 1):
        return _rebatched(g, g.node("GlobalAveragePool", [name]), unbatched)
    if any(n % o for n, o in zip(size, target)) or tuple(s.b["input"].shape[-2:]) != tuple(size):
        raise s.fail(
            f"adaptive pooling from {tuple(size)} to {tuple(target)} exports only when the output "
            "size divides the input size (and the image size is fixed)"
        )
    kernel = [n // o for n, o in zip(size, target)]
    pooled = g.node("AveragePool", [name], kernel_shape=kernel, strides=kernel)
    return _rebatched(g, pooled, unbatched)


@converts("interpolate")
def interpolate(g: Graph, s: Step) -> str:
    """Nearest-neighbour upsampling as Gathers of the input rows and columns glassnet copies."""
    x = s.a["input"]
    keys = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias")
    out_size, scales = _interpolate_plan(x, *(s.a[k] for k in keys))
    exact = s.a["mode"] == "nearest-exact"
    if tuple(s.b["input"].shape[2:]) != tuple(x.shape[2:]):
        raise s.fail("upsampling exports for a fixed image size only")
    out = g.value(x)
    for axis, (n, o, scale) in enumerate(zip(x.shape[2:], out_size, scales), 2):
        index = _nearest_index(n, o, scale, exact).astype(np.int64)
        out = g.node("Gather", [out, g.const(index)], axis=axis)
    return out


# -- normalization ---------------------------------------------------------------------------------


def _filled(g: Graph, tensor: Any, size: int, value: float, dtype: Any) -> str:
    return g.value(tensor) if tensor is not None else g.const(np.full(size, value, dtype))


@converts("batch_norm")
def batch_norm(g: Graph, s: Step) -> str:
    x, mean, var = s.a["input"], s.a["running_mean"], s.a["running_var"]
    if s.a["training"] or mean is None or var is None:
        raise s.fail(
            "batch norm with batch statistics (training mode, or no running statistics) does "
            "not export; the exporter puts the model in eval mode, so give the layer "
            "track_running_stats=True"
        )
    channels = x.shape[1]
    inputs = [
        g.value(x),
        _filled(g, s.a["weight"], channels, 1.0, x.dtype),
        _filled(g, s.a["bias"], channels, 0.0, x.dtype),
        g.value(mean),
        g.value(var),
    ]
    return g.node("BatchNormalization", inputs, epsilon=float(s.a["eps"]))


def _normalized_axes(s: Step) -> list[int]:
    shape = s.a["normalized_shape"]
    count = len(shape) if isinstance(shape, tuple | list) else 1
    return list(range(-count, 0))


@converts("layer_norm")
def layer_norm(g: Graph, s: Step) -> str:
    x = s.a["input"]
    axes = _normalized_axes(s)
    inner = list(x.shape[axes[0] :])
    scale = s.a["weight"]
    scale_name = g.value(scale) if scale is not None else g.const(np.ones(inner, x.dtype))
    bias = None if s.a["bias"] is None else g.value(s.a["bias"])
    return g.node(
        "LayerNormalization",
        [g.value(x), scale_name, bias],
        axis=axes[0],
        epsilon=float(s.a["eps"]),
    )


@converts("rms_norm")
def rms_norm(g: Graph, s: Step) -> str:
    x = s.a["input"]
    eps = s.a["eps"]
    eps = float(np.finfo(x.dtype).eps) if eps is None else float(eps)
    name = g.value(x)
    mean_square = g.reduce("ReduceMean", g.node("Mul", [name, name]), _normalized_axes(s), True)
    root = g.node("Sqrt", [g.node("Add", [mean_square, g.scalar(eps, x.dtype)])])
    out = g.node("Div", [name, root])
    return out if s.a["weight"] is None else g.node("Mul", [out, g.value(s.a["weight"])])


# -- embedding and dropout -------------------------------------------------------------------------


@converts("embedding", "embedding_lookup")
def embedding(g: Graph, s: Step) -> str:
    if s.a["max_norm"] is not None:
        raise s.fail("max_norm (which rescales the weight in place) does not export")
    index = s.a["input"]
    name = g.value(index)
    if index.dtype != np.int64:
        name = g.cast(name, np.int64)
    return g.node("Gather", [g.value(s.a["weight"]), name], axis=0)


@converts("dropout", "dropout2d")
def dropout(g: Graph, s: Step) -> str:
    p = float(s.a["p"]) if s.a["training"] else 0.0
    if p > 0.0:
        raise s.fail(
            "dropout in training mode (training=True) does not export: an exported network "
            "computes the same answer every time"
        )
    return g.node("Identity", [g.value(s.a["input"])])
