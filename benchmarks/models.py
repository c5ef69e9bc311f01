"""The benchmarked networks, written once as data and built by each worker with its own library.

glassnet and PyTorch share the layer names and arguments, so one description (`Conv2d(1, 6, 5,
padding=2)`, `ReLU()`, ...) builds the same nn.Sequential in both. This module imports neither
library: the driver uses it to draw the initial weights, the workers to build the models.
"""

from __future__ import annotations

import math
from typing import Any

Layer = tuple[str, tuple, dict]

ARCHITECTURES: dict[str, tuple[tuple[int, ...], list[Layer]]] = {
    # name: (shape of one input, layers of an nn.Sequential)
    "mlp": (
        (784,),
        [
            ("Linear", (784, 256), {}),
            ("ReLU", (), {}),
            ("Linear", (256, 256), {}),
            ("ReLU", (), {}),
            ("Linear", (256, 10), {}),
        ],
    ),
    "lenet5": (
        (1, 28, 28),
        [
            ("Conv2d", (1, 6, 5), {"padding": 2}),
            ("ReLU", (), {}),
            ("MaxPool2d", (2,), {}),
            ("Conv2d", (6, 16, 5), {}),
            ("ReLU", (), {}),
            ("MaxPool2d", (2,), {}),
            ("Flatten", (), {}),
            ("Linear", (16 * 5 * 5, 120), {}),
            ("ReLU", (), {}),
            ("Linear", (120, 84), {}),
            ("ReLU", (), {}),
            ("Linear", (84, 10), {}),
        ],
    ),
    "convnet": (
        (3, 32, 32),
        [
            ("Conv2d", (3, 32, 3), {"padding": 1}),
            ("ReLU", (), {}),
            ("MaxPool2d", (2,), {}),
            ("Conv2d", (32, 64, 3), {"padding": 1}),
            ("ReLU", (), {}),
            ("MaxPool2d", (2,), {}),
            ("Flatten", (), {}),
            ("Linear", (64 * 8 * 8, 10), {}),
        ],
    ),
}


# Transformers are not nn.Sequential stacks: each worker builds glassnet's model class or its torch
# twin (tests/torch_twins.py, the same attribute names) from these keyword arguments. Their
# initial weights are the reference worker's default initialisation, sent to the other worker
# through the weights file. "gpt" inputs are token ids with next-token targets; "vit" inputs are
# 1x8x8 images in [0, 1) with class labels.
TRANSFORMERS: dict[str, tuple[str, dict[str, int]]] = {
    # one GPT block: d_model 128, 4 heads, MLP 512, context 64, vocabulary 65
    "gpt1": ("gpt", dict(vocab_size=65, context=64, d_model=128, n_layers=1, n_heads=4)),
    # the 2-layer character GPT of the parity test, at shakespeare-gpt's width and context
    "gpt2": ("gpt", dict(vocab_size=65, context=128, d_model=128, n_layers=2, n_heads=4)),
    # digits-vit's ViT: 16 patches of 2x2 pixels, 4 pre-norm layers of width 64
    "vit": (
        "vit",
        dict(
            image_size=8,
            patch_size=2,
            in_channels=1,
            num_classes=10,
            d_model=64,
            depth=4,
            heads=4,
            mlp_dim=128,
        ),
    ),  # fmt: skip
}


def parameter_shapes(model: str) -> list[tuple[str, tuple[int, ...], int]]:
    """(state_dict key, shape, fan_in) of every parameter, in nn.Sequential's order."""
    shapes = []
    for index, (kind, args, _) in enumerate(ARCHITECTURES[model][1]):
        if kind == "Linear":
            n_in, n_out = args
            weight, fan_in = (n_out, n_in), n_in
        elif kind == "Conv2d":
            n_in, n_out, k = args
            weight, fan_in = (n_out, n_in, k, k), n_in * k * k
        else:
            continue
        shapes += [(f"{index}.weight", weight, fan_in), (f"{index}.bias", (weight[0],), fan_in)]
    return shapes


def init_bound(fan_in: int) -> float:
    """PyTorch's default initialisation of Linear and Conv2d draws from U(-bound, bound)."""
    return 1.0 / math.sqrt(fan_in)


def build(model: str, nn: Any) -> Any:
    """`nn.Sequential` of the architecture, from `nn` (glassnet.nn or torch.nn)."""
    return nn.Sequential(*(getattr(nn, kind)(*a, **kw) for kind, a, kw in ARCHITECTURES[model][1]))
