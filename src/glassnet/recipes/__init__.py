"""Recipes: one file per application of neural networks, each runnable as `glassnet train NAME`.

A recipe puts the pieces together the way a practitioner would: data, model, training, and what the
result shows (accuracy, curves, pictures), written to `runs/NAME/`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    run: Callable[..., dict]


def _digits_mlp(**kwargs: object) -> dict:
    from .digits_mlp import run

    return run(**kwargs)


def _digits_cnn(**kwargs: object) -> dict:
    from .digits_cnn import run

    return run(**kwargs)


def _mnist_cnn(**kwargs: object) -> dict:
    from .mnist_cnn import run

    return run(**kwargs)


def _toy_mlp(**kwargs: object) -> dict:
    from .toy_mlp import run

    return run(**kwargs)


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "digits-mlp",
            "a fully connected network learns the 1,797 real 8x8 handwritten digits (offline)",
            _digits_mlp,
        ),
        Recipe(
            "digits-cnn",
            "a convolutional network (conv-BN-ReLU blocks) reads the same digits as images; "
            "shows its filters and its parameter count next to the MLP's",
            _digits_cnn,
        ),
        Recipe(
            "mnist-cnn",
            "a CNN reads MNIST's 28x28 digits (downloaded and cached; offline it trains on "
            "8,000 of the 10k test images and tests on the other 2,000)",
            _mnist_cnn,
        ),
        Recipe(
            "spiral-mlp",
            "a small network learns TensorFlow Playground's two-arm spiral (tabular 2-D data)",
            _toy_mlp,
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; available: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]
