"""Pooling and upsampling layers: shrink a feature map by summarising small windows, or grow it.

MaxPool2d(2) keeps the largest value of every 2x2 block, so a map halves in height and width and
a feature still counts when it moves by a pixel; AvgPool2d keeps the mean. AdaptiveAvgPool2d
pools to a fixed size whatever the input's (AdaptiveAvgPool2d(1) averages each whole map, before
a classifier). Upsample repeats pixels to grow a map, as decoders need. None has parameters.
"""

from __future__ import annotations

from typing import Any

from ... import checks
from ...ops.conv import (
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    interpolate,
    max_pool1d,
    max_pool2d,
)
from ...tensor import Tensor
from ..module import Module


class _MaxPoolNd(Module):
    _dims = 2

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        checks.int_tuple(kernel_size, "kernel_size", name, dims, 1)
        checks.int_tuple(padding, "padding", name, dims, 0)
        checks.int_tuple(dilation, "dilation", name, dims, 1)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        checks.int_tuple(self.stride, "stride", name, dims, 1)
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """The largest value of each window along a sequence.

    Args:
        kernel_size: window length.
        stride: step between windows (default: kernel_size).
        padding: -inf added at both ends (at most half the kernel).
        dilation: spacing between the window's elements.
        return_indices: also return where each maximum was (for unpooling).
        ceil_mode: add a last, partial window where the input does not fill a whole one.

    Shape:
        input ``(N, C, L)`` or ``(C, L)``; output ``(N, C, L_out)`` with
        ``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``.
    """

    _dims = 1

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    """The largest value of each kH x kW window: MaxPool2d(2) halves height and width.

    Args:
        kernel_size: window size, an int or (kH, kW).
        stride: step between windows (default: kernel_size, windows side by side).
        padding: -inf added on every side (at most half the kernel).
        dilation: spacing between the window's elements.
        return_indices: also return where each maximum was, as h * W + w in its input plane.
        ceil_mode: add a last, partial window where the input does not fill a whole one.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, H_out, W_out)`` with
        ``H_out = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1``, likewise W_out.

    Example::

        >>> MaxPool2d(2)(glassnet.randn(8, 16, 28, 28)).shape
        (8, 16, 14, 14)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class AvgPool1d(Module):
    """The mean of each window along a sequence.

    Args:
        kernel_size: window length.
        stride: step between windows (default: kernel_size).
        padding: zeros added at both ends (at most half the kernel).
        ceil_mode: add a last, partial window where the input does not fill a whole one.
        count_include_pad: count the padding zeros in the mean (default True).

    Shape:
        input ``(N, C, L)`` or ``(C, L)``; output ``(N, C, L_out)`` with
        ``L_out = (L + 2 padding - kernel_size) // stride + 1``.
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = checks.int_tuple(kernel_size, "kernel_size", "AvgPool1d", 1, 1)
        stride = kernel_size if stride is None else stride
        self.stride = checks.int_tuple(stride, "stride", "AvgPool1d", 1, 1)
        self.padding = checks.int_tuple(padding, "padding", "AvgPool1d", 1, 0)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each kH x kW window.

    Args:
        kernel_size: window size, an int or (kH, kW).
        stride: step between windows (default: kernel_size).
        padding: zeros added on every side (at most half the kernel).
        ceil_mode: add a last, partial window where the input does not fill a whole one.
        count_include_pad: count the padding zeros in the mean (default True, as in PyTorch).
        divisor_override: divide every window's sum by this number instead.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, H_out, W_out)`` with
        ``H_out = (H + 2 padding - kH) // stride + 1``, likewise W_out.
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        checks.int_tuple(kernel_size, "kernel_size", "AvgPool2d", 2, 1)
        checks.int_tuple(padding, "padding", "AvgPool2d", 2, 0)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        checks.int_tuple(self.stride, "stride", "AvgPool2d", 2, 1)
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's size: output row i averages
    input rows floor(i H / H_out) to ceil((i + 1) H / H_out) - 1, likewise columns.

    Args:
        output_size: (H_out, W_out), or one int for both; None keeps that input size.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, H_out, W_out)``.
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Grow (or shrink) a map to `size`, or by `scale_factor`, copying the nearest pixel.

    Args:
        size: output size, (H_out, W_out) or one int (L_out for 1-D input).
        scale_factor: multiplier for the spatial size (give this or `size`).
        mode: 'nearest' (default) or 'nearest-exact'.
        align_corners, recompute_scale_factor: as in ``interpolate``.

    Shape:
        input ``(N, C, L)`` or ``(N, C, H, W)``; output ``(N, C, L_out)`` or
        ``(N, C, H_out, W_out)`` with ``H_out = floor(H * scale_factor)``.
    """

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        if mode not in ("nearest", "nearest-exact"):
            raise NotImplementedError(
                f"Upsample: mode {mode!r} is not supported; glassnet has 'nearest' and "
                "'nearest-exact'"
            )
        self.size = size
        if isinstance(scale_factor, tuple | list):
            self.scale_factor: Any = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"
