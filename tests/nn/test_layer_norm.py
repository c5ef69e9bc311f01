"""Layer and RMS normalisation against PyTorch: F.layer_norm and F.rms_norm values and gradients
over several normalized shapes, with and without weight and bias, float32 and float64; the
LayerNorm and RMSNorm modules (state_dict, initial values, parameter gradients, repr); float64
finite differences; float32 staying float32; error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet.nn.functional as F
from glassnet.nn import LayerNorm, RMSNorm
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, gradcheck, random

# (input shape, normalized_shape)
CASES = [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4, 5), (4, 5)), ((3, 4), (3, 4)), ((5, 2), 2)]


def input_like(shape, dtype, seed=0):
    # an offset and a spread, so that normalising has something to undo
    return (random(shape, np.float64, seed=seed) * 3.0 + 2.0).astype(dtype)


def affine(normalized_shape, dtype, seed=3):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    weight = 1.0 + 0.5 * random(shape, dtype, seed=seed)
    return weight, random(shape, dtype, seed=seed + 1)


def tolerances(dtype):
    return dict(rtol=1e-4, atol=2e-5) if dtype == np.float32 else {}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape, normalized", CASES, ids=str)
def test_layer_norm_matches_torch(shape, normalized, dtype):
    weight, bias = affine(normalized, dtype)
    compare(
        lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-5),
        lambda x, w, b: TF.layer_norm(x, w.shape, w, b, eps=1e-5),
        input_like(shape, dtype),
        weight,
        bias,
        **tolerances(dtype),
    )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("which", ["none", "weight", "bias"])
def test_layer_norm_without_weight_or_bias_matches_torch(which, dtype):
    weight, bias = affine((5,), dtype)

    def call(fn, x, p):
        w = p if which == "weight" else None
        b = p if which == "bias" else None
        return fn(x, (5,), w, b, 1e-3)

    arrays = [input_like((3, 2, 5), dtype)] + ([] if which == "none" else [weight])
    compare(
        lambda x, p=None: call(F.layer_norm, x, p),
        lambda x, p=None: call(TF.layer_norm, x, p),
        *arrays,
        **tolerances(dtype),
    )


@pytest.mark.parametrize("eps", [None, 1e-6])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape, normalized", CASES, ids=str)
def test_rms_norm_matches_torch(shape, normalized, dtype, eps):
    weight, _ = affine(normalized, dtype)
    compare(
        lambda x, w: F.rms_norm(x, normalized, w, eps=eps),
        lambda x, w: TF.rms_norm(x, w.shape, w, eps=eps),
        input_like(shape, dtype),
        weight,
        **tolerances(dtype),
    )
    compare(
        lambda x: F.rms_norm(x, normalized, eps=eps),
        lambda x: TF.rms_norm(x, weight.shape, eps=eps),
        input_like(shape, dtype),
        **tolerances(dtype),
    )


@pytest.mark.parametrize("shape, normalized", [((3, 4), (4,)), ((2, 2, 3), (2, 3))], ids=str)
def test_gradcheck(shape, normalized):
    weight, bias = affine(normalized, np.float64)
    x = input_like(shape, np.float64)
    gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), x, weight, bias)
    gradcheck(lambda x, w: F.rms_norm(x, normalized, w, eps=1e-6), x, weight)
    gradcheck(lambda x: F.layer_norm(x, normalized, eps=0.1), x)


def test_float32_stays_float32_and_the_input_is_untouched():
    x = Tensor(input_like((4, 3, 8), np.float32), requires_grad=True)
    before = x.data.copy()
    w, b = (Tensor(a, requires_grad=True) for a in affine((8,), np.float32))
    for out in (F.layer_norm(x, (8,), w, b), F.rms_norm(x, (8,), w)):
        out.backward(np.ones(out.shape, np.float32))
        assert out.dtype == x.grad.dtype == w.grad.dtype == np.float32
    assert b.grad.dtype == np.float32
    np.testing.assert_array_equal(x.data, before)


def test_non_contiguous_input():
    x = input_like((5, 4, 6), np.float64).transpose(1, 0, 2)
    weight, bias = affine((6,), np.float64)
    compare(
        lambda x, w, b: F.layer_norm(x.permute(1, 0, 2), (6,), w, b),
        lambda x, w, b: TF.layer_norm(x.permute(1, 0, 2), (6,), w, b),
        np.ascontiguousarray(x),
        weight,
        bias,
    )


# -- LayerNorm / RMSNorm --------------------------------------------------------------------------


def module_pair(cls, *args, dtype=np.float64, **kwargs):
    """Our module and torch's, with torch's state (perturbed from the ones/zeros start)."""
    theirs = getattr(torch.nn, cls)(*args, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        for i, p in enumerate(theirs.parameters()):
            p.add_(torch.tensor(random(tuple(p.shape), np.float64, seed=10 + i) * 0.3))
    ours = {"LayerNorm": LayerNorm, "RMSNorm": RMSNorm}[cls](*args, dtype=dtype, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    "cls, args, kwargs, shape",
    [
        ("LayerNorm", (6,), {}, (3, 4, 6)),
        ("LayerNorm", ((4, 6),), {}, (2, 4, 6)),
        ("LayerNorm", (6,), dict(elementwise_affine=False), (3, 6)),
        ("LayerNorm", (6,), dict(bias=False, eps=1e-3), (3, 6)),
        ("RMSNorm", (6,), {}, (3, 4, 6)),
        ("RMSNorm", ((4, 6),), dict(eps=1e-5), (2, 4, 6)),
        ("RMSNorm", (6,), dict(elementwise_affine=False), (3, 6)),
    ],
    ids=str,
)
def test_modules_match_torch(cls, args, kwargs, shape):
    ours, theirs = module_pair(cls, *args, **kwargs)
    compare(ours, theirs, input_like(shape, np.float64))
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.data, p.grad.numpy(), rtol=1e-10, err_msg=name)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("cls", ["LayerNorm", "RMSNorm"])
def test_initial_state_matches_torch(cls):
    ours, theirs = getattr(__import__("glassnet").nn, cls)((2, 3)), getattr(torch.nn, cls)((2, 3))
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(ref)
    for key in ref:
        assert mine[key].dtype == np.float32, key
        np.testing.assert_array_equal(mine[key].data, ref[key].numpy(), err_msg=key)


def test_state_dict_moves_back_to_torch():
    ours = LayerNorm(5)
    ours.weight.data[...] = np.arange(5)
    theirs = torch.nn.LayerNorm(5)
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    np.testing.assert_array_equal(theirs.weight.detach().numpy(), np.arange(5))


# -- errors ---------------------------------------------------------------------------------------


def test_wrong_shape_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(8,\).*\(\*, 8\), got shape \(2, 3, 5\)"):
        LayerNorm(8)(Tensor(np.zeros((2, 3, 5), np.float32)))
    with pytest.raises(ValueError, match=r"RMSNorm\(\(2, 3\).*\(\*, 2, 3\), got shape \(3,\)"):
        RMSNorm((2, 3))(Tensor(np.zeros(3, np.float32)))


def test_functional_errors():
    x = Tensor(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"normalized_shape=\[3\].*\[\*, 3\].*\(2, 4\)"):
        F.layer_norm(x, (3,))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\)"):
        F.layer_norm(x, (4,), Tensor(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match="bias has dtype float64"):
        F.layer_norm(x, 4, None, Tensor(np.zeros(4)))
    with pytest.raises(TypeError, match="floating point"):
        F.rms_norm(Tensor(np.zeros((2, 4), np.int64)), (4,))


@pytest.mark.parametrize("bad", [0, -2, (3, 0), (), "4", 2.5])
def test_bad_normalized_shape_is_rejected(bad):
    with pytest.raises(ValueError, match="normalized_shape must be a positive integer"):
        LayerNorm(bad)


def test_bad_eps_is_rejected():
    with pytest.raises(ValueError, match="RMSNorm: eps"):
        RMSNorm(4, eps=-1.0)
