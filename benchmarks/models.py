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
