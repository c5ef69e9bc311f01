"""Run logs: what a training run measured, in files that people and programs can read.

`RunLog` writes into the run's folder, as training goes:

- ``metrics.jsonl``: one JSON object per line, ``{"event": "step", "step": 12, "epoch": 1,
  "time": 3.2, "loss": 0.52}`` after steps and ``{"event": "epoch", ...}`` with the epoch's
  averages and validation metrics after each epoch (`glassnet runs` reads it);
- ``epochs.csv`` and ``steps.csv``: the same numbers as tables, one column per metric.

When a run resumes from a checkpoint, the lines written after that checkpoint are dropped first,
so the files read as if the run had never stopped. `TensorBoard` writes the same numbers as
TensorBoard event files, where the `tensorboard` package is installed.
"""

from __future__ import annotations

import csv
import json
import math
import os
from typing import TYPE_CHECKING, Any

from .callbacks import Callback

if TYPE_CHECKING:
    from .loop import Trainer

METRICS_FILE = "metrics.jsonl"


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


class RunLog(Callback):
    """Append every step's logs (every `every_steps` steps) and every epoch's to files in
    `directory`; see the module docstring for the formats."""

    rank_zero_only = True

    def __init__(self, directory: str | os.PathLike, every_steps: int = 1) -> None:
        if not isinstance(every_steps, int) or every_steps < 1:
            raise ValueError(f"RunLog: every_steps must be a positive integer, got {every_steps!r}")
        self.directory = os.fspath(directory)
        self.every_steps = every_steps
        self.trainer: Trainer | None = None
        self.entries: list[dict[str, Any]] = []  # what the file holds, kept to write the tables

    @property
    def path(self) -> str:
        return os.path.join(self.directory, METRICS_FILE)

    def on_train_begin(self, trainer: Trainer) -> None:
        self.trainer = trainer
        os.makedirs(self.directory, exist_ok=True)
        if not trainer.resuming and os.path.exists(self.path):
            os.remove(self.path)  # a fresh run starts a fresh log
        self.entries = read_metrics(self.path)

    def state_dict(self) -> dict[str, Any]:
        trainer = self.trainer
        return {"step": trainer.global_step, "epochs": len(trainer.history.epochs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Called when resuming: forget what was logged after the checkpoint was written."""
        step, epochs = int(state["step"]), int(state["epochs"])
        kept = [
            e
            for e in read_metrics(self.path)
            if (e["event"] == "step" and e["step"] <= step)
            or (e["event"] == "epoch" and e["epoch"] <= epochs)
        ]
        with open(self.path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(e) + "\n" for e in kept)
        self.entries = kept
        self._rewrite_tables()

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        if step % self.every_steps == 0:
            self._append("step", trainer.epoch + 1, trainer, logs)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self._append("epoch", epoch, trainer, logs)
        self._rewrite_tables(("epoch",))  # steps.csv, the long one, is written at the end

    def on_train_end(self, trainer: Trainer) -> None:
        self._rewrite_tables()

    def _append(self, event: str, epoch: int, trainer: Trainer, logs: dict[str, float]) -> None:
        entry = {
            "event": event,
            "step": trainer.global_step,
            "epoch": epoch,
            "time": round(trainer.elapsed(), 3),
            **{k: _finite_or_none(float(v)) for k, v in logs.items()},
        }
        self.entries.append(entry)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def _rewrite_tables(self, events: tuple[str, ...] = ("epoch", "step")) -> None:
        for event in events:
            name = f"{event}s.csv"
            rows = [e for e in self.entries if e["event"] == event]
            columns = ["epoch", "step", "time"]
            for row in rows:
                columns += [k for k in row if k not in columns and k != "event"]
            with open(os.path.join(self.directory, name), "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, columns, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The entries of a metrics.jsonl file; a last line cut short by a crash is skipped."""
    entries = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and "event" in entry and "step" in entry:
                    entries.append(entry)
    except FileNotFoundError:
        pass
    return entries


class TensorBoard(Callback):
    """Write every step's and every epoch's numbers as TensorBoard scalars into `log_dir`
    (Keras's callback of the same name). Needs the `tensorboard` package."""

    rank_zero_only = True

    def __init__(self, log_dir: str | os.PathLike, every_steps: int = 1) -> None:
        try:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError as error:
            raise ImportError(
                "the TensorBoard callback needs the 'tensorboard' package: pip install tensorboard"
            ) from error
        self._writer_class = EventFileWriter
        self.log_dir = os.fspath(log_dir)
        self.every_steps = every_steps
        self.writer: Any = None

    def on_train_begin(self, trainer: Trainer) -> None:
        self.writer = self._writer_class(self.log_dir)

    def _write(self, prefix: str, step: int, logs: dict[str, float]) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        values = [
            Summary.Value(tag=f"{prefix}/{k}", simple_value=float(v))
            for k, v in logs.items()
            if math.isfinite(float(v))
        ]
        self.writer.add_event(Event(step=step, summary=Summary(value=values)))

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        if step % self.every_steps == 0:
            self._write("step", step, logs)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self._write("epoch", epoch, logs)
        self.writer.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()
