"""Sparse embedding gradients and SparseAdam against PyTorch: `Embedding(sparse=True)` gives the
rows a batch read (the same coalesced indices and values as torch's sparse COO gradient), and
SparseAdam's steps move the weights as torch.optim.SparseAdam's do, step after step."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet.nn.layers import Embedding
from glassnet.optim import SGD, Adam, SparseAdam
from glassnet.sparse import SparseRows


def pair(rows=12, dim=4, padding_idx=None, seed=0):
    weight = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    ours = Embedding(rows, dim, padding_idx=padding_idx, sparse=True, _weight=weight)
    theirs = torch.nn.Embedding(
        rows, dim, padding_idx=padding_idx, sparse=True, _weight=torch.tensor(weight)
    )
    return ours, theirs


def backward_both(ours, theirs, indices, upstream):
    (ours(glassnet.tensor(indices)) * glassnet.tensor(upstream)).sum().backward()
    (theirs(torch.tensor(indices)) * torch.tensor(upstream)).sum().backward()


def assert_same_sparse_grad(ours, theirs):
    assert ours.weight.grad.is_sparse and theirs.weight.grad.is_sparse
    mine, reference = ours.weight.grad.coalesce().data, theirs.weight.grad.coalesce()
    np.testing.assert_array_equal(mine.indices, reference.indices()[0].numpy())
    np.testing.assert_allclose(mine.values, reference.values().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.to_dense().data, reference.to_dense().numpy(),
                               rtol=1e-6, atol=1e-6)  # fmt: skip


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_sparse_gradient_holds_the_rows_read_as_torch(padding_idx):
    ours, theirs = pair(padding_idx=padding_idx)
    rng = np.random.default_rng(1)
    indices = np.array([[3, 5, 5, 0], [11, 3, 5, 7]])  # repeats, and the padding row
    upstream = rng.standard_normal((2, 4, 4)).astype(np.float32)
    backward_both(ours, theirs, indices, upstream)
    grad = ours.weight.grad.data
    assert isinstance(grad, SparseRows) and grad.shape == (12, 4)
    # uncoalesced, one entry per read (minus the padding row's), as torch's
    assert len(grad.indices) == theirs.weight.grad._nnz()
    assert_same_sparse_grad(ours, theirs)
    # a second backward adds up, still sparse
    backward_both(ours, theirs, indices[:, :2], upstream[:, :2])
    assert_same_sparse_grad(ours, theirs)


@pytest.mark.parametrize("maximize", [False, True])
def test_sparse_adam_steps_as_torch(maximize):
    ours, theirs = pair(rows=30, dim=5)
    opt = SparseAdam(ours.parameters(), lr=0.05, betas=(0.8, 0.99), eps=1e-6, maximize=maximize)
    ref = torch.optim.SparseAdam(
        theirs.parameters(), lr=0.05, betas=(0.8, 0.99), eps=1e-6, maximize=maximize
    )
    rng = np.random.default_rng(2)
    for _ in range(6):
        indices = rng.integers(0, 30, size=(8, 3))  # rows repeat; most rows are not read
        upstream = rng.standard_normal((8, 3, 5)).astype(np.float32)
        backward_both(ours, theirs, indices, upstream)
        opt.step()
        ref.step()
        opt.zero_grad()
        ref.zero_grad()
        np.testing.assert_allclose(
            ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6
        )
    state, ref_state = opt.state[ours.weight], ref.state[theirs.weight]
    assert state["step"] == int(ref_state["step"])
    np.testing.assert_allclose(state["exp_avg_sq"], ref_state["exp_avg_sq"].numpy(), atol=1e-6)


def test_only_the_rows_read_change():
    ours, _ = pair(rows=10)
    before = ours.weight.data.copy()
    opt = SparseAdam(ours.parameters(), lr=0.1)
    ours(glassnet.tensor([2, 7, 2])).sum().backward()
    opt.step()
    changed = np.flatnonzero((ours.weight.data != before).any(axis=1))
    np.testing.assert_array_equal(changed, [2, 7])


def test_zero_grad_keeps_a_sparse_gradient_empty_or_drops_it():
    ours, _ = pair()
    opt = SparseAdam(ours.parameters())
    ours(glassnet.tensor([1, 2])).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert ours.weight.grad.is_sparse and len(ours.weight.grad.data.indices) == 0
    before = ours.weight.data.copy()
    opt.step()  # nothing to step: the weights stay
    np.testing.assert_array_equal(ours.weight.data, before)
    opt.zero_grad()
    assert ours.weight.grad is None


def test_dense_and_sparse_mismatches_are_refused_as_torch_does():
    ours, _ = pair()
    ours(glassnet.tensor([1, 2])).sum().backward()
    for optimizer in (Adam, SGD):
        with pytest.raises(RuntimeError, match="does not support sparse gradients.*SparseAdam"):
            optimizer(ours.parameters(), lr=0.1).step()
    dense = Embedding(5, 2)
    dense(glassnet.tensor([1])).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        SparseAdam(dense.parameters()).step()
    with pytest.raises(ValueError, match="scale_grad_by_freq"):
        Embedding(5, 2, sparse=True, scale_grad_by_freq=True)(glassnet.tensor([1]))


def test_sparse_rows_add_coalesce_and_densify():
    a = SparseRows(np.array([4, 1, 4]), np.arange(6, dtype=np.float32).reshape(3, 2), (6, 2))
    b = SparseRows(np.array([1]), np.ones((1, 2), np.float32), (6, 2))
    joined = (a + b).coalesce()
    np.testing.assert_array_equal(joined.indices, [1, 4])
    np.testing.assert_array_equal(joined.values, [[3, 4], [4, 6]])
    dense = np.ones((6, 2), np.float32)
    np.testing.assert_array_equal(dense + a, a.to_dense() + 1)
    np.testing.assert_array_equal(a + dense, a.to_dense() + 1)
    with pytest.raises(ValueError, match="cannot add a \\(5, 2\\)"):
        a + np.ones((5, 2))
