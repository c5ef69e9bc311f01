"""One playground tab's network, trained by glassnet itself.

A `TrainingSession` holds the points of a toy dataset, the input features computed from them, a
glassnet `MLP`, its loss and its optimizer. `train_epoch` makes one pass over the training points
in mini-batches, exactly as a script would (`loss.backward()`, `optimizer.step()`); `snapshot`
reads what the page draws: the output over a grid of the plane, every neuron's own small heatmap,
the weights and the losses. When the loss turns NaN or infinite, or explodes, training stops on
the last good weights and `diverged` says what happened. `export` writes the trained network as a
glassnet script plus its weights, which makes the same predictions outside the playground.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..data.datasets.toy import TOY_DATASETS, multiclass_blobs, spiral
from ..io import save
from ..models.mlp import MLP
from ..nn.init import kaiming_uniform_, uniform_
from ..nn.layers import BCEWithLogitsLoss, CrossEntropyLoss, Linear, MSELoss
from ..optim import SGD, Adam, Optimizer
from ..tensor import Tensor
from .settings import FEATURES, Settings, format_query

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

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._make_data()
        self.reset()

    # -- building ----------------------------------------------------------------------------

    @property
    def outputs(self) -> int:
        """The number of output neurons: one per class when there are more than two, else one."""
        return self.settings.classes if self.settings.classes > 2 else 1

    def _make_data(self) -> None:
        s = self.settings
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
        self.model = MLP(sizes, activation=s.activation, dropout=s.dropout)
        # Linear's own initialisation, drawn from the session's seed instead of the global
        # generator: the same link starts from the same network in every tab.
        init = np.random.default_rng([s.seed, 1])
        for layer in self.linears:
            kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=init)
            bound = 1 / math.sqrt(layer.in_features)
            uniform_(layer.bias, -bound, bound, generator=init)
        self._shuffle = np.random.default_rng([s.seed, 2])
        if self.outputs > 1:
            self.loss_fn: Any = CrossEntropyLoss()
        elif s.regression:
            self.loss_fn = MSELoss()
        else:
            self.loss_fn = BCEWithLogitsLoss()
        self.optimizer = self._make_optimizer()
        self.epoch = 0
        self.diverged: str | None = None
        self.train_loss, self.test_loss = self._losses()
        self._loss_before_training = self.train_loss
        self.history: list[tuple[int, float, float]] = [(0, self.train_loss, self.test_loss)]

    def _make_optimizer(self) -> Optimizer:
        s = self.settings
        params = self.model.parameters()
        if s.optimizer == "adam":
            return Adam(params, lr=s.learning_rate)
        return SGD(
            params, lr=s.learning_rate, momentum=MOMENTUM if s.optimizer == "momentum" else 0
        )

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
            self.optimizer = self._make_optimizer()
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

    def train_epoch(self) -> bool:
        """One pass over the training points in shuffled mini-batches. Returns False, with
        `diverged` set and the weights of the epoch before, when the loss blew up."""
        # Overflow is how divergence starts; it is caught below and reported, not warned about.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._train_epoch()

    def _train_epoch(self) -> bool:
        self.diverged = None
        before = {name: p.data.copy() for name, p in self.model.named_parameters()}
        inputs, targets = self._inputs["train"], self._train_targets
        order = self._shuffle.permutation(len(inputs))
        size = self.settings.batch_size
        self.model.train()
        bad_batch = None
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            loss = self.loss_fn(self.model(inputs[batch]), targets[batch])
            penalty = self._penalty()
            self.optimizer.zero_grad()
            (loss if penalty is None else loss + penalty).backward()
            self.optimizer.step()
            if not math.isfinite(loss.item()):
                bad_batch = start // size + 1
                break
        self.epoch += 1
        train_loss, test_loss = self._losses() if bad_batch is None else (math.nan, math.nan)
        problem = self._divergence(train_loss, bad_batch)
        if problem is not None:
            for name, p in self.model.named_parameters():
                p.data[...] = before[name]
            self.epoch -= 1
            self.optimizer = self._make_optimizer()
            self.diverged = (
                f"Training stopped in epoch {self.epoch + 1}: {problem}. The network is back at "
                f"epoch {self.epoch}. The learning rate ({self.settings.learning_rate:g}) is "
                "probably too large: lower it and press play, or press reset."
            )
            return False
        self.train_loss, self.test_loss = train_loss, test_loss
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

    # -- reading -----------------------------------------------------------------------------

    def _shown(self, scores: Tensor) -> np.ndarray:
        """Output scores as drawn: class probabilities for several classes, for two classes
        2p - 1 in [-1, 1] (p the probability of class 1), the value itself for regression."""
        if self.outputs > 1:
            return scores.softmax(dim=1).numpy()
        if self.settings.regression:
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
            out = scores.sigmoid() if not self.settings.regression else scores
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
        elif s.regression:
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

    def export_zip(self, name: str = "playground_model") -> bytes:
        """The exported script and weights file, zipped, for a download."""
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            paths = self.export(tmp, name)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in paths:
                    archive.write(path, f"{name}/{path.name}")
        return buffer.getvalue()


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
