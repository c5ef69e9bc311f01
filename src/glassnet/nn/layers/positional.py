"""Positional encodings: attention by itself does not know the order of a sequence (shuffle the
tokens and every output shuffles along), so each position adds its own vector to the token there.

SinusoidalPositionalEncoding adds the fixed table of "Attention Is All You Need": sines and
cosines of the position at wavelengths from 2π to 10000 · 2π, so that nearby positions look alike
and any offset is a linear function of the table. LearnedPositionalEmbedding learns one vector
per position instead, as BERT and GPT do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import checks
from ...dtypes import get_default_dtype
from ...ops.fused import dropout
from ...tensor import Tensor
from ..module import Module
from .sparse import Embedding


def _sequence_length(layer: Module, input: Tensor, width: int, limit: int) -> int:
    """The length of a (L, N, E), (N, L, E) (batch_first) or (L, E) input, after the checks."""
    shape = input.shape
    if len(shape) not in (2, 3) or shape[-1] != width:
        layout = "(N, L, E)" if layer.batch_first else "(L, N, E)"
        raise ValueError(
            f"{layer._get_name()}({layer.extra_repr()}): expected input of shape {layout} or "
            f"(L, E) with E = {width}, got shape {shape}"
        )
    length = shape[1] if len(shape) == 3 and layer.batch_first else shape[0]
    if length > limit:
        raise ValueError(
            f"{layer._get_name()}({layer.extra_repr()}): the sequence has {length} positions "
            f"(input shape {shape}) but the table only {limit}; make it longer"
        )
    return length


def _along_sequence(layer: Module, table: np.ndarray | Tensor, ndim: int) -> Any:
    """A (L, E) table shaped to broadcast over an input of `ndim` dimensions."""
    if ndim == 3 and not layer.batch_first:
        return table.reshape(table.shape[0], 1, table.shape[1])
    return table


def sinusoidal_table(length: int, d_model: int, dtype: Any = np.float32) -> np.ndarray:
    """The (length, d_model) table: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(the
    same), computed in float64."""
    position = np.arange(length, dtype=np.float64)[:, None]
    frequency = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    angles = position * frequency
    table = np.empty((length, d_model), dtype=np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table.astype(dtype)


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sinusoidal position table to its input, then applies dropout.

    Args:
        d_model: the embedding width E.
        max_len: the longest sequence the table covers (default 5000).
        dropout: dropout probability after the addition (default 0.1).
        batch_first: inputs are (N, L, E) rather than (L, N, E).
        dtype: the table's dtype (default float32).

    Shape:
        input ``(L, N, E)``, ``(N, L, E)`` with batch_first, or ``(L, E)``; output the same.

    Attributes:
        pe: the ``(max_len, d_model)`` table, a buffer left out of the state_dict (it is
            recomputed, so checkpoints do not depend on max_len).

    Example::

        >>> pos = SinusoidalPositionalEncoding(64, dropout=0.0, batch_first=True)
        >>> pos(glassnet.zeros(2, 10, 64)).shape
        (2, 10, 64)
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.1,
        batch_first: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = "SinusoidalPositionalEncoding"
        self.d_model = checks.non_negative_int(d_model, "d_model", name)
        self.max_len = checks.non_negative_int(max_len, "max_len", name)
        self.p = checks.probability(dropout, "dropout", name)
        self.batch_first = batch_first
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        table = sinusoidal_table(self.max_len, self.d_model, dtype)
        self.register_buffer("pe", Tensor(table), persistent=False)

    def forward(self, input: Tensor) -> Tensor:
        length = _sequence_length(self, input, self.d_model, self.max_len)
        table = self.pe.data[:length].astype(input.dtype, copy=False)
        return dropout(input + _along_sequence(self, table, input.ndim), self.p, self.training)

    def extra_repr(self) -> str:
        return (
            f"{self.d_model}, max_len={self.max_len}, dropout={self.p}, "
            f"batch_first={self.batch_first}"
        )


class LearnedPositionalEmbedding(Embedding):
    """Adds a learned vector per position (row p of an Embedding table for position p) to its
    input: the positional embeddings of BERT and GPT.

    Args:
        num_embeddings: the longest sequence (the table's rows).
        embedding_dim: the embedding width E.
        batch_first: inputs are (N, L, E) rather than (L, N, E).
        dtype: the table's dtype (default float32).

    Shape:
        input ``(L, N, E)``, ``(N, L, E)`` with batch_first, or ``(L, E)``; output the same.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, from N(0, 1) like Embedding's; only the
            rows of the positions used receive gradients.

    Example::

        >>> pos = LearnedPositionalEmbedding(512, 64, batch_first=True)
        >>> tokens = Embedding(1000, 64)(glassnet.tensor([[1, 2, 3]]))
        >>> pos(tokens).shape
        (1, 3, 64)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        batch_first: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_embeddings, embedding_dim, dtype=dtype)
        self.batch_first = batch_first

    def forward(self, input: Tensor) -> Tensor:
        length = _sequence_length(self, input, self.embedding_dim, self.num_embeddings)
        return input + _along_sequence(self, self.weight[:length], input.ndim)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, batch_first={self.batch_first}"
