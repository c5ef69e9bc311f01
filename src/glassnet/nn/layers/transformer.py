"""Transformers: attention, then a small feed-forward network, each wrapped in a residual
connection and a layer norm; stack the block and you have the encoder of BERT or the decoder of GPT.

MultiheadAttention lets every position gather information from the positions it attends to,
through several heads at once. TransformerEncoderLayer is self-attention plus feed-forward;
TransformerDecoderLayer adds attention to an encoder's output ("memory") in between.
TransformerEncoder and TransformerDecoder stack copies of a layer. Arguments, submodule names
and parameter layouts are PyTorch's, so state_dicts move both ways.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import checks
from ...dtypes import get_default_dtype
from ...meta import empty
from ...ops.attention import multi_head_attention
from ...ops.fused import linear
from ...tensor import Tensor
from .. import functional as F
from ..container import ModuleList
from ..init import constant_, xavier_uniform_
from ..module import Module
from ..parameter import Parameter
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives MultiheadAttention's output projection (the name
    only matters to PyTorch's quantisation tools)."""


class MultiheadAttention(Module):
    """Attention from a query sequence to a key/value sequence through `num_heads` heads:
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O, head_i = softmax(Q W_Qi (K W_Ki)^T /
    sqrt(d)) V W_Vi, with d = embed_dim / num_heads.

    Args:
        embed_dim: the model's width E (query features and output features).
        num_heads: the number of heads; must divide embed_dim.
        dropout: dropout probability on the attention weights while training (default 0).
        bias: learn biases for the input and output projections.
        add_bias_kv, add_zero_attn: only False is supported.
        kdim, vdim: the key's and value's features (default embed_dim); when they differ from
            embed_dim the projections are separate q_proj_weight, k_proj_weight, v_proj_weight.
        batch_first: inputs and output are (N, L, E) rather than (L, N, E).
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the parameters' dtype (default float32).

    Forward:
        ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
        average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``.
        key_padding_mask ``(N, S)`` and attn_mask ``(L, S)`` or ``(N * num_heads, L, S)``:
        boolean with True = may NOT attend (PyTorch's convention here; the opposite of
        scaled_dot_product_attention), or float, added to the scores. is_causal with no
        attn_mask applies the causal mask (PyTorch requires the mask too); with one, it is a
        hint and attn_mask is used. weights are ``(N, L, S)`` averaged over the heads, or
        ``(N, num_heads, L, S)``, or None without need_weights. A query whose keys are all
        masked gets weights 0 and attends to nothing (its output is out_proj's bias), as in
        PyTorch's need_weights=False path; PyTorch's need_weights=True path gives NaN.

    Shape:
        query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (``(N, L, E)`` etc.
        with batch_first, or unbatched ``(L, E)``); output like query.

    Attributes:
        in_proj_weight: ``(3 E, E)``, the query, key and value projections stacked
            (xavier_uniform_), or q_proj_weight ``(E, E)``, k_proj_weight ``(E, kdim)``,
            v_proj_weight ``(E, vdim)``; in_proj_bias: ``(3 E,)``, zeros; out_proj: Linear(E, E)
            with a zero bias.

    Example::

        >>> mha = MultiheadAttention(64, 8, batch_first=True)
        >>> x = glassnet.randn(2, 10, 64)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 10, 64), (2, 10, 10))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = "MultiheadAttention"
        embed_dim = checks.non_negative_int(embed_dim, "embed_dim", name)
        num_heads = checks.non_negative_int(num_heads, "num_heads", name)
        if embed_dim == 0 or num_heads == 0:
            raise ValueError(
                f"{name}: embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} and num_heads={num_heads}"
            )
        if embed_dim % num_heads:
            raise ValueError(
                f"{name}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                f"{name}: add_bias_kv and add_zero_attn are not supported (only False)"
            )
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else checks.non_negative_int(kdim, "kdim", name)
        self.vdim = embed_dim if vdim is None else checks.non_negative_int(vdim, "vdim", name)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = checks.probability(dropout, "dropout", name)
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), dtype, device))
            for unused in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(unused, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), dtype, device))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), dtype, device))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), dtype, device))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty((3 * embed_dim,), dtype, device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias, device=device, dtype=dtype
        )
        self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            xavier_uniform_(self.in_proj_weight)
        else:
            xavier_uniform_(self.q_proj_weight)
            xavier_uniform_(self.k_proj_weight)
            xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            constant_(self.in_proj_bias, 0.0)
            constant_(self.out_proj.bias, 0.0)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        batched = self._check_inputs(query, key, value)
        batch_first = self.batch_first
        if not batched:  # one sequence: a batch of one, batch first
            lifted: dict[int, Tensor] = {}  # keeps `query is key`: one projection serves both
            for t in (query, key, value):
                if id(t) not in lifted:
                    lifted[id(t)] = t.unsqueeze(0)
            query, key, value = (lifted[id(t)] for t in (query, key, value))
            batch_first = True
        batch_axis, seq_axis = (0, 1) if batch_first else (1, 0)
        n, length = query.shape[batch_axis], query.shape[seq_axis]
        source = key.shape[seq_axis]
        masks = self._masks(key_padding_mask, attn_mask, is_causal, batched, n, length, source)
        inputs, sources = self._project(query, key, value)
        out, weights = multi_head_attention(
            inputs,
            sources,
            self.embed_dim,
            self.num_heads,
            batch_first,
            masks,
            self.dropout if self.training else 0.0,
            need_weights,
            self._describe(),
        )
        out = self.out_proj(out)
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out = out.squeeze(0)
            weights = weights.squeeze(0) if weights is not None else None
        return out, weights

    def _describe(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the inputs are batched, after checking their shapes."""
        if query.ndim not in (2, 3):
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(
                f"{self._describe()}: expected query of shape {layout} or (L, E) unbatched, got "
                f"shape {query.shape}"
            )
        for what, t, setting, dim in (
            ("query", query, "embed_dim", self.embed_dim),
            ("key", key, "kdim", self.kdim),
            ("value", value, "vdim", self.vdim),
        ):
            if t.ndim != query.ndim or t.shape[-1] != dim:
                length = "L" if what == "query" else "S"
                if query.ndim == 2:
                    expected = f"({length}, {dim})"
                else:
                    expected = (
                        f"(N, {length}, {dim})" if self.batch_first else f"({length}, N, {dim})"
                    )
                raise ValueError(
                    f"{self._describe()}: expected {what} of shape {expected} ({setting}={dim}), "
                    f"got shape {t.shape}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{self._describe()}: key (shape {key.shape}) and value (shape {value.shape}) "
                "must have the same length and batch size"
            )
        batch_axis = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch_axis] != key.shape[batch_axis]:
            raise ValueError(
                f"{self._describe()}: query (shape {query.shape}) and key (shape {key.shape}) "
                f"must have the same batch size (dimension {batch_axis})"
            )
        return query.ndim == 3

    def _masks(
        self,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
        is_causal: bool,
        batched: bool,
        n: int,
        length: int,
        source: int,
    ) -> list:
        """The masks for the attention op, in its form: True = take part, or float, added;
        broadcastable to (N, num_heads, L, S)."""
        masks = []
        h = self.num_heads
        if key_padding_mask is not None:
            expected = (n, source) if batched else (source,)
            if tuple(key_padding_mask.shape) != expected:
                raise ValueError(
                    f"{self._describe()}: expected key_padding_mask of shape {expected} "
                    f"({'(N, S)' if batched else '(S,)'}), got shape {key_padding_mask.shape}"
                )
            masks.append(_attend_where_false(self, key_padding_mask).reshape(n, 1, 1, source))
        if attn_mask is not None:
            shape = tuple(attn_mask.shape)
            per_head = (n * h, length, source) if batched else (h, length, source)
            if shape not in ((length, source), per_head):
                raise ValueError(
                    f"{self._describe()}: expected attn_mask of shape {(length, source)} (L, S) "
                    f"or {per_head} ({'N * num_heads' if batched else 'num_heads'}, L, S), got "
                    f"shape {shape}"
                )
            mask = _attend_where_false(self, attn_mask)
            masks.append(mask if len(shape) == 2 else mask.reshape(n, h, length, source))
        elif is_causal:
            masks.append(np.tri(length, source, dtype=bool))
        return masks

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[list, tuple]:
        """The input projections, as few and as large as the inputs allow, and where the
        projected query, key and value sit in them: (tensor index, column offset)."""
        e = self.embed_dim
        b = self.in_proj_bias
        bias = [None] * 3 if b is None else [b[:e], b[e : 2 * e], b[2 * e :]]
        if not self._qkv_same_embed_dim:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
            inputs = [linear(x, w, c) for x, w, c in zip((query, key, value), weights, bias)]
            return inputs, ((0, 0), (1, 0), (2, 0))
        w = self.in_proj_weight
        if query is key and key is value:
            return [linear(query, w, b)], ((0, 0), (0, e), (0, 2 * e))
        if key is value:
            kv_bias = None if b is None else b[e:]
            inputs = [linear(query, w[:e], bias[0]), linear(key, w[e:], kv_bias)]
            return inputs, ((0, 0), (1, 0), (1, e))
        weights = (w[:e], w[e : 2 * e], w[2 * e :])
        inputs = [linear(x, wi, c) for x, wi, c in zip((query, key, value), weights, bias)]
        return inputs, ((0, 0), (1, 0), (2, 0))


def _attend_where_false(layer: MultiheadAttention, mask: Tensor | np.ndarray) -> Any:
    """A MultiheadAttention mask (boolean: True = may not attend) in the attention op's form
    (boolean: True = take part); float masks are added to the scores either way."""
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == np.bool_:
        return ~data
    if data.dtype.kind != "f":
        raise TypeError(
            f"{layer._describe()}: masks must be boolean (True = may not attend) or floating "
            f"point (added to the scores), got dtype {data.dtype}"
        )
    return mask if isinstance(mask, Tensor) else data


def _activation(layer: str, activation: str | Callable) -> Callable:
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ValueError(f"{layer}: activation should be relu/gelu, not {activation!r}")
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be 'relu', 'gelu' or a callable")
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each with a residual connection and a
    layer norm ("Attention Is All You Need"):

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    With `norm_first` the norms come first inside each branch (x = x + sa(norm1(x)), ...), which
    trains more stably in deep stacks.

    Args:
        d_model: the model's width E.
        nhead: attention heads (must divide d_model).
        dim_feedforward: the hidden width of the feed-forward network (default 2048).
        dropout: dropout probability everywhere (default 0.1).
        activation: "relu" (default), "gelu" or a callable (a function or a Module).
        layer_norm_eps: eps of the layer norms (default 1e-5).
        batch_first: inputs are (N, L, E) rather than (L, N, E).
        norm_first: pre-norm (True) or post-norm (False, the default).
        bias: learn biases in the linear layers and the layer norms.
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the parameters' dtype (default float32).

    Forward:
        ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``, masks as
        for MultiheadAttention.

    Example::

        >>> layer = TransformerEncoderLayer(d_model=512, nhead=8, batch_first=True)
        >>> layer(glassnet.randn(32, 10, 512)).shape
        (32, 10, 512)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        kwargs = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kwargs
        )
        _feed_forward(self, d_model, dim_feedforward, dropout, bias, kwargs)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kwargs)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kwargs)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation("TransformerEncoderLayer", activation)

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(
        self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool
    ) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention to the encoder's output (memory) and a feed-forward network,
    each with a residual connection and a layer norm:

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(multihead_attn(x, memory, memory)))
        x = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))

    Args as for TransformerEncoderLayer.

    Forward:
        ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
        memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        kwargs = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kwargs
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kwargs
        )
        _feed_forward(self, d_model, dim_feedforward, dropout, bias, kwargs)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kwargs)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kwargs)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kwargs)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation("TransformerDecoderLayer", activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(
            x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        )
        return self.norm3(x + self._ff_block(x))

    def _sa_block(
        self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool
    ) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout1(x)

    def _mha_block(
        self, x: Tensor, mem: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool
    ) -> Tensor:
        x = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _feed_forward(
    layer: Module, d_model: int, dim_feedforward: int, dropout: float, bias: bool, kwargs: dict
) -> None:
    """linear1, dropout, linear2: the feed-forward network, registered in PyTorch's order."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kwargs)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kwargs)


def _clones(layer: Module, num_layers: int, stack: str) -> ModuleList:
    num_layers = checks.non_negative_int(num_layers, "num_layers", stack)
    if not isinstance(layer, Module):
        raise TypeError(f"{stack}: expected a layer (a Module) to copy, got {type(layer).__name__}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """`num_layers` copies of an encoder layer (independent weights, copied from the one given),
    one after the other, and an optional final norm (pre-norm stacks need one).

    Args:
        encoder_layer: a TransformerEncoderLayer (or any module with its forward signature).
        num_layers: how many copies.
        norm: applied to the last layer's output, or None.
        enable_nested_tensor, mask_check: accepted for PyTorch compatibility; no effect.

    Forward:
        ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        output = src
        for layer in self.layers:
            output = layer(
                output,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
            )
        return self.norm(output) if self.norm is not None else output


class TransformerDecoder(Module):
    """`num_layers` copies of a decoder layer, each attending to the same memory, and an
    optional final norm.

    Forward:
        ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
        memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        return self.norm(output) if self.norm is not None else output
