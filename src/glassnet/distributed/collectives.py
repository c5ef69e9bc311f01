"""Collectives: operations every rank calls together, each with its own piece of the data.

`all_reduce` adds (or averages, or takes the largest of) one tensor across all ranks, in place on
each; `broadcast` copies rank `src`'s tensor to all; `all_gather` hands every rank every rank's
tensor; `barrier` waits until all ranks arrive. Arrays travel with mpi4py's buffer methods (no
pickling). MPI waits forever by itself, so each collective is started non-blocking and polled
against the group's deadline: a rank that never arrives turns into an error naming the
collective and the ranks, not a silent hang.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ..tensor import Tensor
from .group import ProcessGroup, current_group


class ReduceOp:
    """How `all_reduce` combines the ranks' values (PyTorch's names)."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


_MPI_OPS = {"sum": "SUM", "avg": "SUM", "max": "MAX", "min": "MIN", "product": "PROD"}


class CollectiveTimeout(RuntimeError):
    """A collective did not complete within the group's deadline."""


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it is done (within the
    deadline) and runs what finishes it (averaging, copying back)."""

    def __init__(self, request: Any, name: str, finish: Any = None) -> None:
        self.request = request
        self.name = name
        self.finish = finish
        self.done = request is None

    def is_completed(self) -> bool:
        if not self.done and self.request.Test():
            self._complete()
        return self.done

    def wait(self) -> bool:
        if not self.done:
            wait_for(self.request, self.name, current_group(self.name))
            self._complete()
        return True

    def _complete(self) -> None:
        self.done = True
        if self.finish is not None:
            self.finish()
            self.finish = None


def wait_for(request: Any, name: str, group: ProcessGroup) -> None:
    """Poll `request` until it completes; CollectiveTimeout after the group's deadline.

    MPI moves a large message only while some rank calls into it, so for the first 50 ms the
    poll only yields the core between tests (a rank that shares cores lets the others run);
    after that it sleeps a little between tests (doubling up to 1 ms)."""
    started = time.monotonic()
    deadline = started + group.timeout
    pause = 0.0
    while not request.Test():
        now = time.monotonic()
        if now > deadline:
            raise CollectiveTimeout(_timeout_message(name, group))
        time.sleep(pause)
        if now - started > 0.05:
            pause = min(max(2 * pause, 1e-5), 1e-3)


def _timeout_message(name: str, group: ProcessGroup) -> str:
    host = group.places[group.rank][0]
    gone = [
        group.describe(r)
        for r, (h, pid) in enumerate(group.places)
        if h == host and r != group.rank and not _alive(pid)
    ]
    others = ", ".join(str(r) for r in range(group.size) if r != group.rank)
    why = (
        f"{', '.join(gone)} {'has' if len(gone) == 1 else 'have'} died"
        if gone
        else f"one of ranks {others} did not call it (stuck, elsewhere in the program, or dead "
        "on another machine)"
    )
    return (
        f"{name} on {group.describe(group.rank)} of {group.size} did not complete within "
        f"{group.timeout:g} s: {why}. The deadline is init_process_group(timeout=...) or "
        "$GLASSNET_DISTRIBUTED_TIMEOUT."
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _array(tensor: Any, where: str) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.data.flags.c_contiguous:
        tensor.data = np.ascontiguousarray(tensor.data)
    return tensor.data


def _result(work: Work, async_op: bool) -> Work | None:
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, async_op: bool = False) -> Work | None:
    """Combine `tensor` across ranks with `op` (SUM, AVG, MAX, MIN, PRODUCT); every rank's
    tensor holds the result afterwards (in place). ``async_op=True`` returns a `Work`."""
    name = "all_reduce"
    group = current_group(name)
    data = _array(tensor, name)
    if op not in _MPI_OPS:
        raise ValueError(f"{name}: op must be one of {sorted(_MPI_OPS)}, got {op!r}")
    if group.size == 1:
        return _result(Work(None, name), async_op)
    from mpi4py import MPI

    request = group.comm.Iallreduce(MPI.IN_PLACE, data, op=getattr(MPI, _MPI_OPS[op]))

    def finish() -> None:
        if op == ReduceOp.AVG:
            np.divide(data, group.size, out=data, casting="unsafe")

    return _result(Work(request, name, finish), async_op)


def broadcast(tensor: Tensor, src: int = 0, async_op: bool = False) -> Work | None:
    """Copy rank `src`'s `tensor` into every other rank's (in place; same shape everywhere)."""
    name = "broadcast"
    group = current_group(name)
    data = _array(tensor, name)
    _check_rank(src, group, name, "src")
    if group.size == 1:
        return _result(Work(None, name), async_op)
    return _result(Work(group.comm.Ibcast(data, root=src), name), async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, async_op: bool = False) -> Work | None:
    """Fill `tensor_list` (one tensor per rank, each shaped like `tensor`) with every rank's
    `tensor`, in rank order."""
    name = "all_gather"
    group = current_group(name)
    data = _array(tensor, name)
    if len(tensor_list) != group.size:
        raise ValueError(
            f"{name}: tensor_list must hold one tensor per rank ({group.size}), got "
            f"{len(tensor_list)}"
        )
    for i, t in enumerate(tensor_list):
        if not isinstance(t, Tensor) or t.shape != tensor.shape:
            raise ValueError(
                f"{name}: tensor_list[{i}] must be a Tensor of shape {tuple(tensor.shape)}, got "
                f"{getattr(t, 'shape', type(t).__name__)}"
            )
    gathered = np.empty((group.size, *data.shape), dtype=data.dtype)

    def finish() -> None:
        for t, row in zip(tensor_list, gathered):
            t.data = row.astype(t.data.dtype, copy=True)

    if group.size == 1:
        gathered[0] = data
        return _result(Work(None, name, finish), async_op)
    return _result(Work(group.comm.Iallgather(data, gathered), name, finish), async_op)


def barrier() -> None:
    """Wait until every rank has called barrier (within the deadline)."""
    group = current_group("barrier")
    if group.size > 1:
        wait_for(group.comm.Ibarrier(), "barrier", group)


def all_gather_object(object_list: list, obj: Any) -> None:
    """Fill `object_list` with every rank's `obj` (small metadata: pickled between this run's
    own ranks, after a barrier that holds the deadline)."""
    group = current_group("all_gather_object")
    if len(object_list) != group.size:
        raise ValueError(
            f"all_gather_object: object_list must have one slot per rank ({group.size}), got "
            f"{len(object_list)}"
        )
    barrier()
    object_list[:] = [obj] if group.size == 1 else group.comm.allgather(obj)


def broadcast_object_list(object_list: list, src: int = 0) -> None:
    """Replace `object_list`'s items on every rank by rank `src`'s (small metadata, pickled)."""
    group = current_group("broadcast_object_list")
    _check_rank(src, group, "broadcast_object_list", "src")
    barrier()
    if group.size > 1:
        object_list[:] = group.comm.bcast(list(object_list), root=src)


def _check_rank(rank: Any, group: ProcessGroup, where: str, name: str) -> None:
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < group.size:
        raise ValueError(f"{where}: {name} must be a rank in 0..{group.size - 1}, got {rank!r}")
