"""The process group: the ranks of one distributed run and how to reach them.

`mpiexec -n 4 python train.py` starts four copies of the same program; each is a *rank* (0 to 3)
in a *world* of size 4. `init_process_group` joins this copy to the others through MPI (mpi4py)
and remembers its rank, the world size and the deadline every collective waits at most. A world
of one (a program started without a launcher) needs no MPI at all: every collective is then a
no-op. While a group of several is open, an exception nobody catches on one rank prints which
rank failed and aborts them all, so no other rank waits forever for it.
"""

from __future__ import annotations

import datetime
import os
import socket
import sys
from typing import Any

# The world size MPI launchers put in each process's environment: MPICH's, Open MPI's.
_LAUNCHER_SIZE = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
DEFAULT_TIMEOUT_S = 300.0
TIMEOUT_VARIABLE = "GLASSNET_DISTRIBUTED_TIMEOUT"


class ProcessGroup:
    """This rank's view of the run: the MPI communicator (None in a world of one), the rank,
    the world size, the collectives' deadline in seconds and where each rank lives."""

    def __init__(self, comm: Any, rank: int, size: int, timeout: float) -> None:
        self.comm = comm
        self.rank = rank
        self.size = size
        self.timeout = timeout
        self.places: list[tuple[str, int]] = [(socket.gethostname(), os.getpid())]

    def describe(self, rank: int) -> str:
        """'rank 1 (pid 1234 on host)'."""
        if rank < len(self.places):
            host, pid = self.places[rank]
            return f"rank {rank} (pid {pid} on {host})"
        return f"rank {rank}"


_group: ProcessGroup | None = None
_previous_excepthook: Any = None


def launched_world_size() -> int:
    """The world size an MPI launcher announced in the environment (1 without a launcher)."""
    for name in _LAUNCHER_SIZE:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def _seconds(timeout: float | datetime.timedelta | None, where: str) -> float:
    if timeout is None:
        timeout = float(os.environ.get(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT_S))
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"{where}: timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def init_process_group(
    backend: str = "mpi",
    timeout: float | datetime.timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
) -> None:
    """Join the ranks the MPI launcher started (PyTorch's ``torch.distributed``'s name).

    Args:
        backend: "mpi" (the only one).
        timeout: the longest any collective waits for the other ranks (seconds or a
            timedelta; default: $GLASSNET_DISTRIBUTED_TIMEOUT or 300 s). MPI itself has no
            deadline; glassnet polls non-blocking collectives against this clock.
        world_size, rank: checked against what the launcher says when given; rank and size
            always come from the launcher.

    Started without a launcher, the world is this one process: no MPI is loaded and every
    collective returns at once.
    """
    global _group, _previous_excepthook
    where = "init_process_group"
    if backend != "mpi":
        raise ValueError(f"{where}: backend must be 'mpi', got {backend!r}")
    if _group is not None:
        raise RuntimeError(f"{where}: the process group is already initialized")
    seconds = _seconds(timeout, where)
    if launched_world_size() == 1:
        group = ProcessGroup(None, 0, 1, seconds)
    else:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(
                f"{where}: this run was started by an MPI launcher, which needs mpi4py: "
                "pip install 'glassnet[distributed]'"
            ) from error
        comm = MPI.COMM_WORLD
        group = ProcessGroup(comm, comm.Get_rank(), comm.Get_size(), seconds)
    for name, asked, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if asked != -1 and asked != actual:
            raise ValueError(f"{where}: {name}={asked} given, but the launcher says {actual}")
    _group = group
    if group.size > 1:
        # small metadata between our own ranks: pickled by mpi4py's lowercase method
        group.places = group.comm.allgather(group.places[0])
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught
        if group.rank == 0:
            ranks = ", ".join(group.describe(r) for r in range(group.size))
            print(f"glassnet.distributed: {group.size} ranks: {ranks}", file=sys.stderr, flush=True)


def _abort_on_uncaught(kind: type, error: BaseException, traceback: Any) -> None:
    """sys.excepthook while a group is open: print the error and which rank raised it, then
    abort every rank (MPI_Abort), instead of leaving the others waiting in a collective."""
    group = _group
    (_previous_excepthook or sys.__excepthook__)(kind, error, traceback)
    if group is None or group.comm is None:
        return
    print(
        f"glassnet.distributed: {group.describe(group.rank)} of {group.size} failed with "
        f"{kind.__name__}: {error}; aborting every rank",
        file=sys.stderr,
        flush=True,
    )
    group.comm.Abort(1)


def current_group(where: str) -> ProcessGroup:
    """The open group, or a RuntimeError telling `where` to call init_process_group first."""
    if _group is None:
        raise RuntimeError(
            f"{where}: the default process group has not been initialized; call "
            "glassnet.distributed.init_process_group() first (and start the program with "
            "mpiexec -n N or glassnet launch -n N)"
        )
    return _group


def is_available() -> bool:
    """Whether mpi4py can be imported (a world of one needs nothing)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized() -> bool:
    return _group is not None


def get_rank() -> int:
    """This process's rank, 0 to world size - 1."""
    return current_group("get_rank").rank


def get_world_size() -> int:
    """How many ranks the run has."""
    return current_group("get_world_size").size


def destroy_process_group() -> None:
    """Leave the group (after a barrier, so no rank leaves while another still talks to it)."""
    global _group, _previous_excepthook
    if _group is None:
        return
    if _group.size > 1:
        from .collectives import barrier

        barrier()
        sys.excepthook = _previous_excepthook or sys.__excepthook__
        _previous_excepthook = None
    _group = None
