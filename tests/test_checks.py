"""The argument checks: what each accepts, what it returns, and that its error names the place, the
argument and the value received, with the error type PyTorch raises (or the caller's own)."""

import re

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import checks, nn
from glassnet.nn import functional as F


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_integers_come_back_as_python_ints(value):
    out = checks.positive_int(value, "size", "Layer")
    assert out == 3 and type(out) is int


@pytest.mark.parametrize(
    "check, value, words",
    [
        (checks.positive_int, 0, "a positive integer"),
        (checks.positive_int, 2.0, "a positive integer"),
        (checks.positive_int, True, "a positive integer"),
        (checks.positive_int, "3", "a positive integer"),
        (checks.non_negative_int, -1, "a non-negative integer"),
        (checks.non_negative_int, None, "a non-negative integer"),
    ],
)
def test_bad_integers_name_the_place_the_argument_and_the_value(check, value, words):
    with pytest.raises(ValueError, match=re.escape(f"Layer: size must be {words}, got {value!r}")):
        check(value, "size", "Layer")


def test_int_in_range_includes_both_ends():
    assert checks.int_in_range(0, "k", "f", 0, 4) == 0
    assert checks.int_in_range(4, "k", "f", 0, 4) == 4
    with pytest.raises(ValueError, match="f: k must be an integer from 0 to 4, got 5"):
        checks.int_in_range(5, "k", "f", 0, 4)


def test_the_error_class_can_be_the_callers_own():
    class SettingsError(ValueError):
        pass

    with pytest.raises(SettingsError, match="^noise must be an integer from 0 to 50, got 99$"):
        checks.int_in_range(99, "noise", "", 0, 50, error=SettingsError)
    with pytest.raises(TypeError, match="RNN: hidden_size must be a positive integer, got 2.5"):
        checks.positive_int(2.5, "hidden_size", "RNN", type_error=TypeError)
    with pytest.raises(ValueError, match="RNN: hidden_size"):  # a wrong value stays a ValueError
        checks.positive_int(0, "hidden_size", "RNN", type_error=TypeError)


def test_int_tuple():
    assert checks.int_tuple(3, "stride", "conv2d", 2, 1) == (3, 3)
    assert checks.int_tuple([1, np.int32(2)], "stride", "conv2d", 2, 1) == (1, 2)
    with pytest.raises(ValueError, match=r"conv2d: stride must be an int or a tuple of 2 ints"):
        checks.int_tuple((1, 2, 3), "stride", "conv2d", 2, 1)
    with pytest.raises(ValueError, match=r"conv2d: stride must be at least 1, got \(1, 0\)"):
        checks.int_tuple((1, 0), "stride", "conv2d", 2, 1)


@pytest.mark.parametrize("value", [0, 0.5, 1, np.float32(0.25)])
def test_probabilities(value):
    out = checks.probability(value, "p", "Dropout")
    assert out == float(value) and type(out) is float


@pytest.mark.parametrize("value", [-0.1, 1.01, float("nan"), "0.5", None, True])
def test_not_probabilities(value):
    with pytest.raises(ValueError, match=re.escape(f"Dropout: p must be in [0, 1], got {value!r}")):
        checks.probability(value, "p", "Dropout")


def test_a_fraction_may_exclude_one():
    assert checks.probability(0.0, "val_fraction", "CharCorpus", include_one=False) == 0.0
    with pytest.raises(ValueError, match=r"CharCorpus: val_fraction must be in \[0, 1\), got 1"):
        checks.probability(1, "val_fraction", "CharCorpus", include_one=False)


def test_numbers():
    assert checks.positive_number(1e-5, "eps", "BatchNorm1d") == 1e-5
    assert checks.non_negative_number(0, "max_norm", "clip_grad_norm_") == 0.0
    assert checks.positive_number(float("inf"), "minutes", "TimeLimit") == float("inf")
    with pytest.raises(ValueError, match="BatchNorm1d: eps must be a positive number, got 0"):
        checks.positive_number(0, "eps", "BatchNorm1d")
    with pytest.raises(ValueError, match="clip: max_norm must be a non-negative number, got -1"):
        checks.non_negative_number(-1, "max_norm", "clip")
    with pytest.raises(ValueError, match="lr must be a number from 1e-05 to 10, got inf"):
        checks.number_in_range(float("inf"), "lr", "", 1e-5, 10)
    with pytest.raises(ValueError, match="got nan"):
        checks.number(float("nan"), "x", "f")


def test_floating_point_takes_a_dtype_an_array_or_a_tensor():
    assert checks.floating_point(np.float32, "dtype", "rand") == np.float32
    assert checks.floating_point(np.zeros(2), "input", "f") == np.float64
    assert checks.floating_point(gn.zeros(2), "input", "f") == np.float32
    with pytest.raises(TypeError, match="rand: dtype must be floating point, got dtype int64"):
        checks.floating_point(np.int64, "dtype", "rand")


def test_same_dtype_lists_every_dtype():
    a, b = np.zeros(2, np.float32), np.zeros(2, np.float64)
    assert checks.same_dtype("conv2d", input=a, weight=a, bias=None) == np.float32
    assert checks.same_dtype("conv2d") is None
    with pytest.raises(
        TypeError,
        match="conv2d: input, weight must have one dtype, got input float32, weight float64",
    ):
        checks.same_dtype("conv2d", input=a, weight=b)
    with pytest.raises(TypeError, match="conv2d: weight must be floating point, got dtype int64"):
        checks.same_floating_dtype("conv2d", input=a, weight=np.zeros(2, np.int64))


# -- the checks where they are used, with PyTorch's error types -----------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.Conv2d(3, 4, kernel_size=3, groups=0),
        lambda m: m.Dropout(1.5),
        lambda m: m.Dropout2d(-0.5),
        lambda m: m.LSTM(4, 0),
        lambda m: m.LSTM(4, 2.5),
        lambda m: m.GRU(4, 3, dropout=-0.5),
    ],
)
def test_layers_refuse_what_torch_refuses_with_the_same_error_type(make):
    with pytest.raises(Exception) as theirs:
        make(torch.nn)
    with pytest.raises(type(theirs.value)) as ours:
        make(nn)
    assert re.match(r"\w+: \w+ must be ", str(ours.value)), str(ours.value)


def test_functional_dropout_and_conv_name_the_op():
    with pytest.raises(ValueError, match=r"dropout2d: p must be in \[0, 1\], got -1"):
        F.dropout2d(gn.zeros(2, 3, 4), p=-1)
    x, w = gn.zeros(1, 2, 5, 5), gn.zeros(4, 2, 3, 3, dtype=gn.float64)
    with pytest.raises(
        TypeError, match="input, weight must have one dtype, got input float32, weight float64"
    ):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match="Conv2d: groups must be a positive integer, got 0"):
        F.conv2d(x, gn.zeros(4, 2, 3, 3), groups=0)
