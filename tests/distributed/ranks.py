"""Start a worker of tests/distributed/workers.py on N ranks with mpiexec, with a deadline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
WORKERS = HERE / "workers.py"
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def mpiexec() -> str:
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH; skip if none."""
    pytest.importorskip("mpi4py")
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec: pip install 'glassnet[distributed]'")
    return found


def run_ranks(
    n: int, *args: str, timeout: float = 120.0, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``workers.py ARGS`` on `n` ranks; (the finished process, its seconds). A run that
    outlives `timeout` fails the test (subprocess kills it)."""
    command = [mpiexec(), "-n", str(n), sys.executable, str(WORKERS), *args]
    started = time.monotonic()
    done = subprocess.run(
        command, env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    return done, time.monotonic() - started


def check(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
