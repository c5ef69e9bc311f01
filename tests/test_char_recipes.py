"""The character-level language-model recipes on the Trainer: a run stopped part-way and resumed
from its checkpoint ends with the same weights, bit for bit, as the run that never stopped.

The char-RNN runs cross an epoch boundary after the crash (new random stream offsets, the carried
state reset), with dropout drawing from the global generator; the crash comes three steps after
the last checkpoint, so the resumed run replays the epoch's data up to it and restores the
recurrent state that the checkpoint saved.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from glassnet.recipes import get_recipe
from glassnet.recipes.char_rnn import CharRNNTrainer
from glassnet.recipes.shakespeare_gpt import GPTTrainer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared/data"
SHAKESPEARE = SHARED_DATA / "tinyshakespeare/input.txt"
STEPS, EVERY, CRASH = 40, 7, 17


class Crash(Exception):
    """Stands for a run killed part-way."""


def crash_at(monkeypatch, trainer_class, step: int) -> None:
    """Make `trainer_class` raise Crash instead of taking step `step` + 1."""
    original = trainer_class.train_step

    def train_step(self, batch):
        if self.global_step == step:
            raise Crash
        return original(self, batch)

    monkeypatch.setattr(trainer_class, "train_step", train_step)


def weights(out: Path) -> dict[str, bytes]:
    return {name: array.tobytes() for name, array in load_file(out / "model.safetensors").items()}


def steps_logged(out: Path) -> list[int]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [e["step"] for e in map(json.loads, lines) if e["event"] == "step"]


def interrupted_and_whole(tmp_path, monkeypatch, recipe: str, trainer_class, **options):
    run = get_recipe(recipe).run
    options.update(max_steps=STEPS, minutes=None, checkpoint_every=EVERY, verbose=False)
    whole = run(out_dir=str(tmp_path / "whole"), progress=False, **options)
    with monkeypatch.context() as patch:
        crash_at(patch, trainer_class, CRASH)
        with pytest.raises(Crash):
            run(out_dir=str(tmp_path / "cut"), progress=False, **options)
    newest = sorted((tmp_path / "cut/checkpoints").iterdir())[-1].name
    assert newest == f"step-{CRASH // EVERY * EVERY:09d}.safetensors"
    resumed = run(out_dir=str(tmp_path / "cut"), progress=False, resume=True, **options)
    return whole, resumed


@pytest.mark.skipif(not SHAKESPEARE.is_file(), reason=f"Tiny Shakespeare is not at {SHAKESPEARE}")
def test_shakespeare_lstm_resumes_bit_identically(tmp_path, monkeypatch):
    whole, resumed = interrupted_and_whole(
        tmp_path,
        monkeypatch,
        "shakespeare-lstm",
        CharRNNTrainer,
        root=SHARED_DATA,
        max_chars=8_000,  # 28 batches per epoch: the runs go on into the second
        embed=8,
        hidden=32,
        layers=2,
        dropout=0.1,
        batch_size=16,
        seq_len=16,
        eval_every=1e9,
    )
    assert whole["steps"] == resumed["steps"] == STEPS
    assert weights(tmp_path / "whole") == weights(tmp_path / "cut")
    assert resumed["val_loss"] == whole["val_loss"] < np.log(65)
    for key in ("step", "loss", "val_loss"):  # the curve's points (their minutes differ)
        assert resumed["history"][key] == whole["history"][key]
    assert steps_logged(tmp_path / "cut") == list(range(1, STEPS + 1))


def test_python_gru_resumes_bit_identically(tmp_path, monkeypatch):
    whole, resumed = interrupted_and_whole(
        tmp_path,
        monkeypatch,
        "python-gru",
        CharRNNTrainer,
        max_chars=8_000,
        embed=8,
        hidden=16,
        layers=2,
        dropout=0.1,
        batch_size=16,
        seq_len=16,
        eval_every=1e9,
    )
    assert weights(tmp_path / "whole") == weights(tmp_path / "cut")
    assert resumed["val_loss"] == whole["val_loss"]


def test_shakespeare_gpt_resumes_bit_identically(tmp_path, monkeypatch):
    whole, resumed = interrupted_and_whole(
        tmp_path,
        monkeypatch,
        "shakespeare-gpt",
        GPTTrainer,
        corpus="python",
        context=16,
        d_model=16,
        n_layers=1,
        n_heads=2,
        dropout=0.1,
        batch_size=4,
        warmup_steps=5,
        eval_every=1e9,
    )
    assert whole["stopped"] == resumed["stopped"] == "schedule complete"
    assert whole["steps"] == resumed["steps"] == STEPS
    assert weights(tmp_path / "whole") == weights(tmp_path / "cut")
    assert resumed["val_loss"] == whole["val_loss"]
    assert steps_logged(tmp_path / "cut") == list(range(1, STEPS + 1))


def test_a_fresh_run_clears_old_checkpoints_and_reports_as_it_goes(tmp_path, capsys):
    """A fresh run in a folder with an earlier run's checkpoints removes them (a later resume
    would take the newest for its own); lines and samples are printed through the recipe's
    writer, after every epoch and at the end."""
    run = get_recipe("python-gru").run
    options = dict(max_chars=4_000, embed=8, hidden=16, layers=1, dropout=0.0, batch_size=8)
    options.update(seq_len=16)
    options.update(minutes=None, eval_every=1e9, progress=False, out_dir=str(tmp_path))
    run(max_steps=30, checkpoint_every=10, verbose=False, **options)
    assert len(list((tmp_path / "checkpoints").iterdir())) == 3
    result = run(max_steps=4, checkpoint_every=None, verbose=True, **options)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-000000004.safetensors"]
    out = capsys.readouterr().out
    assert "removed 3 checkpoints" in out and "validation loss:" in out
    assert "step     4  epoch" in out and "\n  def " in out  # the report line and its sample
    assert result["history"]["step"] == [4]


def test_ctrl_c_still_evaluates_and_saves(tmp_path, monkeypatch):
    original = CharRNNTrainer.train_step

    def train_step(self, batch):
        if self.global_step == 5:
            raise KeyboardInterrupt
        return original(self, batch)

    monkeypatch.setattr(CharRNNTrainer, "train_step", train_step)
    result = get_recipe("python-gru").run(
        out_dir=str(tmp_path), max_chars=4_000, embed=8, hidden=16, layers=1, dropout=0.0,
        batch_size=8, seq_len=16, minutes=None, max_steps=50, verbose=False, progress=False,
    )  # fmt: skip
    assert result["stopped"] == "Ctrl-C" and result["steps"] == 5
    assert np.isfinite(result["val_loss"]) and result["history"]["step"] == [5]
    assert json.loads((tmp_path / "model.json").read_text())["extras"]["steps"] == 5
