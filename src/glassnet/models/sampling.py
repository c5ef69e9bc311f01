"""How a language model writes: it scores every token in its vocabulary, and one is drawn.

`temperature` sharpens (below 1) or flattens (above 1) the distribution before drawing; 0 always
takes the highest score (greedy decoding). `top_k` keeps only the k highest scores, so that the
long tail of unlikely tokens is never drawn. CharRNN and GPT both write this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import checks
from ..tensor import Tensor


def check_prompt(name: str, prompt_ids: Any, temperature: float, top_k: int | None) -> np.ndarray:
    """The prompt as a 1-D int64 array, after checking it and the sampling settings."""
    ids = np.asarray(prompt_ids.data if isinstance(prompt_ids, Tensor) else prompt_ids)
    if ids.ndim != 1 or ids.size == 0 or ids.dtype.kind not in "iu":
        raise ValueError(
            f"{name}: prompt_ids must be a non-empty 1-D sequence of token indices, got "
            f"{ids.dtype} values of shape {ids.shape}"
        )
    if not temperature >= 0.0:
        raise ValueError(f"{name}: temperature must be >= 0, got {temperature!r}")
    if top_k is not None:
        checks.positive_int(top_k, "top_k", name)
    return ids.astype(np.int64)


def sample_next(
    logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator
) -> int:
    """One index drawn from softmax(logits / temperature) over the top_k highest logits; the
    argmax when temperature is 0 or top_k is 1."""
    if temperature == 0.0 or top_k == 1:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / temperature
    if top_k is not None and top_k < len(z):
        z = np.where(z < np.partition(z, -top_k)[-top_k], -np.inf, z)
    p = np.exp(z - z.max())
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(z) - 1))
