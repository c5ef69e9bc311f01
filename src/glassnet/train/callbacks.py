"""Callbacks: small objects that watch training and act after each step or epoch.

`EarlyStopping` ends training once the validation loss stops improving (the network has started to
memorise instead of learn); `ModelCheckpoint` saves the best weights seen so far, atomically, so a
crash or a diverging run never costs the best model.
"""

from __future__ import annotations

import copy
import math
import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loop import Trainer


class Callback:
    """Base class: override the hooks you need. `trainer.stop_training = True` ends training.

    A callback that remembers something across epochs (a best value, a counter) returns it from
    `state_dict()` as plain numbers and arrays, so that a checkpoint carries it and a resumed run
    decides exactly as the uninterrupted one would.

    A callback that writes files sets `rank_zero_only`: in a distributed run only rank 0 runs it.
    """

    rank_zero_only = False

    def on_train_begin(self, trainer: Trainer) -> None:
        pass

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        pass

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        """After each training step; `step` counts steps from 1 over the whole run."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        pass

    def on_train_end(self, trainer: Trainer) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def _improved(value: float, best: float, mode: str, min_delta: float) -> bool:
    if math.isnan(value):
        return False
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _check_monitor(monitor: str, mode: str) -> str:
    if mode not in ("min", "max", "auto"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _monitored(logs: dict[str, float], monitor: str, who: str) -> float:
    if monitor not in logs:
        raise KeyError(
            f"{who}: metric {monitor!r} is not available; the epoch logs have {sorted(logs)} "
            "(pass validation data to fit() to get val_* metrics)"
        )
    return logs[monitor]


class TimeLimit(Callback):
    """Stop after the first epoch that ends more than `minutes` after training began (a time
    budget: the epoch under way is finished, so the overrun is at most one epoch)."""

    def __init__(self, minutes: float) -> None:
        if not minutes > 0:
            raise ValueError(f"TimeLimit: minutes must be positive, got {minutes!r}")
        self.minutes = float(minutes)
        self.start = time.perf_counter()

    def on_train_begin(self, trainer: Trainer) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if time.perf_counter() - self.start >= 60.0 * self.minutes:
            trainer.stop_training = True

    def state_dict(self) -> dict[str, Any]:
        return {"elapsed": time.perf_counter() - self.start}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.start = time.perf_counter() - float(state["elapsed"])


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    With `restore_best_weights=True` the model ends with the weights of its best epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
    ) -> None:
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.mode = _check_monitor(monitor, mode)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, trainer: Trainer) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_state: dict[str, Any] | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_state = copy.deepcopy(
                    {k: v.data.copy() for k, v in trainer.model.state_dict().items()}
                )
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self._best_state is not None:
            trainer.model.load_state_dict(self._best_state)

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_state": self._best_state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.stopped_epoch, self._best_state = state["stopped_epoch"], state["best_state"]


class ModelCheckpoint(Callback):
    """Save the model's weights (safetensors or .npz, atomically) after an epoch.

    With `save_best_only=True` (the default) the file is written only when `monitor` improves, so
    it always holds the best model seen so far.
    """

    rank_zero_only = True

    def __init__(
        self,
        path: str | os.PathLike,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        self.monitor = monitor
        self.mode = _check_monitor(monitor, mode)
        self.save_best_only = save_best_only

    def on_train_begin(self, trainer: Trainer) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        from ..io import save

        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not _improved(value, self.best, self.mode, 0.0):
                return
            self.best = value
        self.best_epoch = epoch
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        save(trainer.model, self.path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
