"""Layers against torch.nn: Linear (initialisation, weights moved from PyTorch, shapes, dtypes,
errors), Identity, Flatten, Unflatten, Dropout and the activation modules, including their
printed form."""

import math
import re
import warnings

import numpy as np
import pytest
import torch

from glassnet.nn.layers import (
    ELU,
    GELU,
    Dropout,
    Flatten,
    Hardtanh,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from glassnet.random import manual_seed
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, random

# -- Linear ---------------------------------------------------------------------------------------


def linear_pair(in_features, out_features, bias=True, dtype=np.float32):
    """A torch.nn.Linear and a glassnet Linear holding the same weights."""
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    theirs = torch.nn.Linear(in_features, out_features, bias=bias, dtype=torch_dtype)
    ours = Linear(in_features, out_features, bias=bias, dtype=dtype)
    ours.weight.data[...] = theirs.weight.detach().numpy()
    if bias:
        ours.bias.data[...] = theirs.bias.detach().numpy()
    return ours, theirs


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8, 5), (2, 3, 5), (5,), (1, 5), (0, 5)], ids=str)
def test_linear_with_torchs_weights_matches_torch(shape, bias, dtype):
    torch.manual_seed(0)
    ours, theirs = linear_pair(5, 3, bias, dtype)
    compare(ours, theirs, random(shape, dtype))  # also runs backward through both layers
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    pairs = [(ours.weight, theirs.weight)] + ([(ours.bias, theirs.bias)] if bias else [])
    for mine, reference in pairs:
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), rtol=rtol, atol=1e-12)


def test_linear_state_dict_moves_both_ways_with_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Linear(5, 3)
    ours = Linear(5, 3)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = random((4, 5), np.float32)
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, rtol=1e-6, atol=1e-7)
    back = torch.nn.Linear(5, 3)
    back.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(back(torch.tensor(x)).detach().numpy(), expected, rtol=1e-6)


def test_linear_default_initialisation_follows_torch():
    """kaiming_uniform_(a=sqrt(5)) draws the weight from U(-1/sqrt(in), 1/sqrt(in)), as the bias."""
    manual_seed(0)
    layer = Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight.data, layer.bias.data):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound
    w = layer.weight.data
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # the std of U(-b, b)
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(layer.bias.data).max() > 0.9 * bound


def test_linear_initialisation_is_repeatable_and_reset_redraws():
    manual_seed(7)
    first = Linear(4, 3)
    manual_seed(7)
    second = Linear(4, 3)
    np.testing.assert_array_equal(first.weight.data, second.weight.data)
    np.testing.assert_array_equal(first.bias.data, second.bias.data)
    before = first.weight.data.copy()
    first.reset_parameters()
    assert not np.array_equal(before, first.weight.data)


def test_linear_parameters_and_state_dict_match_torch():
    for bias in (True, False):
        ours, theirs = Linear(3, 2, bias=bias), torch.nn.Linear(3, 2, bias=bias)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert Linear(3, 2, bias=False).bias is None


def test_linear_dtype():
    assert Linear(3, 2).weight.dtype == np.float32
    layer = Linear(3, 2, dtype=np.float64)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_linear_zero_in_features_like_torch():
    layer = Linear(0, 2)
    assert layer.weight.shape == (2, 0)
    np.testing.assert_array_equal(layer.bias.data, 0)
    np.testing.assert_array_equal(layer(Tensor(np.zeros((3, 0), np.float32))).data, 0)


@pytest.mark.parametrize(
    ("args", "expected"),
    [((2, 3), "Linear(in_features=2, out_features=3, bias=True)"), ((4, 1, False), None)],
)
def test_linear_repr_matches_torch(args, expected):
    assert repr(Linear(*args)) == repr(torch.nn.Linear(*args))
    if expected:
        assert repr(Linear(*args)) == expected


def test_linear_shape_error_names_the_layer():
    layer = Linear(10, 5)
    with pytest.raises(
        ValueError,
        match=r"Linear\(in_features=10, out_features=5, bias=True\): expected input with last "
        r"dimension 10, got shape \(8, 20\)",
    ):
        layer(Tensor(random((8, 20), np.float32)))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        layer(Tensor(np.float32(1.0)))


@pytest.mark.parametrize("bad", [-1, 2.5, "3", True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(
        ValueError, match=f"Linear: in_features must be a non-negative integer, got {bad!r}"
    ):
        Linear(bad, 3)


# -- Identity, Flatten, Unflatten, Dropout --------------------------------------------------------


def test_identity_returns_its_input():
    x = Tensor(random((2, 3)))
    assert Identity(54, unused="argument")(x) is x
    assert repr(Identity()) == repr(torch.nn.Identity())


@pytest.mark.parametrize(
    ("args", "shape"),
    [((), (2, 3, 4, 5)), ((0, 2), (2, 3, 4, 5)), ((2, -1), (2, 3, 4, 5)), ((), (3, 4))],
    ids=str,
)
def test_flatten_matches_torch(args, shape):
    compare(Flatten(*args), torch.nn.Flatten(*args), random(shape))
    assert repr(Flatten(*args)) == repr(torch.nn.Flatten(*args))


@pytest.mark.parametrize(("dim", "sizes"), [(1, (2, 5)), (-1, (5, 2)), (1, (1, 10))], ids=str)
def test_unflatten_matches_torch(dim, sizes):
    compare(Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), random((3, 10)))
    assert repr(Unflatten(dim, sizes)) == repr(torch.nn.Unflatten(dim, sizes))


def test_unflatten_rejects_bad_sizes():
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, got 10"):
        Unflatten(1, 10)


def test_dropout_uses_training_mode():
    layer = Dropout(0.4)
    x = Tensor(np.ones((200, 50), np.float32), requires_grad=True)
    manual_seed(0)
    out = layer(x)
    assert out.dtype == np.float32
    assert 0.35 < (out.data == 0).mean() < 0.45
    np.testing.assert_allclose(out.data[out.data != 0], 1 / 0.6, rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert (layer(x).data == 0).any()


@pytest.mark.parametrize("args", [(), (0.2,), (0.3, True)], ids=str)
def test_dropout_repr_matches_torch(args):
    assert repr(Dropout(*args)) == repr(torch.nn.Dropout(*args))


@pytest.mark.parametrize("p", [-0.5, 1.01])
def test_dropout_rejects_bad_p_at_construction(p):
    with pytest.raises(ValueError, match=re.escape(f"Dropout: p must be in [0, 1], got {p}")):
        Dropout(p)


# -- activation modules ---------------------------------------------------------------------------

# (glassnet module, torch module): both built with the same arguments
ACTIVATION_MODULES = [
    (ReLU(), torch.nn.ReLU()),
    (ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
    (ReLU6(), torch.nn.ReLU6()),
    (LeakyReLU(), torch.nn.LeakyReLU()),
    (LeakyReLU(0.2, True), torch.nn.LeakyReLU(0.2, True)),
    (ELU(), torch.nn.ELU()),
    (ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)),
    (Hardtanh(), torch.nn.Hardtanh()),
    (Hardtanh(-2.0, 0.5), torch.nn.Hardtanh(-2.0, 0.5)),
    (GELU(), torch.nn.GELU()),
    (GELU("tanh"), torch.nn.GELU("tanh")),
    (SiLU(), torch.nn.SiLU()),
    (Mish(), torch.nn.Mish()),
    (Sigmoid(), torch.nn.Sigmoid()),
    (Tanh(), torch.nn.Tanh()),
    (Softplus(), torch.nn.Softplus()),
    (Softplus(beta=2.0, threshold=5.0), torch.nn.Softplus(beta=2.0, threshold=5.0)),
    (Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
    (LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
]


@pytest.mark.parametrize(("ours", "theirs"), ACTIVATION_MODULES, ids=lambda m: repr(m))
def test_activation_module_repr_matches_torch(ours, theirs):
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("ours", "theirs"), ACTIVATION_MODULES, ids=lambda m: repr(m))
def test_activation_module_matches_torch(ours, theirs, dtype):
    x = random((4, 6), dtype, scale=3.0)
    atol = 2e-6 if isinstance(ours, GELU) and dtype == np.float32 else None
    # (torch refuses in-place ops on a leaf that requires grad: give it a copy)
    compare(ours, lambda a: theirs(a.clone()), x, atol=atol)
    assert list(ours.parameters()) == []


def test_softmax_module_without_dim_warns_like_torch():
    x = random((2, 3), np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = Softmax()(Tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(ours.data, expected.numpy(), rtol=1e-6)


def test_activation_module_argument_errors():
    with pytest.raises(
        ValueError, match=r"Hardtanh: max_val \(-1.0\) must be greater than or equal"
    ):
        Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'erf'"):
        GELU("erf")
