"""Fused operations: the hot paths of a network, each one graph node with a hand-written backward.

`linear` is a whole fully connected layer, x @ W^T + b, in one step: one matrix product forward
and at most two back (for the input's gradient and the weights'), where separate matmul, transpose
and add nodes would cost several. `dropout` zeroes random inputs during training and scales the
rest, so that the expected output is unchanged; `dropout2d` does the same to whole channels.
`embedding` looks rows of a table up by index and scatters their gradients back (or, with
`sparse=True`, returns only the rows read, as `glassnet.sparse.SparseRows`).

All three matrix products of `linear` keep NumPy's usual row-major layout. Writing them as
transposed products ((W @ X^T)^T) was 1-2% faster for an MLP on the benchmark machine, but hands
column-major arrays downstream, and adding a column-major array to a row-major one (a residual
connection, two gradients meeting) was 30x slower than adding two row-major ones.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import checks
from ..dispatch import op
from ..random import GeneratorLike, as_rng
from ..sparse import SparseRows
from ..tensor import Tensor


@op("linear")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, PyTorch's layout: input (*, in_features), weight (out_features, in_features),
    bias (out_features,); output (*, out_features)."""
    x, w = input.data, weight.data
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise _shape_error(x, w)
    if x.dtype != w.dtype:
        raise TypeError(
            f"linear: input has dtype {x.dtype} but weight has dtype {w.dtype}; "
            f"convert one of them (e.g. input.to({w.dtype}))"
        )
    n_out = w.shape[0]
    x2 = x if x.ndim == 2 else x.reshape(-1, w.shape[1])
    out = x2 @ w.T
    if bias is not None:
        if bias.data.shape != (n_out,):
            raise ValueError(
                f"linear: bias has shape {bias.data.shape} but weight shape {w.shape} needs "
                f"a bias of shape ({n_out},)"
            )
        out += bias.data
    if x.ndim != 2:
        out = out.reshape(*x.shape[:-1], n_out)

    def backward(g: np.ndarray) -> tuple:
        g2 = g if g.ndim == 2 else g.reshape(-1, n_out)
        return (
            (g2 @ w).reshape(x.shape) if input.requires_grad else None,
            g2.T @ x2 if weight.requires_grad else None,
            g2.sum(axis=0) if bias is not None and bias.requires_grad else None,
        )

    parents = (input, weight) if bias is None else (input, weight, bias)
    return Tensor._make(out, parents, backward, "Linear")


def _shape_error(x: np.ndarray, w: np.ndarray) -> Exception:
    if w.ndim != 2:
        return ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}"
        )
    if x.ndim == 0:
        return ValueError("linear: input must have at least 1 dimension, got a 0-d tensor")
    return ValueError(
        f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight expects "
        f"{w.shape[1]} (weight shape {w.shape})"
    )


def check_dropout_probability(p: float, where: str = "dropout") -> float:
    """`p` as a float, or a ValueError if it is not a probability."""
    return checks.probability(p, "p", where)


@op("dropout")
def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Inverted dropout: during training, zero each element with probability `p` and scale the
    survivors by 1 / (1 - p); outside training, return the input unchanged.

    The mask comes from glassnet's seeded generator (or `generator`, glassnet's addition to
    PyTorch's arguments), so `manual_seed` repeats it. `inplace` is accepted for PyTorch
    compatibility; the output is always a new tensor.
    """
    return _dropout(input, p, training, generator, "dropout", input.shape)


@op("dropout2d")
def dropout2d(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Channel dropout: during training, zero whole channels of an (N, C, *) input with
    probability `p` (one draw per sample and channel) and scale the rest by 1 / (1 - p).

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels hides
    little; dropping the whole map does. A 3-D input is read as (N, C, L), as PyTorch does.
    `inplace` and `generator` are as for dropout.
    """
    shape = input.shape
    if len(shape) < 2:
        raise ValueError(
            f"dropout2d: expected an input of shape (N, C, H, W) (at least 2 dimensions), "
            f"got shape {shape}"
        )
    if len(shape) == 3:
        warnings.warn(
            f"dropout2d: received a 3-D input (shape {shape}); it is read as (N, C, L) and whole "
            "channels are dropped, as PyTorch does. For one image (C, H, W), add the batch "
            "dimension first (x.unsqueeze(0)).",
            stacklevel=2,
        )
    mask_shape = shape[:2] + (1,) * (len(shape) - 2)
    return _dropout(input, p, training, generator, "dropout2d", mask_shape)


def _dropout(
    input: Tensor, p: float, training: bool, generator: GeneratorLike, name: str, mask_shape: tuple
) -> Tensor:
    """Multiply `input` by a random 0 / (1 / (1 - p)) mask of `mask_shape`, broadcast over it."""
    p = check_dropout_probability(p, name)
    if not training or p == 0.0:
        return input
    x = input.data
    checks.floating_point(x, "input", name)
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=x.dtype)
    else:
        mask = (as_rng(generator).random(mask_shape, dtype=np.float32) >= p).astype(x.dtype)
        mask *= 1.0 / (1.0 - p)

    def backward(g: np.ndarray) -> tuple:
        return (g * mask,)

    return Tensor._make(x * mask, (input,), backward, name.capitalize())


@op("embedding")
def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of `weight` (num_embeddings, embedding_dim) by the integer indices in
    `input` (any shape); output (*input.shape, embedding_dim).

    The backward pass scatters the output's gradient back onto the rows it came from, adding
    where a row was read several times; the row `padding_idx` receives none. `max_norm` first
    rescales (in place, as PyTorch does) the rows read whose `norm_type`-norm exceeds it;
    `scale_grad_by_freq` divides each row's gradient by how often the batch read it.
    """
    return lookup(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


@op("embedding_lookup")
def lookup(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None,
    max_norm: float | None,
    norm_type: float,
    scale_grad_by_freq: bool,
    sparse: bool,
    name: str = "embedding",
) -> Tensor:
    """`embedding`, with errors naming `name` (the layer that called it)."""
    if sparse and scale_grad_by_freq:
        raise ValueError(f"{name}: scale_grad_by_freq is not supported with sparse gradients")
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer indices (int64 or int32), got dtype {idx.dtype}")
    w = weight.data
    if w.ndim != 2:
        raise ValueError(f"{name}: weight must be 2-D (num_embeddings, dim), got shape {w.shape}")
    rows, dim = w.shape
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = idx[(idx < 0) | (idx >= rows)].flat[0]
        raise IndexError(
            f"{name}: index {bad} is out of range for {rows} embeddings "
            f"(valid indices are 0 to {rows - 1})"
        )
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(
                f"{name}: padding_idx must be within num_embeddings ({rows}), got {padding_idx}"
            )
        padding_idx %= rows
    if max_norm is not None:
        used = np.unique(idx)
        norms = np.linalg.norm(w[used], ord=norm_type, axis=1)
        over = norms > max_norm
        w[used[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(w.dtype)
    flat = idx.reshape(-1)

    def sparse_backward(g: np.ndarray) -> tuple:
        # only the rows read, one entry per read (PyTorch's uncoalesced COO gradient)
        rows, values = flat, g.reshape(-1, dim)
        if padding_idx is not None:
            keep = rows != padding_idx
            rows, values = rows[keep], values[keep]
        return (SparseRows(rows, np.array(values, dtype=w.dtype), w.shape),)

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(-1, dim)
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=rows).astype(g.dtype)
            g2 = g2 / counts[flat][:, None]
        grad = np.zeros_like(w)
        # add each row of g2 into the row its index names: sort the indices so that equal ones
        # are neighbours, then sum each run at once (5x faster than np.add.at here)
        order = np.argsort(flat, kind="stable")
        ordered = flat[order]
        runs = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
        if len(flat):
            grad[ordered[runs]] = np.add.reduceat(g2[order], runs, axis=0)
        if padding_idx is not None:
            grad[padding_idx] = 0.0
        return (grad,)

    return Tensor._make(w[idx], (weight,), sparse_backward if sparse else backward, "Embedding")
