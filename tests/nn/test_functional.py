"""glassnet.nn.functional against torch.nn.functional: activations, linear, dropout, one_hot,
normalize. Values and gradients on random inputs of several shapes, float64 finite differences,
dtypes, extreme inputs and error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet.nn.functional as F
from glassnet.random import manual_seed
from glassnet.tensor import Tensor
from torch_compare import FLOATS, away_from, compare, gradcheck, random

# name: (glassnet function, torch function, points where the derivative jumps)
ACTIVATIONS = {
    "relu": (F.relu, TF.relu, [0.0]),
    "relu6": (F.relu6, TF.relu6, [0.0, 6.0]),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, [0.0]),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), [0.0]),
    "leaky_relu_steep": (lambda x: F.leaky_relu(x, 3.0), lambda x: TF.leaky_relu(x, 3.0), [0.0]),
    "elu": (F.elu, TF.elu, []),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), [0.0]),
    "hardtanh": (
        lambda x: F.hardtanh(x, -0.5, 1.5),
        lambda x: TF.hardtanh(x, -0.5, 1.5),
        [-0.5, 1.5],
    ),
    "gelu": (F.gelu, TF.gelu, []),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        [],
    ),
    "silu": (F.silu, TF.silu, []),
    "mish": (F.mish, TF.mish, []),
    "sigmoid": (F.sigmoid, torch.sigmoid, []),
    "tanh": (F.tanh, torch.tanh, []),
    "softplus": (F.softplus, TF.softplus, []),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: TF.softplus(x, beta=2.0, threshold=3.0),
        [1.5],  # beta * x = threshold: the switch to the identity
    ),
    "softmax": (lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1), []),
    "softmax_dim0": (lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0), []),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), lambda x: TF.log_softmax(x, dim=-1), []),
    "log_softmax_dim0": (
        lambda x: F.log_softmax(x, dim=0),
        lambda x: TF.log_softmax(x, dim=0),
        [],
    ),
}
SHAPES = [(7, 5), (1,), (3, 1, 4), (0, 4)]


def float32_atol(name):
    # float32 erf has errors of a few 1e-7 near +-1, in PyTorch as here
    return 2e-6 if name == "gelu" else None


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch(name, shape, dtype):
    ours, theirs, kinks = ACTIVATIONS[name]
    x = away_from(random(shape, dtype, scale=3.0), kinks)
    atol = float32_atol(name) if dtype == np.float32 else None
    compare(ours, theirs, x, atol=atol)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradcheck(name):
    ours, _, kinks = ACTIVATIONS[name]
    gradcheck(ours, away_from(random((4, 3), scale=3.0), kinks, margin=0.05))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_at_kinks_and_zero(name, dtype):
    """Exactly at 0 and at the kinks the gradient follows PyTorch's convention (relu'(0) = 0)."""
    ours, theirs, kinks = ACTIVATIONS[name]
    x = np.array([0.0, -0.0, *kinks, 0.5], dtype=dtype)
    compare(ours, theirs, x, atol=float32_atol(name) if dtype == np.float32 else None)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_extreme_inputs(name, dtype):
    ours, theirs, _ = ACTIVATIONS[name]
    x = np.array([-1000.0, -100.0, -30.0, -5.0, 5.0, 30.0, 100.0, 1000.0], dtype=dtype)
    out, _, inputs, _ = compare(
        ours, theirs, x, atol=float32_atol(name) if dtype == np.float32 else None
    )
    assert np.isfinite(out.data).all() and np.isfinite(inputs[0].grad.data).all()


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "log_softmax"])
def test_tensor_methods_use_the_same_ops(name):
    method = {"softmax": lambda t: t.softmax(1), "log_softmax": lambda t: t.log_softmax(1)}.get(
        name, lambda t: getattr(t, name)()
    )
    compare(method, ACTIVATIONS[name][1], random((4, 6), np.float32))


def test_integer_inputs_follow_torch_dtypes():
    labels = np.array([-2, 0, 3])
    assert F.relu(Tensor(labels)).dtype == np.int64
    np.testing.assert_array_equal(F.relu(Tensor(labels)).data, [0, 0, 3])
    assert F.sigmoid(Tensor(labels)).dtype == np.float32


def test_float32_stays_float32_in_every_activation():
    x = Tensor(random((3, 4), np.float32), requires_grad=True)
    for name, (ours, _, _) in ACTIVATIONS.items():
        x.grad = None
        out = ours(x)
        out.sum().backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32, name


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = random((2, 3, 4), np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = F.softmax(Tensor(x))
    with pytest.warns(UserWarning):
        expected = TF.softmax(torch.tensor(x), dim=None)
    np.testing.assert_allclose(ours.data, expected.numpy(), rtol=1e-6)


def test_softmax_dtype_argument():
    out = F.log_softmax(Tensor(random((2, 3), np.float32)), dim=1, dtype=np.float64)
    assert out.dtype == np.float64


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(Tensor(random((2, 3))), dim=2)


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(Tensor(random((2,))), approximate="fast")
    with pytest.raises(ValueError, match=r"min_val \(2.0\) must not be greater than max_val"):
        F.hardtanh(Tensor(random((2,))), 2.0, 1.0)


# -- linear ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("x_shape", [(8, 5), (5,), (2, 3, 5), (1, 5), (0, 5)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias, dtype):
    x, w, b = random(x_shape, dtype), random((3, 5), dtype, seed=1), random((3,), dtype, seed=2)
    if bias:
        compare(F.linear, TF.linear, x, w, b)
    else:
        compare(F.linear, TF.linear, x, w)


def test_linear_gradcheck():
    gradcheck(F.linear, random((4, 3)), random((2, 3), seed=1), random((2,), seed=2))
    gradcheck(F.linear, random((2, 2, 3)), random((2, 3), seed=1))


def test_linear_input_without_grad_gets_none():
    x = Tensor(random((4, 3), np.float32))
    w = Tensor(random((2, 3), np.float32, seed=1), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(w.grad.data, np.ones((4, 2)).T @ x.data, rtol=1e-6)


def test_linear_is_one_graph_node():
    x = Tensor(random((4, 3)), requires_grad=True)
    w, b = Tensor(random((2, 3)), requires_grad=True), Tensor(random((2,)), requires_grad=True)
    out = F.linear(x, w, b)
    assert out.grad_fn.parents == (x, w, b)


def test_linear_shape_errors_name_both_shapes():
    w = Tensor(random((5, 10), np.float32))
    with pytest.raises(
        ValueError,
        match=r"linear: input has 20 features \(shape \(8, 20\)\) but weight expects 10 "
        r"\(weight shape \(5, 10\)\)",
    ):
        F.linear(Tensor(random((8, 20), np.float32)), w)
    with pytest.raises(ValueError, match=r"weight must be 2-D .* got shape \(10,\)"):
        F.linear(Tensor(random((8, 10), np.float32)), Tensor(random((10,), np.float32)))
    with pytest.raises(ValueError, match=r"bias has shape \(4,\) .* bias of shape \(5,\)"):
        F.linear(Tensor(random((8, 10), np.float32)), w, Tensor(random((4,), np.float32)))
    with pytest.raises(TypeError, match="input has dtype float64 but weight has dtype float32"):
        F.linear(Tensor(random((8, 10))), w)


# -- dropout --------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5"])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\], got"):
        F.dropout(Tensor(random((2, 3))), p)


def test_dropout_outside_training_and_p0_is_identity():
    x = Tensor(random((4, 3), np.float32), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout_statistics_gradient_and_dtype(dtype):
    manual_seed(0)
    x = Tensor(np.ones((400, 250), dtype=dtype), requires_grad=True)
    out = F.dropout(x, 0.3)
    assert out.dtype == dtype
    kept = out.data != 0
    assert abs(1.0 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out.data[kept], 1.0 / 0.7, rtol=1e-6)
    out.sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.data, out.data)  # d out / d x is the scaled mask


def test_dropout_p1_zeroes_everything():
    x = Tensor(random((3, 4), np.float32), requires_grad=True)
    out = F.dropout(x, 1.0)
    out.sum().backward()
    assert not out.data.any() and not x.grad.data.any()


def test_dropout_is_repeatable_with_manual_seed():
    x = Tensor(random((10, 10), np.float32))
    manual_seed(3)
    first = F.dropout(x, 0.5).data
    manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)


def test_dropout_rejects_integer_tensors():
    with pytest.raises(TypeError, match="dropout: input must be floating point, got dtype int64"):
        F.dropout(Tensor(np.arange(4)), 0.5)


# -- one_hot and normalize ------------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [-1, 6])
@pytest.mark.parametrize("shape", [(5,), (2, 3), (0,)], ids=str)
def test_one_hot_matches_torch(shape, num_classes):
    labels = np.random.default_rng(0).integers(0, 4, shape)
    if num_classes == -1 and labels.size == 0:
        with pytest.raises(ValueError, match="empty tensor"):
            F.one_hot(Tensor(labels))
        return
    ours = F.one_hot(Tensor(labels), num_classes)
    expected = TF.one_hot(torch.tensor(labels), num_classes).numpy()
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, expected)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="class index 5 is out of range for num_classes=3"):
        F.one_hot(Tensor(np.array([0, 5])), 3)
    with pytest.raises(ValueError, match="class index -1"):
        F.one_hot(Tensor(np.array([0, -1])), 3)
    with pytest.raises(TypeError, match="integer dtype"):
        F.one_hot(Tensor(np.array([0.0, 1.0])), 3)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("p", "dim"), [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim, dtype):
    compare(
        lambda x: F.normalize(x, p=p, dim=dim),
        lambda x: TF.normalize(x, p=p, dim=dim),
        random((4, 5), dtype),
    )


def test_normalize_leaves_zero_vectors_zero():
    x = np.zeros((2, 3), dtype=np.float32)
    x[1] = [3.0, 4.0, 0.0]
    np.testing.assert_allclose(F.normalize(Tensor(x)).data, [[0, 0, 0], [0.6, 0.8, 0]])


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("relu", {}),
        ("gelu", {}),
        ("gelu", {"approximate": "tanh"}),
        ("silu", {}),
        ("mish", {}),
        ("elu", {}),
        ("softplus", {}),
        ("sigmoid", {}),
        ("tanh", {}),
        ("softmax", {"dim": 0}),
        ("log_softmax", {"dim": -1}),
    ],
)
def test_activations_of_a_0d_tensor_match_torch(name, kwargs):
    x = np.asarray(0.3, dtype=np.float32)
    compare(
        lambda t: getattr(F, name)(t, **kwargs),
        lambda t: getattr(torch.nn.functional, name)(t, **kwargs),
        x,
    )
