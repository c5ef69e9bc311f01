"""Recipes: one file per application of neural networks, each runnable as `glassnet train NAME`.

A recipe puts the pieces together the way a practitioner would: data, model, training, and what the
result shows (accuracy, curves, pictures), written to `runs/NAME/`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
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


class _Lazy:
    """The run() of the recipe module `module`, imported on first use, with the keyword
    arguments in `preset` fixed (one module can serve several recipes, e.g. data="mnist").
    `inspect.signature` sees the real run()'s parameters, so the CLI can pass an option such as
    --minutes only to the recipes that take it."""

    def __init__(self, module: str, **preset: object) -> None:
        self.module = module
        self.preset = preset

    def _target(self) -> Callable[..., dict]:
        run = importlib.import_module(f"{__name__}.{self.module}").run
        return functools.partial(run, **self.preset) if self.preset else run

    def __call__(self, **kwargs: object) -> dict:
        return self._target()(**kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._target())


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
            "shakespeare-lstm",
            "a 2-layer LSTM learns to write like Shakespeare, one character at a time (Tiny "
            "Shakespeare, downloaded and cached; --minutes sets the time budget, default 20)",
            _Lazy("char_rnn"),
        ),
        Recipe(
            "python-gru",
            "a 2-layer GRU learns to write Python from this machine's standard library source "
            "(offline; --minutes, default 10)",
            _Lazy("char_rnn", corpus="python", cell="gru", minutes=10.0, sample_chars=300),
        ),
        Recipe(
            "forecast-lstm",
            "an LSTM forecasts the next value of a time series (a noisy multi-sine signal, or "
            "--csv FILE --column NAME) and is compared with the naive last-value forecast",
            _Lazy("forecast_lstm"),
        ),
        Recipe(
            "shakespeare-gpt",
            "a small GPT (4 pre-norm transformer blocks) learns to write like Shakespeare; "
            "prints samples as it trains, draws its attention heads, saves it for `glassnet "
            "sample` (offline without Tiny Shakespeare: the Python standard library; --minutes, "
            "default 20)",
            _Lazy("shakespeare_gpt"),
        ),
        Recipe(
            "digits-vit",
            "a Vision Transformer reads the 8x8 digits as 16 patches of 2x2 pixels (offline); "
            "draws where its class token looks in each head",
            _Lazy("digits_vit"),
        ),
        Recipe(
            "mnist-vit",
            "a Vision Transformer reads MNIST as 16 patches of 7x7 pixels (data as for mnist-cnn)",
            _Lazy("mnist_vit"),
        ),
        Recipe(
            "digits-ae",
            "a convolutional autoencoder rebuilds the digits from 16 numbers, against PCA with "
            "16 components (offline)",
            _Lazy("autoencoder", data="digits"),
        ),
        Recipe(
            "digits-vae",
            "a variational autoencoder learns to draw new digits: samples, a walk through its "
            "latent space, a map of it (--latent 2), test ELBO per epoch (offline)",
            _Lazy("vae", data="digits"),
        ),
        Recipe(
            "digits-gan",
            "a generator and a discriminator compete until the generator draws digits; "
            "samples, loss curves, pictures as it learns (offline)",
            _Lazy("gan", data="digits"),
        ),
        Recipe(
            "mnist-ae",
            "the digits-ae recipe on MNIST (data as for mnist-cnn)",
            _Lazy("autoencoder", data="mnist"),
        ),
        Recipe(
            "mnist-vae",
            "the digits-vae recipe on MNIST (data as for mnist-cnn)",
            _Lazy("vae", data="mnist"),
        ),
        Recipe(
            "mnist-gan",
            "a DCGAN (convolutional GAN) draws MNIST digits (data as for mnist-cnn)",
            _Lazy("gan", data="mnist"),
        ),
        Recipe(
            "digits-robustness",
            "the limits of a 99% digit CNN: saliency maps, FGSM/PGD adversarial examples (a "
            "table of accuracy by eps), adversarial training, rotated/noisy/faded digits",
            _Lazy("digits_robustness"),
        ),
        Recipe(
            "scale",
            "the guide's scale figures counted, without memory (the meta device): ResNet-50's "
            "25,557,032 parameters against a fully connected first layer's 150,529,000,000",
            _Lazy("scale"),
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
