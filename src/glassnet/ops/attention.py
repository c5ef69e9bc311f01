"""Attention: each position of a sequence looks at every position of another sequence (or of the
same one) and takes an average of their values, weighted by how well its query matches their keys.

scaled_dot_product_attention(Q, K, V) = softmax(Q K^T · scale + mask) V, scale = 1 / sqrt(E). The
mask either says which keys a query may look at (boolean, True = take part, as in PyTorch) or is
added to the scores (float: 0 to keep, -inf to hide); a causal mask hides the future. Multi-head
attention runs several of these side by side on slices of the features ("heads"), each free to
look for something else.

The whole computation is one graph node. With P the attention weights (after dropout) and O the
output, its backward is dV = P^T dO, dP = dO V^T, dS = P ∘ (dP - rowsum(dO ∘ O)), dQ = dS K · scale,
dK = dS^T Q · scale. rowsum(dO ∘ O) stands for rowsum(dP ∘ P) (FlashAttention's shortcut): the
same number, from (L, E) arrays instead of (L, S) ones. A row of scores whose keys are all masked
gives weights 0 and output 0 (not NaN), as PyTorch's scaled_dot_product_attention does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import record, unbroadcast
from ..dispatch import op
from ..random import as_rng
from ..tensor import Tensor
from .fused import check_dropout_probability

# A mask as the attention loop uses it: (array, tensor) with the array boolean (True = take
# part) or floating point (added to the scores), and the tensor when a float mask needs a gradient.
Mask = tuple[np.ndarray, Tensor | None]


@op("scaled_dot_product_attention")
def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query key^T · scale + mask) value, PyTorch's ``F.scaled_dot_product_attention``.

    Args:
        query: ``(*, L, E)``; key: ``(*, S, E)``; value: ``(*, S, Ev)``; the leading dimensions
            broadcast against each other (e.g. ``(N, H)`` for a batch of N with H heads).
        attn_mask: broadcastable to ``(*, L, S)``: boolean (True = this query may look at this
            key) or floating point (added to the scores; a float tensor that requires grad gets
            one).
        dropout_p: drop attention weights with this probability (always, as in PyTorch: pass
            0.0 outside training), from glassnet's seeded generator.
        is_causal: query i looks only at keys 0..i (the top-left aligned lower triangle); not
            together with attn_mask.
        scale: multiplies the scores; default 1 / sqrt(E).
        enable_gqa: grouped-query attention is not supported (only False).

    Returns:
        ``(*, L, Ev)``.
    """
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True is not supported")
    return attention(query, key, value, attn_mask, dropout_p, is_causal, scale)[0]


@op("attention")
def attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    need_weights: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """`scaled_dot_product_attention`, also returning the attention weights ``(*, L, S)`` (after
    dropout) when `need_weights`: a second output of the same graph node."""
    name = "scaled_dot_product_attention"
    q, k, v = query.data, key.data, value.data
    _check_qkv(name, q, k, v)
    p = check_dropout_probability(dropout_p)
    if is_causal and attn_mask is not None:
        raise ValueError(f"{name}: give either attn_mask or is_causal=True, not both")
    masks = [] if attn_mask is None else [_as_mask(name, attn_mask)]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    run = _Attention(q, k, v, masks, is_causal, scale, p, name)
    shapes = (q.shape, k.shape, v.shape)

    def backward(g: np.ndarray | None, g_weights: np.ndarray | None = None) -> tuple:
        needs = (query.requires_grad, key.requires_grad, value.requires_grad)
        *grads, ds = run.backward(g, g_weights, *needs)
        grads = [unbroadcast(d, s) if d is not None else None for d, s in zip(grads, shapes)]
        return (*grads, *run.mask_grads(ds))

    parents = (query, key, value, *run.mask_parents)
    name = "ScaledDotProductAttention"
    if not need_weights:
        return Tensor._make(run.out, parents, backward, name), None
    out, weights = record((run.out, run.weights), parents, backward, name)
    return out, weights


@op("multi_head_attention")
def multi_head_attention(
    inputs: Sequence[Tensor],
    sources: Sequence[tuple[int, int]],
    embed_dim: int,
    num_heads: int,
    batch_first: bool,
    masks: Sequence[Tensor | np.ndarray] = (),
    dropout_p: float = 0.0,
    need_weights: bool = False,
    name: str = "MultiheadAttention",
) -> tuple[Tensor, Tensor | None]:
    """The heads of multi-head attention, on already projected queries, keys and values.

    `inputs` are 3-D tensors, (L, N, C) or with `batch_first` (N, L, C); query, key and value
    are the columns ``[offset, offset + embed_dim)`` of ``inputs[i]`` for ``(i, offset)`` in
    `sources`, so one packed (L, N, 3E) projection serves all three without copies. Each is
    split into `num_heads` heads of embed_dim / num_heads features: the heads are strided views,
    and the gradients are written straight into arrays of the inputs' layout.

    `masks` (boolean, True = take part, or float, added) broadcast to (N, num_heads, L, S).

    Returns:
        the heads' outputs side by side, (L, N, E) or (N, L, E), and, when `need_weights`, the
        attention weights (N, num_heads, L, S).
    """
    heads = _heads_view(batch_first, num_heads)
    arrays = [_heads_ready(t.data, batch_first) for t in inputs]
    q, k, v = (heads(arrays[i], off, embed_dim) for i, off in sources)
    p = check_dropout_probability(dropout_p)
    mask_list = [_as_mask(name, m) for m in masks]
    lead = inputs[sources[0][0]].shape[:2]
    out = np.empty((*lead, embed_dim), dtype=q.dtype)
    run = _Attention(
        q, k, v, mask_list, False, 1.0 / math.sqrt(q.shape[-1]), p, name, heads(out, 0, embed_dim)
    )
    needs = [inputs[i].requires_grad for i, _ in sources]

    def parent_grads(filled: dict) -> list:
        return [filled.get(j) for j in range(len(inputs))]

    # the gradient of an input whose columns q, k and v fill completely needs no zeroing
    widths = [0] * len(inputs)
    for i, _ in sources:
        widths[i] += embed_dim
    covered = [w == t.shape[-1] for w, t in zip(widths, inputs)]

    def targets(all_written: bool) -> tuple[dict, list]:
        """Gradient arrays for the inputs that need one, and the head views of q, k, v in them."""
        filled = {
            i: (np.empty if all_written and covered[i] else np.zeros)(inputs[i].shape, q.dtype)
            for i, _ in sources
            if inputs[i].requires_grad
        }
        views = [heads(filled[i], off, embed_dim) if i in filled else None for i, off in sources]
        return filled, views

    def backward(g: np.ndarray | None, g_weights: np.ndarray | None = None) -> tuple:
        filled, views = targets(all_written=g is not None)
        g_heads = None if g is None else heads(_heads_ready(g, batch_first), 0, embed_dim)
        *_, ds = run.backward(g_heads, g_weights, *needs, outs=views)
        return (*parent_grads(filled), *run.mask_grads(ds))

    parents = (*inputs, *run.mask_parents)
    if not need_weights:
        return Tensor._make(out, parents, backward, name), None
    result, weights = record((out, run.weights), parents, backward, name)
    return result, weights


# -- the computation on arrays --------------------------------------------------------------------


class _Attention:
    """One attention forward pass on arrays (views welcome), keeping what backward needs.

    q (*, L, E), k (*, S, E), v (*, S, Ev) broadcast over their leading dimensions. The scale is
    folded into q, an (L, E) array, rather than into the (L, S) scores.
    """

    def __init__(
        self,
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        masks: list[Mask],
        is_causal: bool,
        scale: float,
        dropout_p: float,
        name: str,
        out: np.ndarray | None = None,
    ) -> None:
        q, k, v = _blas_ready(q), _blas_ready(k), _blas_ready(v)
        self.k, self.v, self.scale = k, v, scale
        self.qs = q * scale if scale != 1.0 else q
        scores = np.matmul(self.qs, np.swapaxes(k, -1, -2))
        for array, _ in masks:
            _apply_mask(name, scores, array)
        if is_causal:
            np.copyto(scores, -np.inf, where=_above_diagonal(*scores.shape[-2:]))
        self.probs = _softmax_rows(scores, masked=bool(masks) or is_causal)
        self.keep = None
        self.weights = self.probs
        if dropout_p > 0.0:
            self.keep = _dropout_mask(self.probs.shape, dropout_p, self.probs.dtype)
            self.weights = self.probs * self.keep
        self.out = np.matmul(self.weights, v, out=out)
        self.masks = masks
        self.mask_parents = tuple(t for _, t in masks if t is not None)

    def backward(
        self,
        g: np.ndarray | None,
        g_weights: np.ndarray | None,
        need_q: bool,
        need_k: bool,
        need_v: bool,
        outs: Sequence = (None,) * 3,
    ) -> tuple:
        """(dq, dk, dv, d_scores) over the broadcast leading dimensions (None where not needed),
        from the gradients of the output and of the weights (either may be None); dq, dk and dv
        are written into `outs` where given."""
        dv = ds = None
        if g is not None:
            g = _blas_ready(g)
            if need_v:
                dv = np.matmul(np.swapaxes(self.weights, -1, -2), g, out=outs[2])
            if need_q or need_k or self.mask_parents:
                ds = np.matmul(g, np.swapaxes(self.v, -1, -2))
                if self.keep is not None:
                    ds *= self.keep
                ds -= np.einsum("...i,...i->...", g, self.out)[..., None]
                ds *= self.probs
        if g_weights is not None:
            from_weights = self.weights_backward(g_weights)
            ds = from_weights if ds is None else ds + from_weights
        dq, dk = self.score_grads(ds, need_q, need_k, outs[:2])
        return dq, dk, dv, ds

    def weights_backward(self, g: np.ndarray) -> np.ndarray:
        """The gradient of the (masked, scaled) scores from the gradient of the weights."""
        gp = g * self.keep if self.keep is not None else g
        ds = gp - np.einsum("...i,...i->...", gp, self.probs)[..., None]
        ds *= self.probs
        return ds

    def score_grads(
        self, ds: np.ndarray | None, need_q: bool, need_k: bool, outs: Sequence = (None, None)
    ) -> tuple:
        """(dq, dk) from the gradient of the scores: scores = (q · scale) k^T."""
        dq = dk = None
        if need_q:
            dq = np.matmul(ds, self.k, out=outs[0])
            if self.scale != 1.0:
                dq *= self.scale
        if need_k:
            dk = np.matmul(np.swapaxes(ds, -1, -2), self.qs, out=outs[1])
        return dq, dk

    def mask_grads(self, ds: np.ndarray | None) -> list:
        """The gradients of the float masks that need one: the scores' gradient, unbroadcast."""
        return [unbroadcast(ds, t.shape) for _, t in self.masks if t is not None]


def _blas_ready(a: np.ndarray) -> np.ndarray:
    """`a`, or a contiguous copy where neither of its last two axes is contiguous: BLAS reads a
    matrix only along rows or columns, and NumPy's matmul falls back to a slow loop otherwise
    (a (L, N, E) projection, viewed as (N, heads, L, head_dim), is such a case)."""
    if a.ndim >= 2 and a.itemsize not in a.strides[-2:]:
        return np.ascontiguousarray(a)
    return a


def _check_qkv(name: str, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
    for what, a in (("query", q), ("key", k), ("value", v)):
        if a.ndim < 2:
            raise ValueError(f"{name}: {what} must have shape (*, length, features), got {a.shape}")
        if a.dtype.kind != "f" or a.dtype != q.dtype:
            raise TypeError(
                f"{name}: query, key and value must have the same floating point dtype, got "
                f"{q.dtype}, {k.dtype} and {v.dtype}"
            )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"{name}: query (shape {q.shape}) and key (shape {k.shape}) must have the same "
            "number of features (last dimension)"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{name}: key (shape {k.shape}) and value (shape {v.shape}) must have the same "
            "length (dimension -2)"
        )
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{name}: the leading dimensions of query {q.shape}, key {k.shape} and value "
            f"{v.shape} do not broadcast"
        ) from None


def _as_mask(name: str, mask: Tensor | np.ndarray) -> Mask:
    array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype == np.bool_:
        return array, None
    if array.dtype.kind != "f":
        raise TypeError(
            f"{name}: a mask must be boolean (True = take part) or floating point (added to the "
            f"scores), got dtype {array.dtype}"
        )
    needs_grad = isinstance(mask, Tensor) and mask.requires_grad
    return array, mask if needs_grad else None


def _apply_mask(name: str, scores: np.ndarray, mask: np.ndarray) -> None:
    try:
        fits = np.broadcast_shapes(mask.shape, scores.shape) == scores.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: a mask of shape {mask.shape} does not broadcast to the attention scores' "
            f"shape {scores.shape} (*, L, S)"
        )
    if mask.dtype == np.bool_:
        np.copyto(scores, -np.inf, where=~mask)
    else:
        scores += mask


@functools.lru_cache(maxsize=16)
def _above_diagonal(rows: int, cols: int) -> np.ndarray:
    """True above the main diagonal: what a causal mask hides (read-only, cached)."""
    hidden = ~np.tri(rows, cols, dtype=bool)
    hidden.flags.writeable = False
    return hidden


def _softmax_rows(s: np.ndarray, masked: bool) -> np.ndarray:
    """Softmax along the last axis, in place. Where `masked` rows may be all -inf: those get
    weights 0."""
    if s.shape[-1] == 0:
        return s
    top = s.max(axis=-1, keepdims=True)
    if masked:
        top[np.isneginf(top)] = 0.0
    s -= top
    np.exp(s, out=s)
    total = np.matmul(s, np.ones(s.shape[-1], dtype=s.dtype))[..., None]  # BLAS: row sums, fast
    if masked:
        total[total == 0.0] = 1.0
    np.reciprocal(total, out=total)
    s *= total
    return s


def _dropout_mask(shape: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    """0 with probability p, else 1 / (1 - p), from glassnet's seeded generator."""
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    keep = (as_rng(None).random(shape, dtype=np.float32) >= p).astype(dtype)
    keep *= 1.0 / (1.0 - p)
    return keep


def _heads_ready(a: np.ndarray, batch_first: bool) -> np.ndarray:
    """`a` (L, N, C) or (N, L, C), or a row-major copy where a head's (L, head_dim) matrices
    would have neither rows nor columns contiguous (a column-major (L, N, C) array, such as
    `linear` returns), which BLAS cannot read."""
    if a.itemsize in (a.strides[-1], a.strides[1 if batch_first else 0]):
        return a
    return _row_major(a)


def _row_major(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of `a`, made 8 columns at a time: read column-major, a plain copy
    jumps a whole column ahead for every element and ran ~6x slower (page misses) on the
    machines measured."""
    out = np.empty(a.shape, dtype=a.dtype)
    source, target = a.reshape(-1, a.shape[-1]), out.reshape(-1, a.shape[-1])
    for start in range(0, a.shape[-1], 8):
        target[:, start : start + 8] = source[:, start : start + 8]
    return out


def _heads_view(batch_first: bool, num_heads: int) -> Any:
    """A function giving the (N, heads, L, head_dim) view of columns [offset, offset + width) of
    a (L, N, C) array (or (N, L, C) when batch_first); no copy."""
    order = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)

    def view(a: np.ndarray, offset: int, width: int) -> np.ndarray:
        part = a[..., offset : offset + width]
        return part.reshape(*a.shape[:2], num_heads, width // num_heads).transpose(order)

    return view
