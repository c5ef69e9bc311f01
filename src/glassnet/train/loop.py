"""The training loop: epochs of mini-batches, each one forward, backward and an optimizer step.

An epoch is one pass over the training data, cut into mini-batches. For each batch the network
predicts (forward pass), the loss measures how wrong it was, `backward()` finds how each weight
contributed to the error, and the optimizer moves every weight a little in the direction that lowers
the loss. `fit()` does all of that in one line and reports what happened.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import checks
from ..data import DataLoader, Dataset, TensorDataset
from ..nn import functional as F
from ..nn.modes import inference
from ..nn.module import Module
from ..nn.utils import clip_grad_norm_
from ..random import as_rng
from ..tensor import Tensor
from .callbacks import Callback
from .checkpoint import CheckpointManager
from .metrics import Metric, as_metric
from .run_log import RunLog

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
        self.seconds: float | None = None  # training time, across resumes, once training ends

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


class Trainer:
    """The one training loop: batches in, `train_step` on each, epochs, budgets, checkpoints.

    Every network trains through it. A classifier needs nothing more than a model, an optimizer
    and a loss; a network whose step is special overrides `train_step` (and `eval_step`), as in
    Keras 3 and PyTorch Lightning: a GAN's two optimizers, a VAE's loss terms, a language model's
    state carried from batch to batch are each a short method, and the loop around them (epochs,
    budgets, metrics, callbacks, progress, logs, checkpoints, exact resume) is this one.

    Args:
        model: the Module to train.
        optimizer: an optimizer over its parameters, or a dict of named ones (a GAN's two).
        loss_fn: ``loss_fn(output, targets)`` for the default steps; cross-entropy by default.
        metrics: names or `Metric` objects, computed on the training batches (from the outputs
            the step saw) and on the validation data: "accuracy", "top5_accuracy", "mae",
            "rmse", "perplexity".
        callbacks: `Callback` objects (EarlyStopping, ModelCheckpoint, RunLog, TensorBoard...).
        progress: a progress bar per epoch; by default when stderr is a terminal.
        clip_grad_norm: clip the global gradient norm before every optimizer step.
        scheduler: a learning-rate scheduler (or a dict of them), stepped after every epoch, or
            after every optimizer step with ``scheduler_interval="step"``. ReduceLROnPlateau is
            given the validation loss (the training loss without validation data).
        accumulate_grad_batches: add up the gradients of this many batches before each
            optimizer step (a larger effective batch in the same memory).
        generators: random generators the data or the step draw from besides glassnet's global
            one and the DataLoader's (e.g. an augmentation's), saved in checkpoints.
        checkpoint_dir: where checkpoints go; one after every epoch, and every
            `checkpoint_every` steps if given; the newest `keep_checkpoints` are kept.
        log_dir: write metrics.jsonl, epochs.csv and steps.csv there (see `RunLog`).
        say: where the trainer's messages go (default: stderr, clear of the progress bar).

    A NaN or infinite loss raises TrainingDiverged before that batch changes any weight.

    Example::

        >>> trainer = Trainer(model, AdamW(model.parameters()), metrics=["accuracy"],
        ...                   checkpoint_dir="runs/mine/checkpoints")
        >>> history = trainer.fit(train_loader, epochs=10, val_data=val_loader, resume=True)
    """

    def __init__(
        self,
        model: Module,
        optimizer: Any = None,
        loss_fn: LossFn | None = F.cross_entropy,
        metrics: Sequence[str | Metric] = ("accuracy",),
        callbacks: Iterable[Callback] = (),
        progress: bool | None = None,
        clip_grad_norm: float | None = None,
        scheduler: Any = None,
        *,
        scheduler_interval: str = "epoch",
        accumulate_grad_batches: int = 1,
        generators: Sequence[Any] = (),
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
        keep_checkpoints: int = 3,
        log_dir: str | os.PathLike | None = None,
        say: Callable[[str], Any] | None = None,
    ) -> None:
        who = type(self).__name__
        if not isinstance(model, Module):
            raise TypeError(f"{who}: model must be a glassnet Module, got {type(model).__name__}")
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"{who}: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        checks.positive_int(accumulate_grad_batches, "accumulate_grad_batches", who)
        if checkpoint_every is not None:
            checks.positive_int(checkpoint_every, "checkpoint_every", who)
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"{who}: clip_grad_norm must be positive, got {clip_grad_norm!r}")
        self.model = model
        self.optimizer = optimizer
        self.optimizers = _named(optimizer, "optimizer")
        self.scheduler = scheduler
        self.schedulers = _named(scheduler, "scheduler")
        self.scheduler_interval = scheduler_interval
        self.loss_fn = loss_fn
        self.metrics = [as_metric(m) for m in metrics]
        self.val_metrics = [copy.deepcopy(m) for m in self.metrics]
        self.callbacks = list(callbacks)
        if log_dir is not None:
            self.callbacks.append(RunLog(log_dir))
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.clip_grad_norm = clip_grad_norm
        self.accumulate_grad_batches = accumulate_grad_batches
        self.generators = list(generators)
        for g in self.generators:
            as_rng(g, f"{who}: generators")
        self.checkpoints = (
            None
            if checkpoint_dir is None
            else CheckpointManager(checkpoint_dir, keep_checkpoints, say=self._say)
        )
        self.checkpoint_every = checkpoint_every
        self.say = say
        # where the run is: epochs completed, batches done in the current epoch, steps in all
        self.epoch = 0
        self.batch_in_epoch = 0
        self.global_step = 0
        self.history = History()
        self.stop_training = False
        self.resuming = False
        self._elapsed_before = 0.0
        self._started = time.perf_counter()
        self._means = _Means()
        self._epoch_start_generators: list[Any] | None = None
        self._batches_in_epoch: int | None = None
        self._loader: Any = None
        self._parallel: Any = None  # a DataParallelRun while a process group of several is open
        self._quiet = False  # ranks other than 0 of a distributed run neither print nor write

    # -- the steps: override these -----------------------------------------------------------

    def train_step(self, batch: Any) -> dict[str, float]:
        """One training step on `batch`; returns the numbers to log (averaged over the epoch,
        weighted by batch size). The default: ``(inputs, targets)``, forward, `loss_fn`,
        `backward`, `optimizer_step`, and the metrics updated from the output."""
        inputs, targets = batch
        output = self.model(inputs)
        loss = self.loss_fn(output, targets)
        self.backward(loss)
        self.optimizer_step()
        self.update_metrics(output, targets)
        return {"loss": float(loss.data)}

    def eval_step(self, batch: Any) -> dict[str, float]:
        """One evaluation step (already in eval mode, without gradients); the default: the loss
        and the metrics on ``(inputs, targets)``."""
        inputs, targets = batch
        output = self.model(inputs)
        self.update_metrics(output, targets, validation=True)
        if self.loss_fn is None:
            return {}
        return {"loss": float(self.loss_fn(output, targets).data)}

    # -- what steps call --------------------------------------------------------------------------

    def backward(self, loss: Tensor) -> None:
        """Check that `loss` is finite (TrainingDiverged if not, before any weight changes), then
        backpropagate it (divided by `accumulate_grad_batches` when gradients add up over
        several batches)."""
        value = float(loss.data)
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"the loss became {value} at epoch {self.epoch + 1}, batch "
                f"{self.batch_in_epoch + 1}"
                + (f" of {self._batches_in_epoch}" if self._batches_in_epoch else "")
                + f" (step {self.global_step + 1}); training stopped before this batch updated "
                "the weights. Try a lower learning rate, gradient clipping, or check the data "
                "for NaN/inf values."
            )
        if self.accumulate_grad_batches > 1:
            loss = loss / self.accumulate_grad_batches
        reducer = None if self._parallel is None else self._parallel.reducer
        if reducer is not None:  # average across ranks only when the optimizer steps next
            reducer.sync = self.at_accumulation_boundary
        loss.backward()
        if reducer is not None:
            reducer.finish()

    @property
    def at_accumulation_boundary(self) -> bool:
        """Whether this batch ends a group of `accumulate_grad_batches` (or the epoch)."""
        done = self.batch_in_epoch + 1
        return done % self.accumulate_grad_batches == 0 or done == self._batches_in_epoch

    def optimizer_step(self, name: str | None = None) -> bool:
        """Clip, step and zero the gradients of one optimizer (the only one, or the one called
        `name`), and step per-step schedulers; with gradient accumulation only at the end of a
        group of batches. Returns whether the weights changed."""
        if not self.at_accumulation_boundary:
            return False
        optimizer = self._optimizer(name)
        if self.clip_grad_norm is not None:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            clip_grad_norm_(params, self.clip_grad_norm)
        optimizer.step()
        optimizer.zero_grad()
        if self.scheduler_interval == "step":
            for key, scheduler in self.schedulers.items():
                if name is None or key == name or len(self.schedulers) == 1:
                    scheduler.step()
        return True

    def update_metrics(self, output: Any, targets: Any, validation: bool = False) -> None:
        """Feed one batch's outputs and targets to the metrics (validation ones when asked)."""
        for metric in self.val_metrics if validation else self.metrics:
            metric.update(output, targets)

    def get_extra_state(self) -> dict[str, Any]:
        """State a custom step carries between batches (a recurrent state, say), as numbers and
        arrays; saved in checkpoints. Override with `set_extra_state`."""
        return {}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what `get_extra_state` returned."""

    def on_epoch_start(self) -> None:
        """Called before each epoch's first batch (e.g. to reset a carried state)."""

    # -- running ----------------------------------------------------------------------------------

    def fit(
        self,
        train_data: Any,
        epochs: int | None = None,
        val_data: Any = None,
        *,
        max_steps: int | None = None,
        minutes: float | None = None,
        resume: bool = False,
    ) -> History:
        """Train on `train_data` (a DataLoader or any re-iterable of batches with a length)
        until `epochs`, `max_steps` or `minutes` is spent, whichever comes first; evaluate on
        `val_data` after every epoch. With `resume=True` the newest intact checkpoint in
        `checkpoint_dir` is loaded first and training carries on exactly where it stopped
        (there being none is an error: FileNotFoundError)."""
        who = f"{type(self).__name__}.fit"
        if epochs is None and max_steps is None and minutes is None:
            raise ValueError(f"{who}: give a budget: epochs, max_steps or minutes")
        if epochs is not None:
            checks.positive_int(epochs, "epochs", who)
        if max_steps is not None:
            checks.positive_int(max_steps, "max_steps", who)
        if minutes is not None and not (
            isinstance(minutes, int | float) and 0 < minutes < math.inf
        ):
            raise ValueError(f"{who}: minutes must be a positive number, got {minutes!r}")
        if resume and self.checkpoints is None:
            raise ValueError(f"{who}: resume=True needs the Trainer's checkpoint_dir")
        epochs = math.inf if epochs is None else epochs
        self._parallel = self._start_parallel()
        if self._parallel is not None:
            train_data = self._parallel.shard(train_data)
        loader = self._loader = train_data
        val_loader = None if val_data is None else as_loader(val_data, 1024, shuffle=False)
        self.stop_training = False
        self.resuming = bool(resume)
        self._started = time.perf_counter()
        for cb in self.callbacks:
            cb.on_train_begin(self)
        current_generators = None
        if resume:
            current_generators = self._resume(loader)
        else:
            if (
                self.checkpoints is not None
                and not self._quiet
                and (removed := self.checkpoints.clear())
            ):
                self._say(
                    f"a fresh run: removed {removed} checkpoints of the run before in "
                    f"{self.checkpoints.directory}"
                )
            for optimizer in self.optimizers.values():
                optimizer.zero_grad()
        try:
            while self.epoch < epochs and not self.stop_training:
                if self._budget_spent(max_steps, minutes):
                    break
                self._run_epoch(loader, val_loader, epochs, max_steps, minutes, current_generators)
                current_generators = None
            if self.batch_in_epoch:  # the budget ended an epoch part-way
                self._save_checkpoint()
                self._end_epoch(val_loader, epochs, complete=False)
        finally:
            self.resuming = False
            self.history.seconds = self.elapsed()
            if self._parallel is not None:  # the model trains on its own again after fit
                self._parallel.reducer.remove()
                self._parallel = None
            for cb in self.callbacks:
                cb.on_train_end(self)
        return self.history

    def _run_epoch(
        self,
        loader: Any,
        val_loader: Any,
        epochs: float,
        max_steps: int | None,
        minutes: float | None,
        current_generators: list[Any] | None,
    ) -> None:
        from tqdm.auto import tqdm

        tracked = self._tracked_generators(loader)
        if self._parallel is not None:
            self._parallel.start_epoch(self.epoch)
        self._batches_in_epoch = len(loader) if hasattr(loader, "__len__") else None
        if current_generators is None:  # a fresh epoch
            self.model.train()
            self._means = _Means()
            for metric in self.metrics:
                metric.reset()
            self.on_epoch_start()
            for cb in self.callbacks:
                cb.on_epoch_begin(self, self.epoch + 1)
            self._epoch_start_generators = _capture(tracked)
            batches = iter(loader)
        else:  # resuming part-way: replay the epoch's data up to where it stopped
            _restore(tracked, self._epoch_start_generators)
            batches = iter(loader)
            for _ in range(self.batch_in_epoch):
                next(batches)
            _restore(tracked, current_generators)
        shown_epochs = "?" if math.isinf(epochs) else epochs
        bar = tqdm(
            batches,
            total=None if self._batches_in_epoch is None else self._batches_in_epoch,
            initial=self.batch_in_epoch,
            desc=f"epoch {self.epoch + 1}/{shown_epochs}",
            disable=not self.progress,
            leave=False,
            unit="batch",
        )
        for batch in bar:
            self._train_one(batch)
            bar.set_postfix(loss=f"{self._means.mean('loss'):.4f}", refresh=False)
            if self.stop_training or self._budget_spent(max_steps, minutes):
                break
        else:
            bar.close()
            self._end_epoch(val_loader, epochs, complete=True)
            return
        bar.close()
        if self.batch_in_epoch == self._batches_in_epoch:
            self._end_epoch(val_loader, epochs, complete=True)

    def step(self, batch: Any) -> dict[str, float]:
        """One training step on `batch` on demand (an interactive loop, such as the
        playground's): `train_step`, the step counters and the batch callbacks."""
        self.model.train()
        return self._train_one(batch)

    def _train_one(self, batch: Any) -> dict[str, float]:
        if self._parallel is not None:
            self._parallel.sync_buffers()
        logs = self.train_step(batch)
        if not isinstance(logs, dict):
            raise TypeError(
                f"{type(self).__name__}.train_step must return a dict of numbers to log, got "
                f"{type(logs).__name__}"
            )
        logs = {k: float(v) for k, v in logs.items()}
        self._means.add(logs, batch_size_of(batch))
        self.global_step += 1
        self.batch_in_epoch += 1
        for cb in self.callbacks:
            cb.on_batch_end(self, self.global_step, logs)
        if (
            self.checkpoint_every is not None
            and self.global_step % self.checkpoint_every == 0
            and self.batch_in_epoch % self.accumulate_grad_batches == 0
        ):
            self._save_checkpoint()
        return logs

    def _end_epoch(self, val_loader: Any, epochs: float, complete: bool) -> None:
        logs = self._means.means()
        logs.update({m.name: m.compute() for m in self.metrics})
        if self._parallel is not None:
            logs = self._parallel.average(logs)
            self._parallel.sync_buffers()
        if val_loader is not None:
            logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
        first = next(iter(self.optimizers.values()), None)
        if first is not None:
            logs["lr"] = float(first.param_groups[0]["lr"])
        if complete:
            self._step_schedulers_per_epoch(logs)
        number = self.epoch + 1
        self.history.append(number, logs)
        if self.progress:
            shown = "  ".join(f"{k}={v:.4f}" for k, v in logs.items())
            total = "?" if math.isinf(epochs) else epochs
            self._say(f"epoch {number}/{total}  {shown}" + ("" if complete else " (part)"))
        for cb in self.callbacks:
            cb.on_epoch_end(self, number, logs)
        if complete:
            self.epoch += 1
            self.batch_in_epoch = 0
            self._save_checkpoint()

    def _step_schedulers_per_epoch(self, logs: dict[str, float]) -> None:
        if self.scheduler_interval != "epoch":
            return
        from ..optim.lr_scheduler import ReduceLROnPlateau

        for scheduler in self.schedulers.values():
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(logs.get("val_loss", logs.get("loss", math.nan)))
            else:
                scheduler.step()

    def evaluate(self, data: Any) -> dict[str, float]:
        """`eval_step` over `data` in eval mode without gradients: the logs' averages (weighted
        by batch size) and the metrics."""
        loader = as_loader(data, 1024, shuffle=False)
        means = _Means()
        for metric in self.val_metrics:
            metric.reset()
        with inference(self.model):
            for batch in loader:
                means.add({k: float(v) for k, v in self.eval_step(batch).items()},
                          batch_size_of(batch))  # fmt: skip
        logs = means.means()
        logs.update({m.name: m.compute() for m in self.val_metrics})
        return logs

    def elapsed(self) -> float:
        """Seconds of training so far, across resumes."""
        return self._elapsed_before + time.perf_counter() - self._started

    def _budget_spent(self, max_steps: int | None, minutes: float | None) -> bool:
        if max_steps is not None and self.global_step >= max_steps:
            return True
        if minutes is None:
            return False
        spent = self.elapsed() >= 60.0 * minutes
        # each rank has its own clock: rank 0's decides, or the ranks would stop apart
        return spent if self._parallel is None else self._parallel.rank_zero_decides(spent)

    def _say(self, message: str) -> None:
        if self._quiet:
            return
        if self.say is not None:
            self.say(message)
            return
        from tqdm.auto import tqdm

        tqdm.write(message, file=sys.stderr)

    def _optimizer(self, name: str | None) -> Any:
        if name is None:
            if len(self.optimizers) != 1:
                raise ValueError(
                    f"{type(self).__name__}.optimizer_step: there are {len(self.optimizers)} "
                    f"optimizers ({', '.join(self.optimizers) or 'none'}); name the one to step"
                )
            return next(iter(self.optimizers.values()))
        if name not in self.optimizers:
            raise KeyError(
                f"{type(self).__name__}: no optimizer named {name!r}; there are "
                f"{', '.join(self.optimizers) or 'none'}"
            )
        return self.optimizers[name]

    # -- saving and resuming ----------------------------------------------------------------------

    def _tracked_generators(self, loader: Any) -> list[Any]:
        """Every random stream the run draws from: the global one, the loader's (and its
        sampler's), the data object's `generators`, and the trainer's own `generators`."""
        sampler = getattr(loader, "sampler", None)
        candidates = [getattr(loader, "generator", None), getattr(sampler, "generator", None)]
        candidates += [*(getattr(loader, "generators", ()) or ()), *self.generators]
        rngs = [as_rng(None)]  # glassnet's global generator
        for g in candidates:
            rng = None if g is None else as_rng(g)
            if rng is not None and all(rng is not r for r in rngs):
                rngs.append(rng)
        return rngs

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to carry on exactly: the model, optimizers, schedulers, the position
        in the run, generator states, metrics, running means, history, callbacks, extra state
        (and in a distributed run every rank's generator states)."""
        state = {
            "glassnet_version": _version(),
            "model_class": type(self.model).__name__,
            "model": {k: v.data.copy() for k, v in self.model.state_dict().items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "global_step": self.global_step,
            "elapsed": self.elapsed(),
            "history": {"epochs": self.history.epochs, "history": self.history.history},
            "means": self._means.state_dict(),
            "metrics": [m.state_dict() for m in self.metrics],
            "callbacks": {key: cb.state_dict() for key, cb in self._keyed_callbacks().items()},
            "epoch_start_generators": self._epoch_start_generators,
            "generators": _capture(self._tracked_generators(self._loader)),
            "extra": self.get_extra_state(),
        }
        if self._parallel is not None:
            state = self._parallel.add_rank_states(state)
        return state

    def _keyed_callbacks(self) -> dict[str, Callback]:
        """Callbacks by class name (numbered when a class appears twice), so a checkpoint's
        states find their callbacks even if the list has changed around them."""
        keyed: dict[str, Callback] = {}
        for cb in self.callbacks:
            name = type(cb).__name__
            key, n = name, 1
            while key in keyed:
                n += 1
                key = f"{name}#{n}"
            keyed[key] = cb
        return keyed

    def _save_checkpoint(self) -> None:
        if self.checkpoints is not None:
            state = self.state_dict()  # on every rank: it gathers their generator states
            if not self._quiet:
                self.checkpoints.save(self.global_step, state)

    def _start_parallel(self) -> Any:
        """A DataParallelRun when this process is one rank of several, else None."""
        from .distributed import DataParallelRun, process_group_open

        if not process_group_open():
            return None
        run = DataParallelRun(self.model)
        if run.rank != 0:
            self._quiet = True
            self.progress = False
            self.callbacks = [cb for cb in self.callbacks if not getattr(cb, "rank_zero_only", 0)]
        return run

    def _resume(self, loader: Any) -> list[Any] | None:
        """Load the newest intact checkpoint; returns the generator states to continue from
        mid-epoch, or None when it was written at an epoch's end."""
        if not self._quiet:
            self.checkpoints.remove_leftovers()
        if self._parallel is not None:
            self._parallel.wait_for_main()
        found = self.checkpoints.latest()
        if found is None:
            raise FileNotFoundError(
                f"no checkpoint to resume from in {self.checkpoints.directory} (train without "
                "resume to start fresh)"
            )
        state, path = found
        if self._parallel is not None:
            state = self._parallel.own_state(state)
        self.load_state_dict(state, source=path)
        self._say(
            f"resumed from {path}: epoch {self.epoch + 1}, batch {self.batch_in_epoch}, "
            f"step {self.global_step}"
        )
        if self.batch_in_epoch == 0:
            _restore(self._tracked_generators(loader), state["generators"])
            return None
        return state["generators"]

    def load_state_dict(self, state: dict[str, Any], source: str = "the checkpoint") -> None:
        """Restore what `state_dict` returned (checking first that it fits this model)."""
        written = f"{source} (written by glassnet {state.get('glassnet_version')} for a " \
            f"{state.get('model_class')})"  # fmt: skip
        try:
            self.model.load_state_dict(state["model"])
        except (RuntimeError, TypeError) as error:
            raise ValueError(
                f"{written} does not fit this {type(self.model).__name__}: {error}"
            ) from error
        if set(state["optimizers"]) != set(self.optimizers):
            raise ValueError(
                f"{written} holds optimizers {sorted(state['optimizers'])}, this trainer has "
                f"{sorted(self.optimizers)}"
            )
        for key, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][key])
        for key, scheduler in self.schedulers.items():
            if key in state["schedulers"]:
                scheduler.load_state_dict(state["schedulers"][key])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.global_step = int(state["global_step"])
        self._elapsed_before = float(state["elapsed"])
        self._started = time.perf_counter()
        self.history = History()
        for i, epoch in enumerate(state["history"]["epochs"]):
            self.history.append(epoch, {k: v[i] for k, v in state["history"]["history"].items()})
        self._means.load_state_dict(state["means"])
        for metric, saved in zip(self.metrics, state["metrics"]):
            metric.load_state_dict(saved)
        for key, cb in self._keyed_callbacks().items():
            if key in state["callbacks"]:
                cb.load_state_dict(state["callbacks"][key])
        self._epoch_start_generators = state["epoch_start_generators"]
        self.set_extra_state(state["extra"])


def _named(value: Any, kind: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return {kind: value}


def _capture(rngs: list[Any]) -> list[Any]:
    return [copy.deepcopy(rng.bit_generator.state) for rng in rngs]


def _restore(rngs: list[Any], states: list[Any] | None) -> None:
    if states is None:
        return
    if len(states) != len(rngs):
        raise ValueError(
            f"the checkpoint saved {len(states)} random generators but this run draws from "
            f"{len(rngs)}: it was written for other data or settings"
        )
    for rng, state in zip(rngs, states):
        rng.bit_generator.state = state


def _version() -> str:
    from .. import __version__

    return __version__


def batch_size_of(batch: Any) -> int:
    """How many examples `batch` holds: the length of its first tensor or array."""
    first = batch[0] if isinstance(batch, tuple | list) and batch else batch
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape else 1


class _Means:
    """Running averages of logged numbers, each weighted by its batch's size."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.weights: dict[str, float] = {}

    def add(self, logs: dict[str, float], weight: int) -> None:
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * weight
            self.weights[key] = self.weights.get(key, 0.0) + weight

    def mean(self, key: str) -> float:
        return self.sums.get(key, math.nan) / max(self.weights.get(key, 0.0), 1e-300)

    def means(self) -> dict[str, float]:
        return {key: self.mean(key) for key in self.sums}

    def state_dict(self) -> dict[str, Any]:
        return {"sums": dict(self.sums), "weights": dict(self.weights)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sums, self.weights = dict(state["sums"]), dict(state["weights"])


def fit(
    model: Module,
    train_data: Any,
    epochs: int | None = 10,
    *,
    optimizer: Any = None,
    lr: float = 1e-3,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 32,
    val_data: Any = None,
    metrics: Sequence[str | Metric] = ("accuracy",),
    callbacks: Iterable[Callback] = (),
    progress: bool | None = None,
    clip_grad_norm: float | None = None,
    scheduler: Any = None,
    scheduler_interval: str = "epoch",
    generator: Any = None,
    max_steps: int | None = None,
    minutes: float | None = None,
    accumulate_grad_batches: int = 1,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    keep_checkpoints: int = 3,
    resume: bool = False,
    log_dir: str | os.PathLike | None = None,
    generators: Sequence[Any] = (),
) -> History:
    """Train `model` on `train_data` and return the History (a `Trainer` in one line).

    Args:
        model: any Module.
        train_data: a DataLoader, a Dataset or a pair (inputs, targets); shuffled mini-batches of
            `batch_size` are drawn from it unless it is already a DataLoader (or another
            re-iterable object with a length that yields (inputs, targets) batches).
        epochs, max_steps, minutes: the budget; training ends when the first is spent (None:
            no limit of that kind).
        optimizer: an optimizer over model.parameters(); Adam(lr=`lr`) by default.
        loss_fn: called as loss_fn(output, targets); cross-entropy by default.
        val_data: evaluated after every epoch (val_loss and the metrics as val_*).
        metrics: names or `Metric` objects ("accuracy", "top5_accuracy", "mae", "rmse",
            "perplexity").
        callbacks: e.g. EarlyStopping, ModelCheckpoint, TensorBoard.
        progress: show a progress bar; by default only when stderr is a terminal.
        clip_grad_norm: clip the gradients' global norm to this value before each step.
        scheduler: an `optim.lr_scheduler` over `optimizer`, stepped after every epoch (or every
            step with ``scheduler_interval="step"``; ReduceLROnPlateau is given the validation
            loss, or the training loss without one).
        generator: the random generator that shuffles the batches (glassnet's global one by
            default, so `manual_seed` repeats a run).
        accumulate_grad_batches: gradients of this many batches add up before each step.
        checkpoint_dir, checkpoint_every, keep_checkpoints, resume: checkpoints after every
            epoch (and every `checkpoint_every` steps); `resume=True` carries on from the newest
            one, bit for bit as if the run had never stopped.
        log_dir: write metrics.jsonl, epochs.csv and steps.csv there.
        generators: other random generators the data draws from (saved in checkpoints).

    A NaN or infinite loss raises TrainingDiverged naming the epoch and batch, before that batch
    changes any weight.

    Example::

        history = fit(model, (x_train, y_train), epochs=20, val_data=(x_test, y_test))
    """
    if optimizer is None:
        from ..optim import Adam

        optimizer = Adam(model.parameters(), lr=lr)
    train_loader = as_loader(train_data, batch_size, shuffle=True, generator=generator)
    trainer = Trainer(
        model,
        optimizer,
        loss_fn,
        metrics,
        callbacks,
        progress,
        clip_grad_norm,
        scheduler,
        scheduler_interval=scheduler_interval,
        accumulate_grad_batches=accumulate_grad_batches,
        generators=generators,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=checkpoint_every,
        keep_checkpoints=keep_checkpoints,
        log_dir=log_dir,
    )
    return trainer.fit(
        train_loader, epochs, val_data, max_steps=max_steps, minutes=minutes, resume=resume
    )


def evaluate(
    model: Module,
    data: Any,
    loss_fn: LossFn | None = F.cross_entropy,
    metrics: Sequence[str | Metric] = ("accuracy",),
    batch_size: int = 1024,
) -> dict[str, float]:
    """Average loss and the metrics of `model` on `data`, in eval mode and without gradients."""
    loader = as_loader(data, batch_size, shuffle=False)
    return Trainer(model, None, loss_fn, metrics, progress=False).evaluate(loader)


def predict(model: Module, inputs: Any, batch_size: int = 1024) -> Tensor:
    """The model's outputs for `inputs`, computed in eval mode, in batches, without gradients."""
    x = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs))
    outputs = []
    with inference(model):
        for start in range(0, len(x), batch_size):
            outputs.append(model(x[start : start + batch_size]).data)
    return Tensor(np.concatenate(outputs) if outputs else np.zeros((0,), np.float32))
