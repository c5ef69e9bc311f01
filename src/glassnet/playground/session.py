"""One playground tab's network, trained by glassnet itself.

A `TrainingSession` holds the points of a toy dataset (or of an uploaded CSV file), the input
features computed from them, a glassnet `MLP`, its loss and its optimizer. `train_epoch` makes one
pass over the training points in mini-batches, each one `step` of glassnet's `Trainer` (the loss
plus the regularisation penalty, `backward()`, `optimizer.step()`), as a script's training
would; `train_update` does what one update of a playing page does: a whole epoch, or at most
`STEPS_PER_UPDATE` of its mini-batches when it has more (batch size 1), so the page keeps moving.
`snapshot` reads what the page draws: the output over a grid of the plane, every neuron's own
small heatmap, the weights and the losses. When the loss turns NaN or infinite, or explodes,
training stops on the last good weights and `diverged` says what happened. `backprop` steps one
training example forward and backward through a copy of the network (glassnet's autograd, with
`retain_grad` on every layer's values) and returns every neuron's value and every weight's
gradient; `apply_example` takes a step of the chosen optimizer with those gradients,
`set_parameter` edits one weight or bias. Each session draws its random numbers (initial weights,
shuffling, dropout) from its own generator, seeded by the link, so a shared link replays the run.
`export` writes the trained network as a glassnet script plus its weights, which makes the same
predictions outside the playground; `export_onnx` writes it as an ONNX file (raw scores), which
the download adds when the `onnx` package is installed.
"""

from __future__ import annotations

import copy
import io
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import checks
from ..autograd import no_grad
from ..data.datasets.toy import TOY_DATASETS, multiclass_blobs, spiral
from ..io import save
from ..meta import device
from ..models.mlp import MLP
from ..nn.init import kaiming_uniform_, uniform_
from ..nn.layers import BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Linear, MSELoss
from ..nn.module import Module
from ..optim import SGD, Adam, Optimizer
from ..random import Generator
from ..tensor import Tensor
from ..train import Trainer, TrainingDiverged
from .settings import FEATURES, UPLOADED, Settings, SettingsError, format_query
from .upload import Upload

DOMAIN = 6.0
"""The points and heatmaps cover the square [-DOMAIN, DOMAIN]^2."""
OUTPUT_RESOLUTION = 100
NEURON_RESOLUTION = 25
CLASSIFICATION_POINTS = 500
REGRESSION_POINTS = 1200
"""How many points TensorFlow Playground draws for each kind of problem."""
EXPLOSION_FACTOR = 1000.0
"""Training stops when the loss grows above this many times its value before training."""
MOMENTUM = 0.9
STEPS_PER_UPDATE = 50
"""A playing page gets an update after at most this many mini-batches (a whole epoch when it has
no more), so that batch size 1 does not mean one update per 250 optimizer steps."""
MAX_EDIT = 100.0
"""A weight or bias typed in by hand is a finite number from -MAX_EDIT to MAX_EDIT."""


class SessionError(ValueError):
    """A request the session cannot carry out (a bad index or value); the message says why."""


# Each feature as a function of the two coordinates, and as the source text of that function for
# the exported script: the two must compute the same float32 numbers.
FEATURE_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x": lambda x1, x2: x1,
    "y": lambda x1, x2: x2,
    "xSquared": lambda x1, x2: x1 * x1,
    "ySquared": lambda x1, x2: x2 * x2,
    "xTimesY": lambda x1, x2: x1 * x2,
    "sinX": lambda x1, x2: np.sin(x1),
    "sinY": lambda x1, x2: np.sin(x2),
}
FEATURE_SOURCE: dict[str, str] = {
    "x": "x1",
    "y": "x2",
    "xSquared": "x1 * x1",
    "ySquared": "x2 * x2",
    "xTimesY": "x1 * x2",
    "sinX": "np.sin(x1)",
    "sinY": "np.sin(x2)",
}


def make_features(points: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The input features `names` of `points` (n, 2): a float32 array (n, len(names))."""
    points = np.asarray(points, dtype=np.float32)
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([FEATURE_FUNCTIONS[name](x1, x2) for name in names], axis=1)


def grid_points(resolution: int) -> np.ndarray:
    """The centres of a resolution x resolution grid of cells over the square, row by row from
    the top (x2 = +6) and in each row from the left (x1 = -6): float32 (resolution**2, 2)."""
    cell = 2 * DOMAIN / resolution
    centres = -DOMAIN + cell * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)


def make_points(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The dataset's points (n, 2) and labels or targets (n,), shuffled, from the settings."""
    n = REGRESSION_POINTS if settings.regression else CLASSIFICATION_POINTS
    if settings.dataset == "spiral":
        return spiral(n, settings.noise, settings.seed, classes=settings.classes)
    if settings.dataset == "blobs":
        return multiclass_blobs(n, settings.classes, settings.noise, settings.seed)
    return TOY_DATASETS[settings.dataset](n=n, noise=settings.noise, seed=settings.seed)


# What decides which part of a session a settings change rebuilds.
_DATA_FIELDS = ("dataset", "noise", "train_percent", "seed", "classes")
_NETWORK_FIELDS = ("features", "hidden", "activation", "dropout")
_TRAINING_FIELDS = ("learning_rate", "regularization", "regularization_rate", "batch_size")


class PenalizedTrainer(Trainer):
    """The Trainer with the playground's step: the data loss plus `penalty()` (L1 or L2
    regularisation of the weights, or None), backpropagated together; logs the data loss."""

    def __init__(
        self,
        model: Module,
        optimizer: Optimizer,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        penalty: Callable[[], Tensor | None],
    ) -> None:
        super().__init__(model, optimizer, loss_fn, metrics=(), progress=False)
        self.penalty = penalty

    def train_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, float]:
        inputs, targets = batch
        loss = self.loss_fn(self.model(inputs), targets)
        penalty = self.penalty()
        self.backward(loss if penalty is None else loss + penalty)
        self.optimizer_step()
        return {"loss": float(loss.data)}


class TrainingSession:
    """A network, its data and its training, for one playground tab.

    Args:
        settings: the lesson (default: TensorFlow Playground's opening screen).

    Attributes:
        settings: the current settings.
        epoch: how many passes over the training points so far.
        train_loss, test_loss: the data loss (without regularisation) over each set.
        history: (epoch, train_loss, test_loss) after every epoch, the reset included.
        diverged: None, or a message saying why training stopped on its own.
    """

    def __init__(self, settings: Settings | None = None, upload: Upload | None = None) -> None:
        self.settings = settings or Settings()
        self.upload = upload
        if self.settings.dataset == UPLOADED:
            self.settings = self._with_upload(self.settings)
        self._make_data()
        self.reset()

    # -- building ----------------------------------------------------------------------------

    @property
    def outputs(self) -> int:
        """The number of output neurons: one per class when there are more than two, else one."""
        return self.settings.classes if self.settings.classes > 2 else 1

    @property
    def regression(self) -> bool:
        """Whether the targets are numbers rather than classes."""
        if self.settings.dataset == UPLOADED and self.upload is not None:
            return self.upload.regression
        return self.settings.regression

    def _with_upload(self, settings: Settings) -> Settings:
        """`settings` for the uploaded data: its number of classes. Raises `SettingsError` when
        nothing was uploaded."""
        if self.upload is None:
            raise SettingsError(
                f"dataset: {UPLOADED!r} is data uploaded from a CSV file, and this tab has none "
                "(a link cannot carry it): upload the file again"
            )
        return settings.replace(classes=2 if self.upload.regression else self.upload.classes)

    def load_upload(self, upload: Upload) -> None:
        """Train on uploaded points from now on: new data, a fresh network."""
        self.upload = upload
        self.settings = self._with_upload(self.settings.replace(dataset=UPLOADED))
        self._make_data()
        self.reset()

    def _make_data(self) -> None:
        s = self.settings
        if s.dataset == UPLOADED:
            assert self.upload is not None
            order = np.random.default_rng([s.seed, 3]).permutation(self.upload.rows)
            points, labels = self.upload.points[order], self.upload.labels[order]
        else:
            points, labels = make_points(s)
        split = len(points) * s.train_percent // 100
        self.train_points, self.test_points = points[:split], points[split:]
        self.train_labels, self.test_labels = labels[:split], labels[split:]

    def _targets(self, labels: np.ndarray) -> Tensor:
        if self.outputs > 1:
            return Tensor(labels.astype(np.int64))
        return Tensor(labels.astype(np.float32)[:, None])

    def reset(self) -> None:
        """A fresh network (the same one for the same settings), epoch 0, training not diverged."""
        s = self.settings
        self._inputs = {
            "train": Tensor(make_features(self.train_points, s.features)),
            "test": Tensor(make_features(self.test_points, s.features)),
            "output_grid": Tensor(make_features(grid_points(OUTPUT_RESOLUTION), s.features)),
            "neuron_grid": Tensor(make_features(grid_points(NEURON_RESOLUTION), s.features)),
        }
        self._train_targets = self._targets(self.train_labels)
        self._test_targets = self._targets(self.test_labels)
        sizes = [len(s.features), *s.hidden, self.outputs]
        # The session's own random numbers, from the link's seed: the initial weights, then the
        # order of the points in each epoch and dropout's masks, in the order training asks for
        # them. The same link replays the same run in any tab, whatever other tabs do meanwhile
        # (they never touch this generator, nor it the global one).
        self.generator = Generator().manual_seed(s.seed)
        # Built on the meta device (shapes only, so Linear draws nothing from the global
        # generator), then given memory and Linear's own initialisation from this generator.
        with device("meta"):
            self.model = MLP(sizes, activation=s.activation, dropout=s.dropout)
        self.model.to_empty(device="cpu")
        for position, layer in enumerate(self.model):
            if isinstance(layer, Dropout):
                self.model[position] = Dropout(layer.p, generator=self.generator)
        for layer in self.linears:
            kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=self.generator)
            bound = 1 / math.sqrt(layer.in_features)
            uniform_(layer.bias, -bound, bound, generator=self.generator)
        if self.outputs > 1:
            self.loss_fn: Any = CrossEntropyLoss()
        elif self.regression:
            self.loss_fn = MSELoss()
        else:
            self.loss_fn = BCEWithLogitsLoss()
        self._new_optimizer()
        self.epoch = 0
        self._order: np.ndarray | None = None  # the epoch under way: its shuffled points
        self._cursor = 0  # how many of them it has trained on
        self._epoch_start: dict[str, np.ndarray] = {}
        self.diverged: str | None = None
        self.train_loss, self.test_loss = self._losses()
        self._loss_before_training = self.train_loss
        self.history: list[tuple[int, float, float]] = [(0, self.train_loss, self.test_loss)]

    def _new_optimizer(self) -> None:
        """A fresh optimizer of the settings' kind, and the Trainer that steps it."""
        s = self.settings
        params = self.model.parameters()
        if s.optimizer == "adam":
            self.optimizer: Optimizer = Adam(params, lr=s.learning_rate)
        else:
            momentum = MOMENTUM if s.optimizer == "momentum" else 0
            self.optimizer = SGD(params, lr=s.learning_rate, momentum=momentum)
        self.trainer = PenalizedTrainer(self.model, self.optimizer, self.loss_fn, self._penalty)

    @property
    def linears(self) -> list[Linear]:
        """The network's Linear layers, input side first."""
        return [layer for layer in self.model if isinstance(layer, Linear)]

    def apply(self, settings: Settings) -> str:
        """Switch to new settings, rebuilding only what they change. Returns what was redone:

        "data" (new points and a fresh network), "network" (a fresh network on the same points),
        "training" (the same weights, trained on with the new learning rate, batch size,
        regularisation or optimizer) or "view" (drawing options only, or nothing changed).
        """
        if settings.dataset == UPLOADED:
            settings = self._with_upload(settings)
        old, self.settings = self.settings, settings
        changed = {
            f for f in Settings.__dataclass_fields__ if getattr(old, f) != getattr(settings, f)
        }
        if changed & set(_DATA_FIELDS):
            self._make_data()
            self.reset()
            return "data"
        if changed & set(_NETWORK_FIELDS):
            self.reset()
            return "network"
        if "optimizer" in changed:
            self._new_optimizer()
            return "training"
        if changed & set(_TRAINING_FIELDS):
            for group in self.optimizer.param_groups:
                group["lr"] = settings.learning_rate
            return "training"
        return "view"

    def regenerate(self) -> None:
        """New random points (the next seed) and a fresh network."""
        self.apply(self.settings.replace(seed=(self.settings.seed + 1) % 2**31))

    @property
    def query(self) -> str:
        """The settings as a URL query string."""
        return format_query(self.settings)

    # -- training ----------------------------------------------------------------------------

    def _penalty(self) -> Tensor | None:
        s = self.settings
        if s.regularization == "none" or s.regularization_rate == 0:
            return None
        terms = [
            layer.weight.abs().sum() if s.regularization == "L1" else layer.weight.square().sum()
            for layer in self.linears
        ]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        # L2's penalty is rate/2 * sum(w^2), so that its gradient is rate * w (weight decay).
        return total * (s.regularization_rate * (0.5 if s.regularization == "L2" else 1.0))

    @property
    def steps_per_epoch(self) -> int:
        """The mini-batches in one pass over the training points."""
        return -(-len(self.train_points) // self.settings.batch_size)

    @property
    def progress(self) -> float:
        """How far the epoch under way has got: 0 (none under way) to just below 1."""
        return self._cursor / len(self._order) if self._order is not None else 0.0

    def train_epoch(self) -> bool:
        """Train to the end of an epoch: one pass over the training points in shuffled
        mini-batches (the rest of the pass, when `train_update` stopped partway through one).
        Returns False, with `diverged` set and the weights the epoch started from, when the
        loss blew up."""
        return self.train_steps(None)

    def train_update(self, max_steps: int = STEPS_PER_UPDATE) -> bool:
        """What one update of a playing page trains: a whole epoch when it has at most
        `max_steps` mini-batches (TensorFlow Playground's one epoch per frame), else the next
        `max_steps` of them; `epoch` counts up when a pass is complete."""
        if self._order is None and self.steps_per_epoch <= max_steps:
            return self.train_epoch()
        return self.train_steps(max_steps)

    def train_steps(self, max_steps: int | None) -> bool:
        """Up to `max_steps` mini-batches (None: all that are left) of the epoch under way,
        starting one when none is; returns False when training diverged (see `train_epoch`)."""
        # Overflow is how divergence starts; it is caught below and reported, not warned about.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._train_steps(max_steps)

    def _train_steps(self, max_steps: int | None) -> bool:
        self.diverged = None
        inputs, targets = self._inputs["train"], self._train_targets
        if self._order is None:
            self._epoch_start = {n: p.data.copy() for n, p in self.model.named_parameters()}
            self._order = self.generator.permutation(len(inputs))
            self._cursor = 0
        order, size = self._order, self.settings.batch_size
        self.model.train()
        bad_batch, steps = None, 0
        while self._cursor < len(order) and (max_steps is None or steps < max_steps):
            start = self._cursor
            batch = order[start : start + size]
            try:
                self.trainer.step((inputs[batch], targets[batch]))
            except TrainingDiverged:  # raised before this batch changed any weight
                bad_batch = start // size + 1
                break
            self._cursor = min(start + size, len(order))
            steps += 1
        train_loss, test_loss = self._losses() if bad_batch is None else (math.nan, math.nan)
        problem = self._divergence(train_loss, bad_batch)
        if problem is not None:
            for name, p in self.model.named_parameters():
                p.data[...] = self._epoch_start[name]
            self._order, self._cursor = None, 0
            self._new_optimizer()
            self.train_loss, self.test_loss = self._losses()
            self.diverged = (
                f"Training stopped in epoch {self.epoch + 1}: {problem}. The network is back at "
                f"epoch {self.epoch}. The learning rate ({self.settings.learning_rate:g}) is "
                "probably too large: lower it and press play, or press reset."
            )
            return False
        self.train_loss, self.test_loss = train_loss, test_loss
        if self._cursor >= len(order):
            self._order, self._cursor = None, 0
            self.epoch += 1
            self.history.append((self.epoch, train_loss, test_loss))
        return True

    def _divergence(self, train_loss: float, bad_batch: int | None) -> str | None:
        if bad_batch is not None:
            return f"the loss of mini-batch {bad_batch} became NaN or infinite"
        if not all(np.isfinite(p.data).all() for p in self.model.parameters()):
            return "some weights became NaN or infinite"
        if not math.isfinite(train_loss):
            return "the training loss became NaN or infinite"
        limit = EXPLOSION_FACTOR * max(self._loss_before_training, 1e-3)
        if train_loss > limit:
            return (
                f"the training loss exploded from {self._loss_before_training:.3g} to "
                f"{train_loss:.3g}"
            )
        return None

    def _losses(self) -> tuple[float, float]:
        self.model.eval()
        with no_grad():
            train = self.loss_fn(self.model(self._inputs["train"]), self._train_targets).item()
            test = (
                self.loss_fn(self.model(self._inputs["test"]), self._test_targets).item()
                if len(self.test_points)
                else math.nan
            )
        return float(train), float(test)

    # -- one example, forward and backward ---------------------------------------------------

    def _example(self, index: Any) -> int:
        n = len(self.train_points)
        return checks.int_in_range(
            index, "example (a training point)", "", 0, n - 1, error=SessionError
        )

    def nearest_example(self, x1: float, x2: float) -> int:
        """The number of the training point nearest to (x1, x2)."""
        for value in (x1, x2):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SessionError(f"a point should be two numbers; got {(x1, x2)!r}")
        distance = np.square(self.train_points - np.array([x1, x2], dtype=np.float32)).sum(1)
        return int(np.argmin(distance))

    def backprop(self, index: int) -> dict[str, Any]:
        """Training example `index` forward and backward through a copy of the network (in eval
        mode: no dropout), by glassnet's autograd: `retain_grad` on every layer's values, then
        `backward()` on this example's loss (without regularisation).

        Returns a dict of NumPy arrays and floats, one entry per Linear layer (input side first)
        in the lists: "index", "point" (x1, x2), "target" (class or value), "inputs" (the
        feature values), "pre" (each neuron's weighted sum z = W a + b), "post" (its activation
        a; for the output layer the prediction as the page shows it: the probability of class
        1, the class probabilities, or the value), "pre_grads" (dL/dz, the error signal),
        "post_grads" (dL/da, hidden layers only), "weight_grads" and "bias_grads" (dL/dW (out,
        in) and dL/db), "loss", "loss_name"."""
        index = self._example(index)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._backprop(index)

    def _backprop(self, index: int) -> dict[str, Any]:
        model = copy.deepcopy(self.model)
        model.eval()
        for p in model.parameters():
            p.grad = None  # the copy's own gradients only, not the last training step's
        inputs = make_features(self.train_points[index : index + 1], self.settings.features)
        target = self._targets(self.train_labels[index : index + 1])
        pre: list[Tensor] = []
        post: list[Tensor] = []
        x = Tensor(inputs)
        for layer in model:
            if isinstance(layer, Linear):
                if pre:
                    post.append(x)  # what the layer before handed on
                x = layer(x)
            else:
                x = layer(x)
            if x.requires_grad:
                x.retain_grad()
            if isinstance(layer, Linear):
                pre.append(x)
        loss = self.loss_fn(x, target)
        loss.backward()
        linears = [layer for layer in model if isinstance(layer, Linear)]

        def grad(t: Tensor) -> np.ndarray:
            return t.grad.numpy()[0].copy() if t.grad is not None else np.zeros(t.shape[1:])

        if self.outputs > 1:
            loss_name = "cross-entropy"
        elif self.regression:
            loss_name = "squared error"
        else:
            loss_name = "binary cross-entropy"
        scores = pre[-1].detach()
        if self.outputs > 1:
            shown = scores.softmax(dim=1).numpy()[0]
        elif self.regression:
            shown = scores.numpy()[0]
        else:
            shown = scores.sigmoid().numpy()[0]
        label = self.train_labels[index]
        return {
            "index": index,
            "point": self.train_points[index].astype(np.float64),
            "target": float(label) if self.regression else int(label),
            "inputs": inputs[0],
            "pre": [t.detach().numpy()[0].copy() for t in pre],
            "post": [t.detach().numpy()[0].copy() for t in post] + [np.asarray(shown)],
            "pre_grads": [grad(t) for t in pre],
            "post_grads": [grad(t) for t in post],
            "weight_grads": [layer.weight.grad.numpy().copy() for layer in linears],
            "bias_grads": [layer.bias.grad.numpy().copy() for layer in linears],
            "loss": float(loss.item()),
            "loss_name": loss_name,
        }

    def apply_example(self, index: int) -> dict[str, Any]:
        """One step of the session's own optimizer (SGD, momentum or Adam, as the settings
        choose, with its state: momentum's velocity, Adam's running averages and step count)
        on training example `index` alone, with the gradients `backprop` shows (this example's
        loss, without regularisation). With SGD every weight and bias moves by -learning rate
        x its gradient. Returns `backprop` of the same example afterwards (its loss is smaller
        when the learning rate is not too large)."""
        result = self.backprop(index)
        for layer, dw, db in zip(self.linears, result["weight_grads"], result["bias_grads"]):
            layer.weight.grad = Tensor(dw.astype(layer.weight.data.dtype))
            layer.bias.grad = Tensor(db.astype(layer.bias.data.dtype))
        self.optimizer.step()
        self.optimizer.zero_grad()
        self._weights_changed()
        return self.backprop(index)

    def set_parameter(self, layer: Any, neuron: Any, source: Any, value: Any) -> float:
        """Set one weight (from neuron `source` of the layer before to `neuron` of Linear layer
        `layer`, counted from 0 on the input side) or, with `source` None, that neuron's bias.
        `value` is a finite number (or its text) from -MAX_EDIT to MAX_EDIT. Returns the value
        stored (float32). Raises `SessionError` for a bad index or value."""
        linears = self.linears
        what = "bias" if source is None else "weight"
        _check_index(f"{what}: layer", layer, len(linears))
        target = linears[layer]
        _check_index(f"{what}: neuron", neuron, target.out_features)
        if source is not None:
            _check_index("weight: input", source, target.in_features)
        number = _edit_value(what, value)
        if source is None:
            target.bias.data[neuron] = number
            stored = target.bias.data[neuron]
        else:
            target.weight.data[neuron, source] = number
            stored = target.weight.data[neuron, source]
        self._weights_changed()
        return float(stored)

    def _weights_changed(self) -> None:
        """After weights changed by hand: new losses (the history keeps its epochs)."""
        self.diverged = None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.train_loss, self.test_loss = self._losses()

    # -- reading -----------------------------------------------------------------------------

    def _shown(self, scores: Tensor) -> np.ndarray:
        """Output scores as drawn: class probabilities for several classes, for two classes
        2p - 1 in [-1, 1] (p the probability of class 1), the value itself for regression."""
        if self.outputs > 1:
            return scores.softmax(dim=1).numpy()
        if self.regression:
            return scores.numpy()
        return scores.sigmoid().numpy() * 2 - 1

    def predict(self, points: np.ndarray) -> np.ndarray:
        """The trained network's predictions for points (n, 2): the probability of class 1 (n,)
        for two classes, class probabilities (n, classes) for more, values (n,) for regression.
        The exported script's `predict` gives the same numbers."""
        self.model.eval()
        with no_grad():
            scores = self.model(Tensor(make_features(points, self.settings.features)))
            if self.outputs > 1:
                return scores.softmax(dim=1).numpy()
            out = scores.sigmoid() if not self.regression else scores
            return out.numpy()[:, 0]

    def _layer_outputs(self, inputs: Tensor) -> list[np.ndarray]:
        """Each hidden layer's activations and the output as drawn, for `inputs`."""
        self.model.eval()
        outputs = []
        with no_grad():
            x = inputs
            for layer in self.model:
                if isinstance(layer, Linear) and x is not inputs:
                    outputs.append(x.numpy())  # what the layer before handed on
                x = layer(x)
            outputs.append(self._shown(x))
        return outputs

    def output_map(self) -> np.ndarray:
        """The output over a 100 x 100 grid of the plane (rows from the top): float32
        (100, 100), or (classes, 100, 100) probabilities for several classes."""
        r = OUTPUT_RESOLUTION
        shown = self._layer_outputs(self._inputs["output_grid"])[-1]
        return np.ascontiguousarray(
            shown.T.reshape(-1, r, r) if self.outputs > 1 else shown.reshape(r, r)
        )

    def neuron_maps(self) -> list[np.ndarray]:
        """Every neuron's own heatmap over a 25 x 25 grid, layer by layer: the input features
        (each scaled to [-1, 1]), each hidden layer's activations, and the outputs as drawn.
        Each entry is float32 (neurons, 25, 25)."""
        r = NEURON_RESOLUTION
        inputs = self._inputs["neuron_grid"].numpy()
        scale = np.abs(inputs).max(axis=0)
        maps = [inputs / np.where(scale > 0, scale, 1)]
        maps += self._layer_outputs(self._inputs["neuron_grid"])
        return [np.ascontiguousarray(m.T.reshape(-1, r, r), dtype=np.float32) for m in maps]

    def snapshot(self) -> dict[str, Any]:
        """What the page draws after an epoch: the epoch, the losses, the output map, the neuron
        maps and the weights (out, in) and biases of every layer, as NumPy arrays and floats."""
        return {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "output": self.output_map(),
            "neurons": self.neuron_maps(),
            "weights": [layer.weight.data.copy() for layer in self.linears],
            "biases": [layer.bias.data.copy() for layer in self.linears],
        }

    # -- export ------------------------------------------------------------------------------

    def script(self, weights_name: str = "playground_model.safetensors") -> str:
        """A standalone glassnet script that rebuilds the network, loads the weights file
        `weights_name` (next to the script) and predicts for points read from a CSV file."""
        s = self.settings
        names = ", ".join(f'"{FEATURES[f]}"' for f in s.features)
        columns = ", ".join(FEATURE_SOURCE[f] for f in s.features)
        sizes = [len(s.features), *s.hidden, self.outputs]
        if self.outputs > 1:
            kind, finish = f"{self.outputs} classes", "scores.softmax(dim=1).numpy()"
            returns = f"the probability of each class, (n, {self.outputs})"
        elif self.regression:
            kind, finish = "regression", "scores.numpy()[:, 0]"
            returns = "the predicted value of each point, (n,)"
        else:
            kind, finish = "2 classes", "scores.sigmoid().numpy()[:, 0]"
            returns = "the probability of class 1 for each point, (n,)"
        return _SCRIPT.format(
            dataset=s.dataset,
            kind=kind,
            epoch=self.epoch,
            train_loss=self.train_loss,
            test_loss=self.test_loss,
            query=self.query,
            names=names,
            columns=columns,
            sizes=sizes,
            activation=s.activation,
            dropout=s.dropout,
            weights=weights_name,
            returns=returns,
            finish=finish,
        )

    def export(self, directory: str | Path, name: str = "playground_model") -> tuple[Path, Path]:
        """Write `name`.py and `name`.safetensors into `directory`; returns their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        weights = directory / f"{name}.safetensors"
        script = directory / f"{name}.py"
        save(self.model, weights, metadata={"playground": self.query, "epoch": str(self.epoch)})
        script.write_text(self.script(weights.name), encoding="utf-8")
        return script, weights

    def export_onnx(self, directory: str | Path, name: str = "playground_model") -> Path | None:
        """Write `name`.onnx into `directory`: the network from its input features (batch
        "features", any number of rows) to its raw output scores (before the softmax or sigmoid
        the page applies). Returns its path, or None when the `onnx` package is not installed."""
        try:
            from ..onnx import export
        except ImportError:
            return None
        path = Path(directory) / f"{name}.onnx"
        example = self._inputs["output_grid"][:1]
        axes = {"features": {0: "batch"}, "scores": {0: "batch"}}
        names = {"input_names": ["features"], "output_names": ["scores"]}
        model, training = self.model, self.model.training
        try:
            export(model.eval(), example, path, dynamic_axes=axes, **names)
        finally:
            model.train(training)
        return path

    def export_zip(self, name: str = "playground_model") -> bytes:
        """The exported script and weights file (and the ONNX file, with the `onnx` package
        installed), zipped, for a download."""
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            paths = [*self.export(tmp, name), self.export_onnx(tmp, name)]
            paths = [path for path in paths if path is not None]
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in paths:
                    archive.write(path, f"{name}/{path.name}")
        return buffer.getvalue()


def _check_index(name: str, value: Any, size: int) -> None:
    checks.int_in_range(value, name, "", 0, size - 1, error=SessionError)


def _edit_value(what: str, value: Any) -> float:
    """A number typed in for a weight or bias: finite, within +-MAX_EDIT."""
    number: float | None = None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    if number is None or not math.isfinite(number) or abs(number) > MAX_EDIT:
        raise SessionError(
            f"{what}: should be a finite number from {-MAX_EDIT:g} to {MAX_EDIT:g}; "
            f"got {str(value)[:40]!r}"
        )
    return number


_SCRIPT = '''"""A network trained in the glassnet playground: {dataset}, {kind}, {epoch} epochs
(train loss {train_loss:.4f}, test loss {test_loss:.4f}).

    python {{this file}} POINTS.csv     predictions for the points (x1,x2 per line) in a CSV file
    python {{this file}}                predictions for a few points of the plane

Settings: ?{query}
"""

import sys
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.models import MLP

FEATURES = [{names}]


def features(points: np.ndarray) -> np.ndarray:
    """The network's inputs, computed from the points' coordinates (x1, x2)."""
    points = np.asarray(points, dtype=np.float32)
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([{columns}], axis=1)


model = MLP({sizes}, activation="{activation}", dropout={dropout!r})
gn.io.load_into(model, Path(__file__).with_name("{weights}"))
model.eval()


def predict(points: np.ndarray) -> np.ndarray:
    """{returns}."""
    with gn.no_grad():
        scores = model(gn.tensor(features(points)))
        return {finish}


if __name__ == "__main__":
    if len(sys.argv) > 1:
        points = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32, ndmin=2)
    else:
        points = np.array([[-3.0, -3.0], [0.0, 0.0], [3.0, 3.0]], dtype=np.float32)
    predictions = predict(points).reshape(len(points), -1)
    np.savetxt(sys.stdout, predictions, fmt="%.9g", delimiter=",")
'''
