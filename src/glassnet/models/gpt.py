"""GPT: a decoder-only transformer that writes text one token at a time.

Each token's index picks a learned vector, and each position adds its own learned vector. A stack
of blocks follows, each with two residual branches: causal self-attention (every position gathers
information from itself and the positions before it, never after) and a small feed-forward
network, each behind a layer norm ("pre-norm"). A last layer norm and a Linear layer turn every
position's vector into scores for the next token; that Linear layer shares its weight with the
token embedding (weight tying), so reading a token and writing it use the same vector.

To write, the model predicts the next token, appends it and predicts again. The keys and values
that attention computed for earlier positions do not change when a token is appended, so a
key/value cache keeps them and each new token costs one position's work instead of the whole
prefix's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import checks
from ..autograd import is_grad_enabled, no_grad
from ..nn import functional as F
from ..nn.container import ModuleList
from ..nn.init import normal_, zeros_
from ..nn.layers import GELU, Dropout, Embedding, LayerNorm, Linear
from ..nn.modes import inference
from ..nn.module import Module
from ..ops.attention import attention
from ..optim import AdamW
from ..random import Generator, as_rng
from ..tensor import Tensor
from .sampling import check_prompt, sample_next


class KVCache:
    """The keys and values that attention computed for the positions read so far, per layer.

    Pass one to ``GPT.forward(idx, cache=cache)`` (under ``no_grad``): the call reads `idx` as
    the positions right after those already in the cache, attends to the cached ones as well as
    its own, and adds its keys and values to the cache. Each layer's keys and values live in
    ``(N, heads, context, head_dim)`` arrays allocated on first use and filled in place.

    Attributes:
        length: how many positions the cache holds.
    """

    def __init__(self) -> None:
        self.length = 0
        self.capacity = 0  # the model's context, set by GPT.forward
        self._layers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def extend(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store `layer`'s keys and values (N, H, T, D) for positions ``length .. length + T``;
        return views of all its keys and values so far."""
        end = self.length + k.shape[2]
        if layer not in self._layers:
            shape = (*k.shape[:2], self.capacity, k.shape[3])
            self._layers[layer] = (np.empty(shape, k.dtype), np.empty(shape, v.dtype))
        keys, values = self._layers[layer]
        if keys.shape[:2] != k.shape[:2]:
            raise ValueError(
                f"KVCache: it holds a batch of {keys.shape[0]}, got a batch of {k.shape[0]}"
            )
        keys[:, :, self.length : end] = k
        values[:, :, self.length : end] = v
        return keys[:, :, :end], values[:, :, :end]


class CausalSelfAttention(Module):
    """Multi-head self-attention in which each position sees only itself and earlier ones.

    One Linear layer ``qkv`` projects each position to its query, key and value (side by side);
    the heads attend with scaled dot-product attention (``is_causal=True``; one graph node, which
    can also return the attention weights), and ``proj`` mixes the heads' outputs back into the
    model's width.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"GPT: d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.qkv = Linear(d_model, 3 * d_model)
        self.proj = Linear(d_model, d_model)
        self.attn_dropout = dropout
        self.resid_drop = Dropout(dropout)

    def forward(
        self,
        x: Tensor,
        cache: KVCache | None = None,
        layer: int = 0,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        n, t, c = x.shape
        heads = self.n_heads
        # (N, T, 3, H, D) -> (3, N, H, T, D): q, k and v are strided views, no copies
        q, k, v = self.qkv(x).view(n, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4).unbind(0)
        mask, is_causal = None, True
        if cache is not None:
            past = cache.length
            keys, values = cache.extend(layer, k.data, v.data)
            k, v = Tensor(keys), Tensor(values)
            if past:
                # the new positions see every cached one and the earlier of themselves
                is_causal = False
                if t > 1:
                    mask = Tensor(np.tri(t, past + t, past, dtype=bool))
        p = self.attn_dropout if self.training else 0.0
        y, weights = attention(q, k, v, mask, p, is_causal, need_weights=need_weights)
        y = y.transpose(1, 2).reshape(n, t, c)
        return self.resid_drop(self.proj(y)), weights

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, attn_dropout={self.attn_dropout}"


class MLP(Module):
    """The feed-forward branch: Linear(d, 4d) -> GELU -> Linear(4d, d) -> dropout."""

    def __init__(self, d_model: int, dropout: float) -> None:
        super().__init__()
        self.fc = Linear(d_model, 4 * d_model)
        self.gelu = GELU()
        self.proj = Linear(4 * d_model, d_model)
        self.drop = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.proj(self.gelu(self.fc(x))))


class Block(Module):
    """x = x + attn(ln1(x)); x = x + mlp(ln2(x))."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, dropout)

    def forward(
        self, x: Tensor, cache: KVCache | None = None, layer: int = 0, need_weights: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        a, weights = self.attn(self.ln1(x), cache, layer, need_weights)
        x = x + a
        return x + self.mlp(self.ln2(x)), weights


class GPT(Module):
    """A decoder-only transformer language model (GPT-2's layout, pre-norm).

    tok_emb(idx) + pos_emb(positions) -> dropout -> `n_layers` Blocks -> ln_f -> head: scores
    for the next token at every position.

    Args:
        vocab_size: how many distinct tokens.
        context: the longest sequence the model reads (the rows of the position table).
        d_model: the width of every position's vector.
        n_layers: how many blocks.
        n_heads: attention heads per block (must divide d_model).
        dropout: dropout probability on the embeddings, the attention weights and both
            residual branches, in training.
        tie_weights: the head's weight is the token embedding's Parameter (one tensor, used
            twice); otherwise the head has its own.

    Initialisation is GPT-2's: every weight from N(0, 0.02), biases zero, and the projections
    that end a residual branch (``attn.proj``, ``mlp.proj``) from N(0, 0.02 / sqrt(2 n_layers)),
    so the residual stream does not grow with depth.

    Shape:
        idx: int64 ``(N, T)`` token indices with T <= context; logits ``(N, T, vocab_size)``.

    The state_dict's keys (``tok_emb.weight``, ``pos_emb.weight``, ``blocks.0.ln1.weight``,
    ``blocks.0.attn.qkv.weight``, ..., ``ln_f.bias``, ``head.weight``) are those of the same
    model written in PyTorch with the same attribute names. With tied weights ``head.weight``
    and ``tok_emb.weight`` are the same tensor, listed under both names, as in PyTorch.

    Example::

        >>> model = GPT(vocab_size=65, context=64, d_model=64, n_layers=2, n_heads=4)
        >>> logits, loss = model(idx, targets)
        >>> model.generate([1, 2, 3], max_new_tokens=20, temperature=0.8).shape
        (20,)
    """

    def __init__(
        self,
        vocab_size: int,
        context: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        dropout: float = 0.0,
        tie_weights: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("context", context),
            ("d_model", d_model),
            ("n_layers", n_layers),
            ("n_heads", n_heads),
        ):
            checks.positive_int(value, name, "GPT")
        self.vocab_size, self.context = vocab_size, context
        self.n_layers, self.n_heads = n_layers, n_heads
        self.tie_weights = tie_weights
        self.tok_emb = Embedding(vocab_size, d_model)
        self.pos_emb = Embedding(context, d_model)
        self.drop = Dropout(dropout)
        self.blocks = ModuleList([Block(d_model, n_heads, dropout) for _ in range(n_layers)])
        self.ln_f = LayerNorm(d_model)
        self.head = Linear(d_model, vocab_size, bias=False)
        self.reset_parameters()
        if tie_weights:
            self.head.weight = self.tok_emb.weight

    @property
    def d_model(self) -> int:
        return self.tok_emb.embedding_dim

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, Linear | Embedding):
                normal_(module.weight, std=0.02)
            if isinstance(module, Linear) and module.bias is not None:
                zeros_(module.bias)
        for block in self.blocks:
            for proj in (block.attn.proj, block.mlp.proj):
                normal_(proj.weight, std=0.02 / math.sqrt(2 * self.n_layers))

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``GPT(**model.config())``."""
        return {
            "vocab_size": self.vocab_size,
            "context": self.context,
            "d_model": self.d_model,
            "n_layers": self.n_layers,
            "n_heads": self.n_heads,
            "dropout": self.drop.p,
            "tie_weights": self.tie_weights,
        }

    def forward(
        self, idx: Tensor, targets: Tensor | None = None, cache: KVCache | None = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        """The logits ``(N, T, vocab_size)``; with `targets` ``(N, T)`` also the mean
        cross-entropy loss: ``(logits, loss)``.

        With a `cache` (inference only, under ``no_grad``), `idx` continues the positions the
        cache holds (see `KVCache`); their total may not exceed `context`.
        """
        logits, _ = self._run(idx, cache, need_weights=False)
        if targets is None:
            return logits
        n = logits.shape[0] * logits.shape[1]
        loss = F.cross_entropy(logits.reshape(n, self.vocab_size), targets.reshape(n))
        return logits, loss

    def attention_maps(self, idx: Tensor) -> list[np.ndarray]:
        """Every layer's attention weights for `idx` ``(N, T)``, without gradients: a list of
        ``(N, n_heads, T, T)`` arrays, entry [n, h, i, j] how much position i of sequence n
        looks at position j in head h (each row sums to 1; j > i gets 0). Call ``eval()`` first
        to see them without dropout."""
        with no_grad():
            _, weights = self._run(idx, None, need_weights=True)
        return [w.data for w in weights]

    def _run(
        self, idx: Tensor, cache: KVCache | None, need_weights: bool
    ) -> tuple[Tensor, list[Tensor]]:
        idx = idx if isinstance(idx, Tensor) else Tensor(np.asarray(idx))
        if idx.ndim != 2 or idx.dtype.kind not in "iu":
            raise ValueError(
                f"GPT: expected token indices of shape (N, T) and an integer dtype, got "
                f"{idx.dtype} values of shape {idx.shape}"
            )
        t = idx.shape[1]
        start = 0
        if cache is not None:
            if is_grad_enabled():
                raise RuntimeError(
                    "GPT: a KVCache is for inference (gradients do not flow into the cached "
                    "keys and values); call the model under glassnet.no_grad()"
                )
            start = cache.length
            cache.capacity = self.context
        if start + t > self.context:
            where = f" after the {start} cached ones" if cache is not None else ""
            raise ValueError(
                f"GPT: {t} positions{where} exceed the context of {self.context}; crop the input "
                f"to its last {self.context - start} tokens (generate() does this)"
            )
        x = self.tok_emb(idx) + self.pos_emb.weight[start : start + t]
        x = self.drop(x)
        weights = []
        for layer, block in enumerate(self.blocks):
            x, w = block(x, cache, layer, need_weights)
            weights.append(w)
        if cache is not None:
            cache.length += t
        return self.head(self.ln_f(x)), weights

    def generate(
        self,
        prompt_ids: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: Generator | np.random.Generator | None = None,
        use_cache: bool = True,
    ) -> np.ndarray:
        """Write `max_new_tokens` tokens after `prompt_ids` (a non-empty 1-D sequence of
        indices); returns the new indices (int64 array).

        Each token is drawn from softmax(logits / `temperature`) restricted to the `top_k`
        highest scores (all if None), with `generator` (glassnet's global one by default);
        ``temperature=0`` or ``top_k=1`` takes the most likely token (greedy decoding).

        The model reads at most `context` tokens: the prediction after a longer text uses its
        last `context` tokens (a prompt longer than that is cropped to them). With `use_cache`
        the prompt is read once and each new token is one position's work against the cached
        keys and values. Learned positions make the cache unusable once the window slides (every
        token's position, and with it every key and value, shifts by one), so from then on each
        step re-reads the last `context` tokens, exactly as without the cache. So cached and
        uncached generation condition on the same tokens at every step and differ only by
        rounding; at temperature 0 they write the same tokens.
        """
        ids = check_prompt("GPT.generate", prompt_ids, temperature, top_k)
        rng = as_rng(generator)
        total = max(int(max_new_tokens), 0)
        tokens = np.empty(len(ids) + total, dtype=np.int64)
        tokens[: len(ids)] = ids
        end = len(ids)
        cache: KVCache | None = None
        with inference(self):
            for _ in range(total):
                if use_cache and cache is not None and cache.length < self.context:
                    step = tokens[None, end - 1 : end]
                else:
                    cache = KVCache() if use_cache else None
                    step = tokens[None, max(0, end - self.context) : end]
                logits = self(Tensor(step), cache=cache)
                tokens[end] = sample_next(logits.data[0, -1], temperature, top_k, rng)
                end += 1
        return tokens[len(ids) :]

    def configure_optimizer(
        self, weight_decay: float, lr: float, betas: tuple[float, float] = (0.9, 0.95)
    ) -> AdamW:
        """AdamW with two param groups, the standard GPT recipe: weight decay for the weight
        matrices of the Linear layers, none for biases, layer norms and embeddings (the tied
        head weight is the token embedding, so it is not decayed either)."""
        embeddings = {id(self.tok_emb.weight), id(self.pos_emb.weight)}
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            is_matrix = param.ndim >= 2 and name.endswith("weight")
            (decay if is_matrix and id(param) not in embeddings else no_decay).append(param)
        return AdamW(
            [
                {"params": decay, "weight_decay": weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=lr,
            betas=betas,
        )
