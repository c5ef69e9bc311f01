"""A rank that raises, dies or hangs must not leave the others waiting: every rank exits within
a bounded time, with a message that names the failed rank."""

from __future__ import annotations

import re

from .ranks import run_ranks

BOUND = 30.0  # seconds from the failure to every rank gone


def rank_pids(output: str) -> dict[int, str]:
    """The ranks' pids from the line rank 0 prints at init_process_group."""
    return {int(r): pid for r, pid in re.findall(r"rank (\d+) \(pid (\d+) on", output)}


def test_a_rank_that_raises_aborts_every_rank_naming_itself(tmp_path):
    done, seconds = run_ranks(2, "fail", str(tmp_path), "raise", timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert seconds < BOUND
    assert "ValueError: a broken batch on purpose" in output
    assert re.search(r"rank 1 \(pid \d+ on .*\) of 2 failed with ValueError", output), output


def test_a_killed_rank_ends_the_others_and_its_pid_names_it(tmp_path):
    done, seconds = run_ranks(2, "fail", str(tmp_path), "kill", timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert seconds < BOUND
    pids = rank_pids(output)
    assert set(pids) == {0, 1}, output
    # MPICH's launcher reports the dead process by pid; rank 0's line maps the pid to rank 1
    assert f"PID {pids[1]}" in output, output


def test_a_hanging_rank_makes_the_collective_time_out_naming_it(tmp_path):
    done, seconds = run_ranks(
        2, "fail", str(tmp_path), "hang", timeout=90, env={"GLASSNET_DISTRIBUTED_TIMEOUT": "3"}
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert seconds < BOUND
    assert "CollectiveTimeout: all_reduce on rank 0" in output, output
    assert "did not complete within 3 s" in output
    assert "one of ranks 1 did not call it" in output
