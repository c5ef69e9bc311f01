"""Math ops against PyTorch: arithmetic operators and type promotion, comparisons, elementwise
functions, clamp/maximum/minimum/where, reductions and matrix products. Values, dtypes and
gradients on random inputs of several shapes (broadcasting, size-1 and empty dims), the
conventions at kinks and ties, float64 finite differences and the errors bad shapes raise."""

import operator
import re

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.tensor import Tensor
from torch_compare import FLOATS, away_from, compare, gradcheck
from torch_compare import random as _random

INF = float("inf")


def random(shape, dtype=np.float64, seed=0, scale=1.0):
    """torch_compare.random, as an array also for shape () (NumPy would give a scalar)."""
    return np.asarray(_random(shape, dtype, seed, scale))


def positive(shape, dtype=np.float64, seed=0, low=0.2):
    """Random numbers >= low: inputs for log, sqrt, reciprocal and the base of a power."""
    return (np.abs(random(shape, np.float64, seed)) + low).astype(dtype)


def nonzero(shape, dtype=np.float64, seed=0, margin=0.3):
    """Random numbers at least `margin` away from 0: divisors."""
    x = random(shape, np.float64, seed)
    return np.where(np.abs(x) < margin, np.where(x < 0, -margin, margin), x).astype(dtype)


def with_ties(shape, dtype=np.float64, seed=0):
    """Random numbers on a coarse grid, so that equal values (ties) are common."""
    return np.round(random(shape, np.float64, seed, scale=1.5)).astype(dtype)


# -- binary arithmetic ----------------------------------------------------------------------------

# name: (operator, first operand, second operand); the same Python operator works on both libraries
BINARY = {
    "add": (operator.add, random, random),
    "sub": (operator.sub, random, random),
    "mul": (operator.mul, random, random),
    "div": (operator.truediv, random, nonzero),
    "pow": (operator.pow, positive, random),
}
SHAPE_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((1,), (5,)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((0, 3), (3,)),
    ((0, 3), (1, 1)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_operator_matches_torch(name, shapes, dtype):
    op, first, second = BINARY[name]
    x, y = first(shapes[0], dtype, seed=0), second(shapes[1], dtype, seed=1)
    compare(op, op, x, y)


@pytest.mark.parametrize("name", BINARY)
def test_binary_operator_methods(name):
    op, first, second = BINARY[name]
    x, y = first((3, 4), np.float32, seed=0), second((4,), np.float32, seed=1)
    compare(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b), x, y)
    if name in ("add", "sub"):
        compare(lambda a, b: getattr(a, name)(b, alpha=2.5), lambda a, b: op(a, 2.5 * b), x, y)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("scalar", [2.5, -3, 0.5, np.float64(1.5)], ids=repr)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_python_scalar_on_either_side(name, scalar, dtype):
    """A Python number never changes a float tensor's dtype (float32 stays float32)."""
    op = BINARY[name][0]
    x = nonzero((3, 4), dtype)
    out, *_ = compare(lambda t: op(t, scalar), lambda t: op(t, scalar), x)
    assert out.dtype == dtype
    out, *_ = compare(lambda t: op(scalar, t), lambda t: op(scalar, t), x)
    assert out.dtype == dtype


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, -2, 1, 0, 2.5], ids=repr)
def test_tensor_to_a_scalar_power(exponent, dtype):
    x = positive((3, 4), dtype)
    compare(lambda t: t**exponent, lambda t: t**exponent, x)
    compare(lambda t: t.pow(exponent), lambda t: t.pow(exponent), x)
    if isinstance(exponent, int) and exponent >= 0:  # any sign of base
        compare(lambda t: t**exponent, lambda t: t**exponent, random((2, 5), dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("base", [2.0, 0.5, 3, np.e], ids=repr)
def test_scalar_to_a_tensor_power(base, dtype):
    compare(lambda t: base**t, lambda t: base**t, random((3, 4), dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_power_at_zero_follows_torch(dtype):
    """0 ** 0 = 1 with zero gradients; x ** 0 has zero gradient even at x = 0; the exponent's
    gradient is 0 where the base is 0 (and the exponent >= 0), NaN for a negative base."""
    compare(lambda t: t**0, lambda t: t**0, np.array([0.0, 1.0, -2.0], dtype))
    compare(lambda t: 0.0**t, lambda t: 0.0**t, np.array([0.0, 1.0, 2.0], dtype))
    base = np.array([0.0, 0.0, -1.0, 2.0, 0.0], dtype)
    exponent = np.array([0.0, 2.0, 2.0, -1.0, 1.0], dtype)
    compare(operator.pow, operator.pow, base, exponent)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (1,), (0, 3), ()], ids=str)
def test_unary_minus_and_abs(shape, dtype):
    x = away_from(random(shape, dtype), [0.0])
    compare(operator.neg, operator.neg, x)
    compare(abs, abs, x)
    compare(lambda t: t.abs(), lambda t: t.abs(), x)
    compare(gn.abs, torch.abs, x)


@pytest.mark.parametrize("dtype", FLOATS)
def test_abs_gradient_at_zero_is_zero(dtype):
    compare(abs, abs, np.array([0.0, -0.0, 1.5, -1.5], dtype))


# -- type promotion -------------------------------------------------------------------------------

# (operator, first, second): arrays are tensors (0-d arrays are 0-d tensors), others Python numbers
PROMOTION = {
    "int64 / int": (operator.truediv, np.array([1, 2, 7]), 2),
    "int / int64": (operator.truediv, 3, np.array([1, 2, 7])),
    "int64 / int64": (operator.truediv, np.array([1, 2, 7]), np.array([2, 4, 3])),
    "int64 * float": (operator.mul, np.array([1, 2, 7]), 2.5),
    "float - int64": (operator.sub, 2.5, np.array([1, 2, 7])),
    "float32 + float": (operator.add, random((3,), np.float32), 2.0),
    "float32 * numpy float64": (operator.mul, random((3,), np.float32), np.float64(2.0)),
    "float64 + float": (operator.add, random((3,)), 2.0),
    "int32 + int": (operator.add, np.array([1, 2], np.int32), 3),
    "bool + int": (operator.add, np.array([True, False]), 1),
    "bool + bool": (operator.add, np.array([True, False]), np.array([True, True])),
    "float32 + int64 tensor": (operator.add, random((3,), np.float32), np.array([1, 2, 3])),
    "int64 * float32 tensor": (operator.mul, np.array([1, 2, 3]), random((3,), np.float32)),
    "int32 + 0-d float64": (operator.add, np.array([1, 2], np.int32), np.array(1.5)),
    "float32 + 0-d float64": (operator.add, random((3,), np.float32), np.array(1.5)),
    "0-d float32 + 0-d float64": (operator.add, np.array(1.0, np.float32), np.array(1.5)),
    "0-d int64 + float": (operator.add, np.array(3), 1.5),
    "uint8 + int8": (operator.add, np.array([1, 2], np.uint8), np.array([-1, 3], np.int8)),
    "float32 + float16": (operator.add, random((1,), np.float32), np.array([1.5], np.float16)),
    "int ** int64": (operator.pow, 2, np.array([1, 2, 3])),
    "float ** int64": (operator.pow, 2.0, np.array([1, 2, 3])),
    "int64 ** float": (operator.pow, np.array([1, 4, 9]), 0.5),
    "int64 ** int": (operator.pow, np.array([1, 4, 9]), 2),
    "float32 ** int64": (operator.pow, positive((3,), np.float32), np.array([1, 2, 3])),
}


@pytest.mark.parametrize("case", PROMOTION)
def test_type_promotion_matches_torch(case):
    op, a, b = PROMOTION[case]
    tol = {"rtol": 1e-6, "atol": 1e-6}  # results may be float32 from integer inputs
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        compare(op, op, a, b, **tol)
    elif isinstance(a, np.ndarray):
        compare(lambda t: op(t, b), lambda t: op(t, b), a, **tol)
    else:
        compare(lambda t: op(a, t), lambda t: op(a, t), b, **tol)


def test_int_tensor_divided_by_int_is_float32():
    out = Tensor(np.array([1, 2, 7])) / 2
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.5, 1.0, 3.5])


def test_integer_to_a_negative_integer_power_raises():
    with pytest.raises((ValueError, RuntimeError), match="Integers to negative integer powers"):
        Tensor(np.array([1, 2])) ** -1


# -- comparisons ----------------------------------------------------------------------------------

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]


@pytest.mark.parametrize("dtype", [*FLOATS, np.int64])
@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_gives_bool_without_grad(name, dtype):
    op = getattr(operator, name)
    x, y = with_ties((3, 4), dtype), with_ties((4,), dtype, seed=1)
    for ours, theirs, arrays in [
        (op, op, (x, y)),  # broadcasting tensors
        (lambda t: op(t, 0), lambda t: op(t, 0), (x,)),
        (lambda t: op(t, 0.5), lambda t: op(t, 0.5), (x,)),
        (lambda t: op(1.0, t), lambda t: op(1.0, t), (x,)),  # reflected: 1.0 < t
        (lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b), (x, y)),
        (op, op, (random((0, 3), dtype), random((3,), dtype))),
    ]:
        out, *_ = compare(ours, theirs, *arrays)
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None


# -- elementwise functions ------------------------------------------------------------------------

# name: (input maker, kinks); called as a method, `t.exp()`, in both libraries
UNARY = {
    "exp": (random, []),
    "log": (positive, []),
    "log1p": (lambda shape, dtype, seed=0: positive(shape, dtype, seed, low=-0.8), []),
    "sqrt": (positive, []),
    "rsqrt": (positive, []),
    "square": (random, []),
    "reciprocal": (nonzero, []),
    "sin": (random, []),
    "cos": (random, []),
    "tanh": (random, []),
    "sigmoid": (random, []),
    "relu": (random, [0.0]),
    "sign": (random, [0.0]),
    "abs": (random, [0.0]),
    "neg": (random, []),
}
SHAPES = [(3, 4), (2, 1, 3), (1,), (0, 3), ()]


def method(name):
    return lambda t: getattr(t, name)()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_function_matches_torch(name, shape, dtype):
    make, kinks = UNARY[name]
    x = away_from(make(shape, dtype, seed=3), kinks)
    compare(method(name), method(name), x)


@pytest.mark.parametrize("name", [n for n in UNARY if hasattr(gn, n)])
def test_module_level_functions(name):
    make, kinks = UNARY[name]
    x = away_from(make((3, 4), np.float32), kinks)
    compare(getattr(gn, name), getattr(torch, name), x)


@pytest.mark.parametrize("name", UNARY)
def test_unary_function_on_integers_follows_torch_dtype(name):
    ints = np.array([1, 2, 4, 9]) if UNARY[name][0] is not random else np.array([-3, 0, 1, 4])
    compare(method(name), method(name), ints, rtol=1e-6)  # float32 results


@pytest.mark.parametrize("name", ["relu", "sign", "abs"])
def test_gradient_at_zero_follows_torch(name):
    compare(method(name), method(name), np.array([0.0, -0.0, 2.0, -2.0], np.float32))


def test_sign_has_zero_gradient():
    x = Tensor(random((3,)), requires_grad=True)
    out = x.sign()
    assert out.requires_grad
    (out * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))


def test_exp_and_sigmoid_of_extreme_inputs():
    x = np.array([-1000.0, -100.0, 0.0, 80.0, 100.0], np.float32)
    for name in ("sigmoid", "tanh"):
        compare(method(name), method(name), x)
    with np.errstate(over="ignore"):
        compare(method("exp"), method("exp"), x)


# -- clamp ----------------------------------------------------------------------------------------

CLAMPS = {
    "min": {"min": -0.5},
    "max": {"max": 0.5},
    "both": {"min": -0.5, "max": 0.5},
    "int_bounds": {"min": -1, "max": 1},
    "min_above_max": {"min": 0.5, "max": -0.5},  # torch: every value becomes max
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("bounds", CLAMPS)
def test_clamp_matches_torch(bounds, shape, dtype):
    kw = CLAMPS[bounds]
    x = away_from(random(shape, dtype, scale=1.5), list(kw.values()))
    compare(lambda t: t.clamp(**kw), lambda t: t.clamp(**kw), x)
    compare(lambda t: gn.clamp(t, **kw), lambda t: torch.clamp(t, **kw), x)
    compare(lambda t: t.clip(**kw), lambda t: t.clip(**kw), x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bounds", CLAMPS)
def test_clamp_gradient_at_the_bounds(bounds, dtype):
    """Exactly at a bound the gradient passes (torch's clamp is inclusive)."""
    kw = CLAMPS[bounds]
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0], dtype)
    compare(lambda t: t.clamp(**kw), lambda t: t.clamp(**kw), x)


def test_clamp_positional_and_integer_tensors():
    x = random((3, 4), np.float32, scale=2)
    compare(lambda t: t.clamp(-1, 1), lambda t: t.clamp(-1, 1), x)
    ints = np.array([-3, 0, 2, 5])
    compare(lambda t: t.clamp(0, 3), lambda t: t.clamp(0, 3), ints)  # stays int64
    compare(lambda t: t.clamp(min=1.5), lambda t: t.clamp(min=1.5), ints)  # becomes float32


@pytest.mark.parametrize("dtype", FLOATS)
def test_clamp_with_tensor_bounds(dtype):
    """Tensor bounds broadcast and receive gradients where they are the value taken."""
    x = with_ties((3, 4), dtype)
    lo, hi = with_ties((4,), dtype, seed=1) - 0.5, with_ties((3, 1), dtype, seed=2) + 0.5
    compare(lambda t, a, b: t.clamp(a, b), lambda t, a, b: t.clamp(a, b), x, lo, hi)
    compare(lambda t, a: t.clamp(min=a), lambda t, a: t.clamp(min=a), x, lo)
    compare(lambda t, b: t.clamp(max=b), lambda t, b: t.clamp(max=b), x, hi)
    compare(lambda t, a, b: t.clamp(a, b), lambda t, a, b: t.clamp(a, b), x, hi, lo)  # min > max


def test_clamp_without_bounds_raises():
    with pytest.raises((ValueError, RuntimeError), match="At least one of|at least one of"):
        gn.clamp(Tensor(random((3,))))


# -- maximum, minimum, where ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_match_torch(name, shapes, dtype):
    """On grid values with many ties: torch splits a tie's gradient evenly between the inputs."""
    x, y = with_ties(shapes[0], dtype), with_ties(shapes[1], dtype, seed=1)
    compare(getattr(gn, name), getattr(torch, name), x, y)
    compare(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b), x, y)
    short = name[:3]  # t.max(other) and t.min(other) are maximum and minimum
    compare(lambda a, b: getattr(a, short)(b), lambda a, b: getattr(a, short)(b), x, y)


@pytest.mark.parametrize("dtype", FLOATS)
def test_maximum_minimum_ties_split_the_gradient(dtype):
    x, y = np.array([1.0, 2.0, 3.0], dtype), np.array([1.0, 3.0, 3.0], dtype)
    for name, x_share in [("maximum", [0.5, 0.0, 0.5]), ("minimum", [0.5, 1.0, 0.5])]:
        a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
        getattr(gn, name)(a, b).sum().backward()
        np.testing.assert_array_equal(a.grad.data, x_share)
        np.testing.assert_array_equal(b.grad.data, 1 - np.array(x_share))


# (condition shape, x, y): a shape is a tensor, a number a Python scalar
WHERE_CASES = [
    ((3, 4), (3, 4), (3, 4)),
    ((3, 1), (4,), (3, 4)),
    ((4,), (2, 1, 4), (3, 1)),
    ((3, 4), (3, 4), 0.0),
    ((3, 4), 1.5, (4,)),
    ((3, 4), -1, 2),
    ((3, 4), 1.0, 0),
    ((0, 3), (3,), (0, 1)),
    ((), (2, 3), (2, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", WHERE_CASES, ids=str)
def test_where_matches_torch(case, dtype):
    cond = random(case[0], seed=5) > 0
    tensors = [random(s, dtype, seed=i) for i, s in enumerate(case[1:]) if isinstance(s, tuple)]

    def call(where, scalar_first, scalar_second):
        def fn(c, *ts):
            it = iter(ts)
            a = next(it) if scalar_first is None else scalar_first
            b = next(it) if scalar_second is None else scalar_second
            return where(c, a, b)

        return fn

    first = None if isinstance(case[1], tuple) else case[1]
    second = None if isinstance(case[2], tuple) else case[2]
    compare(call(gn.where, first, second), call(torch.where, first, second), cond, *tensors)


def test_where_method_and_masked_fill():
    x, y = random((3, 4), np.float32), random((3, 4), np.float32, seed=1)
    cond = x > 0.2
    compare(lambda a, b, c: a.where(c, b), lambda a, b, c: a.where(c, b), x, y, cond)
    compare(lambda a, c: a.masked_fill(c, 0.0), lambda a, c: a.masked_fill(c, 0.0), x, cond)


# -- reductions -----------------------------------------------------------------------------------

# (shape, dim): dim None is every dim, () too for sum/mean (torch's convention)
REDUCE_CASES = [
    ((2, 3, 4), None),
    ((2, 3, 4), 0),
    ((2, 3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 0)),
    ((2, 3, 4), ()),
    ((5,), 0),
    ((1, 4), 0),
    ((0, 3), 1),
    ((0, 3), 0),
    ((0, 3), None),
    ((), None),
    ((), 0),
]
NONEMPTY_REDUCE_CASES = [c for c in REDUCE_CASES if c[0] != (0, 3) or c[1] == 1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns about the mean of nothing
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("case", REDUCE_CASES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean_match_torch(name, case, keepdim, dtype):
    shape, dim = case
    x = random(shape, dtype)
    compare(
        lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
        lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
        x,
    )
    if dim is not None:
        fn = getattr(gn, name), getattr(torch, name)
        compare(lambda t: fn[0](t, dim, keepdim), lambda t: fn[1](t, dim, keepdim), x)


def test_sum_and_mean_without_arguments():
    x = random((3, 4), np.float32)
    for name in ("sum", "mean"):
        compare(method(name), method(name), x)
        compare(getattr(gn, name), getattr(torch, name), x)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_sum_of_integers_and_bools_is_int64(dtype):
    x = (random((3, 4)) * 3).astype(dtype)
    compare(method("sum"), method("sum"), x)
    compare(lambda t: t.sum(0), lambda t: t.sum(0), x)


def test_reduction_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        Tensor(random((2, 3))).sum(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        Tensor(random((2, 3))).mean((0, -3))


MAX_DIM_CASES = [
    ((3, 4), 0),
    ((3, 4), 1),
    ((3, 4), -1),
    ((2, 3, 4), 1),
    ((5,), 0),
    ((1, 4), 0),
    ((0, 3), 1),
    ((), 0),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("case", MAX_DIM_CASES, ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_dim_return_values_and_indices(name, case, keepdim, dtype):
    """With ties the first index wins and alone gets the gradient, as in torch."""
    shape, dim = case
    x = with_ties(shape, dtype)
    compare(
        lambda t: getattr(t, name)(dim, keepdim=keepdim).values,
        lambda t: getattr(t, name)(dim, keepdim=keepdim).values,
        x,
    )
    compare(
        lambda t: getattr(gn, name)(t, dim=dim, keepdim=keepdim)[0],
        lambda t: getattr(torch, name)(t, dim=dim, keepdim=keepdim)[0],
        x,
    )
    ours, theirs = (
        getattr(Tensor(x), name)(dim, keepdim),
        getattr(torch.tensor(x), name)(dim, keepdim),
    )
    values, indices = ours  # a (values, indices) pair, like torch.return_types.max
    assert values is ours.values and indices is ours.indices
    assert indices.dtype == np.int64 and indices.shape == tuple(theirs.indices.shape)
    np.testing.assert_array_equal(indices.data, theirs.indices.numpy())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (1,), ()], ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_everything_split_ties(name, shape, dtype):
    x = with_ties(shape, dtype)
    compare(method(name), method(name), x)
    compare(getattr(gn, name), getattr(torch, name), x)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_nothing_raise(name):
    with pytest.raises(RuntimeError, match="Expected reduction"):
        getattr(Tensor(np.zeros((0, 3))), name)()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("case", NONEMPTY_REDUCE_CASES, ids=str)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_match_torch(name, case, keepdim, dtype):
    shape, dim = case
    x = with_ties(shape, dtype)
    if dim is None:
        ours = theirs = lambda t: getattr(t, name)(keepdim=keepdim)
    else:
        ours = theirs = lambda t: getattr(t, name)(dim, keepdim=keepdim)
    compare(ours, theirs, x)
    if dim is not None:
        compare(
            lambda t: getattr(gn, name)(t, dim, keepdim),
            lambda t: getattr(torch, name)(t, dim, keepdim),
            x,
        )


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_torch(name, dim, keepdim):
    """On ties the first index, as in torch."""
    for x in (with_ties((3, 4)), with_ties((2, 5), np.float32), np.array([[3, 1, 3], [0, 0, 2]])):
        compare(
            lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
            lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
            x,
        )
        compare(
            lambda t: getattr(gn, name)(t, dim, keepdim),
            lambda t: getattr(torch, name)(t, dim, keepdim),
            x,
        )


# var/std: the same call written for both libraries (torch 2.x accepts all of these forms)
VAR_CALLS = {
    "default": lambda t, f: getattr(t, f)(),
    "dim": lambda t, f: getattr(t, f)(0),
    "negative_dim_keepdim": lambda t, f: getattr(t, f)(-1, keepdim=True),
    "tuple_dim": lambda t, f: getattr(t, f)((0, 2)),
    "unbiased_positional": lambda t, f: getattr(t, f)(1, False),
    "unbiased_keywords": lambda t, f: getattr(t, f)(dim=1, unbiased=False, keepdim=True),
    "unbiased_true": lambda t, f: getattr(t, f)(dim=2, unbiased=True),
    "unbiased_only": lambda t, f: getattr(t, f)(unbiased=False),
    "unbiased_first_positional": lambda t, f: getattr(t, f)(False),
    "correction_0": lambda t, f: getattr(t, f)(correction=0),
    "correction_2": lambda t, f: getattr(t, f)(dim=(0, 1), correction=2, keepdim=True),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("call", VAR_CALLS)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_match_torch(name, call, dtype):
    fn = VAR_CALLS[call]
    compare(lambda t: fn(t, name), lambda t: fn(t, name), random((2, 3, 4), dtype, scale=2))


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_over_an_empty_tuple_of_dims_is_over_every_dim(name):
    """Forward only: torch reduces every dim for dim=() but its backward then divides by
    N - correction with N = 1 (inf gradients); glassnet's gradient is the full reduction's."""
    x = random((2, 3, 4), np.float32)
    compare(lambda t: getattr(t, name)(dim=()), lambda t: getattr(t, name)(dim=()), x, grad=False)
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    getattr(a, name)(dim=()).backward()
    getattr(b, name)().backward()
    np.testing.assert_array_equal(a.grad.data, b.grad.data)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_module_level(name):
    x = random((3, 4), np.float32)
    ours, theirs = getattr(gn, name), getattr(torch, name)
    compare(ours, theirs, x)
    compare(lambda t: ours(t, 1, keepdim=True), lambda t: theirs(t, 1, keepdim=True), x)
    compare(lambda t: ours(t, 0, correction=0), lambda t: theirs(t, 0, correction=0), x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:.*degrees of freedom")
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_with_too_few_values(name, dtype):
    """One value (correction 1), N = correction and no values at all: NaN or inf as in torch,
    gradients included."""
    for shape, kw in [
        ((1, 4), {"dim": 0}),
        ((), {}),
        ((2, 3), {"dim": 0, "correction": 2}),
        ((0, 3), {"dim": 0}),
        ((4, 0), {"dim": 1}),
    ]:
        x = random(shape, dtype)
        compare(lambda t: getattr(t, name)(**kw), lambda t: getattr(t, name)(**kw), x)


LOGSUMEXP_CASES = [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), (0, 2)), ((2, 3, 4), -1), ((5,), 0)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("case", LOGSUMEXP_CASES, ids=str)
def test_logsumexp_matches_torch(case, keepdim, dtype):
    shape, dim = case
    x = random(shape, dtype, scale=3)
    compare(lambda t: t.logsumexp(dim, keepdim), lambda t: t.logsumexp(dim, keepdim), x)
    compare(lambda t: gn.logsumexp(t, dim), lambda t: torch.logsumexp(t, dim), x)


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_is_stable_for_large_and_infinite_values(dtype):
    x = np.array([[1000.0, 1000.0, 990.0], [-1000.0, -1001.0, -1e4], [1e4, 0.0, -1e4]], dtype)
    out, *_ = compare(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x)
    assert np.isfinite(out.data).all()
    x = np.array([[-INF, -INF], [INF, 0.0], [-INF, 1.0]], dtype)
    with np.errstate(all="ignore"):
        compare(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logsumexp_of_nothing_and_of_integers():
    compare(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), random((0, 3), np.float32))
    compare(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), np.array([[1, 2], [3, 4]]))


NORMS = [2, 1, INF, 3, "fro", 0.5]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [None, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("p", NORMS, ids=str)
def test_norm_matches_torch(p, dim, dtype):
    x = away_from(with_ties((3, 4), dtype) + random((3, 4), dtype, seed=9) * 0.01, [0.0], 0.1)
    x[0, :2] = x[0, 0]  # a tie for the largest |x| of the inf-norm
    compare(lambda t: t.norm(p, dim), lambda t: t.norm(p, dim), x)
    compare(lambda t: t.norm(p, dim, True), lambda t: t.norm(p, dim, True), x)
    compare(lambda t: gn.norm(t, p, dim), lambda t: torch.norm(t, p, dim), x)


@pytest.mark.parametrize("p", [2, 1, INF, 3], ids=str)
def test_norm_of_zeros_has_zero_gradient(p):
    """torch defines the gradient of a norm at the zero vector as 0 (a subgradient), not NaN."""
    x = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 1.0]], np.float32)
    compare(lambda t: t.norm(p, 1), lambda t: t.norm(p, 1), x)
    compare(lambda t: t.norm(p), lambda t: t.norm(p), np.zeros(3, np.float32))


# -- matrix products ------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((3, 4), (4, 2)),
    ((1, 4), (4, 1)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 3, 4), (2, 4, 5)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 2)),
    ((2, 0, 4), (4, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes, dtype):
    x, y = random(shapes[0], dtype), random(shapes[1], dtype, seed=1)
    compare(operator.matmul, operator.matmul, x, y)
    compare(gn.matmul, torch.matmul, x, y)
    compare(lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), x, y)


@pytest.mark.parametrize("dtype", FLOATS)
def test_mm_bmm_dot_match_torch(dtype):
    def both(name):
        return lambda a, b: getattr(a, name)(b)

    compare(both("mm"), both("mm"), random((3, 4), dtype), random((4, 2), dtype, seed=1))
    compare(both("bmm"), both("bmm"), random((2, 3, 4), dtype), random((2, 4, 5), dtype, seed=1))
    compare(both("dot"), both("dot"), random((4,), dtype), random((4,), dtype, seed=1))


def test_matmul_with_integers():
    compare(operator.matmul, operator.matmul, np.array([[1, 2], [3, 4]]), np.array([5, 6]))


@pytest.mark.parametrize(
    "shapes",
    [((3, 4), (5, 2)), ((3,), (4,)), ((2, 3, 4), (5,)), ((4,), (3, 2)), ((2, 3, 4), (3, 4, 5))],
    ids=str,
)
def test_matmul_shape_mismatch_names_both_shapes(shapes):
    a, b = (Tensor(random(s, np.float32)) for s in shapes)
    with pytest.raises(RuntimeError, match=rf"{re_shape(shapes[0])}.*{re_shape(shapes[1])}"):
        a @ b
    with pytest.raises(RuntimeError):  # torch refuses these too
        torch.tensor(a.data) @ torch.tensor(b.data)


def re_shape(shape):
    return re.escape(str(tuple(shape)))


def test_matmul_of_a_0d_tensor_raises():
    with pytest.raises(RuntimeError, match="at least 1D"):
        Tensor(np.array(2.0)) @ Tensor(random((2,)))


def test_mm_bmm_dot_check_dimensions():
    m, v, b = Tensor(random((3, 3))), Tensor(random((3,))), Tensor(random((2, 3, 3)))
    with pytest.raises(RuntimeError, match="matrix"):
        m.mm(v)
    with pytest.raises(RuntimeError, match="3D"):
        m.bmm(m)
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        m.dot(m)
    with pytest.raises(RuntimeError, match=r"\(2, 3, 3\).*\(3, 3\)|3D"):
        b.bmm(m)
    with pytest.raises(RuntimeError, match=r"\(3, 3\).*\(2, 3\)"):
        m.mm(Tensor(random((2, 3))))


# -- float64 finite differences -------------------------------------------------------------------


def small(shape=(2, 3), seed=0):
    return random(shape, seed=seed)


# name: (function of tensors, inputs)
GRADCHECKS = {
    "add": (operator.add, (small(), small((3,), 1))),
    "sub": (operator.sub, (small(), small((2, 1), 1))),
    "mul": (operator.mul, (small(), small((3,), 1))),
    "div": (operator.truediv, (small(), nonzero((2, 1), seed=1))),
    "pow": (operator.pow, (positive((2, 3)), small((3,), 1))),
    "pow_scalar": (lambda t: t**2.5, (positive((2, 3)),)),
    "pow_negative": (lambda t: t**-2, (positive((2, 3)),)),
    "rpow": (lambda t: 1.7**t, (small(),)),
    "scalar_sub_div": (lambda t: (2.0 - t) / 3.0 + 1.0 / (t + 5.0), (small(),)),
    "neg": (operator.neg, (small(),)),
    "abs": (abs, (nonzero((2, 3)),)),
    **{
        name: (method(name), (away_from(make((2, 3), np.float64), kinks, 0.05),))
        for name, (make, kinks) in UNARY.items()
        if name not in ("sign", "abs", "neg")
    },
    "clamp": (lambda t: t.clamp(-0.5, 0.5), (away_from(small(), [-0.5, 0.5]),)),
    "clamp_tensors": (
        lambda t, a, b: t.clamp(a, b),
        (away_from(small(), [-0.3, 0.4], 0.05), np.full((3,), -0.3), np.full((2, 1), 0.4)),
    ),
    "maximum": (gn.maximum, (small(), small((3,), 1))),
    "minimum": (gn.minimum, (small(), small((2, 1), 1))),
    "where": (lambda a, b: gn.where(Tensor(small((3,), 7) > 0), a, b), (small(), small((2, 1)))),
    "sum": (lambda t: t.sum(1), (small(),)),
    "sum_keepdim": (lambda t: t.sum((0, 2), keepdim=True), (small((2, 3, 2)),)),
    "mean": (lambda t: t.mean(0), (small(),)),
    "mean_all": (lambda t: t.mean(), (small(),)),
    "max_dim": (lambda t: t.max(1).values, (small(),)),
    "min_dim_keepdim": (lambda t: t.min(0, keepdim=True).values, (small(),)),
    "max_all": (lambda t: t.max(), (small(),)),
    "amax": (lambda t: t.amax((0, 2)), (small((2, 3, 2)),)),
    "amin": (lambda t: t.amin(-1), (small(),)),
    "var": (lambda t: t.var(1), (small(),)),
    "var_biased": (lambda t: t.var(unbiased=False), (small(),)),
    "std": (lambda t: t.std(0, correction=0), (small(),)),
    "std_all": (lambda t: t.std(), (small(),)),
    "logsumexp": (lambda t: t.logsumexp(1), (small(),)),
    "norm": (lambda t: t.norm(), (small(),)),
    "norm_dim": (lambda t: t.norm(2, 1), (small(),)),
    "norm_1": (lambda t: t.norm(1, 0), (nonzero((2, 3)),)),
    "norm_3": (lambda t: t.norm(3), (small(),)),
    "matmul": (operator.matmul, (small(), small((3, 2), 1))),
    "matmul_vector": (operator.matmul, (small((3,)), small((3,), 1))),
    "matmul_matrix_vector": (operator.matmul, (small(), small((3,), 1))),
    "matmul_broadcast": (operator.matmul, (small((2, 1, 2, 3)), small((2, 3, 2), 1))),
    "matmul_batch_weight": (operator.matmul, (small((2, 2, 3)), small((3, 2), 1))),
}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck(name):
    fn, arrays = GRADCHECKS[name]
    gradcheck(fn, *arrays)


# -- 0-d tensors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exp", "relu", "sigmoid", "tanh", "neg", "sign", "sum", "max"])
def test_results_of_0d_tensors_are_writable_arrays(name):
    """NumPy turns 0-d results into scalars; a tensor keeps an array (so in-place ops work)."""
    out = method(name)(Tensor(np.array(0.5, np.float32)))
    assert type(out.data) is np.ndarray and out.shape == () and out.dtype == np.float32
    out.zero_()
    assert out.item() == 0.0
