"""Shared helpers of the ONNX export tests: export a glassnet model, check the file with
`onnx.checker`, run it in ONNX Runtime (one thread) on new inputs and compare with glassnet."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

import glassnet as gn
import glassnet.onnx


def session(path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def newest_opset() -> int:
    """The newest opset both the installed onnx and onnxruntime accept: onnx's newest, or
    lower, until ONNX Runtime loads a one-node model of that opset."""
    for opset in range(onnx.defs.onnx_opset_version(), glassnet.onnx.MIN_OPSET - 1, -1):
        x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x], [y])
        opsets = [helper.make_opsetid("", opset)]
        model = helper.make_model(graph, opset_imports=opsets)
        model.ir_version = helper.find_min_ir_version_for(opsets)
        try:
            ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        except Exception:
            continue
        return opset
    raise RuntimeError("onnxruntime loads no opset that glassnet.onnx writes")


def flat(output) -> list:
    if output is None:
        return []
    if isinstance(output, gn.Tensor):
        return [output.numpy()]
    return [a for item in output for a in flat(item)]


def glassnet_outputs(model, inputs: Sequence) -> list[np.ndarray]:
    with gn.no_grad():
        return flat(model(*inputs))


def onnx_outputs(path, inputs: Sequence) -> list[np.ndarray]:
    sess = session(path)
    feeds = {
        i.name: np.asarray(x.numpy() if isinstance(x, gn.Tensor) else x)
        for i, x in zip(sess.get_inputs(), inputs)
    }
    return sess.run(None, feeds)


def check_export(
    model,
    example,
    new=None,
    path=None,
    *,
    dynamic_axes=None,
    opset: int | None = None,
    atol: float = 1e-5,
    rtol: float = 0.0,
    **kwargs,
):
    """Export `model` on `example` (a tuple of inputs), check the file, and compare ONNX
    Runtime's outputs on `new` (default: the example) with glassnet's; returns the path."""
    model.eval()
    example = tuple(example)
    written = glassnet.onnx.export(
        model, example, path, dynamic_axes=dynamic_axes, opset_version=opset, **kwargs
    )
    proto = onnx.load(written)
    onnx.checker.check_model(proto, full_check=True)
    inputs = example if new is None else tuple(new)
    expected = glassnet_outputs(model, inputs)
    got = onnx_outputs(written, inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, atol=atol, rtol=rtol)
    return written
