"""MLP: the same layers, state_dict keys and outputs as the equivalent torch.nn.Sequential."""

import numpy as np
import pytest
import torch

from glassnet.models import ACTIVATIONS, MLP
from glassnet.nn.container import Sequential
from glassnet.nn.layers import Dropout, Identity, Linear, ReLU, Tanh
from glassnet.tensor import Tensor

TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU,
    "leaky_relu": torch.nn.LeakyReLU,
    "elu": torch.nn.ELU,
    "softplus": torch.nn.Softplus,
    "linear": torch.nn.Identity,
    "identity": torch.nn.Identity,
}


def torch_mlp(sizes, activation="relu", dropout=0.0, output_activation=None, bias=True):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out, bias=bias))
        if i < len(sizes) - 2:
            layers.append(TORCH_ACTIVATIONS[activation]())
            if dropout:
                layers.append(torch.nn.Dropout(dropout))
    if output_activation is not None:
        layers.append(TORCH_ACTIVATIONS[output_activation]())
    return torch.nn.Sequential(*layers)


def copy_torch_weights(net, model):
    model.load_state_dict(
        {k: Tensor(v.detach().numpy().copy()) for k, v in net.state_dict().items()}
    )


def assert_same_outputs(model, net, batch_shape, in_features, seed=0):
    x = np.random.default_rng(seed).standard_normal((*batch_shape, in_features)).astype(np.float32)
    out = model(Tensor(x))
    expected = net(torch.from_numpy(x)).detach().numpy()
    assert out.dtype == np.float32
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_default_mlp_is_linear_relu_linear():
    model = MLP([64, 128, 10])
    assert isinstance(model, Sequential)
    assert [type(m) for m in model.children()] == [Linear, ReLU, Linear]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model.state_dict()["0.weight"].shape == (128, 64)
    assert model.sizes == [64, 128, 10]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(sizes=[5, 3]),
        dict(sizes=[4, 8, 8, 2], activation="tanh"),
        dict(sizes=[4, 6, 3], activation="leaky_relu", dropout=0.25),
        dict(sizes=[3, 7, 5, 1], activation="gelu", output_activation="sigmoid"),
        dict(sizes=[6, 5, 2], activation="elu", bias=False),
        dict(sizes=[2, 4, 4, 3], activation="linear", dropout=0.1, output_activation="softplus"),
    ],
)
def test_state_dict_keys_and_outputs_match_torch(kwargs):
    torch.manual_seed(0)
    net = torch_mlp(**kwargs).eval()
    model = MLP(**kwargs).eval()
    assert list(model.state_dict()) == list(net.state_dict())
    for name, value in net.state_dict().items():
        assert model.state_dict()[name].shape == tuple(value.shape), name
    copy_torch_weights(net, model)
    for batch_shape in [(1,), (7,), (2, 3)]:
        assert_same_outputs(model, net, batch_shape, kwargs["sizes"][0])


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_name_matches_torch(activation):
    torch.manual_seed(1)
    net = torch_mlp([3, 6, 2], activation)
    model = MLP([3, 6, 2], activation=activation)
    copy_torch_weights(net, model)
    assert_same_outputs(model, net, (5,), 3)


def test_gradients_match_torch():
    torch.manual_seed(2)
    net = torch_mlp([4, 5, 3], "tanh")
    model = MLP([4, 5, 3], activation="tanh")
    copy_torch_weights(net, model)
    x = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)
    (model(Tensor(x)) ** 2).sum().backward()
    (net(torch.from_numpy(x)) ** 2).sum().backward()
    params = dict(model.named_parameters())
    for name, p in net.named_parameters():
        np.testing.assert_allclose(params[name].grad.data, p.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_activation_given_as_class_and_dropout_placement():
    model = MLP([3, 4, 4, 2], activation=Tanh, dropout=0.5)
    assert [type(m) for m in model.children()] == [
        Linear, Tanh, Dropout, Linear, Tanh, Dropout, Linear,
    ]  # fmt: skip
    assert model[2].p == 0.5


def test_identity_keeps_layer_numbering():
    relu_keys = list(MLP([3, 4, 2]).state_dict())
    assert list(MLP([3, 4, 2], activation="identity").state_dict()) == relu_keys
    assert type(MLP([3, 4, 2], activation="linear")[1]) is Identity


def test_parameter_count():
    model = MLP([64, 128, 10])
    assert sum(p.numel() for p in model.parameters()) == 64 * 128 + 128 + 128 * 10 + 10
    assert len(list(MLP([4, 3, 2], bias=False).parameters())) == 2


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(sizes=[10]), ValueError, r"at least an input and an output size, got \[10\]"),
        (dict(sizes=[]), ValueError, "at least an input and an output"),
        (
            dict(sizes=[4, 0, 2]),
            ValueError,
            r"sizes\[1\] \(of \[4, 0, 2\]\) must be a positive integer, got 0",
        ),
        (
            dict(sizes=[4, -3, 2]),
            ValueError,
            r"sizes\[1\] \(of \[4, -3, 2\]\) must be a positive integer, got -3",
        ),
        (
            dict(sizes=[4, 2.5, 2]),
            ValueError,
            r"sizes\[1\] \(of \[4, 2.5, 2\]\) must be a positive integer, got 2.5",
        ),
        (dict(sizes=[4, 2], dropout=1.0), ValueError, r"dropout must be in \[0, 1\), got 1.0"),
        (dict(sizes=[4, 2], activation="swish"), ValueError, "unknown activation 'swish'.*relu"),
        (dict(sizes=[4, 2], output_activation="softmax"), ValueError, "output_activation"),
        (dict(sizes=[4, 2], activation=torch.nn.ReLU), TypeError, "Module class"),
        (dict(sizes=[4, 2], activation=ReLU()), TypeError, "Module class"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(**kwargs)


def test_unknown_activation_lists_known_ones():
    with pytest.raises(ValueError) as info:
        MLP([2, 3, 1], activation="swish")
    for name in ACTIVATIONS:
        assert name in str(info.value)
