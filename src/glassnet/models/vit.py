"""The Vision Transformer (ViT): an image read as a sequence of patches.

The image is cut into square patches (a 28x28 digit into 16 patches of 7x7); each patch is
flattened and projected to a vector, as a word would be embedded. A learned "class token" is put
in front of the patches and every position adds a learned position vector; a stack of transformer
encoder layers lets every patch attend to every other, and the class token, which belongs to no
patch, gathers what the classifier needs. Its final vector, layer-normed, goes through one Linear
layer to the class scores. Where the class token's attention goes shows which patches it reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import get_default_dtype
from ..nn.container import ModuleList
from ..nn.init import trunc_normal_, zeros_
from ..nn.layers import Conv2d, Dropout, LayerNorm, Linear, TransformerEncoderLayer
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..ops.shape import cat
from ..optim import AdamW
from ..tensor import Tensor


class ViT(Module):
    """Patch embedding, class token, position embeddings, pre-norm encoder layers, final layer
    norm, and a Linear head on the class token.

    Args:
        image_size: the images' height and width (an int for square images, or (H, W)).
        patch_size: the side of the square patches; must divide both image sides.
        in_channels: the images' channels.
        num_classes: the outputs (raw scores).
        d_model: the width of every token's vector.
        depth: how many encoder layers.
        heads: attention heads per layer (must divide d_model).
        mlp_dim: the hidden width of each layer's feed-forward network.
        dropout: dropout probability after the position embeddings and inside the layers.

    Submodules: ``patch_embed`` (Conv2d with kernel and stride ``patch_size``: one projection
    per patch), ``cls_token`` ``(1, 1, d_model)`` and ``pos_embed`` ``(1, patches + 1,
    d_model)`` (Parameters, from N(0, 0.02) truncated at ±0.04), ``layers`` (a ModuleList of
    TransformerEncoderLayer(batch_first=True, norm_first=True, activation="gelu"), each
    initialised on its own), ``norm`` and ``head``.

    Shape:
        input ``(N, in_channels, H, W)``; output ``(N, num_classes)``.

    ``forward(x, return_attention=True)`` also returns every layer's attention weights, a list
    of ``(N, heads, patches + 1, patches + 1)`` Tensors (row 0 is the class token's attention;
    token p + 1 is patch p, patches numbered row by row).

    Example::

        >>> model = ViT(image_size=8, patch_size=2, in_channels=1, num_classes=10, d_model=64,
        ...             depth=2, heads=4, mlp_dim=128, dropout=0.0)
        >>> model(glassnet.zeros(5, 1, 8, 8)).shape
        (5, 10)
    """

    def __init__(
        self,
        image_size: int | tuple[int, int],
        patch_size: int,
        in_channels: int,
        num_classes: int,
        d_model: int,
        depth: int,
        heads: int,
        mlp_dim: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
        if patch_size < 1 or height % patch_size or width % patch_size:
            raise ValueError(
                f"ViT: patch_size ({patch_size}) must divide the image's height and width, "
                f"got image_size {image_size}"
            )
        if depth < 1:
            raise ValueError(f"ViT: depth must be at least 1, got {depth}")
        self.image_size = (height, width)
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.num_classes, self.d_model, self.depth = num_classes, d_model, depth
        self.heads, self.mlp_dim, self.dropout = heads, mlp_dim, dropout
        self.grid = (height // patch_size, width // patch_size)
        num_patches = self.grid[0] * self.grid[1]
        self.patch_embed = Conv2d(in_channels, d_model, patch_size, stride=patch_size)
        dtype = get_default_dtype()
        self.cls_token = Parameter(np.zeros((1, 1, d_model), dtype=dtype))
        self.pos_embed = Parameter(np.zeros((1, num_patches + 1, d_model), dtype=dtype))
        self.drop = Dropout(dropout)
        self.layers = ModuleList(
            [
                TransformerEncoderLayer(
                    d_model,
                    heads,
                    dim_feedforward=mlp_dim,
                    dropout=dropout,
                    activation="gelu",
                    batch_first=True,
                    norm_first=True,
                )
                for _ in range(depth)
            ]
        )
        self.norm = LayerNorm(d_model)
        self.head = Linear(d_model, num_classes)
        trunc_normal_(self.cls_token, std=0.02, a=-0.04, b=0.04)
        trunc_normal_(self.pos_embed, std=0.02, a=-0.04, b=0.04)
        zeros_(self.head.bias)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``ViT(**model.config())``."""
        return {
            "image_size": list(self.image_size),
            "patch_size": self.patch_size,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "d_model": self.d_model,
            "depth": self.depth,
            "heads": self.heads,
            "mlp_dim": self.mlp_dim,
            "dropout": self.dropout,
        }

    def forward(
        self, x: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, list[Tensor]]:
        if x.ndim != 4 or (x.shape[1], *x.shape[2:]) != (self.in_channels, *self.image_size):
            raise ValueError(
                f"ViT: expected images of shape (N, {self.in_channels}, {self.image_size[0]}, "
                f"{self.image_size[1]}), got {x.shape}"
            )
        n = x.shape[0]
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)  # (N, patches, d_model)
        tokens = cat([self.cls_token.expand(n, 1, self.cls_token.shape[2]), patches], dim=1)
        tokens = self.drop(tokens + self.pos_embed)
        weights: list[Tensor] = []
        handles = (
            [self._record_attention(layer, weights) for layer in self.layers]
            if return_attention
            else []
        )
        try:
            for layer in self.layers:
                tokens = layer(tokens)
        finally:
            for pre, post in handles:
                pre.remove()
                post.remove()
        logits = self.head(self.norm(tokens[:, 0]))
        return (logits, weights) if return_attention else logits

    def configure_optimizer(
        self, weight_decay: float, lr: float, betas: tuple[float, float] = (0.9, 0.999)
    ) -> AdamW:
        """AdamW with weight decay for the weight matrices (patch projection, attention,
        feed-forward, head) and none for biases, layer norms, the class token and the position
        embeddings."""
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            (decay if param.ndim >= 2 and name.endswith("weight") else no_decay).append(param)
        return AdamW(
            [
                {"params": decay, "weight_decay": weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=lr,
            betas=betas,
        )

    @staticmethod
    def _record_attention(layer: Module, weights: list) -> tuple[Any, Any]:
        """Hooks on the layer's self-attention that ask it for its per-head weights (the layer
        itself passes need_weights=False) and append them to `weights`."""

        def ask(module: Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
            return args, {**kwargs, "need_weights": True, "average_attn_weights": False}

        def keep(module: Module, args: tuple, output: tuple) -> None:
            weights.append(output[1])

        attn = layer.self_attn
        return (
            attn.register_forward_pre_hook(ask, with_kwargs=True),
            attn.register_forward_hook(keep),
        )
