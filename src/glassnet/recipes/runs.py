"""The run folders a recipe leaves behind, summed up one line each (`glassnet runs`).

A run folder holds ``metrics.jsonl``, written by the Trainer as it goes: a JSON object per
training step and per epoch. The summary of a run is how far it went (epoch, step), when it last
changed, and the best value of each metric over its epochs: the lowest of a loss or an error,
the highest of the rest (accuracy, top-k). A folder from before the Trainer falls back on the
numbers its ``model.json`` recorded.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..train.run_log import METRICS_FILE, read_metrics

LOWER_IS_BETTER = ("loss", "error", "mae", "rmse", "perplexity")
"""A metric whose name contains one of these is best at its minimum; any other at its maximum."""

NOT_METRICS = frozenset({"event", "step", "epoch", "time", "lr"})
"""Keys of a metrics.jsonl entry that say where or when, not how well (the learning rate is a
setting: its "best" would mean nothing)."""


@dataclass
class RunSummary:
    name: str
    path: str
    changed: str  # local time the folder's newest file was written, "YYYY-MM-DD HH:MM"
    epoch: int | None = None
    step: int | None = None
    best: dict[str, float] = field(default_factory=dict)
    source: str | None = None  # "metrics.jsonl", "model.json" or None: where the numbers come from


def lower_is_better(metric: str) -> bool:
    return any(word in metric.lower() for word in LOWER_IS_BETTER)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def best_metrics(entries: list[dict[str, Any]]) -> dict[str, float]:
    """The best value of each metric over `entries` (min or max by its name), val_* first."""
    best: dict[str, float] = {}
    for entry in entries:
        for key, value in entry.items():
            if key in NOT_METRICS or not _number(value):
                continue
            if key not in best:
                best[key] = value
            else:
                best[key] = (min if lower_is_better(key) else max)(best[key], value)
    return dict(sorted(best.items(), key=lambda item: not item[0].startswith("val_")))


def _changed(folder: str) -> str:
    newest = os.path.getmtime(folder)
    for entry in os.scandir(folder):
        newest = max(newest, entry.stat().st_mtime)
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(newest))


def summarize(folder: str) -> RunSummary:
    """The summary of one run folder (see the module docstring)."""
    run = RunSummary(os.path.basename(os.path.normpath(folder)), folder, _changed(folder))
    entries = read_metrics(os.path.join(folder, METRICS_FILE))
    if entries:
        last = entries[-1]
        run.epoch, run.step = last.get("epoch"), last.get("step")
        epochs = [e for e in entries if e["event"] == "epoch"]
        # a run stopped inside its first epoch has only step entries: better those than nothing
        run.best = best_metrics(epochs or entries)
        run.source = METRICS_FILE
        return run
    try:
        with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, ValueError):
        return run
    if isinstance(document, dict):
        # the char-model recipes record {"val_loss": ..., "steps": ..., "seconds": ...}
        run.step, run.epoch = document.get("steps"), document.get("epochs")
        numbers = {k: v for k, v in document.items() if k not in ("steps", "epochs", "seconds")}
        run.best = best_metrics([numbers])
        run.source = "model.json"
    return run


def summarize_all(root: str) -> list[RunSummary]:
    """Every run folder directly under `root`, by name."""
    folders = sorted(e.path for e in os.scandir(root) if e.is_dir())
    return [summarize(folder) for folder in folders]


def _format(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def table(runs: list[RunSummary]) -> str:
    """The runs as aligned text, one line each."""
    rows = []
    for run in runs:
        if run.source is None:
            numbers = "no metrics.jsonl"
        else:
            numbers = "  ".join(f"{k} {_format(v)}" for k, v in run.best.items())
            if run.source != METRICS_FILE:
                numbers = f"{numbers}  (from {run.source})".lstrip()
        progress = " ".join(
            f"{word} {value:,}"
            for word, value in (("epoch", run.epoch), ("step", run.step))
            if _number(value)
        )
        rows.append((run.name, run.changed, progress, numbers))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3] for row in rows
    )


def as_json(runs: list[RunSummary]) -> str:
    return json.dumps([asdict(run) for run in runs], indent=2)
