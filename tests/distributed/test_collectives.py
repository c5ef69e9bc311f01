"""glassnet.distributed's collectives on 2 and 4 ranks, a world of one, and use before init."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import glassnet as gn
import glassnet.distributed as dist
from glassnet.nn.parallel import DistributedDataParallel

from .ranks import ENV, WORKERS, check, run_ranks


@pytest.mark.parametrize("size", [2, 4])
def test_collectives_give_every_rank_the_combined_values(tmp_path, size):
    done, _ = run_ranks(size, "collectives", str(tmp_path))
    check(done)
    ranks = range(size)
    for rank in ranks:
        got = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert got["size"] == size
        assert got["sum"] == [sum(ranks), size]
        assert got["avg"] == [sum(ranks) / size, 1.0]
        assert got["max"] == [size - 1]
        assert got["broadcast"] == [(size - 1) * 10]
        assert got["all_gather"] == [[r, -r] for r in ranks]
        assert got["async"] is True


def test_a_world_of_one_needs_no_mpi(tmp_path):
    # started without a launcher: rank 0 of 1, collectives return at once, mpi4py never loaded
    done = subprocess.run(
        [sys.executable, str(WORKERS), "collectives", str(tmp_path)],
        env={k: v for k, v in ENV.items() if not k.startswith(("PMI_", "OMPI_"))},
        capture_output=True,
        text=True,
        timeout=60,
    )
    check(done)
    got = json.loads((tmp_path / "rank0.json").read_text())
    assert got["sum"] == [0, 1] and got["avg"] == [0, 1] and got["all_gather"] == [[0, 0]]
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, glassnet.distributed as d; d.init_process_group();"
         "import glassnet as gn; d.all_reduce(gn.ones(2)); print('mpi4py' in sys.modules)"],
        env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    check(probe)
    assert probe.stdout.strip() == "False"


def test_ddp_and_collectives_before_init_process_group_say_what_to_do():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match=r"DistributedDataParallel: .*init_process_group"):
        DistributedDataParallel(gn.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match=r"all_reduce: .*init_process_group"):
        dist.all_reduce(gn.ones(2))
    with pytest.raises(RuntimeError, match="get_rank"):
        dist.get_rank()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="backend must be 'mpi', got 'nccl'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got -1"):
        dist.init_process_group(timeout=-1)
    assert not dist.is_initialized()
