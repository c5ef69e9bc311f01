"""`glassnet launch -n N -- train RECIPE` and `mpiexec -n N glassnet train RECIPE`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from glassnet.distributed.launch import launch_command

from .ranks import ENV, check, mpiexec


def test_launch_trains_a_recipe_on_two_ranks_and_only_rank_0_reports(tmp_path):
    mpiexec()  # skips without MPI
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "glassnet.cli", "launch", "-n", "2", "--", "train", "digits-mlp",
         "--epochs", "1", "--out", str(out), "--no-progress"],
        env=ENV, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    check(done)
    assert done.stdout.count("test accuracy:") == 1  # rank 1 trained too, silently
    assert "2 ranks: rank 0" in done.stderr
    assert (out / "model.safetensors").exists() and (out / "metrics.jsonl").exists()
    assert len(list((out / "checkpoints").glob("step-*.safetensors"))) >= 1


def test_the_launch_line_passes_hosts_and_hostfile_through():
    line = launch_command(4, ["train", "mnist-cnn"], hosts="a,b", mpiexec="/x/mpiexec")
    assert line[:5] == ["/x/mpiexec", "-n", "4", "-hosts", "a,b"]
    assert line[-5:] == [sys.executable, "-m", "glassnet.cli", "train", "mnist-cnn"]
    line = launch_command(2, ["train", "x"], hostfile="hosts.txt", mpiexec="/x/mpiexec")
    assert line[3:5] == ["-f", "hosts.txt"]


def test_bad_launch_arguments_are_named():
    with pytest.raises(ValueError, match="-n must be a positive number of ranks, got 0"):
        launch_command(0, ["train", "x"], mpiexec="/x/mpiexec")
    with pytest.raises(ValueError, match="give the glassnet command to run after --"):
        launch_command(2, [], mpiexec="/x/mpiexec")
