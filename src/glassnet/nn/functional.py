"""The functional interface: layers and losses as plain functions (``torch.nn.functional``'s names).

A layer object holds its parameters and calls one of these; calling them directly is the same
computation without the object: ``F.relu(F.linear(x, w, b))``. Each is a thin wrapper over one
differentiable op in ``glassnet.ops``.

``inplace=True`` is accepted wherever PyTorch accepts it, so that ported code runs, but glassnet
always returns a new tensor: the graph may still need the input.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import ops
from ..ops import activation as _act
from ..ops import attention as _attention
from ..ops import conv as _conv
from ..ops import fused as _fused
from ..ops import loss as _loss
from ..ops import normalization as _norm
from ..tensor import Tensor

# The losses take PyTorch's arguments unchanged.
binary_cross_entropy = _loss.binary_cross_entropy
binary_cross_entropy_with_logits = _loss.binary_cross_entropy_with_logits
cross_entropy = _loss.cross_entropy
huber_loss = _loss.huber_loss
kl_div = _loss.kl_div
l1_loss = _loss.l1_loss
mse_loss = _loss.mse_loss
nll_loss = _loss.nll_loss
smooth_l1_loss = _loss.smooth_l1_loss

# dropout and dropout2d take PyTorch's arguments, plus a keyword `generator`.
dropout = _fused.dropout
dropout2d = _fused.dropout2d

linear = _fused.linear
embedding = _fused.embedding
conv1d = _conv.conv1d
conv2d = _conv.conv2d
conv_transpose2d = _conv.conv_transpose2d
max_pool1d = _conv.max_pool1d
max_pool2d = _conv.max_pool2d
avg_pool1d = _conv.avg_pool1d
avg_pool2d = _conv.avg_pool2d
adaptive_avg_pool2d = _conv.adaptive_avg_pool2d
interpolate = _conv.interpolate
batch_norm = _norm.batch_norm
layer_norm = _norm.layer_norm
rms_norm = _norm.rms_norm
scaled_dot_product_attention = _attention.scaled_dot_product_attention
sigmoid = _act.sigmoid
tanh = _act.tanh


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.relu(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.relu6(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _act.leaky_relu(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _act.elu(input, alpha)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    return _act.hardtanh(input, min_val, max_val)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return _act.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.silu(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _act.mish(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return _act.softplus(input, beta, threshold)


def _softmax_dim(name: str, ndim: int, dim: int | None) -> int:
    """PyTorch's legacy choice when no dim is given (with its warning): 0 for 0-, 1- and 3-D input,
    else 1."""
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _cast(input: Tensor, dtype: Any) -> Tensor:
    return input if dtype is None else ops.astype(input, dtype)


def softmax(input: Tensor, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """Scores to probabilities along `dim` (``dtype`` converts the input first, as in PyTorch)."""
    return _act.softmax(_cast(input, dtype), _softmax_dim("softmax", input.ndim, dim))


def log_softmax(input: Tensor, dim: int | None = None, *, dtype: Any = None) -> Tensor:
    """Log-probabilities along `dim`, computed stably (``dtype`` converts the input first)."""
    return _act.log_softmax(_cast(input, dtype), _softmax_dim("log_softmax", input.ndim, dim))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (any shape) to one-hot int64 vectors along a new last dimension; with
    ``num_classes=-1`` the number of classes is the largest index plus one."""
    labels = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: expected a tensor of class indices (an integer dtype), got {labels.dtype}"
        )
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: can not infer the number of classes from an empty tensor")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)].flat[0]
        raise ValueError(
            f"one_hot: class index {bad} is out of range for num_classes={num_classes}"
        )
    out = np.zeros((*labels.shape, num_classes), dtype=np.int64)
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1, axis=-1)
    return Tensor(out)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """Divide each vector along `dim` by its p-norm (floored at `eps`, so zero vectors stay 0)."""
    norm = ops.clamp(ops.norm(input, p, dim, keepdim=True), min=eps)
    return input / norm
