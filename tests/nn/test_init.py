"""Initialisers against torch.nn.init: gains and fans equal PyTorch's for many shapes and
nonlinearities; on a large tensor each random initialiser's bounds, mean and standard deviation
match PyTorch's formula (and PyTorch's own draws); orthogonal_ gives orthonormal rows or columns."""

import math
import re
import warnings

import numpy as np
import pytest
import torch

from glassnet import random as glassnet_random
from glassnet.nn import init
from glassnet.tensor import Tensor

FLOATS = (np.float32, np.float64)
BIG = (300, 200, 3)  # 180,000 values; fan_in 600, fan_out 900


def fill(name, shape, dtype=np.float32, seed=0, **kwargs):
    """Run glassnet's initialiser `name` on a new tensor; check that it fills in place and keeps
    the dtype."""
    tensor = Tensor(np.full(shape, np.nan, dtype=dtype))
    array = tensor.data
    assert (
        getattr(init, name)(tensor, **kwargs, generator=glassnet_random.Generator(seed)) is tensor
    )
    assert tensor.data is array and array.dtype == dtype
    return array.astype(np.float64)


def torch_fill(name, shape, **kwargs):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trunc_normal_ warns when the mean lies outside [a, b]
        return getattr(torch.nn.init, name)(
            torch.empty(shape, dtype=torch.float64), **kwargs
        ).numpy()


# -- gains and fans --------------------------------------------------------------------------------


GAINS = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("relu", 0.3),
    ("leaky_relu", None),
    ("leaky_relu", 0),
    ("leaky_relu", 0.2),
    ("leaky_relu", 3),
    ("leaky_relu", math.sqrt(5)),
    ("selu", None),
]


@pytest.mark.parametrize(("nonlinearity", "param"), GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param
    )


@pytest.mark.parametrize(
    ("nonlinearity", "param"), [("gelu", None), ("leaky_relu", "0.1"), ("leaky_relu", True)]
)
def test_calculate_gain_rejects_what_torch_rejects(nonlinearity, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match=repr(param) if param is not None else "'gelu'"):
        init.calculate_gain(nonlinearity, param)


SHAPES = [(2, 3), (5, 1), (1, 7), (4, 3, 5), (8, 4, 3, 3), (6, 2, 2, 3, 3), (3, 0), (0, 4, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fan_in_and_fan_out_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(Tensor(np.empty(shape, np.float32)))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for mode in ("fan_in", "fan_out", "FAN_OUT"):
        assert init._calculate_correct_fan(Tensor(np.empty(shape)), mode) == (
            torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)
        )


@pytest.mark.parametrize("shape", [(5,), ()])
def test_fan_needs_two_dimensions(shape):
    with pytest.raises(ValueError):
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match=re.escape(f"fewer than 2 dimensions (got shape {shape})")):
        init._calculate_fan_in_and_fan_out(Tensor(np.empty(shape)))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(Tensor(np.empty(shape)))


def test_unknown_fan_mode_is_rejected():
    with pytest.raises(ValueError, match="Mode 'fan_avg' not supported"):
        init.kaiming_normal_(Tensor(np.empty((3, 4))), mode="fan_avg")


# -- distributions ---------------------------------------------------------------------------------


def torch_uniform_bounds(name, kwargs, shape):
    """The interval PyTorch's formula gives, computed with PyTorch's own gain and fan helpers."""
    t = torch.empty(shape)
    if name == "uniform_":
        return kwargs.get("a", 0.0), kwargs.get("b", 1.0)
    if name == "xavier_uniform_":
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
        bound = kwargs.get("gain", 1.0) * math.sqrt(6.0 / (fan_in + fan_out))
    else:
        fan = torch.nn.init._calculate_correct_fan(t, kwargs.get("mode", "fan_in"))
        gain = torch.nn.init.calculate_gain(
            kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)
        )
        bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return -bound, bound


UNIFORM_CASES = [
    ("uniform_", {}),
    ("uniform_", {"a": -3.0, "b": 0.5}),
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 5.0 / 3}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),  # nn.Linear's default
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_uniform_", {"a": 0.2, "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", {"nonlinearity": "tanh"}),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("name", "kwargs"), UNIFORM_CASES)
def test_uniform_initialisers_match_torch_formula(name, kwargs, dtype):
    lo, hi = torch_uniform_bounds(name, kwargs, BIG)
    values = fill(name, BIG, dtype, **kwargs)
    width = hi - lo
    assert lo <= values.min() < lo + 0.001 * width
    assert hi - 0.001 * width < values.max() <= hi
    assert abs(values.mean() - (lo + hi) / 2) < 0.005 * width
    assert values.std() == pytest.approx(width / math.sqrt(12), rel=0.01)
    reference = torch_fill(name, BIG, **kwargs)
    assert values.std() == pytest.approx(reference.std(), rel=0.015)


def torch_normal_std(name, kwargs, shape):
    t = torch.empty(shape)
    if name == "normal_":
        return kwargs.get("std", 1.0)
    if name == "xavier_normal_":
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
        return kwargs.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    fan = torch.nn.init._calculate_correct_fan(t, kwargs.get("mode", "fan_in"))
    return torch.nn.init.calculate_gain(
        kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)
    ) / math.sqrt(fan)


NORMAL_CASES = [
    ("normal_", {}),
    ("normal_", {"mean": 2.0, "std": 0.1}),
    ("xavier_normal_", {}),
    ("xavier_normal_", {"gain": 2.0}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.1, "mode": "fan_in"}),
    ("kaiming_normal_", {"nonlinearity": "selu"}),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("name", "kwargs"), NORMAL_CASES)
def test_normal_initialisers_match_torch_formula(name, kwargs, dtype):
    std = torch_normal_std(name, kwargs, BIG)
    mean = kwargs.get("mean", 0.0)
    values = fill(name, BIG, dtype, **kwargs)
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    assert values.std() == pytest.approx(std, rel=0.01)
    assert np.abs(values - mean).max() > 3.5 * std  # tails are there: not a truncated draw
    reference = torch_fill(name, BIG, **kwargs)
    assert values.std() == pytest.approx(reference.std(), rel=0.015)


def _phi(x):
    return 0.0 if math.isinf(x) else math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def truncated_normal_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = 0.5 * (math.erfc(alpha / math.sqrt(2)) - math.erfc(beta / math.sqrt(2)))
    x_phi = (alpha * _phi(alpha) if math.isfinite(alpha) else 0.0) - (
        beta * _phi(beta) if math.isfinite(beta) else 0.0
    )
    shift = (_phi(alpha) - _phi(beta)) / mass
    return mean + std * shift, std * math.sqrt(1 + x_phi / mass - shift**2)


TRUNC_CASES = [
    (0.0, 1.0, -2.0, 2.0),
    (0.5, 2.0, -1.0, 3.0),
    (0.0, 0.02, -2.0, 2.0),  # ViT's use: the bounds are far away
    (1.0, 1.0, 1.5, 1.52),  # a narrow interval
    (0.0, 1.0, 2.5, 6.0),  # in the tail
    (0.0, 1.0, -1.0, math.inf),
    (0.0, 1.0, 8.0, 9.0),  # far in the tail (PyTorch's inverse-CDF method loses precision here)
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("mean", "std", "a", "b"), TRUNC_CASES)
def test_trunc_normal_matches_the_truncated_distribution(mean, std, a, b, dtype):
    expected_mean, expected_std = truncated_normal_moments(mean, std, a, b)
    kwargs = {"mean": mean, "std": std, "a": a, "b": b}
    values = fill("trunc_normal_", BIG, dtype, **kwargs)
    assert a <= values.min() and values.max() <= b
    assert abs(values.mean() - expected_mean) < 5 * expected_std / math.sqrt(values.size)
    assert values.std() == pytest.approx(expected_std, rel=0.01)
    if a < 8.0:
        reference = torch_fill("trunc_normal_", BIG, **kwargs)
        assert reference.std() == pytest.approx(expected_std, rel=0.015)


def test_trunc_normal_rejects_intervals_it_cannot_sample():
    with pytest.raises(ValueError, match="too far from the mean"):
        init.trunc_normal_(Tensor(np.empty(10)), a=8.0, b=math.inf)
    with pytest.raises(ValueError, match="expected std > 0"):
        init.trunc_normal_(Tensor(np.empty(10)), std=0.0)
    with pytest.raises(ValueError, match="expected a < b"):
        init.trunc_normal_(Tensor(np.empty(10)), a=1.0, b=1.0)


# -- orthogonal and deterministic fills ------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("gain", [1.0, 2.5])
@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3), (6, 2, 2, 2), (1, 4)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape, gain, dtype):
    w = fill("orthogonal_", shape, dtype, gain=gain).reshape(shape[0], -1)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=tol * gain**2)


def test_orthogonal_signs_make_it_uniform():
    # Without the sign fix, Householder QR makes every Q[0, 0] negative.
    firsts = [fill("orthogonal_", (3, 3), seed=s)[0, 0] for s in range(2000)]
    assert abs(np.mean(firsts)) < 0.065  # five standard errors (the entries have std 1/sqrt(3))


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(Tensor(np.empty(4)))


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_eye_matches_torch(shape, dtype):
    t = Tensor(np.full(shape, 7, dtype=dtype))
    assert init.eye_(t) is t and t.dtype == dtype
    np.testing.assert_array_equal(t.data, torch.nn.init.eye_(torch.empty(shape)).numpy())
    with pytest.raises(ValueError, match=r"only 2-D tensors are supported, got shape \(2, 2, 2\)"):
        init.eye_(Tensor(np.empty((2, 2, 2))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_constant_fills(dtype):
    t = Tensor(np.full((3, 4), 9, dtype=dtype))
    array = t.data
    assert init.constant_(t, 3) is t and (array == 3).all()
    assert init.zeros_(t) is t and (array == 0).all()
    assert init.ones_(t) is t and (array == 1).all()
    assert t.data is array and array.dtype == dtype


def test_non_contiguous_and_half_tensors_are_filled_in_place():
    base = np.full((4, 6), np.nan, np.float32)
    t = Tensor(base.T)
    init.xavier_uniform_(t)
    bound = math.sqrt(6.0 / 10)
    assert np.isfinite(base).all() and np.abs(base).max() <= bound
    half = Tensor(np.full((40, 50), np.nan, np.float16))
    init.kaiming_normal_(half)
    assert half.dtype == np.float16 and np.isfinite(half.data).all()


# -- randomness and bad input ----------------------------------------------------------------------


def test_generators_make_draws_repeatable_and_leave_the_global_stream_alone():
    t = Tensor(np.empty((20, 30), np.float32))
    first = init.kaiming_uniform_(t, generator=glassnet_random.Generator(3)).data.copy()
    init.kaiming_uniform_(t, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(t.data, first)

    glassnet_random.manual_seed(0)
    expected = glassnet_random.default_generator().random()
    glassnet_random.manual_seed(0)
    init.normal_(t, generator=glassnet_random.Generator(1))
    assert glassnet_random.default_generator().random() == expected

    glassnet_random.manual_seed(5)
    a = init.xavier_normal_(t).data.copy()
    glassnet_random.manual_seed(5)
    np.testing.assert_array_equal(init.xavier_normal_(t).data, a)


@pytest.mark.parametrize(
    "name",
    ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_", "orthogonal_"],
)
def test_random_initialisers_need_a_float_tensor(name):
    with pytest.raises(TypeError, match=f"{name}: expected a glassnet Tensor, got ndarray"):
        getattr(init, name)(np.empty((3, 3)))
    with pytest.raises(TypeError, match=f"{name}: tensor must be floating point, got dtype int64"):
        getattr(init, name)(Tensor(np.zeros((3, 3), np.int64)))


def test_bad_distribution_parameters():
    with pytest.raises(ValueError, match="expected a <= b, got a=1.0, b=0.0"):
        init.uniform_(Tensor(np.empty(3)), 1.0, 0.0)
    with pytest.raises(ValueError, match="expected std >= 0, got std=-1.0"):
        init.normal_(Tensor(np.empty(3)), std=-1.0)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_on_an_empty_tensor_warns_like_torch(name):
    with pytest.warns(UserWarning, match="zero-element"):
        getattr(torch.nn.init, name)(torch.empty(0, 3))
    with pytest.warns(UserWarning, match="zero-element"):
        getattr(init, name)(Tensor(np.empty((0, 3), np.float32)))
    assert init.xavier_uniform_(Tensor(np.empty((0, 0)))).shape == (0, 0)
