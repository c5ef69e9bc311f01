"""Embeddings: a learned table with one vector per word (or any other item with a number).

Embedding(num_embeddings, embedding_dim) holds a (num_embeddings, embedding_dim) weight; given
integer indices it returns their rows. Training moves only the rows that were used, so that
items used in similar places end up with similar vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import checks
from ...dtypes import get_default_dtype
from ...meta import empty
from ...ops.fused import lookup
from ...tensor import Tensor
from ..init import normal_
from ..module import Module
from ..parameter import Parameter


class Embedding(Module):
    """A lookup table: output[..., :] = weight[input[...]].

    Args:
        num_embeddings: size of the table (indices run from 0 to num_embeddings - 1).
        embedding_dim: length of each vector.
        padding_idx: if given, this row starts at zero and never receives a gradient, so it can
            stand for padding (negative values count from the end).
        max_norm: if given, rows read whose norm exceeds it are rescaled to it (in place).
        norm_type: the p of the p-norm for max_norm (default 2).
        scale_grad_by_freq: divide each row's gradient by how often the batch read it.
        sparse: the weight's gradient holds only the rows a batch read (a
            `glassnet.sparse.SparseRows`, ``weight.grad.is_sparse``), so a step costs what the
            batch touched, not the table; step it with `optim.SparseAdam`.
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the weight's dtype (default: ``glassnet.get_default_dtype()``, float32).

    Shape:
        input: integer tensor of any shape ``(*)``; output ``(*, embedding_dim)``.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, initialised from N(0, 1) (PyTorch's
            default), its padding_idx row zero.

    Example::

        >>> emb = Embedding(10, 3, padding_idx=0)
        >>> emb(glassnet.tensor([[1, 2, 0], [4, 0, 9]])).shape
        (2, 3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Any = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = checks.non_negative_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = checks.non_negative_int(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
                    f"got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
            self.weight = Parameter(empty(shape, dtype, device), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            data = np.array(_weight.data if isinstance(_weight, Tensor) else _weight, dtype=dtype)
            if data.shape != shape:
                raise ValueError(f"Embedding: _weight must have shape {shape}, got {data.shape}")
            self.weight = Parameter(data, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding a copy of `embeddings` (2-D); with `freeze` (the default) its
        weight is not trained."""
        data = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {data.shape}"
            )
        return cls(
            *data.shape,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=data,
            _freeze=freeze,
        )

    def forward(self, input: Tensor) -> Tensor:
        return lookup(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
            name=f"Embedding({self.extra_repr()})",
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s
