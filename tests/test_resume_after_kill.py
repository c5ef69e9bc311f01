"""Training that survives a crash bit for bit: `glassnet train` killed with SIGKILL and resumed.

Each recipe runs once uninterrupted, then three more times, each killed at a different moment:
in the middle of an epoch, while a checkpoint is being written (the write is held open by
tests/slow_checkpoint_writes.py), and right after a checkpoint appeared. Each killed run is
resumed with ``--resume`` and must end with the very same weights, byte for byte. All processes
use one BLAS thread, so every kernel is deterministic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from glassnet.io import load

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SLOW_WRITES = HERE / "slow_checkpoint_writes.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
DEADLINE = 240.0  # seconds any one run may take


def command(recipe_args: list[str], out: Path, slow: bool = False) -> list[str]:
    program = [str(SLOW_WRITES)] if slow else ["-m", "glassnet.cli"]
    return [sys.executable, *program, "train", *recipe_args, "--out", str(out), "--no-progress"]


def finish(args: list[str]) -> None:
    done = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, done.stderr[-3000:]


def steps_logged(out: Path) -> int:
    try:
        lines = (out / "metrics.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return 0
    steps = 0
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        steps = max(steps, entry.get("step", 0))
    return steps


def checkpoints(out: Path) -> list[Path]:
    return sorted((out / "checkpoints").glob("step-*.safetensors"))


def writing(out: Path) -> bool:
    return any((out / "checkpoints").glob(".step-*.tmp"))


def kill_when(args: list[str], condition) -> None:
    """Start `args`, SIGKILL it as soon as `condition()` holds (checked every 2 ms)."""
    process = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + DEADLINE
    try:
        while not condition():
            if process.poll() is not None:
                err = process.stderr.read().decode()[-3000:]
                pytest.fail(f"the run ended (code {process.returncode}) before the kill: {err}")
            if time.monotonic() > deadline:
                pytest.fail(f"the moment to kill never came within {DEADLINE} s")
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        process.stderr.close()


def weights(out: Path) -> dict[str, bytes]:
    found = sorted(out.glob("*.safetensors"))
    assert found, f"no saved model in {out}"
    return {f"{path.name}:{k}": np.asarray(v.numpy()).tobytes() for path in found
            for k, v in load(path).items()}  # fmt: skip


SHAKESPEARE = HERE.parents[1] / "shared" / "data" / "tinyshakespeare"

CASES = {
    # recipe arguments and the step after which the "mid-epoch" kill comes (checkpoints: every
    # 100 steps and at epoch ends for digits-cnn, 113 steps an epoch; every 20 steps for the
    # other two)
    "digits-cnn": (["digits-cnn", "--epochs", "2"], 160),
    "digits-gan": (["digits-gan", "--epochs", "3", "--checkpoint-every", "20"], 70),
    "shakespeare-lstm": (
        ["shakespeare-lstm", "--max-steps", "60", "--checkpoint-every", "20", "--seq-len", "32"],
        30,
    ),
}


@pytest.mark.parametrize("recipe", sorted(CASES))
def test_killed_run_resumes_bit_identical(tmp_path, recipe, monkeypatch) -> None:
    recipe_args, mid_epoch_step = CASES[recipe]
    if recipe == "shakespeare-lstm":
        if not (SHAKESPEARE / "input.txt").is_file():
            pytest.skip(f"Tiny Shakespeare is not in {SHAKESPEARE}")
        monkeypatch.setitem(ENV, "GLASSNET_DATA", str(SHAKESPEARE))
    finish(command(recipe_args, tmp_path / "whole"))
    reference = weights(tmp_path / "whole")

    moments = {
        "mid-epoch": lambda out: steps_logged(out) >= mid_epoch_step,
        "during a checkpoint write": lambda out: len(checkpoints(out)) >= 1 and writing(out),
        "right after a checkpoint": lambda out: len(checkpoints(out)) >= 1,
    }
    for moment, condition in moments.items():
        out = tmp_path / moment.replace(" ", "-")
        slow = moment == "during a checkpoint write"
        kill_when(command(recipe_args, out, slow=slow), lambda out=out: condition(out))
        assert not (out / "model.safetensors").exists(), f"{moment}: the run had finished"
        finish(command(recipe_args, out) + ["--resume"])
        assert weights(out) == reference, f"{recipe} killed {moment}: weights differ"


def test_damaged_newest_checkpoint_falls_back(tmp_path) -> None:
    out = tmp_path / "run"
    args = command(["digits-cnn", "--epochs", "2"], out)
    kill_when(args, lambda: len(checkpoints(out)) >= 2)
    newest = checkpoints(out)[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    done = subprocess.run(args + ["--resume"], env=ENV, capture_output=True, text=True,
                          timeout=DEADLINE)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    said = done.stdout + done.stderr
    assert "cannot be read" in said and "falling back" in said
    finish(command(["digits-cnn", "--epochs", "2"], tmp_path / "whole"))
    assert weights(out) == weights(tmp_path / "whole")
