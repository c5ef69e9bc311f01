"""`glassnet launch -n N -- COMMAND`: start N ranks of a glassnet command with MPI's launcher.

The launcher is the `mpiexec` installed beside this Python (the `mpich` wheel of
``pip install 'glassnet[distributed]'``), else the one on PATH. It starts N copies of
``python -m glassnet.cli COMMAND``, here or on the machines `--hosts`/`--hostfile` name (each
needs the same Python environment and the same path to it). With Open MPI's mpiexec the flags
it needs to run as root or with more ranks than cores are added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def find_mpiexec() -> str:
    """The mpiexec beside sys.executable, else on PATH; FileNotFoundError saying how to get one."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            "glassnet launch: no mpiexec beside this Python or on PATH; install one with "
            "pip install 'glassnet[distributed]' (MPICH's wheel)"
        )
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        version = subprocess.run(
            [mpiexec, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in version or "OpenRTE" in version


def launch_command(
    n: int,
    command: Sequence[str],
    hosts: str | None = None,
    hostfile: str | None = None,
    mpiexec: str | None = None,
) -> list[str]:
    """The mpiexec command line that runs ``glassnet COMMAND`` on `n` ranks."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"glassnet launch: -n must be a positive number of ranks, got {n!r}")
    if not command:
        raise ValueError("glassnet launch: give the glassnet command to run after --")
    mpiexec = mpiexec or find_mpiexec()
    line = [mpiexec, "-n", str(n)]
    if _is_open_mpi(mpiexec):
        line += ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        line += ["--host", hosts] if hosts else []
        line += ["--hostfile", hostfile] if hostfile else []
    else:  # MPICH's hydra
        line += ["-hosts", hosts] if hosts else []
        line += ["-f", hostfile] if hostfile else []
    return [*line, sys.executable, "-m", "glassnet.cli", *command]


def launch(
    n: int, command: Sequence[str], hosts: str | None = None, hostfile: str | None = None
) -> int:
    """Run ``glassnet COMMAND`` on `n` ranks; the launcher's exit code."""
    line = launch_command(n, command, hosts, hostfile)
    print("glassnet launch:", " ".join(line), file=sys.stderr, flush=True)
    return subprocess.call(line)
