"""Convolution and pooling: small windows slid over an image (or a sequence).

A convolution applies the same small filter at every position, so a pattern is found wherever it
appears; pooling keeps the largest (or the average) value of each window, so the map shrinks and
small shifts stop mattering. Nearest-neighbour upsampling repeats pixels to grow a map again.

How it is computed: "im2col" copies every window of the (padded) input into one column of a
matrix, through a strided view that costs nothing until the copy, and then ONE matrix product
with the filters does all the multiply-adds. The columns are laid out (C*kH*kW, N*oH*oW), so the
copy runs along image rows in both arrays. The backward pass is two more matrix products and
"col2im", which adds the columns back into the image with one strided slice per kernel offset
(a loop over the kH*kW offsets, never over the batch or the pixels). Pooling loops over the same
offsets with strided slices. 1-D ops run as 2-D ops on an image of height 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import checks
from ..autograd import is_grad_enabled
from ..dispatch import op, register_kernel
from ..meta import MetaArray, meta_result
from ..tensor import Tensor

_LAYOUTS = {1: ("(N, C, L)", "(C, L)"), 2: ("(N, C, H, W)", "(C, H, W)")}
Pads = list[tuple[int, int]]  # (before, after) for each spatial dimension


# --------------------------------------------------------------------------------------------------
# Arguments and shapes


def _batched(op: str, x: np.ndarray, dims: int, context: str = "") -> tuple[np.ndarray, bool]:
    """`x` as (N, C, *spatial), adding a batch axis to unbatched input, and whether it was
    unbatched."""
    if x.ndim == dims + 2:
        return x, False
    if x.ndim == dims + 1:
        return x[None], True
    batched, unbatched = _LAYOUTS[dims]
    raise ValueError(
        f"{op} expects {batched} or {unbatched} input, got shape {tuple(x.shape)}{context}"
    )


def _check_bias(op: str, bias: Tensor | None, channels: int, w: np.ndarray) -> None:
    if bias is not None and bias.data.shape != (channels,):
        raise ValueError(
            f"{op}: bias has shape {tuple(bias.data.shape)} but weight shape {tuple(w.shape)} "
            f"needs a bias of shape ({channels},)"
        )


def _out_size(
    op: str, size: int, k: int, s: int, before: int, after: int, d: int, context: str
) -> int:
    """How many windows of `k` taps `d` apart, `s` apart, fit in a padded length."""
    padded, span = size + before + after, d * (k - 1) + 1
    if span > padded:
        raise ValueError(
            f"{op}: the kernel ({k} taps, dilation {d}: {span} wide) is larger than the padded "
            f"input ({size} + {before + after} padding = {padded}){context}"
        )
    return (padded - span) // s + 1


def _pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """(N, C, H, W) padded with `value` on the last two axes; `x` itself when no padding."""
    if not any(before or after for before, after in pads):
        return x
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    out = np.full((n, c, top + h + bottom, left + w + right), value, dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def _crop(xp: np.ndarray, pads: Pads, size: Sequence[int]) -> np.ndarray:
    """The inverse of `_pad` on the last two axes (a view)."""
    (top, _), (left, _) = pads
    return xp[..., top : top + size[0], left : left + size[1]]


def _offsets(
    kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int], out: Sequence[int]
) -> Iterator[tuple]:
    """For each kernel offset (i, j) in row-major order, the strided slice of the padded input
    that this tap of every window reads: rows i*d + s*(0..oH-1), columns likewise."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            yield (..., rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def _im2col(
    xp: np.ndarray, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int], out
) -> np.ndarray:
    """Every window of the padded (N, C, Hp, Wp) input as a column: (C*kH*kW, N*oH*oW)."""
    n, c = xp.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    s_n, s_c, s_h, s_w = xp.strides
    windows = as_strided(
        xp,
        (c, kh, kw, n, oh, ow),
        (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw),
        writeable=False,
    )
    return np.ascontiguousarray(windows).reshape(c * kh * kw, n * oh * ow)


def _col2im(
    cols: np.ndarray, shape: tuple, kernel: Sequence[int], stride: Sequence[int], dilation, out
) -> np.ndarray:
    """The adjoint of `_im2col`: add each column back where its window came from, into a
    (C, N, Hp, Wp) array (channels first, the layout of the columns)."""
    c, n = shape[:2]
    cols = cols.reshape(c, kernel[0] * kernel[1], n, *out)
    image = np.zeros(shape, dtype=cols.dtype)
    for t, window in enumerate(_offsets(kernel, stride, dilation, out)):
        image[window] += cols[:, t]
    return image


def _to_nchw(image: np.ndarray, bias: Tensor | None) -> np.ndarray:
    """A (C, N, H, W) array as a contiguous (N, C, H, W) one, plus the bias, in one pass."""
    view = image.transpose(1, 0, 2, 3)
    out = np.empty(view.shape, dtype=image.dtype)
    if bias is None:
        np.copyto(out, view)
    else:
        np.add(view, bias.data[:, None, None], out=out)
    return out


# --------------------------------------------------------------------------------------------------
# Convolution


@op("conv1d")
def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation, as in PyTorch): input (N, C_in, L) or (C_in, L),
    weight (C_out, C_in / groups, k), bias (C_out,); `padding` an int, a 1-tuple, 'valid' or
    'same'."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


@op("conv2d")
def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch): input (N, C_in, H, W) or
    (C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out,); output
    (N, C_out, oH, oW) with oH = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1.

    `stride`, `padding` and `dilation` are ints or (height, width) pairs; `padding` may also be
    'valid' (none) or 'same' (output as large as the input; stride 1 only, any extra padding goes
    after, as in PyTorch). With `groups` g, the channels split into g independent convolutions.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def _conv_padding(
    op: str, padding: Any, kernel: Sequence[int], stride: Sequence[int], dilation, dims: int
) -> Pads:
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * dims
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    return [(p, p) for p in checks.int_tuple(padding, "padding", op, dims, 0)]


def _conv_plan(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    dims: int,
) -> tuple:
    """A convolution's checks and geometry, shared by its NumPy and meta kernels."""
    op = f"Conv{dims}d"
    x, w = input.data, weight.data
    shapes = f"; input shape {tuple(x.shape)}, weight shape {tuple(w.shape)}"
    if w.ndim != dims + 2:
        raise ValueError(
            f"{op}: weight must be {dims + 2}-D (C_out, C_in / groups, "
            f"{'k' if dims == 1 else 'kH, kW'}), got shape {tuple(w.shape)}"
        )
    xb, unbatched = _batched(op, x, dims, f" (weight shape {tuple(w.shape)})")
    groups = checks.positive_int(groups, "groups", op)
    c_out, c_group = w.shape[:2]
    if c_out % groups:
        raise ValueError(
            f"{op}: {c_out} output channels do not divide into groups={groups}{shapes}"
        )
    if xb.shape[1] != c_group * groups:
        in_groups = f" ({groups} groups of {c_group})" if groups > 1 else ""
        hint = ""
        if unbatched:
            hint = (
                f"; a {dims + 1}-D input is one unbatched sample (C, ...). If its first dimension "
                f"is the batch, add the channel dimension: x.unsqueeze(1)"
            )
        raise ValueError(
            f"{op}: expected input with {c_group * groups} channels{in_groups}, got "
            f"{xb.shape[1]}{shapes}{hint}"
        )
    checks.same_floating_dtype(op, input=x, weight=w, bias=None if bias is None else bias.data)
    _check_bias(op, bias, c_out, w)
    stride = checks.int_tuple(stride, "stride", op, dims, 1)
    dilation = checks.int_tuple(dilation, "dilation", op, dims, 1)
    kernel = w.shape[2:]
    pads = _conv_padding(op, padding, kernel, stride, dilation, dims)
    out_size = tuple(
        _out_size(op, n, k, s, *pad, d, shapes)
        for n, k, s, pad, d in zip(xb.shape[2:], kernel, stride, pads, dilation)
    )
    parents = (input, weight) if bias is None else (input, weight, bias)
    return op, x, w, xb, unbatched, c_out, groups, stride, dilation, kernel, pads, out_size, parents


@register_kernel("convolution", "meta")
def _conv_meta(input: Tensor, weight: Tensor, bias: Tensor | None, *args: Any) -> Tensor:
    op, x, _, xb, unbatched, c_out, *_, out_size, parents = _conv_plan(input, weight, bias, *args)
    return meta_result((xb.shape[0], c_out, *out_size)[int(unbatched) :], x.dtype, parents, op)


@op("convolution")
def _conv(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    dims: int,
) -> Tensor:
    """N-d convolution (1 or 2) as one matrix product over im2col columns."""
    plan = _conv_plan(input, weight, bias, stride, padding, dilation, groups, dims)
    op, x, w, xb, unbatched, c_out, groups, stride, dilation, kernel, pads, out_size, parents = plan
    if dims == 1:  # a 2-D convolution over an image of height 1
        xb, w, pads = xb[:, :, None], w[:, :, None], [(0, 0), *pads]
        kernel, stride, dilation, out_size = ((1, *v) for v in (kernel, stride, dilation, out_size))
    n, c, h, wd = xb.shape
    padded = (c, n, h + sum(pads[0]), wd + sum(pads[1]))

    cols = _im2col(_pad(xb, pads), kernel, stride, dilation, out_size)
    cols = cols.reshape(groups, -1, cols.shape[1])
    w3 = w.reshape(groups, c_out // groups, -1)
    out = _to_nchw(np.matmul(w3, cols).reshape(c_out, n, *out_size), bias)
    out_shape = out.shape[1:] if unbatched else out.shape
    if dims == 1:
        out_shape = (*out_shape[:-2], out_shape[-1])
    if not weight.requires_grad:
        cols = None  # only the weight's gradient needs the columns

    def backward(g: np.ndarray) -> tuple:
        g_cf = g.reshape(n, c_out, -1).transpose(1, 0, 2).reshape(groups, c_out // groups, -1)
        dx = dw = db = None
        if input.requires_grad:
            dcols = np.matmul(w3.transpose(0, 2, 1), g_cf)
            image = _col2im(dcols, padded, kernel, stride, dilation, out_size)
            image = _crop(image, pads, (h, wd)).transpose(1, 0, 2, 3)
            dx = np.ascontiguousarray(image).reshape(x.shape)
        if weight.requires_grad:
            dw = np.matmul(g_cf, cols.transpose(0, 2, 1)).reshape(weight.shape)
        if bias is not None and bias.requires_grad:
            db = g.reshape(n, c_out, -1).sum(axis=(0, 2))
        return dx, dw, db

    return Tensor._make(out.reshape(out_shape), parents, backward, op)


def check_output_padding(op: str, extra: Sequence[int], stride: Sequence[int], dilation) -> None:
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding {tuple(extra)} must be smaller than either stride "
            f"{tuple(stride)} or dilation {tuple(dilation)}"
        )


def _conv_transpose_plan(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> tuple:
    """A transposed convolution's checks and geometry, shared by its NumPy and meta kernels."""
    op = "ConvTranspose2d"
    x, w = input.data, weight.data
    shapes = f"; input shape {tuple(x.shape)}, weight shape {tuple(w.shape)}"
    if w.ndim != 4:
        raise ValueError(
            f"{op}: weight must be 4-D (C_in, C_out / groups, kH, kW), got shape {tuple(w.shape)}"
        )
    xb, unbatched = _batched(op, x, 2, f" (weight shape {tuple(w.shape)})")
    groups = checks.positive_int(groups, "groups", op)
    c_in = w.shape[0]
    if c_in % groups:
        raise ValueError(f"{op}: {c_in} input channels do not divide into groups={groups}{shapes}")
    if xb.shape[1] != c_in:
        raise ValueError(f"{op}: expected input with {c_in} channels, got {xb.shape[1]}{shapes}")
    c_out = w.shape[1] * groups
    checks.same_floating_dtype(op, input=x, weight=w, bias=None if bias is None else bias.data)
    _check_bias(op, bias, c_out, w)
    stride = checks.int_tuple(stride, "stride", op, 2, 1)
    pad = checks.int_tuple(padding, "padding", op, 2, 0)
    extra = checks.int_tuple(output_padding, "output_padding", op, 2, 0)
    dilation = checks.int_tuple(dilation, "dilation", op, 2, 1)
    check_output_padding(op, extra, stride, dilation)
    n, _, h, wd = xb.shape
    kernel = w.shape[2:]
    # the rows and columns the windows of the input pixels cover, before cropping `padding`
    full = [(m - 1) * s + d * (k - 1) + 1 for m, s, d, k in zip((h, wd), stride, dilation, kernel)]
    out_size = tuple(f - 2 * p + e for f, p, e in zip(full, pad, extra))
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output would have size {out_size}, less than 1{shapes}")
    buffer = tuple(max(f, p + o) for f, p, o in zip(full, pad, out_size))
    crops = [(p, b - p - o) for p, b, o in zip(pad, buffer, out_size)]
    parents = (input, weight) if bias is None else (input, weight, bias)
    return xb, unbatched, groups, stride, dilation, out_size, buffer, crops, parents


@register_kernel("conv_transpose2d", "meta")
def _conv_transpose2d_meta(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    plan = _conv_transpose_plan(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    xb, unbatched, groups, _, _, out_size, _, _, parents = plan
    shape = (xb.shape[0], weight.shape[1] * groups, *out_size)[int(unbatched) :]
    return meta_result(shape, input.dtype, parents, "ConvTranspose2d")


@op("conv_transpose2d")
def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input, used to
    upsample): input (N, C_in, H, W) or (C_in, H, W), weight (C_in, C_out / groups, kH, kW),
    bias (C_out,); output (N, C_out, oH, oW) with
    oH = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.

    Each input pixel adds a copy of the filter, scaled by its value, into the output; `padding`
    crops the result, `output_padding` adds rows and columns at the end (it must be smaller than
    the stride or the dilation)."""
    plan = _conv_transpose_plan(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    xb, unbatched, groups, stride, dilation, out_size, buffer, crops, parents = plan
    op, x, w = "ConvTranspose2d", input.data, weight.data
    n, c_in, h, wd = xb.shape
    c_out, kernel = w.shape[1] * groups, w.shape[2:]

    xc = xb.transpose(1, 0, 2, 3).reshape(groups, c_in // groups, -1)
    w3 = w.reshape(groups, c_in // groups, -1)
    cols = np.matmul(w3.transpose(0, 2, 1), xc)
    image = _col2im(cols, (c_out, n, *buffer), kernel, stride, dilation, (h, wd))
    out = _to_nchw(_crop(image, crops, out_size), bias)
    if not weight.requires_grad:
        xc = None

    def backward(g: np.ndarray) -> tuple:
        g4 = g.reshape(n, c_out, *out_size)
        gcols = _im2col(_pad(g4, crops), kernel, stride, dilation, (h, wd))
        gcols = gcols.reshape(groups, -1, gcols.shape[1])
        dx = dw = db = None
        if input.requires_grad:
            dx = np.matmul(w3, gcols).reshape(c_in, n, h, wd).transpose(1, 0, 2, 3)
            dx = np.ascontiguousarray(dx).reshape(x.shape)
        if weight.requires_grad:
            dw = np.matmul(xc, gcols.transpose(0, 2, 1)).reshape(weight.shape)
        if bias is not None and bias.requires_grad:
            db = g4.sum(axis=(0, 2, 3))
        return dx, dw, db

    return Tensor._make(out[0] if unbatched else out, parents, backward, op)


# --------------------------------------------------------------------------------------------------
# Pooling


class _Pooling:
    """A pooling op's windows over the input, lifted to 2-D: the input as (N, C, H, W), the
    padding on each side (with what ceil_mode adds at the end), the output size."""

    def __init__(
        self,
        op: str,
        x: np.ndarray,
        dims: int,
        kernel_size: Any,
        stride: Any,
        padding: Any,
        dilation: Any,
        ceil_mode: bool,
    ) -> None:
        xb, self.unbatched = _batched(op, x, dims)
        kernel = checks.int_tuple(kernel_size, "kernel_size", op, dims, 1)
        # an empty stride means the default, as in PyTorch
        stride = (
            kernel if stride is None or (isinstance(stride, Sequence) and not stride) else stride
        )
        stride = checks.int_tuple(stride, "stride", op, dims, 1)
        padding = checks.int_tuple(padding, "padding", op, dims, 0)
        dilation = checks.int_tuple(dilation, "dilation", op, dims, 1)
        if any(p > (d * (k - 1) + 1) // 2 for p, d, k in zip(padding, dilation, kernel)):
            raise ValueError(
                f"{op}: padding {padding} should be at most half of the kernel size {kernel}"
                + (f" with dilation {dilation}" if max(dilation) > 1 else "")
            )
        context = f"; input shape {tuple(x.shape)}, kernel_size {kernel}"
        out, pads = [], []
        for n, k, s, p, d in zip(xb.shape[2:], kernel, stride, padding, dilation):
            o = _out_size(op, n, k, s, p, p, d, context)
            # ceil_mode: one more, partial window where the input does not fill a whole one,
            # if it starts inside the input or the padding before it (PyTorch's rule)
            if ceil_mode and (n + 2 * p - d * (k - 1) - 1) % s and o * s < n + p:
                o += 1
            out.append(o)
            pads.append((p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)))
        self.shape = (*xb.shape[int(self.unbatched) : 2], *out)
        if dims == 1:  # pool an image of height 1
            xb, pads = xb[:, :, None], [(0, 0), *pads]
            kernel, stride, dilation, out = ((1, *v) for v in (kernel, stride, dilation, out))
        self.x, self.pads = xb, pads
        self.kernel, self.stride, self.dilation, self.out = kernel, stride, dilation, tuple(out)

    def windows(self) -> list[tuple]:
        return list(_offsets(self.kernel, self.stride, self.dilation, self.out))

    def overlapping(self) -> bool:
        """Whether one input pixel can be in two windows (so gradients must be added)."""
        return any(s < d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def scatter(self, padded_shape: tuple, parts: Iterator[tuple[tuple, np.ndarray]]) -> np.ndarray:
        """Gradient of the unpadded input from each window offset's share: the shares are added
        (or, when no windows overlap, written) into a padded image, then cropped."""
        image = np.zeros(padded_shape, dtype=self.x.dtype)
        add = self.overlapping()
        for window, share in parts:
            if add:
                image[window] += share
            else:
                image[window] = share
        return np.ascontiguousarray(_crop(image, self.pads, self.x.shape[2:]))


@op("max_pool1d")
def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value of each window along the last axis: input (N, C, L) or (C, L)."""
    return _max_pool(
        input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices=return_indices
    )


@op("max_pool2d")
def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value of each kH x kW window: input (N, C, H, W) or (C, H, W).

    `stride` defaults to the kernel size (windows side by side); `padding` (at most half the
    kernel) pads with -inf, so it never wins; `ceil_mode` adds a last, partial window where the
    input does not fill a whole one. With `return_indices`, also returns the position of each
    maximum in its input plane (h * W + w), as int64. The gradient goes to that position (the
    first one on ties, as in PyTorch)."""
    return _max_pool(
        input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices=return_indices
    )


@register_kernel("max_pool", "meta")
def _max_pool_meta(
    input: Tensor, dims: int, *windows: Any, return_indices: bool
) -> Tensor | tuple[Tensor, Tensor]:
    op = f"MaxPool{dims}d"
    checks.same_floating_dtype(op, input=input.data)
    pool = _Pooling(op, input.data, dims, *windows)
    out = meta_result(pool.shape, input.dtype, (input,), op)
    return (out, Tensor(MetaArray(pool.shape, np.int64))) if return_indices else out


@op("max_pool")
def _max_pool(
    input: Tensor,
    dims: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    *,
    return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    op = f"MaxPool{dims}d"
    checks.same_floating_dtype(op, input=input.data)
    pool = _Pooling(op, input.data, dims, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _pad(pool.x, pool.pads, -math.inf)
    windows = pool.windows()
    best = xp[windows[0]].copy()
    for window in windows[1:]:
        np.maximum(best, xp[window], out=best)
    arg = None
    if return_indices or (input.requires_grad and is_grad_enabled()):
        arg = _argmax_offset(xp, windows, best, bool(np.isnan(pool.x).any()))

    def backward(g: np.ndarray) -> tuple:
        g4 = g.reshape(best.shape)
        parts = ((w, g4 * (arg == t)) for t, w in enumerate(windows))
        return (pool.scatter(xp.shape, parts).reshape(input.shape),)

    out = Tensor._make(best.reshape(pool.shape), (input,), backward, op)
    if not return_indices:
        return out
    kh, kw = pool.kernel
    (sh, sw), (dh, dw), (oh, ow) = pool.stride, pool.dilation, pool.out
    (top, _), (left, _) = pool.pads
    rows = np.arange(oh)[:, None] * sh + (arg // kw) * dh - top
    cols = np.arange(ow) * sw + (arg % kw) * dw - left
    indices = rows * pool.x.shape[3] + cols
    return out, Tensor(indices.astype(np.int64).reshape(pool.shape))


def _argmax_offset(xp: np.ndarray, windows: list, best: np.ndarray, nan: bool) -> np.ndarray:
    """Which offset of its window each maximum came from, PyTorch's choice: the first of equal
    maxima, or the last NaN. Written as arithmetic on masks: masked copies (`where=`) with
    random masks ran several times slower."""
    arg = np.zeros(best.shape, dtype=np.uint8 if len(windows) <= 256 else np.int32)
    hit, seen = np.empty(best.shape, dtype=bool), np.zeros(best.shape, dtype=bool)
    step = np.empty_like(arg)
    for t, window in enumerate(windows):
        np.equal(xp[window], best, out=hit)
        if t:
            np.greater(hit, seen, out=hit)  # hit and not seen before
            np.multiply(hit, arg.dtype.type(t), out=step)
            arg += step
        seen |= hit
    if nan:  # rare: a slower pass that lets every NaN overwrite the offset
        for t, window in enumerate(windows):
            arg[np.isnan(xp[window])] = t
    return arg


@op("avg_pool1d")
def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window along the last axis: input (N, C, L) or (C, L)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


@op("avg_pool2d")
def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each kH x kW window: input (N, C, H, W) or (C, H, W).

    Padding adds zeros; `count_include_pad` (default True, as in PyTorch) counts them in the
    mean, otherwise only the input pixels count. A window that `ceil_mode` lets hang over the
    end never counts what lies beyond the padding. `divisor_override` divides every sum by one
    number instead."""
    return _avg_pool(
        input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _avg_divisor(
    pool: _Pooling, size: Sequence[int], count_include_pad: bool, override: int | None
) -> np.ndarray:
    """The number each window's sum is divided by, (oH, oW), with PyTorch's rules."""
    if override is not None:
        if not checks.is_int(override) or override == 0:
            raise ValueError(f"divisor_override must be a nonzero integer, got {override!r}")
        return np.full(pool.out, override, dtype=pool.x.dtype)
    counts = []
    for n, k, s, (p, _), o in zip(size, pool.kernel, pool.stride, pool.pads, pool.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, n) - np.maximum(start, 0))
    return np.outer(*counts).astype(pool.x.dtype)


@register_kernel("avg_pool", "meta")
def _avg_pool_meta(
    input: Tensor, dims: int, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool, *_: Any
) -> Tensor:
    op = f"AvgPool{dims}d"
    checks.same_floating_dtype(op, input=input.data)
    pool = _Pooling(op, input.data, dims, kernel_size, stride, padding, 1, ceil_mode)
    return meta_result(pool.shape, input.dtype, (input,), op)


@op("avg_pool")
def _avg_pool(
    input: Tensor,
    dims: int,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    op = f"AvgPool{dims}d"
    checks.same_floating_dtype(op, input=input.data)
    pool = _Pooling(op, input.data, dims, kernel_size, stride, padding, 1, ceil_mode)
    xp = _pad(pool.x, pool.pads)
    windows = pool.windows()
    total = xp[windows[0]].copy()
    for window in windows[1:]:
        total += xp[window]
    divisor = _avg_divisor(pool, pool.x.shape[2:], count_include_pad, divisor_override)
    total /= divisor

    def backward(g: np.ndarray) -> tuple:
        share = g.reshape(total.shape) / divisor
        return (pool.scatter(xp.shape, ((w, share) for w in windows)).reshape(input.shape),)

    return Tensor._make(total.reshape(pool.shape), (input,), backward, op)


def _separable(x: np.ndarray, a_h: np.ndarray, a_w: np.ndarray) -> np.ndarray:
    """a_h @ X @ a_w^T for every (H, W) plane X of x (N, C, H, W): two matrix products over the
    whole batch."""
    n, c, h, w = x.shape
    oh, ow = a_h.shape[0], a_w.shape[0]
    t = (x.reshape(-1, w) @ a_w.T).reshape(n * c, h, ow)
    t = t.transpose(0, 2, 1).reshape(-1, h) @ a_h.T
    return np.ascontiguousarray(t.reshape(n, c, ow, oh).transpose(0, 1, 3, 2))


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages input positions floor(i size / out) .. ceil((i+1) size / out)
    - 1, PyTorch's windows."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_plan(input: Tensor, output_size: Any) -> tuple:
    """The input as (N, C, H, W), whether it had no batch dimension, and the output size."""
    x = input.data
    checks.same_floating_dtype(_ADAPTIVE, input=x)
    xb, unbatched = _batched(_ADAPTIVE, x, 2)
    sizes = output_size if isinstance(output_size, Sequence) else (output_size,) * 2
    if len(sizes) == 2:
        sizes = tuple(n if s is None else s for n, s in zip(xb.shape[2:], sizes))
    return xb, unbatched, checks.int_tuple(sizes, "output_size", _ADAPTIVE, 2, 1)


_ADAPTIVE = "AdaptiveAvgPool2d"


@register_kernel("adaptive_avg_pool2d", "meta")
def _adaptive_avg_pool2d_meta(input: Tensor, output_size: Any) -> Tensor:
    xb, unbatched, out = _adaptive_plan(input, output_size)
    shape = (*xb.shape[:2], *out)[int(unbatched) :]
    return meta_result(shape, input.dtype, (input,), _ADAPTIVE)


@op("adaptive_avg_pool2d")
def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size (oH, oW) whatever the input's size: output row i
    averages input rows floor(i H / oH) to ceil((i + 1) H / oH) - 1 (windows may overlap).
    `output_size` is an int or a pair; None in the pair keeps that input size."""
    op, x = _ADAPTIVE, input.data
    xb, unbatched, out = _adaptive_plan(input, output_size)
    a_h, a_w = (_adaptive_matrix(n, o, x.dtype) for n, o in zip(xb.shape[2:], out))
    result = _separable(xb, a_h, a_w)

    def backward(g: np.ndarray) -> tuple:
        return (_separable(g.reshape(result.shape), a_h.T, a_w.T).reshape(x.shape),)

    return Tensor._make(result[0] if unbatched else result, (input,), backward, op)


# --------------------------------------------------------------------------------------------------
# Upsampling


def _nearest_index(size: int, out: int, scale: float | None, exact: bool) -> np.ndarray:
    """For each output position, the input position it copies, computed as PyTorch does (in
    float32: floor(i * scale), where scale is 1 / scale_factor or size / out)."""
    i = np.arange(out)
    if not exact and out == size:
        return i
    if not exact and out == 2 * size:
        return i >> 1
    step = np.float32(1.0 / scale if scale else np.float32(size) / np.float32(out))
    src = (i.astype(np.float32) + np.float32(0.5 if exact else 0.0)) * step
    return np.minimum(np.floor(src).astype(np.int64), size - 1)


def _sum_repeats(g: np.ndarray, index: np.ndarray, size: int, axis: int) -> np.ndarray:
    """The gradient of taking `index` along `axis`: the sum of the gradients of all copies of
    each input position (`index` is non-decreasing, so copies are neighbours)."""
    starts = np.flatnonzero(np.diff(index, prepend=-1))
    sums = np.add.reduceat(g, starts, axis=axis)
    if len(starts) == size:
        return sums
    shape = list(g.shape)
    shape[axis] = size
    grad = np.zeros(shape, dtype=g.dtype)
    target = [slice(None)] * g.ndim
    target[axis] = index[starts]
    grad[tuple(target)] = sums
    return grad


def _interpolate_plan(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> tuple:
    """Checks the arguments; the output size and the scale of each dimension (None: from sizes)."""
    op = "interpolate"
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(
            f"{op}: mode {mode!r} is not supported; glassnet has 'nearest' and 'nearest-exact'"
        )
    if align_corners is not None:
        raise ValueError(
            f"{op}: align_corners can only be set with the interpolating modes "
            "(linear, bilinear, bicubic, trilinear)"
        )
    if antialias:
        raise ValueError(f"{op}: antialias is only for the bilinear and bicubic modes")
    x = input.data
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{op} expects (N, C, L) or (N, C, H, W) input, got shape {tuple(x.shape)}"
        )
    dims = x.ndim - 2
    in_size = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                f"{op}: recompute_scale_factor is not meaningful with an explicit size"
            )
        out = checks.int_tuple(size, "size", op, dims, 1)
        scales: Sequence[float | None] = (None,) * dims
    else:
        factors = scale_factor if isinstance(scale_factor, Sequence) else (scale_factor,) * dims
        if len(factors) != dims or not all(
            isinstance(f, int | float) and not isinstance(f, bool) and f > 0 for f in factors
        ):
            raise ValueError(
                f"{op}: scale_factor must be a positive number or {dims} of them, got "
                f"{scale_factor!r}"
            )
        out = tuple(math.floor(n * float(f)) for n, f in zip(in_size, factors))
        if min(out) < 1:
            raise ValueError(f"{op}: output size {out} from scale_factor {scale_factor!r} is empty")
        scales = (None,) * dims if recompute_scale_factor else tuple(map(float, factors))
    return out, scales


@register_kernel("interpolate", "meta")
def _interpolate_meta(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    out, _ = _interpolate_plan(
        input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
    )
    return meta_result((*input.shape[:2], *out), input.dtype, (input,), "Upsample")


@op("interpolate")
def interpolate(
    input: Tensor,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) input to `size`, or by `scale_factor` (output size
    floor(size * scale_factor)), copying the nearest input pixel: mode 'nearest' (PyTorch's
    default: input position floor(i / scale)) or 'nearest-exact' (floor((i + 0.5) / scale))."""
    out, scales = _interpolate_plan(
        input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
    )
    x, in_size = input.data, input.shape[2:]
    exact = mode == "nearest-exact"
    indices = [_nearest_index(n, o, s, exact) for n, o, s in zip(in_size, out, scales)]
    result = x
    for axis, index in enumerate(indices, 2):
        result = np.take(result, index, axis=axis)

    def backward(g: np.ndarray) -> tuple:
        for axis, (index, n) in enumerate(zip(indices, in_size), 2):
            g = _sum_repeats(g, index, n, axis)
        return (g,)

    return Tensor._make(result, (input,), backward, "Upsample")
