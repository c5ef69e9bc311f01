"""glassnet's GPT and ViT written in PyTorch, module for module and with the same attribute names,
so that a twin's ``load_state_dict`` takes the glassnet model's state_dict. Used by the tests and
by the benchmarks' torch worker (never by glassnet itself)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c = x.shape
        qkv = self.qkv(x).view(n, t, 3, self.n_heads, c // self.n_heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(n, t, c))


class MLP(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchGPT(nn.Module):
    """GPT without dropout, the head tied to the token embedding."""

    def __init__(
        self, vocab_size: int, context: int, d_model: int, n_layers: int, n_heads: int
    ) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2's initialisation, as glassnet's GPT.reset_parameters draws it."""
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        for block in self.blocks:
            for proj in (block.attn.proj, block.mlp.proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * len(self.blocks)))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok_emb(idx) + self.pos_emb.weight[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    @classmethod
    def copy_of(cls, model) -> TorchGPT:
        """The same network as the glassnet GPT `model`, with a copy of its weights."""
        config = model.config()
        twin = cls(
            *(config[k] for k in ("vocab_size", "context", "d_model", "n_layers", "n_heads"))
        )
        twin.load_state_dict(
            {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
        )
        return twin


class TorchViT(nn.Module):
    """glassnet's ViT (pre-norm encoder layers with GELU, class token, learned position
    embeddings) built from torch.nn's own TransformerEncoderLayer; no dropout."""

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        in_channels: int,
        num_classes: int,
        d_model: int,
        depth: int,
        heads: int,
        mlp_dim: int,
    ) -> None:
        super().__init__()
        patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, d_model, patch_size, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, d_model))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model, heads, mlp_dim, 0.0, "gelu", batch_first=True, norm_first=True
            )
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(len(x), -1, -1), patches], 1) + self.pos_embed
        for layer in self.layers:
            tokens = layer(tokens)
        return self.head(self.norm(tokens[:, 0]))

    @classmethod
    def copy_of(cls, model) -> TorchViT:
        """The same network as the glassnet ViT `model` (square images), with a copy of its
        weights."""
        layer = model.layers[0]
        twin = cls(
            model.image_size[0],
            model.patch_size,
            model.in_channels,
            model.head.out_features,
            model.head.in_features,
            len(model.layers),
            layer.self_attn.num_heads,
            layer.linear1.out_features,
        )
        twin.load_state_dict(
            {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
        )
        return twin
