"""The playground's settings: everything a lesson needs, and its round trip through a URL.

A `Settings` holds the dataset, the features fed to the network, the network's shape and how it is
trained. `format_query` writes it as a URL query string (TensorFlow Playground's parameter names
where it has one) and `parse_query` reads it back, so a copied link reproduces the lesson. Every
value is checked on the way in; a wrong one raises `SettingsError` naming the parameter, the range
it should be in and what it got.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .. import checks

CLASSIFICATION_DATASETS = ("circle", "xor", "gauss", "spiral", "blobs")
REGRESSION_DATASETS = ("plane", "multi_gaussian")
UPLOADED = "csv"
"""The dataset name of points uploaded from a CSV file (which a link cannot carry)."""
DATASETS = CLASSIFICATION_DATASETS + REGRESSION_DATASETS + (UPLOADED,)
MULTICLASS_DATASETS = ("spiral", "blobs", UPLOADED)
"""The datasets that can have 3 to 5 classes (spiral arms, Gaussian clouds, one's own data)."""

FEATURES: dict[str, str] = {
    "x": "x1",
    "y": "x2",
    "xSquared": "x1²",
    "ySquared": "x2²",
    "xTimesY": "x1·x2",
    "sinX": "sin(x1)",
    "sinY": "sin(x2)",
}
"""The input features by URL name (TensorFlow Playground's), with how the page labels them."""

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "gelu", "silu")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "L1", "L2")

MAX_LAYERS = 6
MAX_NEURONS = 8
MIN_LEARNING_RATE, MAX_LEARNING_RATE = 1e-5, 10.0
MAX_REGULARIZATION_RATE = 10.0
MAX_BATCH_SIZE = 30
MAX_CLASSES = 5
MAX_DROPOUT = 0.9
MAX_SEED = 2**31 - 1


class SettingsError(ValueError):
    """A setting out of range or malformed; the message names the URL parameter."""


@dataclass(frozen=True)
class Settings:
    """One playground lesson. Defaults are TensorFlow Playground's opening screen.

    Attributes:
        dataset: one of `DATASETS`; plane and multi_gaussian are regression problems; "csv" is
            data uploaded to the session (classification or regression, as its labels say).
        noise: 0 to 50, the Playground's noise slider.
        train_percent: the share of the points used for training, 10 to 90; the rest test.
        seed: the random seed of the data, the initial weights, each epoch's order of the points
            and dropout's masks: the same link replays the same run.
        features: the input features switched on, names from `FEATURES` (at least one).
        hidden: the width of each hidden layer: 0 to 6 layers of 1 to 8 neurons.
        activation: the hidden layers' activation, one of `ACTIVATIONS`.
        learning_rate: 0.00001 to 10.
        regularization: "none", "L1" or "L2", on the weights (not the biases).
        regularization_rate: 0 to 10.
        batch_size: 1 to 30.
        optimizer: "sgd", "momentum" (SGD with momentum 0.9) or "adam".
        classes: 2 to 5; more than 2 for spiral, blobs and csv only (softmax output).
        dropout: 0 to 0.9, after every hidden activation, while training only.
        show_test: draw the test points on the output heatmap.
        discretize: draw the output heatmap as hard classes instead of shades.
    """

    dataset: str = "circle"
    noise: int = 0
    train_percent: int = 50
    seed: int = 0
    features: tuple[str, ...] = ("x", "y")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    regularization: str = "none"
    regularization_rate: float = 0.0
    batch_size: int = 10
    optimizer: str = "sgd"
    classes: int = 2
    dropout: float = 0.0
    show_test: bool = False
    discretize: bool = False

    def __post_init__(self) -> None:
        for name in ("features", "hidden"):  # lists are welcome too; stored as tuples
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        _validate(self)

    @property
    def regression(self) -> bool:
        """Whether the dataset's targets are numbers rather than classes (for "csv", the session
        knows: see `TrainingSession.regression`)."""
        return self.dataset in REGRESSION_DATASETS

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (validated like a new one)."""
        return dataclasses.replace(self, **changes)


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingsError(f"{key}: should be one of {', '.join(choices)}; got {value!r}")


def _whole(key: str, value: Any, low: int, high: int) -> None:
    checks.int_in_range(value, key, "", low, high, error=SettingsError)


def _real(key: str, value: Any, low: float, high: float) -> None:
    checks.number_in_range(value, key, "", low, high, error=SettingsError)


def _validate(s: Settings) -> None:
    _choice("dataset", s.dataset, DATASETS)
    _whole("noise", s.noise, 0, 50)
    _whole("percTrainData", s.train_percent, 10, 90)
    _whole("seed", s.seed, 0, MAX_SEED)
    if not isinstance(s.features, tuple) or not s.features:
        raise SettingsError(
            f"features: switch on at least one input feature ({', '.join(FEATURES)}); "
            f"got {s.features!r}"
        )
    for name in s.features:
        _choice("feature", name, tuple(FEATURES))
    if len(set(s.features)) != len(s.features):
        raise SettingsError(f"features: each feature at most once; got {s.features!r}")
    if not isinstance(s.hidden, tuple):
        raise SettingsError(f"networkShape: should be a tuple of layer widths; got {s.hidden!r}")
    if len(s.hidden) > MAX_LAYERS:
        raise SettingsError(
            f"networkShape: at most {MAX_LAYERS} hidden layers; got {len(s.hidden)}: {s.hidden!r}"
        )
    for width in s.hidden:
        _whole("networkShape (neurons in a layer)", width, 1, MAX_NEURONS)
    _choice("activation", s.activation, ACTIVATIONS)
    _real("learningRate", s.learning_rate, MIN_LEARNING_RATE, MAX_LEARNING_RATE)
    _choice("regularization", s.regularization, REGULARIZATIONS)
    _real("regularizationRate", s.regularization_rate, 0.0, MAX_REGULARIZATION_RATE)
    _whole("batchSize", s.batch_size, 1, MAX_BATCH_SIZE)
    _choice("optimizer", s.optimizer, OPTIMIZERS)
    _whole("classes", s.classes, 2, MAX_CLASSES)
    if s.classes > 2 and s.dataset not in MULTICLASS_DATASETS:
        raise SettingsError(
            f"classes: {s.dataset} has 2 classes; {s.classes} classes need the dataset "
            f"{' or '.join(MULTICLASS_DATASETS)}"
        )
    _real("dropout", s.dropout, 0.0, MAX_DROPOUT)
    for key, flag in (("showTestData", s.show_test), ("discretize", s.discretize)):
        if not isinstance(flag, bool):
            raise SettingsError(f"{key}: should be true or false; got {flag!r}")


# The URL parameters of the scalar settings: name in the URL -> (field, type).
_SCALARS: dict[str, tuple[str, type]] = {
    "dataset": ("dataset", str),
    "noise": ("noise", int),
    "percTrainData": ("train_percent", int),
    "seed": ("seed", int),
    "activation": ("activation", str),
    "learningRate": ("learning_rate", float),
    "regularization": ("regularization", str),
    "regularizationRate": ("regularization_rate", float),
    "batchSize": ("batch_size", int),
    "optimizer": ("optimizer", str),
    "classes": ("classes", int),
    "dropout": ("dropout", float),
    "showTestData": ("show_test", bool),
    "discretize": ("discretize", bool),
}
URL_KEYS = (*_SCALARS, "networkShape", *FEATURES)
"""Every URL parameter `parse_query` understands."""


def _number(key: str, text: str, kind: type) -> Any:
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{key}: should be {what}; got {text!r}") from None


def _boolean(key: str, text: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise SettingsError(f"{key}: should be true or false; got {text!r}")


def _shape(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",")] if text.strip() else []
    if len(parts) > MAX_LAYERS:
        raise SettingsError(
            f"networkShape: at most {MAX_LAYERS} hidden layers; got {len(parts)} in {text!r}"
        )
    return tuple(_number("networkShape", part, int) for part in parts)


def settings_from_params(params: Mapping[str, str], base: Settings | None = None) -> Settings:
    """Settings from URL parameters (strings), starting from `base` (default: the defaults).

    Parameters not given keep `base`'s value; unknown ones raise `SettingsError`.
    """
    base = base or Settings()
    unknown = sorted(set(params) - set(URL_KEYS))
    if unknown:
        raise SettingsError(
            f"unknown setting {', '.join(map(repr, unknown))}; known: {', '.join(URL_KEYS)}"
        )
    changes: dict[str, Any] = {}
    for key, (field, kind) in _SCALARS.items():
        if key not in params:
            continue
        text = params[key]
        if kind is str:
            changes[field] = text
        elif kind is bool:
            changes[field] = _boolean(key, text)
        else:
            changes[field] = _number(key, text, kind)
    if "networkShape" in params:
        changes["hidden"] = _shape(params["networkShape"])
    if any(name in params for name in FEATURES):
        on = {name: name in base.features for name in FEATURES}
        on.update({name: _boolean(name, params[name]) for name in FEATURES if name in params})
        changes["features"] = tuple(name for name in FEATURES if on[name])
    if "dataset" in changes:
        changes["dataset"] = changes["dataset"].replace("-", "_")
    return base.replace(**changes)


def parse_query(query: str, base: Settings | None = None) -> Settings:
    """Settings from a URL query string such as ``"dataset=xor&networkShape=4,4"``.

    A leading ``?`` or ``#`` is ignored; parameters not given keep `base`'s value (default: the
    defaults). Raises `SettingsError` for unknown, repeated, malformed or out-of-range parameters.
    """
    query = query.lstrip("?#")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise SettingsError(f"malformed query string {query[:200]!r}") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise SettingsError(f"{key}: given more than once")
        params[key] = value
    return settings_from_params(params, base)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def to_params(settings: Settings) -> dict[str, str]:
    """The settings as URL parameters (strings), every one of them, in a fixed order."""
    params = {key: _text(getattr(settings, field)) for key, (field, _) in _SCALARS.items()}
    params["networkShape"] = ",".join(map(str, settings.hidden))
    for name in FEATURES:
        params[name] = _text(name in settings.features)
    return params


def format_query(settings: Settings) -> str:
    """The settings as a URL query string (without the ``?``); `parse_query` reads it back."""
    return urlencode(to_params(settings), safe=",")
