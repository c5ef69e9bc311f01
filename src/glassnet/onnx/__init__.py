"""ONNX export: a trained glassnet network as a file every runtime reads.

ONNX is a file format for networks: a graph of standard operators (``Conv``, ``MatMul``,
``LSTM``, ...) with the weights inside. ONNX Runtime runs it on servers, phones and in browsers;
TensorRT and OpenVINO read it too. `export` runs the model once on an example input, records every
op it performs (tracing, through glassnet's dispatch point) and writes those ops as an ONNX graph
with the `onnx` package's builders. Needs ``pip install 'glassnet[onnx]'``.

Example::

    >>> import glassnet.onnx
    >>> glassnet.onnx.export(model.eval(), glassnet.randn(1, 1, 8, 8), "lenet.onnx",
    ...                      input_names=["images"], output_names=["logits"],
    ...                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
"""

try:
    import onnx as _onnx  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "glassnet.onnx needs the onnx package: pip install 'glassnet[onnx]'"
    ) from error

from . import ops_math, ops_nn, ops_sequence, ops_shape  # noqa: F401  (register converters)
from .export import DEFAULT_OPSET, MIN_OPSET, export
from .graph import OnnxExportError
from .trace import is_tracing

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "OnnxExportError", "export", "is_tracing"]
