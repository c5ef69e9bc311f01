"""Gradient clipping against torch.nn.utils: total norms of several orders, the clipped
gradients, parameters without gradients, dtypes and errors."""

import numpy as np
import pytest
import torch

from glassnet.nn.parameter import Parameter
from glassnet.nn.utils import clip_grad_norm_, clip_grad_value_
from glassnet.tensor import Tensor

SHAPES = [(4, 3), (7,), (2, 3, 5), ()]


def pair(dtype, scale, seed=0, shapes=SHAPES):
    """The same parameters with the same gradients, in glassnet and in torch."""
    rng = np.random.default_rng(seed)
    gn, th = [], []
    for shape in shapes:
        grad = np.asarray(scale * rng.standard_normal(shape), dtype=dtype)
        p, q = (
            Parameter(np.zeros_like(grad)),
            torch.zeros(shape, dtype=torch.from_numpy(grad).dtype),
        )
        p.grad, q.grad = Tensor(grad.copy()), torch.from_numpy(grad.copy())
        gn.append(p)
        th.append(q)
    return gn, th


TOL = {np.float32: dict(rtol=1e-5, atol=1e-7), np.float64: dict(rtol=1e-10, atol=1e-14)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, 0.5, float("inf"), -float("inf"), 0.0])
@pytest.mark.parametrize("max_norm", [0.3, 1e3])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    gn, th = pair(dtype, scale=2.0)
    total = clip_grad_norm_(gn, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(th, max_norm, norm_type=norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.data, expected.numpy(), **TOL[dtype])
    for p, q in zip(gn, th):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), **TOL[dtype])


def test_clip_grad_norm_scales_to_the_limit_and_skips_missing_grads():
    gn, _ = pair(np.float64, scale=5.0)
    gn.append(Parameter(np.ones(3)))  # no gradient: ignored, left None
    before = [p.grad.data.copy() for p in gn[:-1]]
    total = float(clip_grad_norm_(iter(gn), max_norm=1.0))
    after = np.sqrt(sum(float((p.grad.data**2).sum()) for p in gn[:-1]))
    assert after == pytest.approx(1.0, rel=1e-5)
    for b, p in zip(before, gn):
        np.testing.assert_allclose(p.grad.data, b / (total + 1e-6))
    assert gn[-1].grad is None


def test_clip_grad_norm_on_a_single_tensor_and_on_nothing():
    p = Parameter(np.array([3.0, 4.0]))
    p.grad = Tensor(np.array([3.0, 4.0]))
    assert float(clip_grad_norm_(p, 10.0)) == pytest.approx(5.0)
    np.testing.assert_array_equal(p.grad.data, [3.0, 4.0])
    empty = clip_grad_norm_([], 1.0)
    assert float(empty) == 0.0 and empty.dtype == np.float32


def test_clip_grad_norm_non_finite():
    gn, th = pair(np.float64, scale=1.0)
    for p, q in zip(gn, th):
        p.grad.data.flat[0] = np.inf
        q.grad.view(-1)[0] = float("inf")
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        clip_grad_norm_(gn, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(gn, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(th, 1.0)
    assert np.isinf(total.data) and torch.isinf(expected)
    for p, q in zip(gn, th):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_value", [0.0, 0.5, 100.0])
def test_clip_grad_value_matches_torch(dtype, clip_value):
    gn, th = pair(dtype, scale=1.0, seed=3)
    assert clip_grad_value_(gn, clip_value) is None
    torch.nn.utils.clip_grad_value_(th, clip_value)
    for p, q in zip(gn, th):
        assert p.grad.dtype == dtype
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


def test_invalid_limits_are_rejected():
    gn, _ = pair(np.float64, scale=1.0)
    with pytest.raises(ValueError, match="max_norm must be >= 0, got -1.0"):
        clip_grad_norm_(gn, -1.0)
    with pytest.raises(ValueError, match="clip_value must be >= 0, got -0.1"):
        clip_grad_value_(gn, -0.1)
