"""Batch normalisation and channel dropout against PyTorch: F.batch_norm values and gradients in
training and evaluation, the running statistics of BatchNorm1d/2d over several steps, state_dict
in both directions, float64 finite differences, error messages; Dropout2d."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet.nn.functional as F
from glassnet.nn import BatchNorm1d, BatchNorm2d, Dropout2d
from glassnet.random import manual_seed
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, gradcheck, random

SHAPES = [(8, 3), (4, 3, 7), (2, 3, 5, 4), (5, 2, 1, 3)]
# input rank: (glassnet layer, torch layer)
LAYERS = {
    2: (BatchNorm1d, torch.nn.BatchNorm1d),
    3: (BatchNorm1d, torch.nn.BatchNorm1d),
    4: (BatchNorm2d, torch.nn.BatchNorm2d),
}


def channel_params(channels, dtype, seed=3):
    weight = 1.0 + 0.5 * random((channels,), dtype, seed=seed)
    bias = random((channels,), dtype, seed=seed + 1)
    return weight, bias


def running_stats(channels, dtype):
    mean = random((channels,), dtype, seed=5)
    var = (0.5 + np.abs(random((channels,), np.float64, seed=6))).astype(dtype)
    return mean, var


def input_like(shape, dtype, seed=0):
    # an offset and a spread per channel, so that normalising has something to undo
    x = random(shape, np.float64, seed=seed) * 3.0 + 2.0
    return x.astype(dtype)


def layer_pair(ndim, channels, dtype=np.float32, **kwargs):
    ours_cls, torch_cls = LAYERS[ndim]
    ours = ours_cls(channels, dtype=dtype, **kwargs)
    theirs = torch_cls(channels, dtype=torch.float64 if dtype == np.float64 else None, **kwargs)
    return ours, theirs


# -- the functional op ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_training_matches_torch(shape, dtype):
    weight, bias = channel_params(shape[1], dtype)

    def ours(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    def theirs(x, w, b):
        return TF.batch_norm(x, None, None, w, b, training=True)

    atol = 2e-5 if dtype == np.float32 else None
    compare(ours, theirs, input_like(shape, dtype), weight, bias, rtol=1e-4, atol=atol)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES[:3], ids=str)
def test_batch_norm_training_without_affine_matches_torch(shape, dtype):
    compare(
        lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
        lambda x: TF.batch_norm(x, None, None, training=True, eps=1e-3),
        input_like(shape, dtype),
        rtol=1e-4,
        atol=2e-5 if dtype == np.float32 else None,
    )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_evaluation_matches_torch(shape, dtype):
    weight, bias = channel_params(shape[1], dtype)
    mean, var = running_stats(shape[1], dtype)

    def ours(x, w, b):
        return F.batch_norm(x, Tensor(mean), Tensor(var), w, b, training=False)

    def theirs(x, w, b):
        return TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b, training=False)

    compare(ours, theirs, input_like(shape, dtype), weight, bias, rtol=1e-5)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 2, 3, 2)], ids=str)
def test_batch_norm_gradcheck(shape, training):
    weight, bias = channel_params(shape[1], np.float64)
    mean, var = running_stats(shape[1], np.float64)

    def fn(x, w, b):
        return F.batch_norm(x, Tensor(mean.copy()), Tensor(var.copy()), w, b, training)

    gradcheck(fn, input_like(shape, np.float64), weight, bias)


def test_batch_norm_gradient_of_input_only():
    x = Tensor(input_like((6, 3, 4), np.float32), requires_grad=True)
    w, b = (Tensor(a) for a in channel_params(3, np.float32))
    F.batch_norm(x, None, None, w, b, training=True).sum().backward()
    # the output of each channel sums to N * L * bias whatever x is: its gradient vanishes
    np.testing.assert_allclose(x.grad.data, 0.0, atol=1e-5)
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batch_norm_updates_running_statistics_like_torch(momentum):
    shape = (6, 3, 4)
    ours_mean, ours_var = (Tensor(a.copy()) for a in running_stats(3, np.float64))
    theirs_mean, theirs_var = (torch.tensor(a.copy()) for a in running_stats(3, np.float64))
    count = Tensor(np.array(0, dtype=np.int64))
    for step in range(5):
        x = input_like(shape, np.float64, seed=step) * (step + 1)
        factor = momentum if momentum is not None else 1.0 / (step + 1)
        F.batch_norm(
            Tensor(x), ours_mean, ours_var, None, None, True, momentum, num_batches_tracked=count
        )
        TF.batch_norm(torch.tensor(x), theirs_mean, theirs_var, None, None, True, factor)
    assert int(count.data) == 5
    np.testing.assert_allclose(ours_mean.data, theirs_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_var.data, theirs_var.numpy(), rtol=1e-12)


def test_batch_norm_float32_stays_float32():
    x = Tensor(input_like((4, 3, 2, 2), np.float32), requires_grad=True)
    w, b = (Tensor(a, requires_grad=True) for a in channel_params(3, np.float32))
    mean, var = (Tensor(a) for a in running_stats(3, np.float32))
    for training in (True, False):
        out = F.batch_norm(x, mean, var, w, b, training=training)
        out.sum().backward()
        assert out.dtype == np.float32
        assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
        assert mean.dtype == var.dtype == np.float32


# -- BatchNorm1d / BatchNorm2d --------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("shape", [(8, 4), (4, 4, 6), (3, 4, 5, 5)], ids=str)
def test_layer_training_steps_then_evaluation_match_torch(shape, momentum):
    ours, theirs = layer_pair(len(shape), shape[1], momentum=momentum)
    for step in range(5):
        x = input_like(shape, np.float32, seed=10 + step) * (1 + step)
        out = ours(Tensor(x))
        ref = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-4, atol=2e-5)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(
            getattr(ours, name).data, getattr(theirs, name).numpy(), rtol=1e-5, err_msg=name
        )
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 5
    ours.eval()
    theirs.eval()
    x = input_like(shape, np.float32, seed=99)
    np.testing.assert_allclose(
        ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("ndim", [2, 3, 4])
def test_layer_gradients_match_torch(ndim):
    shape = (4, 3, 5, 2)[:ndim]
    ours, theirs = layer_pair(ndim, 3, dtype=np.float64)
    weight, bias = channel_params(3, np.float64)
    ours.weight.data[...] = weight
    ours.bias.data[...] = bias
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
        theirs.bias.copy_(torch.tensor(bias))
    x = input_like(shape, np.float64)
    compare(ours, theirs, x)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "kwargs",
    [dict(affine=False), dict(track_running_stats=False), dict(bias=False), dict(eps=1e-2)],
    ids=str,
)
def test_layer_options_match_torch_in_training_and_evaluation(kwargs):
    ours, theirs = layer_pair(4, 3, dtype=np.float64, **kwargs)
    for mode in ("train", "eval", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x = input_like((4, 3, 3, 3), np.float64, seed=len(mode))
        compare(ours, theirs, x)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_state_dict_keys_dtypes_and_initial_values_match_torch():
    ours, theirs = BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(ref)
    for key in ref:
        assert mine[key].shape == tuple(ref[key].shape), key
        assert str(mine[key].dtype) == str(ref[key].dtype).replace("torch.", ""), key
        np.testing.assert_array_equal(mine[key].data, ref[key].numpy(), err_msg=key)
    assert mine["num_batches_tracked"].dtype == np.int64


def test_state_dict_moves_both_ways_with_torch():
    source = torch.nn.BatchNorm2d(4)
    for step in range(3):
        source(torch.tensor(input_like((2, 4, 3, 3), np.float32, seed=step)))
    with torch.no_grad():
        source.weight.copy_(torch.tensor(channel_params(4, np.float32)[0]))
    ours = BatchNorm2d(4)
    ours.load_state_dict({k: v.numpy() for k, v in source.state_dict().items()})
    assert int(ours.num_batches_tracked.data) == 3
    assert ours.num_batches_tracked.dtype == np.int64
    x = input_like((2, 4, 3, 3), np.float32, seed=7)
    source.eval()
    ours.eval()
    expected = source(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)

    ours.train()
    ours(Tensor(x))
    back = torch.nn.BatchNorm2d(4)
    back.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    assert int(back.num_batches_tracked) == 4
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.data, err_msg=key)


def test_double_keeps_the_counter_an_integer():
    layer = BatchNorm1d(3).double()
    assert layer.running_mean.dtype == layer.weight.dtype == np.float64
    assert layer.num_batches_tracked.dtype == np.int64
    out = layer(Tensor(input_like((4, 3), np.float64)))
    assert out.dtype == np.float64 and layer.running_var.dtype == np.float64


def test_reset_running_stats():
    layer = BatchNorm1d(3)
    layer(Tensor(input_like((4, 3), np.float32)))
    layer.reset_running_stats()
    np.testing.assert_array_equal(layer.running_mean.data, 0.0)
    np.testing.assert_array_equal(layer.running_var.data, 1.0)
    assert int(layer.num_batches_tracked.data) == 0


@pytest.mark.parametrize(
    "args, kwargs",
    [((3,), {}), ((3, 1e-3, None), {}), ((3,), dict(affine=False)), ((3,), dict(bias=False))],
    ids=str,
)
def test_repr_matches_torch(args, kwargs):
    assert repr(BatchNorm1d(*args, **kwargs)) == repr(torch.nn.BatchNorm1d(*args, **kwargs))
    assert repr(BatchNorm2d(*args, **kwargs)) == repr(torch.nn.BatchNorm2d(*args, **kwargs))


# -- errors ---------------------------------------------------------------------------------------


def test_wrong_channel_count_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\).*16 channels.*\(8, 3, 28, 28\)"):
        BatchNorm2d(16)(Tensor(np.zeros((8, 3, 28, 28), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\).*\(N, C\) or \(N, C, L\).*\(2, 5\)"):
        BatchNorm1d(4)(Tensor(np.zeros((2, 5), np.float32)))


@pytest.mark.parametrize(
    "layer, shape, expected",
    [(BatchNorm1d(3), (2, 3, 4, 4), "2D or 3D"), (BatchNorm2d(3), (2, 3, 4), "4D"),
     (BatchNorm2d(3), (3,), "4D")],
    ids=str,
)  # fmt: skip
def test_wrong_rank_is_rejected(layer, shape, expected):
    with pytest.raises(ValueError, match=rf"expected {expected} input .*got {len(shape)}D input"):
        layer(Tensor(np.zeros(shape, np.float32)))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)], ids=str)
def test_one_value_per_channel_raises_in_training_like_torch(shape):
    layer = BatchNorm1d(3) if len(shape) < 4 else BatchNorm2d(3)
    x = np.ones(shape, np.float32)
    message = "Expected more than 1 value per channel when training"
    with pytest.raises(ValueError, match=message):
        layer(Tensor(x))
    with pytest.raises(ValueError, match=message):
        LAYERS[len(shape)][1](3)(torch.tensor(x))
    assert int(layer.num_batches_tracked.data) == 0  # a failed step counts nothing
    layer.eval()
    assert layer(Tensor(x)).shape == shape  # one sample is fine for evaluation


def test_functional_errors():
    x = Tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"weight has shape \(4,\).*\(4, 3\) has 3 channels"):
        F.batch_norm(x, None, None, Tensor(np.ones(4, np.float32)), training=True)
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="momentum=None"):
        F.batch_norm(x, Tensor(np.zeros(3, np.float32)), None, training=True, momentum=None)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(Tensor(np.zeros(3, np.float32)), None, None, training=True)
    with pytest.raises(TypeError, match="floating point"):
        F.batch_norm(Tensor(np.zeros((4, 3), np.int64)), None, None, training=True)
    with pytest.raises(TypeError, match="weight has dtype float64"):
        F.batch_norm(x, None, None, Tensor(np.ones(3)), training=True)


@pytest.mark.parametrize("bad", [dict(num_features=-1), dict(eps=0), dict(momentum="0.1")], ids=str)
def test_bad_arguments_are_rejected_at_construction(bad):
    with pytest.raises(ValueError, match="BatchNorm2d"):
        BatchNorm2d(**{"num_features": 3, **bad})


# -- Dropout2d ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(dtype):
    manual_seed(0)
    x = Tensor(1.0 + np.abs(random((16, 8, 5, 5), dtype)), requires_grad=True)
    out = F.dropout2d(x, 0.25)
    dropped = (out.data == 0).reshape(16, 8, -1)
    assert np.all(dropped == dropped[:, :, :1])  # one decision per sample and channel
    assert 0.1 < dropped[:, :, 0].mean() < 0.4
    mask = np.where(out.data == 0, 0.0, 1 / 0.75).astype(dtype)
    np.testing.assert_allclose(out.data, x.data * mask, rtol=1e-6)
    out.backward(np.ones(x.shape, dtype))
    np.testing.assert_allclose(x.grad.data, mask, rtol=1e-6)
    assert out.dtype == x.grad.dtype == dtype


def test_dropout2d_is_repeatable_and_idle_outside_training():
    x = Tensor(np.ones((4, 6, 3, 3), np.float32))
    manual_seed(3)
    first = F.dropout2d(x).data
    manual_seed(3)
    np.testing.assert_array_equal(F.dropout2d(x).data, first)
    assert F.dropout2d(x, training=False) is x
    layer = Dropout2d(0.5)
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert (layer(x).data == 0).any()


def test_dropout2d_on_2d_and_3d_inputs_follows_torch():
    manual_seed(1)
    out = F.dropout2d(Tensor(np.ones((50, 40), np.float32)), 0.5)  # each element on its own
    assert 0.3 < (out.data == 0).mean() < 0.7
    with pytest.warns(UserWarning, match=r"read as \(N, C, L\)"):
        out = F.dropout2d(Tensor(np.ones((6, 8, 5), np.float32)), 0.5)
    assert np.all(out.data == out.data[:, :, :1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(Tensor(np.ones((2, 3, 4, 4), np.float32)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.dropout2d(Tensor(np.ones(5, np.float32)))
    with pytest.raises(ValueError, match=r"Dropout2d: p must be in \[0, 1\], got 1.5"):
        Dropout2d(1.5)


@pytest.mark.parametrize("args", [(), (0.2,), (0.3, True)], ids=str)
def test_dropout2d_repr_matches_torch(args):
    assert repr(Dropout2d(*args)) == repr(torch.nn.Dropout2d(*args))
