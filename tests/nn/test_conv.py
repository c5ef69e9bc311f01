"""Convolution, pooling and upsampling against PyTorch: functional ops (values, dtypes and the
gradients of input, weight and bias) over stride, padding, dilation, groups, odd sizes and
unbatched input; float64 finite differences; the layers with torch's weights, their default
initialisation and repr; and the error messages."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet.nn.functional as F
import glassnet.nn.layers as layers
from glassnet.nn.layers import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)
from glassnet.random import manual_seed
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, gradcheck, random

# float32 sums of a few dozen products: a little more room than one elementwise op
F32 = {"rtol": 2e-5, "atol": 2e-5}


def tolerance(dtype):
    return F32 if dtype == np.float32 else {}


def compare_op(ours, theirs, shapes, dtype, kwargs, seed=0):
    """Run `ours` and `theirs` with the same kwargs on random arrays of the given shapes."""
    arrays = [random(s, dtype, seed=seed + i) for i, s in enumerate(shapes)]
    return compare(
        lambda *t: ours(*t, **kwargs), lambda *t: theirs(*t, **kwargs), *arrays, **tolerance(dtype)
    )


# -- conv2d / conv1d / conv_transpose2d -----------------------------------------------------------

# (input shape, weight shape, bias, keyword arguments)
CONV2D = [
    ((2, 3, 7, 9), (4, 3, 3, 3), True, {}),
    ((2, 3, 7, 9), (4, 3, 3, 3), True, {"stride": 2, "padding": 1}),
    ((2, 3, 7, 9), (5, 3, 5, 5), True, {"padding": "same"}),
    ((2, 3, 7, 9), (5, 3, 4, 2), True, {"padding": "same", "dilation": (1, 2)}),
    ((2, 3, 7, 9), (4, 3, 3, 5), True, {"padding": "valid", "stride": (2, 3)}),
    ((2, 3, 7, 9), (4, 3, 3, 3), True, {"dilation": 2, "padding": (2, 1)}),
    ((2, 3, 8, 8), (4, 3, 5, 5), False, {"stride": 2, "padding": 2}),
    ((2, 3, 7, 9), (6, 3, 1, 1), True, {}),
    ((2, 4, 7, 9), (6, 2, 3, 3), True, {"groups": 2, "padding": 1}),
    ((2, 4, 7, 9), (4, 1, 3, 3), True, {"groups": 4, "stride": 2, "padding": 1}),  # depthwise
    ((2, 4, 7, 9), (8, 1, 5, 5), True, {"groups": 4, "padding": "same"}),  # channel multiplier
    ((3, 7, 9), (4, 3, 3, 3), True, {"padding": 1}),  # unbatched
    ((1, 1, 3, 3), (2, 1, 3, 3), True, {}),  # the kernel covers the whole image
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("x", "w", "bias", "kwargs"), CONV2D, ids=str)
def test_conv2d_matches_torch(x, w, bias, kwargs, dtype):
    shapes = [x, w, (w[0],)] if bias else [x, w]
    compare_op(F.conv2d, TF.conv2d, shapes, dtype, kwargs)


CONV1D = [
    ((2, 3, 11), (4, 3, 3), True, {}),
    ((2, 3, 11), (4, 3, 5), True, {"stride": 2, "padding": 2}),
    ((2, 3, 11), (4, 3, 4), True, {"padding": "same", "dilation": 2}),
    ((2, 4, 11), (6, 2, 3), False, {"groups": 2, "stride": 3, "padding": (1,)}),
    ((2, 4, 11), (4, 1, 3), True, {"groups": 4, "padding": "valid"}),
    ((3, 11), (4, 3, 3), True, {"padding": 1}),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("x", "w", "bias", "kwargs"), CONV1D, ids=str)
def test_conv1d_matches_torch(x, w, bias, kwargs, dtype):
    shapes = [x, w, (w[0],)] if bias else [x, w]
    compare_op(F.conv1d, TF.conv1d, shapes, dtype, kwargs)


# (input shape, weight shape (C_in, C_out / groups, kH, kW), bias, keyword arguments)
CONV_TRANSPOSE = [
    ((2, 4, 5, 6), (4, 3, 3, 3), True, {}),
    ((2, 4, 5, 6), (4, 3, 3, 3), True, {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 5, 6), (4, 3, 4, 4), True, {"stride": 2, "padding": 1}),
    ((2, 4, 5, 6), (4, 2, 3, 5), True, {"stride": (2, 3), "padding": (0, 2), "groups": 2}),
    ((2, 4, 5, 6), (4, 3, 3, 3), False, {"dilation": 2, "output_padding": 1, "groups": 2}),
    ((2, 4, 5, 6), (4, 2, 3, 3), True, {"stride": 3, "padding": 2, "output_padding": 2}),
    ((4, 5, 6), (4, 3, 3, 3), True, {"stride": 2}),  # unbatched
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("x", "w", "bias", "kwargs"), CONV_TRANSPOSE, ids=str)
def test_conv_transpose2d_matches_torch(x, w, bias, kwargs, dtype):
    out_channels = w[1] * kwargs.get("groups", 1)
    shapes = [x, w, (out_channels,)] if bias else [x, w]
    compare_op(F.conv_transpose2d, TF.conv_transpose2d, shapes, dtype, kwargs)


def test_conv_gradients_only_where_needed():
    """A frozen weight or a constant input gets no gradient; the others still do."""
    x, w = random((2, 3, 6, 6), np.float32), random((4, 3, 3, 3), np.float32, seed=1)
    for op in (F.conv2d, lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1))):
        xs, ws = Tensor(x, requires_grad=True), Tensor(w)
        op(xs, ws).sum().backward()
        assert xs.grad is not None and ws.grad is None
        xs, ws = Tensor(x), Tensor(w, requires_grad=True)
        op(xs, ws).sum().backward()
        assert xs.grad is None and ws.grad.dtype == np.float32


def test_conv_gradcheck():
    x, w, b = random((1, 4, 4, 5)), random((2, 2, 2, 3), seed=1), random((2,), seed=2)
    w_all = random((2, 4, 2, 3), seed=5)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2)), x, w_all, b)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, groups=2, padding="same"), x, w, b)
    gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=1, groups=2), x[0], w[:, :, 0], seed=3)
    wt = random((4, 1, 3, 2), seed=4)
    gradcheck(
        lambda x, w, b: F.conv_transpose2d(
            x, w, b, stride=2, padding=1, output_padding=1, groups=2
        ),
        x,
        wt,
        b,
    )


# -- pooling --------------------------------------------------------------------------------------


def pool_cases():
    """(kernel, stride, padding, dilation, ceil_mode) over the combinations PyTorch accepts."""
    for k, s, p, d, ceil in itertools.product([2, 3], [1, 2, 3], [0, 1], [1, 2], [False, True]):
        if p <= (d * (k - 1) + 1) // 2:
            yield k, s, p, d, ceil


POOLS = list(pool_cases())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    ("shape", "cases"),
    [((2, 3, 7, 9), POOLS), ((1, 2, 8, 8), POOLS[::3]), ((3, 5, 6), POOLS[1::3])],
    ids=["odd", "even", "unbatched"],
)
def test_max_pool2d_matches_torch(shape, cases, dtype):
    for k, s, p, d, ceil in cases:
        kwargs = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        compare_op(F.max_pool2d, TF.max_pool2d, [shape], dtype, kwargs)
        x = random(shape, dtype)
        _, indices = F.max_pool2d(Tensor(x), return_indices=True, **kwargs)
        _, expected = TF.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
        assert indices.dtype == np.int64
        np.testing.assert_array_equal(indices.data, expected.numpy(), err_msg=str(kwargs))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("shape", "cases"), [((2, 3, 11), POOLS), ((3, 8), POOLS[::3])], ids=str)
def test_max_pool1d_matches_torch(shape, cases, dtype):
    for k, s, p, d, ceil in cases:
        kwargs = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        compare_op(F.max_pool1d, TF.max_pool1d, [shape], dtype, kwargs)
    x = random(shape, dtype)
    _, indices = F.max_pool1d(Tensor(x), 3, 2, 1, return_indices=True)
    _, expected = TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(indices.data, expected.numpy())


def test_max_pool_ties_and_nan_follow_torch():
    """On ties the gradient goes to the first maximum of the window; NaN wins its window."""
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, -1.0, 2.0], [2.0, 2.0, 2.0]]]], np.float32)
    compare(lambda t: F.max_pool2d(t, 2, 1), lambda t: TF.max_pool2d(t, 2, 1), x)
    x[0, 0, 1, 1] = np.nan
    compare(lambda t: F.max_pool2d(t, 2, 1), lambda t: TF.max_pool2d(t, 2, 1), x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (3, 5, 6)], ids=str)
def test_avg_pool2d_matches_torch(shape, dtype):
    for (k, s, p, _, ceil), include in itertools.product(POOLS[::2], [True, False]):
        kwargs = dict(kernel_size=k, stride=s, padding=min(p, k // 2), ceil_mode=ceil)
        compare_op(
            F.avg_pool2d, TF.avg_pool2d, [shape], dtype, {**kwargs, "count_include_pad": include}
        )
    kwargs = dict(kernel_size=(2, 3), stride=(1, 2), divisor_override=4)
    compare_op(F.avg_pool2d, TF.avg_pool2d, [shape], dtype, kwargs)


@pytest.mark.parametrize("dtype", FLOATS)
def test_avg_pool1d_matches_torch(dtype):
    for (k, s, p, _, ceil), include in itertools.product(POOLS[::2], [True, False]):
        kwargs = dict(kernel_size=k, stride=s, padding=min(p, k // 2), ceil_mode=ceil)
        compare_op(
            F.avg_pool1d,
            TF.avg_pool1d,
            [(2, 3, 11)],
            dtype,
            {**kwargs, "count_include_pad": include},
        )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    ("shape", "size"),
    [
        ((2, 3, 7, 9), (3, 4)),
        ((2, 3, 7, 9), 1),
        ((2, 3, 8, 8), 2),
        ((2, 3, 5, 6), (None, 4)),
        ((2, 3, 3, 3), (5, 7)),  # larger than the input: windows repeat
        ((3, 7, 9), (7, 9)),
    ],
    ids=str,
)
def test_adaptive_avg_pool2d_matches_torch(shape, size, dtype):
    compare_op(F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, [shape], dtype, {"output_size": size})


def test_pooling_gradcheck():
    x = np.random.default_rng(0).permutation(4 * 5).reshape(1, 1, 4, 5) * 0.1  # no ties
    x = np.concatenate([x, -x], axis=1)
    gradcheck(lambda t: F.max_pool2d(t, 2, 1, padding=1, ceil_mode=True), x)
    gradcheck(lambda t: F.max_pool2d(t, 3, 2, padding=1, dilation=(1, 2)), x)
    gradcheck(lambda t: F.avg_pool2d(t, 3, 2, padding=1, count_include_pad=False), x)
    gradcheck(lambda t: F.avg_pool1d(t, 2, ceil_mode=True), x[0])
    gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 2)), x)


# -- interpolate ----------------------------------------------------------------------------------

INTERPOLATE = [
    ((2, 3, 4, 5), {"scale_factor": 2}),
    ((2, 3, 4, 5), {"scale_factor": (1.5, 2.7)}),
    ((2, 3, 7, 9), {"size": (3, 4)}),
    ((2, 3, 7, 9), {"size": (10, 20)}),
    ((2, 3, 13, 13), {"scale_factor": 0.3}),
    ((2, 3, 5, 7), {"scale_factor": 1.7, "recompute_scale_factor": True}),
    ((2, 3, 11), {"scale_factor": 3}),
    ((2, 3, 11), {"size": 4}),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize(("shape", "kwargs"), INTERPOLATE, ids=str)
def test_interpolate_nearest_matches_torch(shape, kwargs, mode, dtype):
    compare_op(F.interpolate, TF.interpolate, [shape], dtype, {**kwargs, "mode": mode})


def test_interpolate_gradcheck():
    x = random((1, 2, 3, 4))
    gradcheck(lambda t: F.interpolate(t, scale_factor=(2, 1.5)), x)
    gradcheck(lambda t: F.interpolate(t, size=(2, 3)), x)


# -- layers ---------------------------------------------------------------------------------------


def with_torch_weights(ours, theirs):
    """`ours` holding `theirs`'s parameters, moved through its state_dict."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours


# (layer name in both libraries, positional arguments, keyword arguments, input shape)
LAYERS = [
    ("Conv2d", (3, 6, 3), {"padding": 1}, (2, 3, 7, 9)),
    ("Conv2d", (4, 6, (3, 5)), {"stride": 2, "groups": 2}, (2, 4, 7, 9)),
    ("Conv2d", (4, 4, 3), {"groups": 4, "bias": False}, (4, 7, 9)),
    ("Conv2d", (3, 5, 4), {"padding": "same", "dilation": 2}, (2, 3, 7, 9)),
    ("Conv1d", (3, 5, 3), {"stride": 2, "padding": 1}, (2, 3, 11)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "output_padding": 1}, (2, 4, 5, 6)),
    ("ConvTranspose2d", (4, 6, 4), {"stride": 2, "padding": 1, "groups": 2}, (2, 4, 5, 6)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), LAYERS, ids=str)
def test_conv_layer_with_torchs_weights_matches_torch(name, args, kwargs, shape, dtype):
    torch.manual_seed(0)
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    reference = getattr(torch.nn, name)(*args, **kwargs, dtype=torch_dtype)
    layer = with_torch_weights(getattr(layers, name)(*args, **kwargs, dtype=dtype), reference)
    assert list(layer.state_dict()) == list(reference.state_dict())
    compare(layer, reference, random(shape, dtype), **tolerance(dtype))
    for name, param in layer.named_parameters():
        expected = dict(reference.named_parameters())[name].grad.numpy()
        assert param.grad.dtype == dtype
        np.testing.assert_allclose(
            param.grad.data, expected, **(tolerance(dtype) or {"rtol": 1e-10})
        )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (MaxPool1d(3, 2), torch.nn.MaxPool1d(3, 2)),
        (AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
        (AvgPool2d(2, count_include_pad=False), torch.nn.AvgPool2d(2, count_include_pad=False)),
        (AvgPool1d(3), torch.nn.AvgPool1d(3)),
        (AdaptiveAvgPool2d((None, 3)), torch.nn.AdaptiveAvgPool2d((None, 3))),
        (AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
        (Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (Upsample(size=(4, 5)), torch.nn.Upsample(size=(4, 5))),
    ],
    ids=repr,
)
def test_pooling_layer_matches_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    shape = (2, 3, 9) if "1d" in repr(ours) else (2, 3, 7, 9)
    compare(ours, theirs, random(shape, np.float32))


def test_max_pool_layer_returns_indices():
    x = random((2, 3, 6, 6), np.float32)
    out, indices = MaxPool2d(2, return_indices=True)(Tensor(x))
    _, expected = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.data, expected.numpy())


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Conv2d(3, 16, 3, padding=1), torch.nn.Conv2d(3, 16, 3, padding=1)),
        (
            Conv2d(4, 8, (3, 5), stride=2, padding="valid", dilation=2, groups=2, bias=False),
            torch.nn.Conv2d(
                4, 8, (3, 5), stride=2, padding="valid", dilation=2, groups=2, bias=False
            ),
        ),
        (Conv2d(4, 8, 3, padding="same"), torch.nn.Conv2d(4, 8, 3, padding="same")),
        (Conv1d(3, 5, 4), torch.nn.Conv1d(3, 5, 4)),
        (
            ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
            torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        ),
    ],
    ids=repr,
)
def test_conv_layer_repr_and_parameters_match_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda: Conv2d(16, 32, 3), 16 * 9),
        (lambda: Conv1d(12, 63, 5, groups=3), 4 * 5),
        (lambda: ConvTranspose2d(24, 32, 4, groups=2), 16 * 16),  # fan_in from weight.shape[1]
    ],
    ids=["Conv2d", "Conv1d_groups", "ConvTranspose2d_groups"],
)
def test_conv_default_initialisation_follows_torch(make, fan_in):
    """kaiming_uniform_(a=sqrt(5)): weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.data, layer.bias.data
    assert w.dtype == b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # the std of U(-b, b)
    assert abs(w.mean()) < 0.05 * bound
    assert np.abs(w).max() > 0.95 * bound


def test_conv_initialisation_is_repeatable():
    manual_seed(3)
    first = Conv2d(3, 4, 3)
    manual_seed(3)
    np.testing.assert_array_equal(first.weight.data, Conv2d(3, 4, 3).weight.data)


def test_conv_transpose_output_size_picks_the_output_padding():
    torch.manual_seed(0)
    reference = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    layer = with_torch_weights(ConvTranspose2d(3, 2, 3, stride=2, padding=1), reference)
    x = random((1, 3, 4, 5), np.float32)
    out = layer(Tensor(x), output_size=(8, 10))
    expected = reference(torch.tensor(x), output_size=(8, 10)).detach().numpy()
    assert out.shape == (1, 2, 8, 10)
    np.testing.assert_allclose(out.data, expected, **F32)
    with pytest.raises(ValueError, match="valid sizes .* range from 7 to 8"):
        layer(Tensor(x), output_size=(9, 9))


def test_small_cnn_trains_end_to_end():
    """Conv -> pool -> conv -> adaptive pool: one backward reaches every parameter."""
    manual_seed(0)
    layers = [Conv2d(1, 4, 3, padding=1), MaxPool2d(2), Conv2d(4, 6, 3), AdaptiveAvgPool2d(1)]
    out = Tensor(random((3, 1, 8, 8), np.float32))
    for layer in layers:
        out = layer(out)
    assert out.shape == (3, 6, 1, 1) and out.dtype == np.float32
    out.sum().backward()
    for layer in layers[::2]:
        assert layer.weight.grad.dtype == np.float32 and layer.weight.grad.data.any()


# -- errors ---------------------------------------------------------------------------------------


def test_conv_errors_name_the_op_and_shapes():
    w = Tensor(random((4, 3, 3, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"Conv2d expects \(N, C, H, W\) or \(C, H, W\).*\(1, 1, 2, 3, 8\)"
    ):
        F.conv2d(Tensor(random((2, 3, 8), np.float32)[None, None]), w)
    with pytest.raises(ValueError, match=r"Conv2d expects .* got shape \(3, 8\)"):
        F.conv2d(Tensor(random((3, 8), np.float32)), w)
    with pytest.raises(
        ValueError,
        match=r"expected input with 3 channels, got 1; input shape \(2, 1, 8, 8\), "
        r"weight shape \(4, 3, 3, 3\)",
    ):
        F.conv2d(Tensor(random((2, 1, 8, 8), np.float32)), w)
    with pytest.raises(ValueError, match=r"Conv2d: the kernel .* larger than the padded input"):
        F.conv2d(Tensor(random((2, 3, 2, 8), np.float32)), w)
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        F.conv2d(Tensor(random((2, 3, 8, 8), np.float32)), w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"Conv1d expects \(N, C, L\) or \(C, L\)"):
        F.conv1d(Tensor(random((2, 3, 8, 8), np.float32)), Tensor(random((4, 3, 3), np.float32)))
    with pytest.raises(TypeError, match="one dtype"):
        F.conv2d(Tensor(random((2, 3, 8, 8))), w)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\)"):
        F.conv2d(Tensor(random((2, 3, 8, 8), np.float32)), w, Tensor(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="expected input with 3 channels, got 4"):
        F.conv_transpose2d(Tensor(random((2, 4, 5, 5), np.float32)), w.transpose(0, 1))
    with pytest.raises(ValueError, match="output_padding .* smaller than either stride"):
        F.conv_transpose2d(Tensor(random((2, 4, 5, 5), np.float32)), w, output_padding=1)


def test_a_batch_without_its_channel_dimension_gets_a_hint():
    # (64, 28, 28): 64 grey images without the channel axis; torch reads a 3-D input as one
    # unbatched (C, H, W) image, and so does glassnet, but it says what to do
    with pytest.raises(ValueError, match=r"Conv2d.*got 64; input shape \(64, 28, 28\).*unsqueeze"):
        Conv2d(1, 6, 5)(Tensor(np.zeros((64, 28, 28), np.float32)))


def test_conv_layer_errors():
    with pytest.raises(ValueError, match=r"Conv2d expects \(N, C, H, W\) or \(C, H, W\)"):
        Conv2d(3, 4, 3)(Tensor(random((1, 2, 3, 8, 8), np.float32)))
    with pytest.raises(ValueError, match="expected input with 3 channels, got 1"):
        Conv2d(3, 4, 3)(Tensor(random((2, 1, 8, 8), np.float32)))
    with pytest.raises(NotImplementedError, match="padding_mode='reflect' is not supported"):
        Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of 2 ints"):
        Conv2d(3, 4, (3, 3, 3))
    with pytest.raises(ValueError, match="output_padding"):
        ConvTranspose2d(3, 4, 3, output_padding=1)


def test_pooling_and_upsampling_errors():
    x = Tensor(random((2, 3, 6, 6), np.float32))
    with pytest.raises(ValueError, match=r"MaxPool2d expects \(N, C, H, W\) or \(C, H, W\)"):
        F.max_pool2d(Tensor(random((1, 2, 3, 6, 6), np.float32)), 2)
    with pytest.raises(ValueError, match="at most half of the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"AvgPool2d: the kernel .* larger than the padded input"):
        F.avg_pool2d(x, 7)
    with pytest.raises(ValueError, match=r"AvgPool1d expects \(N, C, L\) or \(C, L\)"):
        F.avg_pool1d(x, 2)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d expects"):
        F.adaptive_avg_pool2d(Tensor(random((6, 6), np.float32)), 2)
    with pytest.raises(NotImplementedError, match="mode 'bilinear' is not supported"):
        F.interpolate(x, scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        MaxPool2d(0)
    with pytest.raises(NotImplementedError, match="Upsample: mode 'bilinear'"):
        Upsample(scale_factor=2, mode="bilinear")
