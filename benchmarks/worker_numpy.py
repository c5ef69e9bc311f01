"""Hand-written NumPy: the same MLP step with every derivative written out and no autograd at all.

It is what glassnet would cost if its engine added nothing, so `run.py --candidate numpy` shows
the floor that glassnet's graph, modules and optimizer overheads are measured from. It answers the
driver exactly as the library workers do (see protocol.py) and imports neither library.
"""

from __future__ import annotations

import platform
from itertools import cycle
from typing import Any

import numpy as np

from protocol import CHECK_STEPS, LEARNING_RATE, Step, layer_arrays, serve, thread_pools


def info() -> dict[str, Any]:
    return {
        "library": "hand-written NumPy",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": "NumPy's BLAS pool (below)",
        "pools": thread_pools(),
    }


def forward(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> list[np.ndarray]:
    """The input and every layer's output, ReLU applied in place between layers."""
    outputs = [x]
    for i, (weight, bias) in enumerate(layers):
        h = outputs[-1] @ weight.T
        h += bias
        if i < len(layers) - 1:
            np.maximum(h, 0.0, out=h)
        outputs.append(h)
    return outputs


def train_step(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray) -> float:
    """Forward, mean softmax cross-entropy, backward and an SGD update; returns the loss."""
    outputs = forward(layers, x)
    scores = outputs[-1]
    rows = np.arange(len(y))
    shifted = scores - scores.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted)
    total = probabilities.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
    # d loss / d scores = (softmax - one_hot) / batch
    probabilities *= 1.0 / (total * len(y))
    probabilities[rows, y] -= 1.0 / len(y)
    grad = probabilities
    for i in range(len(layers) - 1, -1, -1):
        weight, bias = layers[i]
        if i:
            below = grad @ weight
            below *= outputs[i] > 0  # ReLU's gradient, from its output
        weight -= LEARNING_RATE * (grad.T @ outputs[i])
        bias -= LEARNING_RATE * grad.sum(axis=0)
        if i:
            grad = below
    return loss


def prepare(name: str, kind: str, data: dict[str, np.ndarray]) -> tuple[Step, dict[str, Any]]:
    if name != "mlp":
        raise ValueError(f"the hand-written NumPy step exists for the MLP only, not {name!r}")
    layers = [(weight.copy(), bias.copy()) for weight, bias in layer_arrays(data)]
    if kind == "infer":
        inputs = cycle(list(data["x"]))

        def infer_step() -> np.ndarray:
            return forward(layers, next(inputs))[-1]

        return infer_step, {"losses": [], "arrays": {"output": infer_step()}}

    batches = cycle(list(zip(data["x"], data["y"])))

    def step() -> float:
        return train_step(layers, *next(batches))

    losses = [step() for _ in range(CHECK_STEPS)]
    return step, {"losses": losses, "arrays": {"0.weight": layers[0][0].copy()}}


if __name__ == "__main__":
    serve(info, prepare)
