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

from .options import Option, Parse, between, choice, existing_file, positive_int, text
from .options import positive_number as positive_float


@dataclass(frozen=True)
class Recipe:
    """A registry entry: the name `glassnet train` knows it by, one line saying what it shows,
    its run(), and the options of its own that the command line offers (the common ones, such as
    --epochs, come from `options.COMMON` when run() takes them)."""

    name: str
    summary: str
    run: Callable[..., dict]
    options: tuple[Option, ...] = ()


def _int_up_to(most: int, what: str) -> Parse:
    """A reader of an integer from 1 to `most`; the error says `what` the limit is."""

    def read(text: str, flag: str, where: str) -> int:
        value = positive_int(text, flag, where)
        if value > most:
            raise ValueError(f"{where}: {flag} must be 1 to {most} ({what}), got {value}")
        return value

    return read


LATENT = Option("latent", positive_int, "how many numbers in the code (or the noise)", "N")
PROMPT = Option("prompt", text, "the text the samples start from", "TEXT")
SEQ_LEN = Option("seq_len", positive_int, "characters per training sequence", "N")


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
            _Lazy("digits_mlp"),
        ),
        Recipe(
            "digits-cnn",
            "a convolutional network (conv-BN-ReLU blocks) reads the same digits as images; "
            "shows its filters and its parameter count next to the MLP's",
            _Lazy("cnn", data="digits"),
        ),
        Recipe(
            "mnist-cnn",
            "a CNN reads MNIST's 28x28 digits (downloaded and cached; offline it trains on "
            "8,000 of the 10k test images and tests on the other 2,000)",
            _Lazy("cnn", data="mnist"),
        ),
        Recipe(
            "shakespeare-lstm",
            "a 2-layer LSTM learns to write like Shakespeare, one character at a time (Tiny "
            "Shakespeare, downloaded and cached; --minutes sets the time budget, default 20)",
            _Lazy("char_rnn"),
            (PROMPT, SEQ_LEN),
        ),
        Recipe(
            "python-gru",
            "a 2-layer GRU learns to write Python from this machine's standard library source "
            "(offline; --minutes, default 10)",
            _Lazy("char_rnn", corpus="python", cell="gru", minutes=10.0, sample_chars=300),
            (PROMPT, SEQ_LEN),
        ),
        Recipe(
            "forecast-lstm",
            "an LSTM forecasts the next value of a time series (a noisy multi-sine signal, or "
            "--csv FILE --column NAME) and is compared with the naive last-value forecast",
            _Lazy("forecast_lstm"),
            (
                Option(
                    "csv",
                    existing_file,
                    "a CSV file with a header row",
                    "FILE",
                    unset="a noisy multi-sine signal",
                    requires=("column",),
                ),
                Option(
                    "column",
                    text,
                    "the CSV column to forecast",
                    "NAME",
                    unset="none",
                    requires=("csv",),
                ),
                Option("window", positive_int, "past values the model sees", "N"),
            ),
        ),
        Recipe(
            "shakespeare-gpt",
            "a small GPT (4 pre-norm transformer blocks) learns to write like Shakespeare; "
            "prints samples as it trains, draws its attention heads, saves it for `glassnet "
            "sample` (offline without Tiny Shakespeare: the Python standard library; --minutes, "
            "default 20)",
            _Lazy("shakespeare_gpt"),
            (
                PROMPT,
                Option("context", positive_int, "characters the model sees at once", "N"),
                Option(
                    "corpus",
                    choice("auto", "shakespeare", "python"),
                    "the text to learn (auto: Tiny Shakespeare if it can be had, else Python)",
                    "NAME",
                ),
                Option(
                    "epochs",
                    positive_float,
                    "passes over the text (a fraction allowed, e.g. 0.5)",
                    "N",
                    unset="as many as the time allows",
                ),
            ),
        ),
        Recipe(
            "digits-vit",
            "a Vision Transformer reads the 8x8 digits as 16 patches of 2x2 pixels (offline); "
            "draws where its class token looks in each head",
            _Lazy("vit", data="digits"),
        ),
        Recipe(
            "mnist-vit",
            "a Vision Transformer reads MNIST as 16 patches of 7x7 pixels (data as for mnist-cnn)",
            _Lazy("vit", data="mnist"),
        ),
        Recipe(
            "digits-ae",
            "a convolutional autoencoder rebuilds the digits from 16 numbers, against PCA with "
            "16 components (offline)",
            _Lazy("autoencoder", data="digits"),
            (LATENT,),
        ),
        Recipe(
            "digits-vae",
            "a variational autoencoder learns to draw new digits: samples, a walk through its "
            "latent space, a map of it (--latent 2), test ELBO per epoch (offline)",
            _Lazy("vae", data="digits"),
            (LATENT,),
        ),
        Recipe(
            "digits-gan",
            "a generator and a discriminator compete until the generator draws digits; "
            "samples, loss curves, pictures as it learns (offline)",
            _Lazy("gan", data="digits"),
            (LATENT,),
        ),
        Recipe(
            "mnist-ae",
            "the digits-ae recipe on MNIST (data as for mnist-cnn)",
            _Lazy("autoencoder", data="mnist"),
            (LATENT,),
        ),
        Recipe(
            "mnist-vae",
            "the digits-vae recipe on MNIST (data as for mnist-cnn)",
            _Lazy("vae", data="mnist"),
            (LATENT,),
        ),
        Recipe(
            "mnist-gan",
            "a DCGAN (convolutional GAN) draws MNIST digits (data as for mnist-cnn)",
            _Lazy("gan", data="mnist"),
            (LATENT,),
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
            (Option("image_size", positive_int, "the side of the square input image", "N"),),
        ),
        Recipe(
            "movielens",
            "recommending movies from MovieLens 100K (downloaded from GroupLens and cached): "
            "RMSE on the five official folds (matrix factorisation, AutoRec, their blend, "
            "baselines), HR@10/NDCG@10 of MF and NeuralCF, top-10 movies for --user",
            _Lazy("movielens"),
            (
                Option(
                    "folds",
                    _int_up_to(5, "MovieLens 100K has five official folds"),
                    "how many of the five official folds to test on",
                    "N",
                ),
                Option(
                    "user",
                    _int_up_to(943, "MovieLens 100K's user ids"),
                    "the user id to recommend movies to",
                    "ID",
                ),
                Option("autorec_epochs", positive_int, "AutoRec's most epochs per fold", "N"),
                Option("ranking_epochs", positive_int, "epochs of the ranking models", "N"),
            ),
        ),
        Recipe(
            "spiral-mlp",
            "a small network learns TensorFlow Playground's two-arm spiral (tabular 2-D data)",
            _Lazy("toy_mlp"),
            (
                Option(
                    "dataset",
                    choice("circle", "xor", "gauss", "spiral", "moons"),
                    "the toy dataset",
                    "NAME",
                ),
                Option(
                    "noise", between(0, 50), "noise on TensorFlow Playground's 0 to 50 scale", "N"
                ),
            ),
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; available: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]
