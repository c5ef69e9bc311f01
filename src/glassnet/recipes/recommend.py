"""The training pieces of the movielens recipe: steps, data streams and baselines.

`PairTrainer` is the one Trainer with a step for (user, item, target) batches: ratings with a
squared error, or "liked or not" with binary cross-entropy; for matrix factorisation it adds the
L2 penalty of the rows the batch read, and it steps every optimizer it holds (SparseAdam for the
embedding tables, Adam for dense layers). `AutoRecTrainer` steps an item AutoRec on rows of the
rating matrix, counting only the ratings that exist. `ImplicitFeedback` makes each epoch's
batches for ranking: every rating a positive, plus fresh random unrated items as negatives.
The baselines (global mean, biases only, Surprise's SVD) are fitted on the same folds.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import no_grad
from ..data.datasets.rating_splits import format_ratings, sample_negatives
from ..nn import functional as F
from ..nn.modes import inference
from ..tensor import Tensor
from ..train import Callback, Trainer

Ratings = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(users, items, ratings) of some rows of the data."""


class PairTrainer(Trainer):
    """Trains a model called as ``model(users, items)`` on (users, items, targets) batches.

    Args:
        model: MatrixFactorization or NeuralCF.
        optimizers: a dict of named optimizers; each is stepped after every batch.
        implicit: targets are 1 (liked) / 0 (not) and the loss is BCE on logits; otherwise
            ratings and the squared error.
        l2: weight of the mean squared norm of the rows read (models with
            ``forward_with_penalty``).
        progress: a progress bar per epoch (by default none: the recipe trains many short runs).
    """

    def __init__(
        self,
        model: Any,
        optimizers: dict[str, Any],
        implicit: bool = False,
        l2: float = 0.0,
        progress: bool | None = False,
    ) -> None:
        loss = F.binary_cross_entropy_with_logits if implicit else F.mse_loss
        super().__init__(model, optimizers, loss_fn=loss, metrics=(), progress=progress)
        self.l2 = l2

    def train_step(self, batch: Any) -> dict[str, float]:
        users, items, targets = batch
        if self.l2:
            output, squares = self.model.forward_with_penalty(users, items)
            loss = self.loss_fn(output, targets)
            self.backward(loss + squares.mean() * self.l2)
        else:
            loss = self.loss_fn(self.model(users, items), targets)
            self.backward(loss)
        for name in self.optimizers:
            self.optimizer_step(name)
        return {"loss": float(loss.data)}


class AutoRecTrainer(Trainer):
    """Trains an item AutoRec on batches of rows of the rating matrix (0 = not rated): squared
    error over the ratings that exist, plus ``l2 / 2`` times the squared weights."""

    def __init__(self, model: Any, optimizer: Any, l2: float) -> None:
        super().__init__(model, optimizer, loss_fn=None, metrics=(), progress=False)
        self.l2 = l2

    def train_step(self, batch: Any) -> dict[str, float]:
        (ratings,) = batch
        mask = Tensor((ratings.data > 0).astype(ratings.data.dtype))
        error = (self.model(ratings) - ratings) * mask
        loss = (error * error).sum() / max(float(mask.data.sum()), 1.0)
        weights = self.model.encoder.weight, self.model.decoder.weight
        penalty = sum((w * w).sum() for w in weights) * (0.5 * self.l2)
        self.backward(loss + penalty)
        self.optimizer_step()
        return {"loss": float(loss.data)}


class EpochTimer(Callback):
    """The seconds each epoch took, from its first batch to its end."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._started = 0.0

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self.seconds.append(time.perf_counter() - self._started)


class KeepBest(EpochTimer):
    """After every epoch: the validation RMSE (`validate(model)`), the epoch's seconds, and a
    copy of the weights of the best epoch so far, put back when training ends."""

    def __init__(self, validate: Callable[[Any], float]) -> None:
        super().__init__()
        self.validate = validate
        self.rmse: list[float] = []
        self.best_epoch = 0
        self._best_state: dict[str, Any] | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        super().on_epoch_end(trainer, epoch, logs)
        self.rmse.append(self.validate(trainer.model))
        if self.rmse[-1] <= min(self.rmse):
            self.best_epoch = epoch
            self._best_state = copy.deepcopy(trainer.model.state_dict())

    def on_train_end(self, trainer: Trainer) -> None:
        if self._best_state is not None:
            trainer.model.load_state_dict(self._best_state)

    @property
    def best_rmse(self) -> float:
        return min(self.rmse)


def rmse(predicted: np.ndarray, truth: np.ndarray) -> float:
    difference = np.asarray(predicted, np.float64) - np.asarray(truth, np.float64)
    return float(np.sqrt(np.mean(difference * difference)))


def predict_pairs(model: Any, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The model's ratings for the pairs, clipped to the scale's 1 to 5 stars."""
    with inference(model):
        output = model(Tensor(users), Tensor(items)).data
    return np.clip(output, 1.0, 5.0)


def rating_matrix(ratings: Ratings, num_users: int, num_items: int) -> np.ndarray:
    """float32 (num_items, num_users): each movie's ratings by every user, 0 where none."""
    users, items, stars = ratings
    matrix = np.zeros((num_items, num_users), dtype=np.float32)
    matrix[items, users] = stars
    return matrix


def predict_autorec(
    model: Any, matrix: np.ndarray, users: np.ndarray, items: np.ndarray, fallback: float
) -> np.ndarray:
    """AutoRec's ratings for the pairs, reading each item's known ratings from `matrix`; a
    movie nobody rated in `matrix` gets `fallback` (the training mean). Clipped to 1 to 5."""
    with inference(model), no_grad():
        rebuilt = model(Tensor(matrix)).data
    predicted = np.where(matrix.any(axis=1)[items], rebuilt[items, users], fallback)
    return np.clip(predicted, 1.0, 5.0)


class ImplicitFeedback:
    """One epoch of implicit-feedback batches (users, items, labels): every training pair a
    positive (label 1) and `negatives` random items the user never rated per positive (label
    0), drawn fresh each epoch from `rng`, shuffled, in batches of `batch_size`."""

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        rated: np.ndarray,
        negatives: int,
        batch_size: int,
        rng: np.random.Generator,
    ) -> None:
        self.users, self.items, self.rated = users, items, rated
        self.negatives, self.batch_size, self.rng = negatives, batch_size, rng
        self.generators = [rng]

    def __len__(self) -> int:
        total = len(self.users) * (1 + self.negatives)
        return -(-total // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        neg_users, neg_items = sample_negatives(self.users, self.rated, self.negatives, self.rng)
        users = np.concatenate([self.users, neg_users])
        items = np.concatenate([self.items, neg_items])
        labels = np.zeros(len(users), dtype=np.float32)
        labels[: len(self.users)] = 1.0
        order = self.rng.permutation(len(users))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            yield Tensor(users[rows]), Tensor(items[rows]), Tensor(labels[rows])


def fit_biases(
    ratings: Ratings, num_users: int, num_items: int, reg_user: float = 15.0,
    reg_item: float = 10.0, sweeps: int = 10,
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:  # fmt: skip
    """The "biases only" baseline: ``mean + b_u + b_i`` by alternating regularised least
    squares (Surprise's BaselineOnly with its defaults); returns a predictor of pairs."""
    users, items, stars = ratings
    mean = float(stars.mean())
    b_user, b_item = np.zeros(num_users), np.zeros(num_items)
    n_user = np.bincount(users, minlength=num_users)
    n_item = np.bincount(items, minlength=num_items)
    for _ in range(sweeps):
        b_item = np.bincount(items, stars - mean - b_user[users], num_items) / (reg_item + n_item)
        b_user = np.bincount(users, stars - mean - b_item[items], num_users) / (reg_user + n_user)

    def predict(u: np.ndarray, i: np.ndarray) -> np.ndarray:
        return np.clip(mean + b_user[u] + b_item[i], 1.0, 5.0)

    return predict


def surprise_svd_rmse(train: tuple[np.ndarray, ...], test: tuple[np.ndarray, ...]) -> float | None:
    """Surprise's SVD with its default settings (random_state 0) trained on `train` and tested
    on `test` (each (users, items, ratings, timestamps)), or None if scikit-surprise is not
    installed. The folds go to Surprise as the files the dataset's script writes."""
    try:
        from surprise import SVD, Dataset, Reader, accuracy
        from surprise.model_selection import PredefinedKFold
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, name) for name in ("fold.base", "fold.test")]
        for path, part in zip(paths, (train, test)):
            with open(path, "wb") as f:
                f.write(format_ratings(*part))
        data = Dataset.load_from_folds([tuple(paths)], reader=Reader("ml-100k"))
        trainset, testset = next(PredefinedKFold().split(data))
        algo = SVD(random_state=0)
        algo.fit(trainset)
        return float(accuracy.rmse(algo.test(testset), verbose=False))
