"""Shape operations and indexing against PyTorch: reshape/view, flatten, squeeze/unsqueeze,
transpose/permute, expand, repeat, flip, pad, cat/stack, split/chunk/unbind, gather and `t[...]`
(ints, slices, None, Ellipsis, integer and boolean tensors, repeated indices). Values, shapes,
dtypes and gradients against torch, float64 finite differences, and error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from glassnet import ops
from glassnet.autograd import no_grad
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, gradcheck, random

# name: (glassnet function, torch function, input shape); the same code often serves both, since
# glassnet's Tensor methods have PyTorch's names.
SAME = {
    "reshape": (lambda t: t.reshape(4, 6), (2, 3, 4)),
    "reshape_tuple": (lambda t: t.reshape((3, 8)), (2, 3, 4)),
    "reshape_minus1": (lambda t: t.reshape(-1, 4), (2, 3, 4)),
    "reshape_minus1_middle": (lambda t: t.reshape(2, -1, 2), (2, 3, 4)),
    "reshape_to_scalar": (lambda t: t.reshape(()), (1, 1)),
    "reshape_from_scalar": (lambda t: t.reshape(1, 1, 1), ()),
    "reshape_empty": (lambda t: t.reshape(3, 0, 2), (0, 6)),
    "view": (lambda t: t.view(6, -1), (2, 3, 4)),
    "view_flat": (lambda t: t.view(-1), (2, 3, 4)),
    "view_tuple": (lambda t: t.view((4, 3, 2)), (2, 3, 4)),
    "flatten": (lambda t: t.flatten(), (2, 3, 4)),
    "flatten_start": (lambda t: t.flatten(1), (2, 3, 4, 5)),
    "flatten_start_end": (lambda t: t.flatten(0, 1), (2, 3, 4, 5)),
    "flatten_middle": (lambda t: t.flatten(1, 2), (2, 3, 4, 5)),
    "flatten_negative": (lambda t: t.flatten(-3, -2), (2, 3, 4, 5)),
    "flatten_same_dim": (lambda t: t.flatten(2, 2), (2, 3, 4)),
    "flatten_scalar": (lambda t: t.flatten(), ()),
    "unflatten": (lambda t: t.unflatten(1, (3, 2)), (4, 6)),
    "unflatten_minus1": (lambda t: t.unflatten(-1, (2, -1)), (4, 6)),
    "squeeze_all": (lambda t: t.squeeze(), (1, 3, 1, 2)),
    "squeeze_dim": (lambda t: t.squeeze(2), (1, 3, 1, 2)),
    "squeeze_negative": (lambda t: t.squeeze(-4), (1, 3, 1, 2)),
    "squeeze_not_one": (lambda t: t.squeeze(1), (1, 3, 1, 2)),
    "squeeze_tuple": (lambda t: t.squeeze((0, 2, 3)), (1, 3, 1, 2)),
    "squeeze_nothing": (lambda t: t.squeeze(), (2, 3)),
    "squeeze_to_scalar": (lambda t: t.squeeze(), (1, 1)),
    "unsqueeze_0": (lambda t: t.unsqueeze(0), (3, 4)),
    "unsqueeze_middle": (lambda t: t.unsqueeze(1), (3, 4)),
    "unsqueeze_last": (lambda t: t.unsqueeze(2), (3, 4)),
    "unsqueeze_minus1": (lambda t: t.unsqueeze(-1), (3, 4)),
    "unsqueeze_minus3": (lambda t: t.unsqueeze(-3), (3, 4)),
    "unsqueeze_scalar": (lambda t: t.unsqueeze(0), ()),
    "transpose": (lambda t: t.transpose(0, 2), (2, 3, 4)),
    "transpose_negative": (lambda t: t.transpose(-1, -2), (2, 3, 4)),
    "transpose_same": (lambda t: t.transpose(1, 1), (2, 3, 4)),
    "swapaxes": (lambda t: t.swapaxes(0, 1), (2, 3, 4)),
    "permute": (lambda t: t.permute(2, 0, 1), (2, 3, 4)),
    "permute_list": (lambda t: t.permute([1, 2, 0]), (2, 3, 4)),
    "permute_negative": (lambda t: t.permute(-1, 0, -2), (2, 3, 4)),
    "T": (lambda t: t.T, (3, 4)),
    "t": (lambda t: t.t(), (3, 4)),
    "t_1d": (lambda t: t.t(), (5,)),
    "mT": (lambda t: t.mT, (2, 3, 4)),
    "expand": (lambda t: t.expand(2, 3, 4), (3, 1)),
    "expand_tuple": (lambda t: t.expand((5, 3, 1)), (3, 1)),
    "expand_minus1": (lambda t: t.expand(-1, 5), (3, 1)),
    "expand_new_dims_minus1": (lambda t: t.expand(4, -1, -1), (3, 1)),
    "expand_scalar": (lambda t: t.expand(2, 3), ()),
    "expand_noop": (lambda t: t.expand(3, 2), (3, 2)),
    "broadcast_to": (lambda t: t.broadcast_to((2, 3, 4)), (1, 4)),
    "repeat": (lambda t: t.repeat(2, 3), (2, 3)),
    "repeat_more_dims": (lambda t: t.repeat(2, 1, 3), (2, 3)),
    "repeat_ones": (lambda t: t.repeat(1, 1), (2, 3)),
    "repeat_scalar": (lambda t: t.repeat(4), ()),
    "repeat_zero": (lambda t: t.repeat(0, 2), (2, 3)),
    "flip": (lambda t: t.flip(0), (2, 3, 4)),
    "flip_tuple": (lambda t: t.flip((0, 2)), (2, 3, 4)),
    "flip_list_negative": (lambda t: t.flip([-1]), (2, 3, 4)),
    "flip_all": (lambda t: t.flip((0, 1, 2)), (2, 3, 4)),
}

# name: (glassnet function, torch function, input shape) where the spellings differ
DIFFERENT = {
    "gn.reshape": (lambda t: gn.reshape(t, (6, 4)), lambda t: torch.reshape(t, (6, 4)), (2, 3, 4)),
    "gn.flatten": (lambda t: gn.flatten(t, 1), lambda t: torch.flatten(t, 1), (2, 3, 4)),
    "gn.squeeze": (lambda t: gn.squeeze(t, 0), lambda t: torch.squeeze(t, 0), (1, 3)),
    "gn.unsqueeze": (lambda t: gn.unsqueeze(t, -1), lambda t: torch.unsqueeze(t, -1), (2, 3)),
    "gn.transpose": (lambda t: gn.transpose(t, 0, 1), lambda t: torch.transpose(t, 0, 1), (2, 3)),
    "gn.permute": (lambda t: gn.permute(t, (1, 0)), lambda t: torch.permute(t, (1, 0)), (2, 3)),
    "view_as": (
        lambda t: t.view_as(Tensor(np.zeros((6, 4)))),
        lambda t: t.view_as(torch.zeros(6, 4)),
        (2, 3, 4),
    ),
    "reshape_as": (
        lambda t: t.reshape_as(Tensor(np.zeros((3, 8)))),
        lambda t: t.reshape_as(torch.zeros(3, 8)),
        (2, 3, 4),
    ),
    "expand_as": (
        lambda t: t.expand_as(Tensor(np.zeros((2, 3, 4)))),
        lambda t: t.expand_as(torch.zeros(2, 3, 4)),
        (3, 1),
    ),
    "pad_last": (lambda t: ops.pad(t, (1, 2)), lambda t: TF.pad(t, (1, 2)), (2, 3, 4)),
    "pad_two_dims": (
        lambda t: ops.pad(t, (1, 0, 2, 1)),
        lambda t: TF.pad(t, (1, 0, 2, 1)),
        (2, 3, 4),
    ),
    "pad_all_dims_value": (
        lambda t: ops.pad(t, (1, 1, 0, 2, 1, 0), value=1.5),
        lambda t: TF.pad(t, (1, 1, 0, 2, 1, 0), value=1.5),
        (2, 3, 4),
    ),
    "pad_negative_crops": (
        lambda t: ops.pad(t, (-1, 2, 0, -2)),
        lambda t: TF.pad(t, (-1, 2, 0, -2)),
        (2, 3, 4),
    ),
    "pad_empty": (lambda t: ops.pad(t, ()), lambda t: TF.pad(t, ()), (2, 3)),
}

CASES = {name: (fn, fn, shape) for name, (fn, shape) in SAME.items()} | DIFFERENT


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", CASES)
def test_shape_op_matches_torch(name, dtype):
    ours, theirs, shape = CASES[name]
    compare(ours, theirs, random(shape, dtype))


@pytest.mark.parametrize(
    "name",
    ["reshape_minus1", "flatten_middle", "squeeze_tuple", "permute", "mT", "expand_minus1"]
    + ["expand_new_dims_minus1", "repeat_more_dims", "flip_tuple", "pad_negative_crops"],
)
def test_shape_op_gradcheck(name):
    ours, _, shape = CASES[name]
    gradcheck(ours, random(shape))


@pytest.mark.parametrize("name", ["reshape", "flatten", "transpose", "permute", "flip", "repeat"])
def test_shape_ops_keep_integer_and_bool_dtypes(name):
    ours, _, shape = CASES[name]
    numbers = np.arange(np.prod(shape)).reshape(shape)
    for data in (numbers, numbers % 3 == 0):
        compare(ours, ours, data)  # torch's methods and ours are spelled alike
        out = ours(Tensor(data))
        assert out.dtype == data.dtype and not out.requires_grad


def test_views_share_memory_like_torch():
    """reshape/view, transpose, squeeze and basic slicing give views: writing through one under
    no_grad changes the original, as in PyTorch."""
    for make_view in (
        lambda t: t.view(-1),
        lambda t: t.reshape(6),
        lambda t: t.transpose(0, 1),
        lambda t: t.unsqueeze(0),
        lambda t: t[1],
        lambda t: t[:, ::2],
    ):
        t = Tensor(np.zeros((2, 3)))
        ref = torch.zeros(2, 3)
        with no_grad():
            make_view(t).fill_(7.0)
        make_view(ref).fill_(7.0)
        np.testing.assert_array_equal(t.data, ref.numpy())


def test_shape_errors():
    t = Tensor(random((2, 3)))
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        t.reshape(4, 2)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        t.flatten(1, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.squeeze(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.unsqueeze(3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.unsqueeze(-4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.transpose(0, 2)
    with pytest.raises(RuntimeError, match="expand"):
        t.expand(4, 3)
    with pytest.raises(RuntimeError, match="expand"):
        t.expand(3)
    with pytest.raises(RuntimeError, match="repeat"):
        t.repeat(2)
    with pytest.raises(RuntimeError, match=r"t\(\) expects a tensor with <= 2 dimensions"):
        Tensor(random((2, 3, 4))).t()
    with pytest.raises(NotImplementedError, match="mode='constant'"):
        ops.pad(t, (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="padding length must be even"):
        ops.pad(t, (1,))


def test_permute_rejects_what_torch_rejects():
    t, ref = Tensor(random((2, 3))), torch.zeros(2, 3)
    for dims in [(0, 3), (0, 0), (0,), (0, 1, 2), (-3, 1)]:
        with pytest.raises((RuntimeError, IndexError)):
            ref.permute(*dims)
        with pytest.raises((RuntimeError, IndexError)):
            t.permute(*dims)


def test_expand_minus1_in_a_new_leading_dim_is_an_error():
    with pytest.raises(RuntimeError, match="-1"):
        torch.zeros(3).expand(-1, 3)
    with pytest.raises(RuntimeError, match="-1"):
        Tensor(random((3,))).expand(-1, 3)


# -- joining and splitting ----------------------------------------------------------------------


def _join(lib, dim, how="cat"):
    fn = getattr(lib, how)
    return lambda *ts: fn(list(ts), dim)


CAT_CASES = {
    "dim0": (0, [(2, 3), (4, 3), (1, 3)]),
    "dim1": (1, [(2, 3), (2, 1), (2, 4)]),
    "dim_minus1": (-1, [(2, 3, 1), (2, 3, 2)]),
    "dim_minus2": (-2, [(2, 3, 4), (2, 1, 4)]),
    "one_input": (0, [(2, 3)]),
    "one_input_dim1": (1, [(2, 3)]),
    "empty_along_dim": (0, [(2, 3), (0, 3), (1, 3)]),
    "legacy_empty_1d": (1, [(2, 3), (0,), (2, 2)]),
    "only_empty": (0, [(0,), (0,)]),
    "1d": (0, [(3,), (2,)]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", CAT_CASES)
def test_cat_matches_torch(name, dtype):
    dim, shapes = CAT_CASES[name]
    arrays = [random(s, dtype, seed=i) for i, s in enumerate(shapes)]
    compare(_join(gn, dim), _join(torch, dim), *arrays)
    compare(lambda *ts: gn.concat(list(ts), dim=dim), _join(torch, dim), *arrays)


STACK_CASES = {
    "dim0": (0, (2, 3), 3),
    "dim1": (1, (2, 3), 2),
    "dim_last": (2, (2, 3), 2),
    "dim_minus1": (-1, (2, 3), 4),
    "dim_minus3": (-3, (2, 3), 2),
    "one_input": (0, (2, 3), 1),
    "one_input_dim_minus1": (-1, (4,), 1),
    "scalars": (0, (), 3),
    "empty": (1, (0, 2), 2),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", STACK_CASES)
def test_stack_matches_torch(name, dtype):
    dim, shape, n = STACK_CASES[name]
    arrays = [random(shape, dtype, seed=i) for i in range(n)]
    compare(_join(gn, dim, "stack"), _join(torch, dim, "stack"), *arrays)


def test_cat_and_stack_gradcheck():
    a, b = random((2, 3), seed=1), random((2, 2), seed=2)
    gradcheck(lambda x, y: gn.cat([x, y, x], 1), a, b)
    gradcheck(lambda x, y: gn.stack([x, y, x], -1), a, random((2, 3), seed=3))


def test_cat_and_stack_tuple_input_and_constant_input():
    a = random((2, 3), np.float32)
    compare(
        lambda t: gn.cat((t, Tensor(np.ones((1, 3), np.float32)))),
        lambda t: torch.cat((t, torch.ones(1, 3))),
        a,
    )
    compare(
        lambda t: gn.stack((t, t * 2.0), dim=1),
        lambda t: torch.stack((t, t * 2.0), dim=1),
        a,
    )


def test_cat_of_integer_tensors_stays_integer():
    a, b = np.arange(6).reshape(2, 3), np.arange(3).reshape(1, 3)
    out = gn.cat([Tensor(a), Tensor(b)])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, torch.cat([torch.tensor(a), torch.tensor(b)]).numpy())


def test_cat_promotes_like_torch():
    a, b = np.arange(3), random((3,), np.float32)
    ours = gn.cat([Tensor(a), Tensor(b)]).dtype
    theirs = torch.cat([torch.tensor(a), torch.tensor(b)]).dtype
    assert str(theirs) == f"torch.{ours}"


def test_cat_and_stack_errors():
    with pytest.raises(RuntimeError, match="non-empty list"):
        gn.cat([])
    with pytest.raises(RuntimeError, match="non-empty list"):
        gn.stack([])
    with pytest.raises(RuntimeError, match="sizes of tensors must match except in dimension 0"):
        gn.cat([Tensor(random((2, 3))), Tensor(random((2, 4)))])
    with pytest.raises(RuntimeError, match="sizes of tensors must match"):
        gn.cat([Tensor(random((2, 3))), Tensor(random((2, 3, 1)))])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        gn.stack([Tensor(random((2, 3))), Tensor(random((3, 2)))])
    with pytest.raises(IndexError, match="Dimension out of range"):
        gn.cat([Tensor(random((2, 3)))], dim=2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        gn.stack([Tensor(random((2, 3)))], dim=3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        gn.stack([Tensor(random((2, 3)))], dim=-4)


def _pieces(lib):
    """The pieces of a split, each scaled differently and joined, so one output checks them all."""
    return lambda pieces: lib.cat([p.reshape(-1) * float(i + 1) for i, p in enumerate(pieces)])


SPLIT_CASES = {
    "split_even": (lambda t: t.split(2), (6, 3)),
    "split_uneven": (lambda t: t.split(4), (6, 3)),
    "split_bigger_than_dim": (lambda t: t.split(10), (6, 3)),
    "split_dim1": (lambda t: t.split(2, dim=1), (2, 5)),
    "split_dim_minus1": (lambda t: t.split(3, -1), (2, 5)),
    "split_sizes": (lambda t: t.split([1, 3, 2]), (6, 3)),
    "split_sizes_with_zero": (lambda t: t.split([2, 0, 1], dim=1), (2, 3)),
    "split_sizes_tuple_dim1": (lambda t: t.split((4, 1), 1), (2, 5)),
    "chunk_even": (lambda t: t.chunk(3), (6, 3)),
    "chunk_uneven": (lambda t: t.chunk(4), (5, 3)),
    "chunk_uneven_dim1": (lambda t: t.chunk(3, dim=1), (2, 7)),
    "chunk_more_than_size": (lambda t: t.chunk(4, -1), (2, 3)),
    "chunk_one": (lambda t: t.chunk(1), (3, 2)),
    "chunk_empty": (lambda t: t.chunk(3), (0, 2)),
    "unbind": (lambda t: t.unbind(), (3, 2)),
    "unbind_dim1": (lambda t: t.unbind(1), (3, 2, 2)),
    "unbind_dim_minus1": (lambda t: t.unbind(-1), (3, 4)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", SPLIT_CASES)
def test_split_chunk_unbind_match_torch(name, dtype):
    fn, shape = SPLIT_CASES[name]
    x = random(shape, dtype)
    ours, theirs = fn(Tensor(x)), fn(torch.tensor(x))
    assert isinstance(ours, tuple)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.data, q.numpy())
    compare(lambda t: _pieces(gn)(fn(t)), lambda t: _pieces(torch)(fn(t)), x)


def test_function_forms_of_split_chunk_unbind():
    x = random((5, 4), np.float32)
    cases = [
        (lambda t: gn.split(t, 2), lambda t: torch.split(t, 2)),
        (lambda t: gn.split(t, [1, 3], dim=1), lambda t: torch.split(t, [1, 3], dim=1)),
        (lambda t: gn.chunk(t, 2, 1), lambda t: torch.chunk(t, 2, 1)),
        (lambda t: gn.unbind(t, 1), lambda t: torch.unbind(t, 1)),
    ]
    for ours, theirs in cases:
        compare(lambda t: _pieces(gn)(ours(t)), lambda t: _pieces(torch)(theirs(t)), x)


def test_split_gradcheck():
    gradcheck(lambda t: _pieces(gn)(t.split([2, 1, 2], 1)), random((2, 5)))
    gradcheck(lambda t: _pieces(gn)(t.chunk(3)), random((4, 2)))
    gradcheck(lambda t: _pieces(gn)(t.unbind(1)), random((2, 3)))


def test_unused_pieces_get_zero_gradient():
    x = random((4, 3))
    compare(lambda t: t.split(1)[2], lambda t: t.split(1)[2], x)
    compare(lambda t: t.unbind(1)[0] * 2.0, lambda t: t.unbind(1)[0] * 2.0, x)


def test_split_and_chunk_errors():
    t = Tensor(random((4, 3)))
    with pytest.raises(RuntimeError, match="split_size be positive"):
        t.split(0)
    with pytest.raises(RuntimeError, match="split_sizes to sum exactly to 4"):
        t.split([1, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        t.chunk(0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.split(1, dim=2)


# -- indexing -----------------------------------------------------------------------------------

MASK_4 = np.array([True, False, True, True])
MASK_45 = np.arange(20).reshape(4, 5) % 3 == 0

# indexes into a tensor of shape (4, 5, 6); NumPy arrays become torch tensors for torch and
# glassnet Tensors for glassnet
INDEXES = {
    "int": 1,
    "negative_int": -1,
    "two_ints": (1, 2),
    "all_ints_negative": (-1, -2, -3),
    "slice": slice(1, 3),
    "slice_step": slice(None, None, 2),
    "slice_negative_start": slice(-3, None),
    "slice_out_of_range": slice(2, 100),
    "empty_slice": slice(3, 1),
    "slices_with_steps": (slice(None), slice(1, None, 2), slice(0, 5, 3)),
    "int_and_slice": (slice(None, None, 3), 1, slice(1, 4)),
    "none": None,
    "none_then_int": (None, 1),
    "slice_none": (slice(None), None),
    "none_everywhere": (None, slice(None), None, 0, None),
    "ellipsis": Ellipsis,
    "ellipsis_int": (Ellipsis, 1),
    "int_ellipsis": (1, Ellipsis),
    "ellipsis_none": (Ellipsis, None),
    "int_ellipsis_int": (0, Ellipsis, -1),
    "int_array": np.array([0, 2]),
    "repeated_int_array": np.array([3, 3, 0, 3]),
    "negative_int_array": np.array([-1, 0, -1]),
    "2d_int_array": np.array([[0, 1], [1, 1]]),
    "0d_int_array": np.array(2),
    "empty_int_array": np.array([], dtype=np.int64),
    "int_array_pairs_repeated": (np.array([0, 0, 2]), np.array([1, 1, 4])),
    "int_arrays_broadcast": (np.array([[0], [3]]), np.array([1, 1, 2])),
    "slice_then_int_array": (slice(None), np.array([4, 4, 0])),
    "int_array_slice_none": (np.array([1, 1]), slice(None), None),
    "int_array_none_after_slice": (np.array([2, 0, 2]), slice(1, 4), None),
    "arrays_around_a_slice": (np.array([1, 1]), slice(None), np.array([0, 0])),
    "ellipsis_int_array": (Ellipsis, np.array([5, 5, 0])),
    "ellipsis_none_int_array": (Ellipsis, None, np.array([1, 1])),
    "int_and_int_array": (1, np.array([2, 2, 0])),
    "list": [0, 2, 0],
    "lists": ([1, 1], [2, 2]),
    "list_and_slice": ([3, 3], slice(None, None, 2)),
    "bool_mask_full": np.arange(120).reshape(4, 5, 6) % 7 < 3,
    "bool_mask_dim0": MASK_4,
    "bool_mask_dim1": (slice(None), np.array([False, True, True, False, True])),
    "bool_mask_two_dims": MASK_45,
    "bool_mask_and_int": (MASK_4, 1),
    "bool_mask_and_slice_none": (MASK_4, slice(None), None),
    "bool_list": [True, False, True, False],
    "all_false_mask": np.zeros(4, dtype=bool),
}


def _for(lib_array, index):
    if isinstance(index, tuple):
        return tuple(_for(lib_array, i) for i in index)
    if isinstance(index, np.ndarray):
        return lib_array(index)
    return index


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", INDEXES)
def test_getitem_matches_torch(name, dtype):
    index = INDEXES[name]
    ours, theirs = _for(Tensor, index), _for(torch.from_numpy, index)
    compare(lambda t: t[ours], lambda t: t[theirs], random((4, 5, 6), dtype))


@pytest.mark.parametrize("name", INDEXES)
def test_getitem_with_numpy_arrays_as_indices(name):
    """Plain NumPy arrays work as indices too (torch needs tensors: give it those)."""
    index = INDEXES[name]
    compare(lambda t: t[index], lambda t: t[_for(torch.from_numpy, index)], random((4, 5, 6)))


@pytest.mark.parametrize(
    "name",
    ["slices_with_steps", "none_everywhere", "repeated_int_array", "int_array_pairs_repeated"]
    + ["int_array_slice_none", "arrays_around_a_slice", "bool_mask_full", "bool_mask_and_int"],
)
def test_getitem_gradcheck(name):
    index = INDEXES[name]
    gradcheck(lambda t: t[index], random((4, 5, 6)))


def test_repeated_indices_accumulate_gradients():
    x = Tensor(np.zeros((3, 2)), requires_grad=True)
    x[Tensor(np.array([0, 0, 2, 0]))].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3, 3], [0, 0], [1, 1]])
    y = Tensor(np.zeros((3, 2)), requires_grad=True)
    y[[0, 0, 1], [1, 1, 1]].sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[0, 2], [0, 1], [0, 0]])


def test_indexing_integer_and_bool_tensors():
    x = np.arange(20).reshape(4, 5)
    for index in (1, (slice(None), -1), np.array([3, 3, 1]), MASK_4, (MASK_4, np.array([0, 1, 4]))):
        compare(lambda t: t[_for(Tensor, index)], lambda t: t[_for(torch.from_numpy, index)], x)
    b = np.arange(6) % 2 == 0
    assert Tensor(b)[np.array([0, 1])].dtype == np.bool_


def test_indexing_a_scalar_tensor():
    x = random((), np.float32)
    compare(lambda t: t[None], lambda t: t[None], x)
    compare(lambda t: t[...], lambda t: t[...], x)


def test_indexing_errors():
    t = Tensor(random((4, 5)))
    with pytest.raises(IndexError, match="tensors used as indices must be long, int or bool"):
        t[Tensor(np.array([0.0, 1.0]))]
    with pytest.raises(IndexError):
        t[4]
    with pytest.raises(IndexError):
        t[np.array([0, 5])]
    with pytest.raises(IndexError):
        t[0, 0, 0]


def test_iterating_and_len():
    x = random((3, 2))
    t = Tensor(x, requires_grad=True)
    rows = list(t)
    assert len(t) == 3 and len(rows) == 3
    gn.stack(rows[::-1]).sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.ones((3, 2)))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(1.0))


# -- __setitem__ ----------------------------------------------------------------------------------


def test_setitem_under_no_grad_changes_the_same_array():
    w = Tensor(random((3, 4)), requires_grad=True)
    data = w.data
    with no_grad():
        w[0] = 5.0
        w[1, ::2] = Tensor(np.array([1.0, 2.0]))
        w[np.array([False, False, True])] = 0.0
    assert w.data is data and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.data[0], 5.0)
    np.testing.assert_array_equal(w.data[1, ::2], [1.0, 2.0])
    np.testing.assert_array_equal(w.data[2], 0.0)


def test_setitem_on_tensors_without_grad():
    x = np.arange(12).reshape(3, 4)
    t, ref = Tensor(x.copy()), torch.tensor(x)
    for index, value in [
        ((0, 1), 100),
        (np.array([2, 2]), 7),
        (x % 5 == 0, -1),
        ((slice(None), -1), np.array([9, 8, 7])),
    ]:
        t[index] = value
        ref[_for(torch.from_numpy, index)] = torch.tensor(value) if np.ndim(value) else value
    np.testing.assert_array_equal(t.data, ref.numpy())
    assert t.dtype == np.int64


SETITEM_CASES = {
    "row": (1, (4,)),
    "slice_broadcast": ((slice(None), slice(1, 3)), (1, 2)),
    "scalar_value": ((0, 0), ()),
    "int_array": (np.array([0, 2]), (2, 4)),
    "bool_mask": (np.array([True, False, True]), (4,)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", SETITEM_CASES)
def test_setitem_while_recording_matches_torch(name, dtype):
    """Writing into an intermediate tensor: gradients reach both the untouched part of the old
    value and the value written, as in PyTorch (CopySlices)."""
    index, value_shape = SETITEM_CASES[name]

    def run(lib_index):
        def fn(x, v, w):
            y = x * 2.0
            y[lib_index] = v * 3.0
            return y * w

        return fn

    compare(
        run(_for(Tensor, index)),
        run(_for(torch.from_numpy, index)),
        random((3, 4), dtype, seed=1),
        random(value_shape, dtype, seed=2),
        random((3, 4), dtype, seed=3),
    )


def test_setitem_gradcheck():
    def fn(x, v):
        y = x.sin()  # sin saves its input, not its output: y may change in place
        y[1:, np.array([0, 2])] = v
        return y * y

    gradcheck(fn, random((3, 4), seed=1), random((2, 2), seed=2))


def test_setitem_into_an_output_that_backward_reads_raises_like_torch():
    for lib_x in (
        Tensor(random((3,)), requires_grad=True),
        torch.tensor(random((3,)), requires_grad=True),
    ):
        y = lib_x.exp()  # exp's derivative is its output
        y[0] = 0.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_setitem_constant_into_intermediate():
    def fn(x):
        y = x * 1.5
        y[0] = 0.0
        return y

    compare(fn, fn, random((3, 4)))


def test_setitem_on_a_leaf_that_requires_grad_raises():
    w = Tensor(random((3,)), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 1.0
    with pytest.raises(RuntimeError):
        torch.zeros(3, requires_grad=True)[0] = 1.0


# -- gather ---------------------------------------------------------------------------------------

GATHER_CASES = {
    "dim0": (0, (3, 4), np.array([[0, 1, 2, 0], [2, 2, 2, 2]])),
    "dim1": (1, (3, 4), np.array([[0, 3], [1, 1], [3, 0]])),
    "dim_minus1_repeated": (-1, (3, 4), np.array([[1, 1, 1], [0, 0, 3], [2, 2, 2]])),
    "smaller_index": (1, (3, 4), np.array([[0, 1], [2, 3]])),
    "one_row_index": (1, (3, 4), np.array([[3, 0, 3]])),
    "3d": (1, (2, 3, 4), np.array([[[0, 1, 2, 0]], [[2, 2, 1, 1]]])),
    "1d": (0, (5,), np.array([4, 4, 0, 1])),
    "empty_index": (1, (3, 4), np.zeros((3, 0), dtype=np.int64)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", GATHER_CASES)
def test_gather_matches_torch(name, dtype):
    dim, shape, index = GATHER_CASES[name]
    x = random(shape, dtype)
    compare(lambda t, i: gn.gather(t, dim, i), lambda t, i: torch.gather(t, dim, i), x, index)
    compare(lambda t, i: t.gather(dim, i), lambda t, i: t.gather(dim, i), x, index)


def test_gather_gradcheck():
    for name in ("dim_minus1_repeated", "smaller_index", "3d"):
        dim, shape, index = GATHER_CASES[name]
        gradcheck(lambda t, i, d=dim: t.gather(d, i), random(shape), index)


def test_gather_errors():
    t = Tensor(random((3, 4)))
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        t.gather(1, Tensor(np.array([[0.0]])))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        t.gather(1, Tensor(np.array([0, 1])))
    with pytest.raises(RuntimeError, match="Size does not match at dimension 0"):
        t.gather(1, Tensor(np.array([[0], [1], [2], [0]])))
    for bad in (4, -1):
        with pytest.raises(RuntimeError, match="out of bounds"):
            t.gather(1, Tensor(np.array([[0], [bad]])))
        with pytest.raises(RuntimeError, match="out of bounds"):
            torch.zeros(3, 4).gather(1, torch.tensor([[0], [bad]]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.gather(2, Tensor(np.array([[0]])))
