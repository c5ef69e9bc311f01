"""Batch normalisation layers: keep every channel's values centred and of unit spread.

While training, BatchNorm normalises each channel with the mean and variance of the current batch
and remembers their running averages; in evaluation mode (`model.eval()`) it uses those averages,
so a single image gives the same answer whatever else is in its batch. A learned weight and bias
per channel let the network undo the normalisation where that helps.

LayerNorm and RMSNorm normalise each sample over its own features instead (what transformers
use): no batch statistics, the same computation in training and evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import checks
from ...dtypes import get_default_dtype
from ...meta import empty, full
from ...ops.normalization import batch_norm, layer_norm, rms_norm
from ...tensor import Tensor
from ..init import ones_, zeros_
from ..module import Module
from ..parameter import Parameter


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input ranks they accept."""

    _ranks: tuple[int, ...] = ()
    _shapes = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = checks.non_negative_int(num_features, "num_features", name)
        if isinstance(eps, bool) or not isinstance(eps, int | float) or eps <= 0:
            raise ValueError(f"{name}: eps must be a positive number, got {eps!r}")
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, int | float)
        ):
            raise ValueError(f"{name}: momentum must be a number or None, got {momentum!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        n = self.num_features
        if affine:
            self.weight = Parameter(empty((n,), dtype, device))
            if bias:
                self.bias = Parameter(empty((n,), dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(full((n,), 0, dtype, device)))
            self.register_buffer("running_var", Tensor(full((n,), 1, dtype, device)))
            self.register_buffer("num_batches_tracked", Tensor(full((), 0, np.int64, device)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Forget the statistics seen so far: mean 0, variance 1, no batches counted."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            ones_(self.weight)
        if self.bias is not None:
            zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        shape = input.shape
        if len(shape) not in self._ranks:
            raise ValueError(
                f"{self._get_name()}({self.num_features}): expected "
                f"{' or '.join(f'{r}D' for r in self._ranks)} input {self._shapes}, got "
                f"{len(shape)}D input of shape {shape}"
            )
        if shape[1] != self.num_features:
            raise ValueError(
                f"{self._get_name()}({self.num_features}): expected {self.num_features} "
                f"channels (dimension 1 of {self._shapes}), got input of shape {shape} with "
                f"{shape[1]}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        # The running statistics are updated while training and used for evaluation; without
        # them (track_running_stats=False) every batch is normalised by its own statistics.
        use_batch_stats = self.training or self.running_mean is None
        update = self.training and self.track_running_stats
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            self.momentum,
            self.eps,
            num_batches_tracked=self.num_batches_tracked if update else None,
            sum_across=self._sum_across() if self.training else None,
        )

    def _sum_across(self) -> Any:
        """Where the batch statistics are summed over processes (SyncBatchNorm): none here."""
        return None

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over a batch of feature vectors (N, C) or sequences (N, C, L):
    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, per channel C.

    Args:
        num_features: C, the number of channels (features).
        eps: added to the variance for numerical stability (default 1e-5).
        momentum: weight of each new batch in the running statistics (default 0.1); None keeps
            a plain average over all batches seen.
        affine: learn a per-channel weight (initially 1) and bias (initially 0).
        track_running_stats: keep running_mean and running_var for evaluation; if False, the
            batch's own statistics are used in evaluation too.
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the dtype of the parameters and running statistics (default float32).
        bias: with `affine`, whether to learn the bias (keyword only, as in PyTorch).

    Shape:
        input ``(N, C)`` or ``(N, C, L)``; output the same.

    Attributes:
        weight, bias: ``(C,)`` parameters, when `affine`.
        running_mean, running_var: ``(C,)`` buffers; num_batches_tracked: an int64 count.

    Example::

        >>> bn = BatchNorm1d(100)
        >>> bn(glassnet.randn(20, 100)).shape
        (20, 100)
    """

    _ranks = (2, 3)
    _shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over a batch of images (N, C, H, W): each channel is normalised over
    the batch and all positions, y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias.

    Args and attributes as for `BatchNorm1d`.

    Shape:
        input ``(N, C, H, W)``; output the same.

    Example::

        >>> bn = BatchNorm2d(16)
        >>> bn(glassnet.randn(8, 16, 28, 28)).shape
        (8, 16, 28, 28)
    """

    _ranks = (4,)
    _shapes = "(N, C, H, W)"


def _normalized_shape(layer: str, normalized_shape: Any) -> tuple[int, ...]:
    """`normalized_shape` (an int or a sequence of them) as a tuple of positive ints."""
    single = isinstance(normalized_shape, int | np.integer)
    dims = (normalized_shape,) if single else normalized_shape
    try:
        dims = tuple(dims)
    except TypeError:
        dims = ()
    if not dims or any(isinstance(d, bool) or not isinstance(d, int | np.integer) for d in dims):
        dims = (0,)
    if min(dims) <= 0:
        raise ValueError(
            f"{layer}: normalized_shape must be a positive integer or a tuple of them, got "
            f"{normalized_shape!r}"
        )
    return tuple(int(d) for d in dims)


class _RowNorm(Module):
    """What LayerNorm and RMSNorm share: the normalized shape, eps, the optional weight."""

    def _setup(
        self,
        normalized_shape: Any,
        eps: float | None,
        elementwise_affine: bool,
        device: Any,
        dtype: Any,
    ) -> np.dtype:
        name = type(self).__name__
        self.normalized_shape = _normalized_shape(name, normalized_shape)
        if eps is not None and (
            isinstance(eps, bool) or not isinstance(eps, int | float) or eps < 0
        ):
            raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, dtype, device))
        else:
            self.register_parameter("weight", None)
        return dtype

    def _check_input(self, input: Tensor) -> None:
        shape, k = input.shape, len(self.normalized_shape)
        if len(shape) < k or tuple(shape[len(shape) - k :]) != self.normalized_shape:
            dims = ", ".join(map(str, self.normalized_shape))
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}): expected input of shape (*, {dims}), "
                f"got shape {shape}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LayerNorm(_RowNorm):
    """Layer normalisation: each sample is normalised over its last dimensions,
    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, the (biased) statistics per sample.

    Args:
        normalized_shape: the trailing shape to normalise over: an int (the last dimension)
            or a tuple.
        eps: added to the variance for numerical stability (default 1e-5).
        elementwise_affine: learn a weight (initially 1) and a bias (initially 0) of shape
            `normalized_shape`.
        bias: with `elementwise_affine`, whether to learn the bias.
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the parameters' dtype (default float32).

    Shape:
        input ``(*, *normalized_shape)``; output the same.

    Example::

        >>> ln = LayerNorm(512)
        >>> ln(glassnet.randn(8, 20, 512)).shape
        (8, 20, 512)
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dtype = self._setup(normalized_shape, eps, elementwise_affine, device, dtype)
        if elementwise_affine and bias:
            self.bias = Parameter(empty(self.normalized_shape, dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            ones_(self.weight)
        if self.bias is not None:
            zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bias={self.bias is not None}"


class RMSNorm(_RowNorm):
    """Root-mean-square normalisation: y = x / sqrt(mean(x²) + eps) * weight over the last
    dimensions, LayerNorm without centring and without bias (as in LLaMA).

    Args:
        normalized_shape: the trailing shape to normalise over: an int or a tuple.
        eps: added to the mean square; None (default) uses the input dtype's machine epsilon,
            as PyTorch does.
        elementwise_affine: learn a weight of shape `normalized_shape` (initially 1).
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the weight's dtype (default float32).

    Shape:
        input ``(*, *normalized_shape)``; output the same.
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self._setup(normalized_shape, eps, elementwise_affine, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)
