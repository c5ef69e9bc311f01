"""The training loop: epochs of mini-batches, each one forward, backward and an optimizer step.

An epoch is one pass over the training data, cut into mini-batches. For each batch the network
predicts (forward pass), the loss measures how wrong it was, `backward()` finds how each weight
contributed to the error, and the optimizer moves every weight a little in the direction that lowers
the loss. `fit()` does all of that in one line and reports what happened.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import checks
from ..data import DataLoader, Dataset, TensorDataset
from ..nn import functional as F
from ..nn.modes import inference
from ..nn.module import Module
from ..tensor import Tensor
from .callbacks import Callback
from .metrics import correct_count

LossFn = Callable[[Tensor, Tensor], Tensor]


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite: training stopped before the bad update was applied."""


class History:
    """What happened during training: one list per metric, one entry per epoch.

    ``history["val_accuracy"][-1]`` is the last epoch's validation accuracy; ``history.history`` is
    the plain dict (Keras's name).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epochs)}, last={last})"


def as_loader(data: Any, batch_size: int, shuffle: bool, generator: Any = None) -> Any:
    """Accept a DataLoader, a Dataset, or a pair (inputs, targets) of tensors or arrays; any other
    object with a length that yields (inputs, targets) batches is used as it is."""
    if isinstance(data, DataLoader):
        return data
    if (
        not isinstance(data, Dataset | tuple | list | str | bytes | np.ndarray | Tensor)
        and hasattr(data, "__iter__")
        and hasattr(data, "__len__")
    ):
        return data
    if isinstance(data, tuple | list) and len(data) == 2:
        inputs, targets = (x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in data)
        data = TensorDataset(inputs, targets)
    if not isinstance(data, Dataset):
        raise TypeError(
            "expected a DataLoader, a Dataset or a pair (inputs, targets), got "
            f"{type(data).__name__}"
        )
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _check_finite(loss: Tensor, epoch: int, batch: int, num_batches: int) -> None:
    value = float(loss.data)
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the loss became {value} at epoch {epoch}, batch {batch + 1} of {num_batches}; "
            "training stopped before this batch updated the weights. Try a lower learning rate, "
            "gradient clipping, or check the data for NaN/inf values."
        )


class Trainer:
    """Runs the loop; `fit()` is the one-line way to use it."""

    def __init__(
        self,
        model: Module,
        optimizer: Any,
        loss_fn: LossFn = F.cross_entropy,
        metrics: Sequence[str] = ("accuracy",),
        callbacks: Iterable[Callback] = (),
        progress: bool | None = None,
        clip_grad_norm: float | None = None,
        scheduler: Any = None,
    ) -> None:
        unknown = [m for m in metrics if m != "accuracy"]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; available: ['accuracy']")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metrics = tuple(metrics)
        self.callbacks = list(callbacks)
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.clip_grad_norm = clip_grad_norm
        self.scheduler = scheduler
        self.stop_training = False

    def step_scheduler(self, logs: dict[str, float]) -> None:
        """Move the learning rate on after an epoch (ReduceLROnPlateau watches the loss)."""
        from ..optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(logs.get("val_loss", logs["loss"]))
        elif self.scheduler is not None:
            self.scheduler.step()

    def train_epoch(self, loader: DataLoader, epoch: int, epochs: int) -> dict[str, float]:
        from tqdm.auto import tqdm

        self.model.train()
        total_loss, total_correct, seen = 0.0, 0, 0
        num_batches = len(loader)
        bar = tqdm(
            loader,
            total=num_batches,
            desc=f"epoch {epoch}/{epochs}",
            disable=not self.progress,
            leave=False,
            unit="batch",
        )
        for batch, (inputs, targets) in enumerate(bar):
            output = self.model(inputs)
            loss = self.loss_fn(output, targets)
            _check_finite(loss, epoch, batch, num_batches)
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_grad_norm is not None:
                from ..nn.utils import clip_grad_norm_

                clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
            n = len(targets)
            total_loss += float(loss.data) * n
            seen += n
            if "accuracy" in self.metrics:
                total_correct += correct_count(output, targets)
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
        bar.close()
        logs = {"loss": total_loss / max(seen, 1)}
        if "accuracy" in self.metrics:
            logs["accuracy"] = total_correct / max(seen, 1)
        return logs

    def fit(
        self, train_loader: DataLoader, epochs: int, val_loader: DataLoader | None = None
    ) -> History:
        checks.positive_int(epochs, "epochs", f"{type(self).__name__}.fit")
        history = History()
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            for epoch in range(1, epochs + 1):
                logs = self.train_epoch(train_loader, epoch, epochs)
                if val_loader is not None:
                    val = evaluate(self.model, val_loader, self.loss_fn, self.metrics)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                self.step_scheduler(logs)
                history.append(epoch, logs)
                if self.progress:
                    shown = "  ".join(f"{k}={v:.4f}" for k, v in logs.items())
                    print(f"epoch {epoch}/{epochs}  {shown}", file=sys.stderr)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, epoch, logs)
                if self.stop_training:
                    break
        finally:
            for cb in self.callbacks:
                cb.on_train_end(self)
        return history


def fit(
    model: Module,
    train_data: Any,
    epochs: int = 10,
    *,
    optimizer: Any = None,
    lr: float = 1e-3,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 32,
    val_data: Any = None,
    metrics: Sequence[str] = ("accuracy",),
    callbacks: Iterable[Callback] = (),
    progress: bool | None = None,
    clip_grad_norm: float | None = None,
    scheduler: Any = None,
    generator: Any = None,
) -> History:
    """Train `model` on `train_data` for `epochs` epochs and return the History.

    Args:
        model: any Module.
        train_data: a DataLoader, a Dataset or a pair (inputs, targets); shuffled mini-batches of
            `batch_size` are drawn from it unless it is already a DataLoader (or another
            re-iterable object with a length that yields (inputs, targets) batches).
        optimizer: an optimizer over model.parameters(); Adam(lr=`lr`) by default.
        loss_fn: called as loss_fn(output, targets); cross-entropy by default.
        val_data: evaluated after every epoch (val_loss, val_accuracy).
        callbacks: e.g. EarlyStopping, ModelCheckpoint.
        progress: show a progress bar; by default only when stderr is a terminal.
        clip_grad_norm: clip the gradients' global norm to this value before each step.
        scheduler: an `optim.lr_scheduler` over `optimizer`, stepped once after every epoch
            (ReduceLROnPlateau is given the validation loss, or the training loss without one).
        generator: the random generator that shuffles the batches (glassnet's global one by
            default, so `manual_seed` repeats a run).

    A NaN or infinite loss raises TrainingDiverged naming the epoch and batch, before that batch
    changes any weight.

    Example::

        history = fit(model, (x_train, y_train), epochs=20, val_data=(x_test, y_test))
    """
    if optimizer is None:
        from ..optim import Adam

        optimizer = Adam(model.parameters(), lr=lr)
    train_loader = as_loader(train_data, batch_size, shuffle=True, generator=generator)
    val_loader = None if val_data is None else as_loader(val_data, 1024, shuffle=False)
    trainer = Trainer(
        model, optimizer, loss_fn, metrics, callbacks, progress, clip_grad_norm, scheduler
    )
    return trainer.fit(train_loader, epochs, val_loader)


def evaluate(
    model: Module,
    data: Any,
    loss_fn: LossFn | None = F.cross_entropy,
    metrics: Sequence[str] = ("accuracy",),
    batch_size: int = 1024,
) -> dict[str, float]:
    """Average loss (and accuracy) of `model` on `data`, in eval mode and without gradients."""
    loader = as_loader(data, batch_size, shuffle=False)
    total_loss, total_correct, seen = 0.0, 0, 0
    with inference(model):
        for inputs, targets in loader:
            output = model(inputs)
            n = len(targets)
            if loss_fn is not None:
                total_loss += float(loss_fn(output, targets).data) * n
            if "accuracy" in metrics:
                total_correct += correct_count(output, targets)
            seen += n
    logs: dict[str, float] = {}
    if loss_fn is not None:
        logs["loss"] = total_loss / max(seen, 1)
    if "accuracy" in metrics:
        logs["accuracy"] = total_correct / max(seen, 1)
    return logs


def predict(model: Module, inputs: Any, batch_size: int = 1024) -> Tensor:
    """The model's outputs for `inputs`, computed in eval mode, in batches, without gradients."""
    x = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs))
    outputs = []
    with inference(model):
        for start in range(0, len(x), batch_size):
            outputs.append(model(x[start : start + batch_size]).data)
    return Tensor(np.concatenate(outputs) if outputs else np.zeros((0,), np.float32))
