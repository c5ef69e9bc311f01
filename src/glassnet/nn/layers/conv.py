"""Convolutional layers: one small filter slid over the whole image, so its weights are shared.

Conv2d(3, 16, 3) holds 16 filters of 3x3 weights on each of 3 input channels; each filter
produces one output map that is large wherever its pattern appears in the input. Conv1d does the
same along a sequence; ConvTranspose2d runs a convolution backwards, to grow a map (in decoders
and generators). Weights start like PyTorch's, and state_dicts move between the two unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import checks
from ...dtypes import get_default_dtype
from ...meta import empty
from ...ops.conv import check_output_padding, conv1d, conv2d, conv_transpose2d
from ...tensor import Tensor
from ..init import _calculate_fan_in_and_fan_out, kaiming_uniform_, uniform_
from ..module import Module
from ..parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolution layers share: arguments (Conv1d's and Conv2d's signature),
    parameters, initialisation, repr."""

    _dims = 2
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        self.in_channels = checks.non_negative_int(in_channels, "in_channels", name)
        self.out_channels = checks.non_negative_int(out_channels, "out_channels", name)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        for arg, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(
                    f"{name}: {arg} must be divisible by groups, got {arg}={channels}, "
                    f"groups={groups}"
                )
        self.kernel_size = checks.int_tuple(kernel_size, "kernel_size", name, dims, 1)
        self.stride = checks.int_tuple(stride, "stride", name, dims, 1)
        if isinstance(padding, str) and not self.transposed:
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions"
                )
            self.padding: Any = padding
        else:
            self.padding = checks.int_tuple(padding, "padding", name, dims, 0)
        self.dilation = checks.int_tuple(dilation, "dilation", name, dims, 1)
        self.output_padding = (0,) * dims
        self.groups = groups
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode={padding_mode!r} is not supported; glassnet pads with "
                "zeros (padding_mode='zeros')"
            )
        self.padding_mode = padding_mode
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(shape, dtype, device))
        if bias:
            self.bias = Parameter(empty((out_channels,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, with
        # fan_in = weight.shape[1] * kernel area
        kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = _calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        dims = self._dims
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """Applies a 1-D convolution over a sequence of C_in-channel vectors:
    out[n, j] = bias[j] + sum_c (weight[j, c] cross-correlated with input[n, c]).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (one filter each).
        kernel_size: filter length.
        stride: step between windows (default 1).
        padding: zeros added at both ends: an int, 'valid' (none) or 'same' (output as long as
            the input; stride 1 only).
        dilation: spacing between filter taps (default 1).
        groups: split the channels into this many independent convolutions (default 1).
        bias: if False, no additive bias.
        padding_mode: only 'zeros'.
        device: ``"cpu"`` or ``"meta"`` (shapes without memory, see ``glassnet.meta``).
        dtype: the parameters' dtype (default: ``glassnet.get_default_dtype()``, float32).

    Shape:
        input ``(N, C_in, L)`` or ``(C_in, L)``; output ``(N, C_out, L_out)`` with
        ``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kernel_size)``, from U(-b, b) with
            b = 1 / sqrt(in_channels / groups * kernel_size), as in PyTorch.
        bias: ``(out_channels,)``, from the same range.
    """

    _dims = 1

    def forward(self, input: Tensor) -> Tensor:
        return conv1d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv2d(_ConvNd):
    """Applies a 2-D convolution over an image of C_in channels:
    out[n, j] = bias[j] + sum_c (weight[j, c] cross-correlated with input[n, c]).

    Args:
        in_channels: channels of the input image (3 for RGB).
        out_channels: channels of the output (one filter each).
        kernel_size: filter size, an int or (kH, kW).
        stride: step between windows (default 1).
        padding: zeros added on every side: an int, (pH, pW), 'valid' (none) or 'same' (output
            as large as the input; stride 1 only).
        dilation: spacing between filter taps (default 1).
        groups: split the channels into this many independent convolutions (default 1;
            ``groups=in_channels`` is a depthwise convolution).
        bias: if False, no additive bias.
        padding_mode: only 'zeros'.
        device: ``"cpu"`` or ``"meta"`` (shapes without memory, see ``glassnet.meta``).
        dtype: the parameters' dtype (default: ``glassnet.get_default_dtype()``, float32).

    Shape:
        input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; output ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1``, likewise W_out.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kH, kW)``, from U(-b, b) with
            b = 1 / sqrt(in_channels / groups * kH * kW) (``kaiming_uniform_`` with a = sqrt(5),
            as in PyTorch).
        bias: ``(out_channels,)``, from the same range.

    Example::

        >>> conv = Conv2d(3, 16, 3, padding=1)
        >>> conv(glassnet.randn(8, 3, 32, 32)).shape
        (8, 16, 32, 32)
    """

    def forward(self, input: Tensor) -> Tensor:
        return conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class ConvTranspose2d(_ConvNd):
    """Applies a transposed 2-D convolution: each input pixel adds a copy of the filters, scaled
    by its value, into the output, `stride` pixels apart, so the map grows (the gradient of
    Conv2d with respect to its input).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        kernel_size: filter size, an int or (kH, kW).
        stride: step between the copies in the output (default 1).
        padding: rows and columns cropped from each side of the result (default 0).
        output_padding: rows and columns added at the bottom and right (smaller than the stride
            or the dilation), to reach an exact size; or pass ``output_size`` to ``forward``.
        groups: split the channels into this many independent convolutions (default 1).
        bias: if False, no additive bias.
        dilation: spacing between filter taps (default 1).
        padding_mode: only 'zeros'.
        device: ``"cpu"`` or ``"meta"`` (shapes without memory, see ``glassnet.meta``).
        dtype: the parameters' dtype (default: ``glassnet.get_default_dtype()``, float32).

    Shape:
        input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; output ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kH, kW)`` (PyTorch's layout), from
            U(-b, b) with b = 1 / sqrt(out_channels / groups * kH * kW), as in PyTorch.
        bias: ``(out_channels,)``, from the same range.
    """

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )
        self.output_padding = checks.int_tuple(
            output_padding, "output_padding", "ConvTranspose2d", 2, 0
        )
        check_output_padding("ConvTranspose2d", self.output_padding, self.stride, self.dilation)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple:
        """The output_padding that gives `output_size` (its last two entries count), which must
        lie within one stride of the smallest possible output."""
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-2:]
        if len(size) != 2 or input.ndim not in (3, 4):
            raise ValueError(
                f"ConvTranspose2d: output_size must end with (H, W) and the input must be 3-D or "
                f"4-D, got output_size {output_size!r} and input shape {tuple(input.shape)}"
            )
        padding = []
        for i, want in enumerate(size):
            smallest = (
                (input.shape[-2 + i] - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            if not smallest <= want < smallest + self.stride[i]:
                raise ValueError(
                    f"ConvTranspose2d: requested an output size of {size}, but valid sizes for "
                    f"input shape {tuple(input.shape)} range from {smallest} to "
                    f"{smallest + self.stride[i] - 1} in dimension {i}"
                )
            padding.append(want - smallest)
        return tuple(padding)
