"""Making tensors, against PyTorch: dtype inference in tensor()/Tensor(), constant fills and their
*_like forms, arange/linspace/eye, random tensors (shapes, dtypes, ranges, seeding) and randperm."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.tensor import Tensor
from torch_compare import random


def same_dtype(ours, theirs):
    """glassnet dtypes are NumPy dtypes under PyTorch's names."""
    return str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


def assert_matches(ours, theirs, rtol=1e-6, atol=1e-7):
    assert ours.shape == tuple(theirs.shape), f"shape {ours.shape} != torch's {theirs.shape}"
    assert same_dtype(ours, theirs), f"dtype {ours.dtype} != torch's {theirs.dtype}"
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=rtol, atol=atol)


# -- tensor() and dtype inference -----------------------------------------------------------------

DATA = {
    "python_float": 2.5,
    "python_int": 3,
    "python_bool": True,
    "float_list": [1.0, 2.5, -3.0],
    "int_list": [[1, 2], [3, 4]],
    "bool_list": [True, False],
    "mixed_int_float": [1, 2.5],
    "mixed_bool_int": [True, 2],
    "empty_list": [],
    "nested_empty": [[], []],
    "float64_array": np.array([1.5, 2.5]),
    "float32_array": np.array([1.5, 2.5], np.float32),
    "float16_array": np.array([1.5, 2.5], np.float16),
    "int32_array": np.array([1, 2], np.int32),
    "int64_array": np.array([[1, 2]]),
    "uint8_array": np.array([1, 255], np.uint8),
    "int8_array": np.array([-1, 2], np.int8),
    "bool_array": np.array([True, False]),
    "float64_0d_array": np.array(2.5),
    "numpy_float64": np.float64(2.5),
    "numpy_float32": np.float32(2.5),
    "numpy_int32": np.int32(3),
    "numpy_int64": np.int64(3),
    "numpy_bool": np.bool_(True),
}


@pytest.mark.parametrize("make", ["tensor", "Tensor"])
@pytest.mark.parametrize("name", DATA)
def test_dtype_inference_matches_torch(name, make):
    data = DATA[name]
    ours = gn.tensor(data) if make == "tensor" else Tensor(data)
    theirs = torch.tensor(data)
    assert ours.shape == tuple(theirs.shape)
    assert same_dtype(ours, theirs), f"{ours.dtype} != torch's {theirs.dtype}"
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert not ours.requires_grad and ours.is_leaf


def test_tensor_with_dtype_and_requires_grad():
    t = gn.tensor([1, 2, 3], dtype=gn.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert gn.tensor([1.7, -2.2], dtype=gn.int64).tolist() == [1, -2]
    assert gn.tensor([0, 2], dtype=gn.bool).tolist() == [False, True]
    assert Tensor([1, 2], dtype=gn.float16).dtype == np.float16
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        gn.tensor([1, 2], requires_grad=True)


def test_default_dtype_governs_python_floats():
    assert gn.get_default_dtype() == np.float32
    try:
        gn.set_default_dtype(gn.float64)
        assert gn.tensor(1.5).dtype == np.float64 and gn.zeros(2).dtype == np.float64
        assert gn.tensor(np.float32(1.5)).dtype == np.float32
        assert gn.tensor(1).dtype == np.int64
    finally:
        gn.set_default_dtype(gn.float32)
    assert gn.tensor(1.5).dtype == np.float32
    with pytest.raises(TypeError, match="floating point"):
        gn.set_default_dtype(gn.int64)


def test_tensor_copies_and_as_tensor_from_numpy_share():
    a = np.array([1.0, 2.0])
    t, shared, from_np = gn.tensor(a), gn.as_tensor(a), gn.from_numpy(a)
    a[0] = 100.0
    assert t.data[0] == 1.0  # a copy, as torch.tensor
    assert shared.data[0] == 100.0 and from_np.data[0] == 100.0  # shared, as in torch
    original = Tensor(np.ones(2))
    copied = gn.tensor(original)
    copied.data[0] = 5.0
    assert original.data[0] == 1.0
    assert gn.as_tensor(original) is original
    assert gn.as_tensor(original, dtype=gn.float32).dtype == np.float32
    assert gn.as_tensor([1, 2]).dtype == np.int64
    with pytest.raises(TypeError, match="expected np.ndarray"):
        gn.from_numpy([1.0, 2.0])


# -- constant fills -------------------------------------------------------------------------------

FILLS = {
    "zeros": (lambda: gn.zeros(2, 3), lambda: torch.zeros(2, 3)),
    "zeros_tuple": (lambda: gn.zeros((2, 3)), lambda: torch.zeros((2, 3))),
    "zeros_list": (lambda: gn.zeros([4]), lambda: torch.zeros([4])),
    "zeros_scalar": (lambda: gn.zeros(()), lambda: torch.zeros(())),
    "zeros_no_size": (lambda: gn.zeros(), lambda: torch.zeros([])),
    "zeros_empty": (lambda: gn.zeros(0, 3), lambda: torch.zeros(0, 3)),
    "zeros_float64": (
        lambda: gn.zeros(2, dtype=gn.float64),
        lambda: torch.zeros(2, dtype=torch.float64),
    ),
    "zeros_int": (
        lambda: gn.zeros(2, 2, dtype=gn.int64),
        lambda: torch.zeros(2, 2, dtype=torch.int64),
    ),
    "zeros_bool": (lambda: gn.zeros(3, dtype=gn.bool), lambda: torch.zeros(3, dtype=torch.bool)),
    "ones": (lambda: gn.ones(3, 1), lambda: torch.ones(3, 1)),
    "ones_numpy_sizes": (lambda: gn.ones(np.int64(2), 3), lambda: torch.ones(2, 3)),
    "ones_int32": (
        lambda: gn.ones((2,), dtype=gn.int32),
        lambda: torch.ones((2,), dtype=torch.int32),
    ),
    "full_float": (lambda: gn.full((2, 3), 1.5), lambda: torch.full((2, 3), 1.5)),
    "full_int": (lambda: gn.full((2,), 7), lambda: torch.full((2,), 7)),
    "full_bool": (lambda: gn.full([2, 2], True), lambda: torch.full([2, 2], True)),
    "full_dtype": (
        lambda: gn.full((3,), 2, dtype=gn.float64),
        lambda: torch.full((3,), 2, dtype=torch.float64),
    ),
    "full_int_dtype_truncates": (
        lambda: gn.full((2,), 1.5, dtype=gn.int64),
        lambda: torch.full((2,), 1.5, dtype=torch.int64),
    ),
    "full_scalar": (lambda: gn.full((), -2.0), lambda: torch.full((), -2.0)),
    "eye": (lambda: gn.eye(3), lambda: torch.eye(3)),
    "eye_rectangular": (lambda: gn.eye(2, 4), lambda: torch.eye(2, 4)),
    "eye_tall": (lambda: gn.eye(4, 2), lambda: torch.eye(4, 2)),
    "eye_int": (lambda: gn.eye(2, 3, dtype=gn.int64), lambda: torch.eye(2, 3, dtype=torch.int64)),
    "eye_empty": (lambda: gn.eye(0), lambda: torch.eye(0)),
}


@pytest.mark.parametrize("name", FILLS)
def test_constant_fills_match_torch(name):
    ours, theirs = FILLS[name]
    assert_matches(ours(), theirs())


def test_empty_has_the_right_shape_and_dtype():
    for ours, theirs in (
        (gn.empty(2, 3), torch.empty(2, 3)),
        (gn.empty((4,), dtype=gn.float64), torch.empty((4,), dtype=torch.float64)),
        (gn.empty(0), torch.empty(0)),
        (gn.empty(2, dtype=gn.int64), torch.empty(2, dtype=torch.int64)),
    ):
        assert ours.shape == tuple(theirs.shape) and same_dtype(ours, theirs)


def test_fills_with_requires_grad():
    for t in (gn.zeros(2, requires_grad=True), gn.ones(2, 2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf
        (t * 3.0).sum().backward()
        np.testing.assert_array_equal(t.grad.data, 3.0)
    assert gn.full((2,), 1.0, requires_grad=True).requires_grad
    assert gn.empty(2, requires_grad=True).requires_grad
    assert gn.eye(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        gn.zeros(2, dtype=gn.int64, requires_grad=True)


def test_negative_or_non_integer_sizes_raise():
    for bad in ((-1,), (2, -3), (2.5,), ("3",)):
        with pytest.raises(ValueError, match="sizes must be non-negative integers"):
            gn.zeros(*bad)
    with pytest.raises(ValueError, match="non-negative integers"):
        gn.rand(2, -1)


LIKES = {
    "float32": np.arange(6, dtype=np.float32).reshape(2, 3),
    "float64": np.arange(3, dtype=np.float64),
    "int64": np.arange(4).reshape(2, 2),
    "int32": np.arange(4, dtype=np.int32),
    "bool": np.array([True, False]),
    "scalar": np.array(1.5, dtype=np.float32),
    "empty": np.zeros((0, 2), dtype=np.float32),
}


@pytest.mark.parametrize("name", LIKES)
def test_like_functions_keep_shape_and_dtype(name):
    a = LIKES[name]
    ours, theirs = Tensor(a), torch.from_numpy(a)
    assert_matches(gn.zeros_like(ours), torch.zeros_like(theirs))
    assert_matches(gn.ones_like(ours), torch.ones_like(theirs))
    assert_matches(gn.full_like(ours, 2), torch.full_like(theirs, 2))
    if a.dtype.kind != "b":
        assert_matches(gn.full_like(ours, 2.5), torch.full_like(theirs, 2.5))  # ints truncate
    empty, ref = gn.empty_like(ours), torch.empty_like(theirs)
    assert empty.shape == tuple(ref.shape) and same_dtype(empty, ref)
    assert_matches(gn.zeros_like(a), torch.zeros_like(theirs))  # a NumPy array works too


def test_like_functions_with_dtype_and_requires_grad():
    t = Tensor(np.arange(3))
    assert_matches(
        gn.zeros_like(t, dtype=gn.float64), torch.zeros_like(torch.arange(3), dtype=torch.float64)
    )
    assert_matches(
        gn.full_like(t, 1.5, dtype=gn.float32),
        torch.full_like(torch.arange(3), 1.5, dtype=torch.float32),
    )
    o = gn.ones_like(Tensor(random((2,), np.float32)), requires_grad=True)
    assert o.requires_grad and o.is_leaf and o.dtype == np.float32
    assert not gn.zeros_like(Tensor(random((2,)), requires_grad=True)).requires_grad


# -- ranges ---------------------------------------------------------------------------------------

ARANGES = {
    "end": (5,),
    "start_end": (2, 7),
    "step": (0, 10, 3),
    "negative_step": (10, 0, -3),
    "float_end": (2.5,),
    "float_start": (1.0, 4),
    "float_step": (0, 1, 0.1),
    "float_negative_step": (-1.0, -3.0, -0.5),
    "uneven_float": (0, 0.3, 0.1),
    "half_step": (1, 2.5, 0.5),
    "empty": (3, 3),
    "numpy_ints": (np.int64(1), np.int64(6), np.int64(2)),
}


@pytest.mark.parametrize("name", ARANGES)
def test_arange_matches_torch(name):
    args = ARANGES[name]
    assert_matches(gn.arange(*args), torch.arange(*args))


def test_arange_with_dtype():
    assert_matches(gn.arange(5, dtype=gn.float64), torch.arange(5, dtype=torch.float64))
    assert_matches(gn.arange(1, 4, dtype=gn.float32), torch.arange(1, 4, dtype=torch.float32))
    assert_matches(gn.arange(0, 6, 2, dtype=gn.int32), torch.arange(0, 6, 2, dtype=torch.int32))
    assert_matches(gn.arange(0.0, 3.0, dtype=gn.int64), torch.arange(0.0, 3.0, dtype=torch.int64))
    t = gn.arange(3.0, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_arange_errors():
    with pytest.raises(ValueError, match="step must be nonzero"):
        gn.arange(0, 5, 0)
    for args in ((0, 5, -1), (5, 0), (0.0, -1.0, 0.5)):
        with pytest.raises(RuntimeError, match="inconsistent with step sign"):
            torch.arange(*args)
        with pytest.raises(ValueError, match="inconsistent with step sign"):
            gn.arange(*args)


LINSPACES = {
    "unit": (0, 1, 5),
    "negative": (-2.5, 1.0, 8),
    "decreasing": (3, -3, 7),
    "one_step": (2.0, 5.0, 1),
    "two_steps": (2.0, 5.0, 2),
    "zero_steps": (0, 1, 0),
}


@pytest.mark.parametrize("name", LINSPACES)
def test_linspace_matches_torch(name):
    assert_matches(gn.linspace(*LINSPACES[name]), torch.linspace(*LINSPACES[name]))


def test_linspace_with_dtype():
    assert_matches(
        gn.linspace(0, 1, 11, dtype=gn.float64),
        torch.linspace(0, 1, 11, dtype=torch.float64),
        rtol=1e-12,
        atol=1e-15,
    )
    assert_matches(
        gn.linspace(0, 10, 5, dtype=gn.int64), torch.linspace(0, 10, 5, dtype=torch.int64)
    )
    with pytest.raises(ValueError, match="number of steps must be non-negative"):
        gn.linspace(0, 1, -1)


# -- random tensors -------------------------------------------------------------------------------

RANDOM_SHAPES = [
    ((2, 3), (2, 3)),
    (((4,),), (4,)),
    (([3, 2],), (3, 2)),
    (((),), ()),
    ((0, 5), (0, 5)),
]


@pytest.mark.parametrize("args, shape", RANDOM_SHAPES, ids=str)
@pytest.mark.parametrize("name", ["rand", "randn"])
def test_rand_and_randn_shapes_and_dtypes(name, args, shape):
    fn, ref = getattr(gn, name), getattr(torch, name)
    out = fn(*args)
    assert out.shape == shape == tuple(ref(*args).shape)
    assert out.dtype == np.float32 and not out.requires_grad
    assert fn(*args, dtype=gn.float64).dtype == np.float64
    r = fn(*args, requires_grad=True)
    assert r.requires_grad and r.is_leaf


def test_rand_is_uniform_in_0_1():
    gn.manual_seed(0)
    for dtype in (gn.float32, gn.float64):
        x = gn.rand(20000, dtype=dtype).data
        assert x.min() >= 0.0 and x.max() < 1.0
        assert abs(x.mean() - 0.5) < 0.01 and abs(x.var() - 1 / 12) < 0.005
        assert len(np.unique(x)) > 19000


def test_randn_is_standard_normal():
    gn.manual_seed(0)
    x = gn.randn(20000, dtype=gn.float64).data
    assert abs(x.mean()) < 0.03 and abs(x.std() - 1.0) < 0.03
    assert 0.30 < (np.abs(x) > 1.0).mean() < 0.34  # about 31.7% beyond one standard deviation


def test_random_floats_refuse_integer_dtypes():
    for fn in (gn.rand, gn.randn):
        with pytest.raises(TypeError, match="dtype must be floating point, got dtype int64"):
            fn(3, dtype=gn.int64)
    with pytest.raises(TypeError, match="dtype must be floating point"):
        gn.rand_like(Tensor(np.arange(3)))
    with pytest.raises(NotImplementedError):
        torch.rand_like(torch.arange(3))


# name: (args, keyword args, low, high)
RANDINTS = {
    "high_size": ((10, (3, 4)), {}, 0, 10),
    "low_high_size": ((5, 8, (100,)), {}, 5, 8),
    "negative_low": ((-3, 3, (50,)), {}, -3, 3),
    "size_keyword": ((4,), {"size": (2, 2)}, 0, 4),
    "low_high_size_keywords": ((), {"low": 2, "high": 4, "size": [6]}, 2, 4),
    "scalar": ((3, ()), {}, 0, 3),
    "high_one": ((1, (5,)), {}, 0, 1),
}


@pytest.mark.parametrize("name", RANDINTS)
def test_randint_matches_torch_signature(name):
    args, kwargs, low, high = RANDINTS[name]
    gn.manual_seed(1)
    ours, theirs = gn.randint(*args, **kwargs), torch.randint(*args, **kwargs)
    assert ours.shape == tuple(theirs.shape) and same_dtype(ours, theirs)
    assert np.all((ours.data >= low) & (ours.data < high))


def test_randint_covers_its_range_and_takes_a_dtype():
    gn.manual_seed(0)
    x = gn.randint(2, 7, (2000,))
    assert sorted(np.unique(x.data).tolist()) == [2, 3, 4, 5, 6]
    assert gn.randint(0, 3, (4,), dtype=gn.int32).dtype == np.int32
    with pytest.raises(ValueError, match="expected low < high"):
        gn.randint(5, 3, (2,))
    with pytest.raises(ValueError, match="expected low < high"):
        gn.randint(0, (2,))


def test_random_like_functions():
    for a in (np.zeros((2, 3), np.float32), np.zeros(4, np.float64), np.zeros((0, 2), np.float32)):
        ours, theirs = Tensor(a), torch.from_numpy(a)
        for name in ("rand_like", "randn_like"):
            out, ref = getattr(gn, name)(ours), getattr(torch, name)(theirs)
            assert out.shape == tuple(ref.shape) and same_dtype(out, ref)
            assert getattr(gn, name)(ours, dtype=gn.float64).dtype == np.float64
        out, ref = gn.randint_like(ours, 5), torch.randint_like(theirs, 5)
        assert out.shape == tuple(ref.shape) and same_dtype(out, ref)
        assert np.all((out.data >= 0) & (out.data < 5) & (out.data == np.round(out.data)))
        out, ref = gn.randint_like(ours, 3, 6), torch.randint_like(theirs, 3, 6)
        assert same_dtype(out, ref) and np.all((out.data >= 3) & (out.data < 6))
    ints = Tensor(np.zeros(3, np.int64))
    out = gn.randint_like(ints, 10)
    assert out.dtype == np.int64 and same_dtype(out, torch.randint_like(torch.zeros(3).long(), 10))
    assert gn.randint_like(ints, 10, dtype=gn.int32).dtype == np.int32


def test_randperm():
    gn.manual_seed(0)
    for n in (0, 1, 10):
        p, ref = gn.randperm(n), torch.randperm(n)
        assert p.shape == (n,) and same_dtype(p, ref)
        assert sorted(p.tolist()) == list(range(n))
    shuffles = {tuple(gn.randperm(6).tolist()) for _ in range(20)}
    assert len(shuffles) > 10


# -- seeding --------------------------------------------------------------------------------------

DRAWS = {
    "rand": lambda: gn.rand(3, 2),
    "randn": lambda: gn.randn(4, dtype=gn.float64),
    "randint": lambda: gn.randint(0, 100, (5,)),
    "randperm": lambda: gn.randperm(8),
    "rand_like": lambda: gn.rand_like(Tensor(np.zeros(3, np.float32))),
    "randn_like": lambda: gn.randn_like(Tensor(np.zeros(3))),
    "randint_like": lambda: gn.randint_like(Tensor(np.zeros(3)), 50),
}


@pytest.mark.parametrize("name", DRAWS)
def test_manual_seed_makes_random_tensors_reproducible(name):
    draw = DRAWS[name]
    gn.manual_seed(123)
    first = [draw().data for _ in range(3)]
    gn.manual_seed(123)
    again = [draw().data for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(first[0], f) for f in first[1:])  # the stream moves on
    gn.manual_seed(124)
    assert not np.array_equal(draw().data, first[0])


def test_manual_seed_covers_a_mixed_sequence_of_draws():
    def sequence():
        return [gn.rand(2).data, gn.randint(0, 9, (3,)).data, gn.randn(2).data, gn.randperm(4).data]

    gn.manual_seed(7)
    a = sequence()
    gn.manual_seed(7)
    b = sequence()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_manual_seed_checks_its_argument():
    assert isinstance(gn.manual_seed(np.int64(3)), gn.Generator)  # torch returns its Generator
    for bad in (1.5, "3", None, True):
        with pytest.raises(TypeError, match=f"manual_seed: seed must be an integer .*got {bad!r}"):
            gn.manual_seed(bad)


def test_generators_are_independent_of_the_global_stream():
    g1, g2 = gn.Generator(5), gn.Generator(5)
    gn.manual_seed(0)
    a = gn.rand(4, generator=g1).data
    gn.rand(10)  # the global stream does not disturb a private one
    b = gn.rand(4, generator=g2).data
    np.testing.assert_array_equal(a, b)
    assert g1.manual_seed(9) is g1
    np.testing.assert_array_equal(
        gn.randint(0, 100, (6,), generator=g1).data,
        gn.randint(0, 100, (6,), generator=gn.Generator(9)).data,
    )
    np.testing.assert_array_equal(
        gn.randperm(7, generator=np.random.default_rng(3)).data,
        gn.randperm(7, generator=np.random.default_rng(3)).data,
    )
    gn.manual_seed(0)
    expected = gn.randn(3).data
    gn.manual_seed(0)
    gn.randn(3, generator=gn.Generator(1))
    np.testing.assert_array_equal(gn.randn(3).data, expected)
