"""The model classes a saved model may name.

A saved model's JSON document says which network it holds by a short name ("GPT"), never by a
path to import: a file downloaded from anywhere must not choose what code runs. The name is looked
up here, in a table written in code; `register` adds your own classes to it.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..nn.module import Module
from .autoencoder import Autoencoder
from .charrnn import CharRNN
from .cnn import LeNet5, SmallCNN
from .gan import GAN
from .gpt import GPT
from .mlp import MLP
from .recommender import AutoRec, MatrixFactorization, NeuralCF
from .resnet import ResNet
from .vae import VAE
from .vit import ViT

REGISTRY: dict[str, type[Module]] = {
    cls.__name__: cls
    for cls in (MLP, SmallCNN, LeNet5, ResNet, ViT, GPT, CharRNN, Autoencoder, VAE, GAN)
    + (MatrixFactorization, NeuralCF, AutoRec)
}
# Networks that a recipe defines for itself, imported the first time a file names them. The
# module is written here, in code, so a file still picks only among these names.
DEFINED_ELSEWHERE = {"Forecaster": "glassnet.recipes.forecast_lstm"}


def register(cls: type[Module] | None = None, *, name: str | None = None) -> Any:
    """Make `cls` loadable by `glassnet.models.load`, under `name` (its class name by default).

    The class needs a ``config()`` method returning the keyword arguments (JSON values) that
    rebuild it. Use as a decorator (``@register``) or a call (``register(MyNet)``).
    """

    def add(cls: type[Module]) -> type[Module]:
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"register: expected a Module subclass, got {cls!r}")
        if not callable(getattr(cls, "config", None)):
            raise TypeError(
                f"register: {cls.__name__} needs a config() method returning its constructor's "
                "keyword arguments"
            )
        key = name or cls.__name__
        known = REGISTRY.get(key)
        if known is not None and known is not cls:
            raise ValueError(
                f"register: the name {key!r} already belongs to {known.__module__}."
                f"{known.__qualname__}; pass another name="
            )
        REGISTRY[key] = cls
        return cls

    return add if cls is None else add(cls)


def model_class(name: str) -> type[Module]:
    """The class registered as `name`, or a ValueError listing the names known."""
    if isinstance(name, str) and name not in REGISTRY and name in DEFINED_ELSEWHERE:
        REGISTRY[name] = getattr(importlib.import_module(DEFINED_ELSEWHERE[name]), name)
    if not isinstance(name, str) or name not in REGISTRY:
        known = sorted({*REGISTRY, *DEFINED_ELSEWHERE})
        raise ValueError(
            f"unknown model class {name!r}; the known ones are {', '.join(known)} "
            "(glassnet.models.register adds your own)"
        )
    return REGISTRY[name]


def registered_name(model: Module) -> str:
    """The name under which `model`'s class is registered, or a ValueError saying how to
    register it."""
    cls = type(model)
    for name, known in REGISTRY.items():
        if known is cls:
            return name
    if cls.__name__ in DEFINED_ELSEWHERE and model_class(cls.__name__) is cls:
        return cls.__name__
    raise ValueError(
        f"{cls.__name__} is not a registered model class, so a saved file could not name it; "
        f"register it first with glassnet.models.register({cls.__name__})"
    )
