"""Losses against PyTorch: every reduction, weights, ignore_index, label smoothing, probability
targets, extra dimensions, pos_weight and log_target; values, input and target gradients, float64
finite differences, extreme inputs and the errors bad input must raise."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet.nn.functional as F
import glassnet.nn.layers as nn_layers
from glassnet.tensor import Tensor
from torch_compare import FLOATS, away_from, compare, gradcheck, random

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = [(6, 4), (5,), (1,), (0, 3)]


def uniform(shape, dtype=np.float64, low=0.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def labels(shape, n_classes, seed=0):
    return np.random.default_rng(seed).integers(0, n_classes, shape)


# -- regression losses ----------------------------------------------------------------------------

# name: (glassnet loss, torch loss, kinks of the difference input - target)
REGRESSION = {
    "mse_loss": (F.mse_loss, TF.mse_loss, []),
    "l1_loss": (F.l1_loss, TF.l1_loss, [0.0]),
    "smooth_l1_loss": (F.smooth_l1_loss, TF.smooth_l1_loss, [0.0]),
    "smooth_l1_beta": (
        lambda x, y, reduction="mean": F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5),
        lambda x, y, reduction="mean": TF.smooth_l1_loss(x, y, reduction=reduction, beta=0.5),
        [0.0],
    ),
    "smooth_l1_beta0": (
        lambda x, y, reduction="mean": F.smooth_l1_loss(x, y, reduction=reduction, beta=0.0),
        lambda x, y, reduction="mean": TF.smooth_l1_loss(x, y, reduction=reduction, beta=0.0),
        [0.0],
    ),
    "huber_loss": (F.huber_loss, TF.huber_loss, []),
    "huber_delta": (
        lambda x, y, reduction="mean": F.huber_loss(x, y, reduction=reduction, delta=2.5),
        lambda x, y, reduction="mean": TF.huber_loss(x, y, reduction=reduction, delta=2.5),
        [],
    ),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", REGRESSION)
def test_regression_loss_matches_torch(name, shape, reduction, dtype):
    ours, theirs, kinks = REGRESSION[name]
    y = random(shape, dtype, seed=1)
    x = (y + away_from(random(shape, np.float64, scale=2.0), kinks)).astype(dtype)
    compare(
        lambda a, b: ours(a, b, reduction=reduction),
        lambda a, b: theirs(a, b, reduction=reduction),
        x,
        y,
    )


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_loss_gradcheck(name):
    ours, _, kinks = REGRESSION[name]
    y = random((3, 4), seed=1)
    x = y + away_from(random((3, 4), scale=2.0), kinks + [-0.5, 0.5, -2.5, 2.5, -1.0, 1.0])
    gradcheck(ours, x, y)
    gradcheck(lambda a, b: ours(a, b, reduction="none"), x, y)


def test_regression_loss_broadcast_warns_like_torch():
    x, y = random((4, 1), np.float32), random((4,), np.float32, seed=1)

    def torch_quietly(a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return TF.mse_loss(a, b)

    with pytest.warns(UserWarning, match=r"target size \(4,\) that is different to the input size"):
        compare(F.mse_loss, torch_quietly, x, y)


def test_regression_loss_converts_target_dtype():
    x = Tensor(random((3,), np.float32), requires_grad=True)
    loss = F.l1_loss(x, random((3,), np.float64))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_regression_loss_errors():
    with pytest.raises(ValueError, match=r"input shape \(4, 3\) and target shape \(4, 2\)"):
        F.mse_loss(Tensor(random((4, 3))), Tensor(random((4, 2))))
    with pytest.raises(
        ValueError, match="reduction must be one of 'none', 'mean', 'sum', got 'avg'"
    ):
        F.l1_loss(Tensor(random((3,))), Tensor(random((3,))), reduction="avg")
    with pytest.raises(ValueError, match="beta must be >= 0, got -1"):
        F.smooth_l1_loss(Tensor(random((3,))), Tensor(random((3,))), beta=-1)
    with pytest.raises(ValueError, match="delta must be > 0, got 0"):
        F.huber_loss(Tensor(random((3,))), Tensor(random((3,))), delta=0)
    with pytest.raises(TypeError, match="input must be floating point, got dtype int64"):
        F.mse_loss(Tensor(np.arange(3)), Tensor(np.arange(3)))


def test_mean_of_nothing_is_nan_like_torch():
    assert np.isnan(F.mse_loss(Tensor(random((0, 3))), Tensor(random((0, 3)))).item())
    assert F.mse_loss(Tensor(random((0, 3))), Tensor(random((0, 3))), reduction="sum").item() == 0


# -- binary cross-entropy -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4,), (6, 4)], ids=str)
def test_binary_cross_entropy_matches_torch(weight_shape, reduction, dtype):
    p, t = uniform((6, 4), dtype, 0.02, 0.98), uniform((6, 4), dtype, seed=1)
    if weight_shape is None:
        w = None
    else:
        w = uniform(weight_shape, dtype, seed=2)
    compare(
        lambda a, b: F.binary_cross_entropy(
            a, b, None if w is None else Tensor(w), reduction=reduction
        ),
        lambda a, b: TF.binary_cross_entropy(
            a, b, None if w is None else torch.tensor(w), reduction=reduction
        ),
        p,
        t,
    )


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_cross_entropy_clamps_log_at_minus_100(dtype):
    p = np.array([0.0, 1.0, 1e-30, 0.5], dtype=dtype)
    t = np.array([1.0, 0.0, 0.5, 0.25], dtype=dtype)
    out, *_ = compare(
        lambda a: F.binary_cross_entropy(a, Tensor(t), reduction="none"),
        lambda a: TF.binary_cross_entropy(a, torch.tensor(t), reduction="none"),
        p,
    )
    assert out.data[0] == out.data[1] == 100.0


@pytest.mark.parametrize("shape", [(5,), (0, 2), (1, 1)], ids=str)
def test_binary_cross_entropy_shapes(shape):
    compare(
        F.binary_cross_entropy,
        TF.binary_cross_entropy,
        uniform(shape, low=0.1, high=0.9),
        uniform(shape, seed=1),
    )


def test_binary_cross_entropy_gradcheck():
    p, t = uniform((3, 4), low=0.2, high=0.8), uniform((3, 4), seed=1)
    gradcheck(F.binary_cross_entropy, p, t)
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, Tensor(uniform((4,), seed=2))), p, t)


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"between 0 and 1 .* got values in \[0.0, 1.5\]"):
        F.binary_cross_entropy(Tensor(np.array([0.0, 1.5])), Tensor(np.array([1.0, 0.0])))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(Tensor(np.array([np.nan])), Tensor(np.array([1.0])))
    with pytest.raises(
        ValueError, match=r"target shape \(4,\) must be the same as input shape \(4, 1\)"
    ):
        F.binary_cross_entropy(Tensor(uniform((4, 1))), Tensor(uniform((4,))))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) cannot be broadcast"):
        F.binary_cross_entropy(
            Tensor(uniform((4, 2))), Tensor(uniform((4, 2))), Tensor(uniform((3,)))
        )
    with pytest.raises(RuntimeError, match="weight cannot require grad"):
        F.binary_cross_entropy(
            Tensor(uniform((4,))), Tensor(uniform((4,))), Tensor(uniform((4,)), requires_grad=True)
        )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", ["none", "weight", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(weighted, reduction, dtype):
    x, t = random((6, 4), dtype, scale=3.0), uniform((6, 4), dtype, seed=1)
    w = uniform((6, 1), dtype, seed=2) if weighted in ("weight", "both") else None
    pw = uniform((4,), dtype, 0.5, 3.0, seed=3) if weighted in ("pos_weight", "both") else None

    def ours(a, b):
        return F.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else Tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else Tensor(pw),
        )

    def theirs(a, b):
        return TF.binary_cross_entropy_with_logits(
            a,
            b,
            None if w is None else torch.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        )

    compare(ours, theirs, x, t)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_is_stable_at_extremes(dtype):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    t = np.array([1.0, 1.0, 0.5, 0.0, 0.0], dtype=dtype)
    pw = np.array([2.0], dtype=dtype)
    out, *_ = compare(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, reduction="none", pos_weight=Tensor(pw)
        ),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, reduction="none", pos_weight=torch.tensor(pw)
        ),
        x,
        t,
    )
    assert np.isfinite(out.data).all()


def test_bce_with_logits_gradcheck():
    x, t = random((3, 4), scale=3.0), uniform((3, 4), seed=1)
    w, pw = Tensor(uniform((3, 1), seed=2)), Tensor(uniform((4,), low=0.5, high=3.0, seed=3))
    gradcheck(F.binary_cross_entropy_with_logits, x, t)
    gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, "sum", pos_weight=pw), x, t)


def test_bce_with_logits_errors():
    with pytest.raises(
        ValueError, match=r"target shape \(4,\) must be the same as input shape \(4, 1\)"
    ):
        F.binary_cross_entropy_with_logits(Tensor(random((4, 1))), Tensor(uniform((4,))))
    with pytest.raises(RuntimeError, match="pos_weight cannot require grad"):
        F.binary_cross_entropy_with_logits(
            Tensor(random((4,))),
            Tensor(uniform((4,))),
            pos_weight=Tensor(uniform((4,)), requires_grad=True),
        )


# -- KL divergence --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
def test_kl_div_matches_torch(reduction, log_target, dtype):
    log_p = np.log(uniform((5, 4), dtype, 0.05, 1.0))
    q = uniform((5, 4), dtype, 0.05, 1.0, seed=1)
    target = np.log(q) if log_target else q
    if reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F.kl_div(Tensor(log_p), Tensor(target), reduction="mean", log_target=log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own warning for 'mean'
        compare(
            lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
            lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
            log_p,
            target,
        )


def test_kl_div_zero_target_counts_as_zero():
    log_p = np.log(uniform((2, 3), low=0.1))
    q = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    compare(
        lambda a: F.kl_div(a, Tensor(q), reduction="batchmean"),
        lambda a: TF.kl_div(a, torch.tensor(q), reduction="batchmean"),
        log_p,
    )


def test_kl_div_gradcheck():
    log_p, q = np.log(uniform((3, 4), low=0.1)), uniform((3, 4), low=0.1, seed=1)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), log_p, q)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True), log_p, np.log(q))


def test_kl_div_errors():
    with pytest.raises(ValueError, match="'none', 'batchmean', 'mean', 'sum', got 'max'"):
        F.kl_div(Tensor(random((2, 3))), Tensor(random((2, 3))), reduction="max")
    with pytest.raises(ValueError, match=r"input shape \(2, 3\) and target shape \(2, 4\)"):
        F.kl_div(Tensor(random((2, 3))), Tensor(random((2, 4))), reduction="sum")


# -- cross-entropy and NLL ------------------------------------------------------------------------

# (input shape, target shape): batches, a single sample, an empty batch, no batch, extra dims
CLASS_SHAPES = [
    ((6, 4), (6,)),
    ((1, 4), (1,)),
    ((0, 4), (0,)),
    ((4,), ()),
    ((3, 4, 2, 5), (3, 2, 5)),
]


def class_targets(target_shape, n_classes, ignore_index=None, seed=0):
    t = labels(target_shape, n_classes, seed)
    if ignore_index is not None and t.size > 1:
        t.flat[1] = ignore_index
    return t


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight": True},
        {"ignore_index": -100},
        {"ignore_index": 2, "weight": True},
        {"label_smoothing": 0.25},
        {"label_smoothing": 0.25, "weight": True, "ignore_index": -100},
    ],
    ids=str,
)
def test_cross_entropy_class_indices_match_torch(options, shapes, reduction, dtype):
    input_shape, target_shape = shapes
    n_classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    t = class_targets(target_shape, n_classes, options.get("ignore_index"))
    w = uniform((n_classes,), dtype, 0.2, 2.0, seed=5) if options.get("weight") else None
    kwargs = {k: v for k, v in options.items() if k != "weight"}
    compare(
        lambda a: F.cross_entropy(
            a, Tensor(t), None if w is None else Tensor(w), reduction=reduction, **kwargs
        ),
        lambda a: TF.cross_entropy(
            a,
            torch.tensor(t),
            None if w is None else torch.tensor(w),
            reduction=reduction,
            **kwargs,
        ),
        random(input_shape, dtype, scale=2.0),
    )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("options", [{}, {"weight": True, "ignore_index": -100}], ids=str)
def test_nll_loss_matches_torch(options, shapes, reduction, dtype):
    input_shape, target_shape = shapes
    n_classes = input_shape[1] if len(input_shape) > 1 else input_shape[0]
    t = class_targets(target_shape, n_classes, options.get("ignore_index"))
    w = uniform((n_classes,), dtype, 0.2, 2.0, seed=5) if options.get("weight") else None
    compare(
        lambda a: F.nll_loss(a, Tensor(t), None if w is None else Tensor(w), reduction=reduction),
        lambda a: TF.nll_loss(
            a, torch.tensor(t), None if w is None else torch.tensor(w), reduction=reduction
        ),
        random(input_shape, dtype),
    )


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (4,), (3, 4, 2, 5), (0, 4)], ids=str)
@pytest.mark.parametrize(
    "options", [{}, {"weight": True}, {"label_smoothing": 0.2, "weight": True}], ids=str
)
def test_cross_entropy_probability_targets_match_torch(options, shape, reduction, dtype):
    """Gradients reach the input, the target and (as in PyTorch) the class weights."""
    probabilities = TF.softmax(
        torch.tensor(random(shape, dtype, seed=3)), dim=1 if len(shape) > 1 else 0
    )
    inputs = [random(shape, dtype, scale=2.0), probabilities.numpy()]
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    if options.get("weight"):
        inputs.append(uniform((n_classes,), dtype, 0.2, 2.0, seed=5))
    smoothing = options.get("label_smoothing", 0.0)
    compare(
        lambda a, b, *w: F.cross_entropy(a, b, *w, reduction=reduction, label_smoothing=smoothing),
        lambda a, b, *w: TF.cross_entropy(a, b, *w, reduction=reduction, label_smoothing=smoothing),
        *inputs,
    )


def test_cross_entropy_gradcheck():
    x, t = random((5, 4), scale=2.0), class_targets((5,), 4, ignore_index=-100)
    w = Tensor(uniform((4,), low=0.2, high=2.0, seed=5))
    gradcheck(lambda a: F.cross_entropy(a, Tensor(t)), x)
    gradcheck(lambda a: F.cross_entropy(a, Tensor(t), w, label_smoothing=0.3), x)
    gradcheck(lambda a: F.cross_entropy(a, Tensor(t), w, reduction="none", label_smoothing=0.3), x)
    x4, t4 = random((2, 3, 2, 2)), labels((2, 2, 2), 3)
    gradcheck(lambda a: F.cross_entropy(a, Tensor(t4), reduction="sum"), x4)
    probabilities = TF.softmax(torch.tensor(random((5, 4), seed=3)), dim=1).numpy()
    gradcheck(
        lambda a, b, c: F.cross_entropy(a, b, c, label_smoothing=0.1),
        x,
        probabilities,
        uniform((4,), low=0.2, high=2.0, seed=5),
    )


def test_nll_loss_gradcheck():
    x, t = random((5, 4)), class_targets((5,), 4, ignore_index=-100)
    gradcheck(lambda a: F.nll_loss(a, Tensor(t), Tensor(uniform((4,), low=0.2, seed=5))), x)
    gradcheck(
        lambda a: F.nll_loss(a, Tensor(labels((2, 3), 4)), reduction="none"), random((2, 4, 3))
    )


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_is_stable_at_extremes(dtype):
    x = np.array(
        [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [500.0, 500.0, -500.0]], dtype
    )
    for t in (np.array([0, 0, 2]), np.array([1, 2, 0])):
        out, *_ = compare(
            lambda a: F.cross_entropy(a, Tensor(t), reduction="none", label_smoothing=0.1),
            lambda a: TF.cross_entropy(a, torch.tensor(t), reduction="none", label_smoothing=0.1),
            x,
        )
        assert np.isfinite(out.data).all()


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, t = random((2, 3)), np.array([-100, -100])
    assert np.isnan(F.cross_entropy(Tensor(x), Tensor(t)).item())
    assert np.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item())


def test_nll_loss_ignores_minus_infinity_in_ignored_rows():
    with np.errstate(divide="ignore"):
        x = np.log(np.array([[0.0, 1.0], [0.3, 0.7]]))
        compare(
            lambda a: F.nll_loss(a, Tensor(np.array([-100, 1]))),
            lambda a: TF.nll_loss(a, torch.tensor([-100, 1])),
            x,
        )


def test_cross_entropy_is_one_graph_node():
    x, t = Tensor(random((4, 3)), requires_grad=True), Tensor(labels((4,), 3))
    assert F.cross_entropy(x, t).grad_fn.parents == (x, t)


def test_cross_entropy_accepts_numpy_targets():
    x, t = random((4, 3), np.float32), labels((4,), 3)
    np.testing.assert_allclose(
        F.cross_entropy(Tensor(x), t).item(),
        TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item(),
        rtol=1e-6,
    )


def test_cross_entropy_errors_are_raised_before_computing():
    x = Tensor(random((4, 3), np.float32))
    with pytest.raises(IndexError, match=r"target label 3 is out of range for 3 classes.*\[0, 2\]"):
        F.cross_entropy(x, Tensor(np.array([0, 1, 3, 2])))
    with pytest.raises(IndexError, match="target label -1 is out of range"):
        F.nll_loss(x, Tensor(np.array([0, -1, 1, 2])))
    with pytest.raises(ValueError, match=r"dtype float32 and shape \(4,\): class indices must be"):
        F.cross_entropy(x, Tensor(np.array([0.0, 1.0, 2.0, 1.0], dtype=np.float32)))
    with pytest.raises(TypeError, match="integer tensor.*got dtype float32.*target.long()"):
        F.nll_loss(x, Tensor(np.array([0.0, 1.0, 2.0, 1.0], dtype=np.float32)))
    with pytest.raises(
        ValueError, match=r"target shape \(2,\) does not match input shape \(4, 3\)"
    ):
        F.cross_entropy(x, Tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match=r"weight has shape \(4,\) but the input has 3 classes"):
        F.cross_entropy(x, Tensor(labels((4,), 3)), Tensor(np.ones(4, np.float32)))
    with pytest.raises(RuntimeError, match="weight cannot require grad"):
        F.cross_entropy(
            x, Tensor(labels((4,), 3)), Tensor(np.ones(3, np.float32), requires_grad=True)
        )
    with pytest.raises(ValueError, match="ignore_index is not supported for probability targets"):
        F.cross_entropy(x, Tensor(uniform((4, 3), np.float32)), ignore_index=1)
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(x, Tensor(labels((4,), 3)), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, Tensor(labels((4,), 3)), reduction="avg")
    with pytest.raises(TypeError, match="cross_entropy: input must be floating point"):
        F.cross_entropy(Tensor(np.arange(4)), Tensor(labels((4,), 3)))


# -- loss modules ---------------------------------------------------------------------------------

W4 = uniform((4,), np.float32, 0.2, 2.0, seed=5)


def class_batch():
    return random((6, 4), np.float32, scale=2.0), class_targets((6,), 4, ignore_index=1)


def regression_batch():
    return random((6, 4), np.float32), random((6, 4), np.float32, seed=1)


def probability_batch():
    return uniform((6, 4), np.float32, 0.05, 0.95), uniform((6, 4), np.float32, seed=1)


def kl_batch():
    return np.log(uniform((6, 4), np.float32, 0.05)), np.log(
        uniform((6, 4), np.float32, 0.05, seed=1)
    )


# (class name in both libraries, keyword arguments, weight tensors as arrays, batch of data)
LOSS_MODULES = [
    ("CrossEntropyLoss", {}, {}, class_batch),
    (
        "CrossEntropyLoss",
        {"ignore_index": 1, "reduction": "sum", "label_smoothing": 0.1},
        {"weight": W4},
        class_batch,
    ),
    ("NLLLoss", {"ignore_index": 1, "reduction": "none"}, {"weight": W4}, class_batch),
    ("MSELoss", {"reduction": "sum"}, {}, regression_batch),
    ("L1Loss", {}, {}, regression_batch),
    ("SmoothL1Loss", {"beta": 0.5}, {}, regression_batch),
    ("HuberLoss", {"reduction": "none", "delta": 0.3}, {}, regression_batch),
    ("BCELoss", {}, {"weight": W4}, probability_batch),
    ("BCEWithLogitsLoss", {}, {"weight": W4, "pos_weight": W4 * 2}, regression_batch),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, {}, kl_batch),
]


def build(library, name, kwargs, weights):
    if library == "glassnet":
        return getattr(nn_layers, name)(**kwargs, **{k: Tensor(v) for k, v in weights.items()})
    return getattr(torch.nn, name)(**kwargs, **{k: torch.tensor(v) for k, v in weights.items()})


@pytest.mark.parametrize(
    ("name", "kwargs", "weights", "batch"), LOSS_MODULES, ids=lambda v: str(v)[:40]
)
def test_loss_module_matches_torch(name, kwargs, weights, batch):
    ours, theirs = build("glassnet", name, kwargs, weights), build("torch", name, kwargs, weights)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x, t = batch()
    if t.dtype.kind == "i":
        compare(lambda a: ours(a, Tensor(t)), lambda a: theirs(a, torch.tensor(t)), x)
    else:
        compare(ours, theirs, x, t)


@pytest.mark.parametrize(
    "name", ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss"]
)
def test_loss_module_rejects_bad_reduction(name):
    with pytest.raises(
        ValueError, match=f"{name}: reduction must be one of 'none', 'mean', 'sum', got 'avg'"
    ):
        getattr(nn_layers, name)(reduction="avg")


def test_kl_div_loss_accepts_batchmean_and_other_modules_check_their_arguments():
    assert nn_layers.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got -0.1"):
        nn_layers.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        nn_layers.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="delta must be > 0"):
        nn_layers.HuberLoss(delta=0.0)
