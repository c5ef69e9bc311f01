"""Gradient averaging for data parallelism, overlapped with backward.

Every rank computes the gradients of its own share of the batch; before the optimizer step they
must be averaged across ranks. Parameters are packed (last layer first, the order backward
finishes them in) into buckets of a few megabytes. A hook on each parameter copies its gradient
into its bucket the moment backward has finished it; when a bucket is full its sum across ranks
starts at once (a non-blocking MPI allreduce), while backward goes on with the earlier layers.
When the last parameter's gradient is in, the reducer waits for all buckets (within the group's
deadline) and writes the averages back into every ``.grad``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...distributed.collectives import wait_for
from ...distributed.group import ProcessGroup
from ...tensor import Tensor
from ..parameter import Parameter

MB = 1024 * 1024


class Bucket:
    """Parameters of one dtype whose gradients travel together: a send and a receive buffer."""

    def __init__(self, params: list[Parameter], dtype: np.dtype) -> None:
        self.params = params
        self.offsets: list[int] = []
        total = 0
        for p in params:
            self.offsets.append(total)
            total += p.data.size
        self.send = np.zeros(total, dtype=dtype)
        self.receive = np.zeros(total, dtype=dtype)
        self.ready = 0
        self.request = None

    def segment(self, buffer: np.ndarray, k: int) -> np.ndarray:
        p = self.params[k]
        return buffer[self.offsets[k] : self.offsets[k] + p.data.size].reshape(p.data.shape)


def _split_into_buckets(
    params: Sequence[Parameter], cap_bytes: int, first_cap_bytes: int
) -> list[Bucket]:
    """Buckets in reverse parameter order, each one dtype and at most `cap_bytes` (the first
    `first_cap_bytes`, so communication starts early), as PyTorch's DDP does."""
    buckets: list[Bucket] = []
    current: list[Parameter] = []
    size = 0
    cap = first_cap_bytes
    for p in reversed(list(params)):
        if current and (p.data.dtype != current[0].data.dtype or size + p.data.nbytes > cap):
            buckets.append(Bucket(current, current[0].data.dtype))
            current, size, cap = [], 0, cap_bytes
        current.append(p)
        size += p.data.nbytes
    if current:
        buckets.append(Bucket(current, current[0].data.dtype))
    return buckets


class GradientReducer:
    """Averages the gradients of `params` across the ranks of `group` during backward.

    `sync` says whether the next backward averages (False: gradients only accumulate locally,
    as in ``no_sync()``). A backward that does not reach every parameter leaves a reduction
    pending: `finish()` completes it (the missing gradients count as zero, or as what ``.grad``
    holds already)."""

    def __init__(
        self,
        named_params: Sequence[tuple[str, Parameter]],
        group: ProcessGroup,
        bucket_cap_mb: float = 25.0,
        first_bucket_mb: float = 1.0,
    ) -> None:
        named_params = [(n, p) for n, p in named_params if p.requires_grad]
        self.names = {id(p): n for n, p in named_params}
        self.group = group
        self.sync = True
        self.buckets = _split_into_buckets(
            [p for _, p in named_params],
            int(bucket_cap_mb * MB),
            int(min(first_bucket_mb, bucket_cap_mb) * MB),
        )
        self.place: dict[int, tuple[Bucket, int]] = {}
        for bucket in self.buckets:
            for k, p in enumerate(bucket.params):
                self.place[id(p)] = (bucket, k)
        self.total = len(self.place)
        self.handles = [p.register_hook(self._hook_for(p)) for _, p in named_params]
        self._reset()

    def _reset(self) -> None:
        self.seen: set[int] = set()
        self.next_launch = 0
        for bucket in self.buckets:
            bucket.ready = 0
            bucket.request = None

    @property
    def pending(self) -> bool:
        """Whether a backward has started a reduction that has not finished."""
        return bool(self.seen)

    def unfinished_names(self) -> list[str]:
        return [self.names[i] for i in self.place if i not in self.seen]

    def _hook_for(self, param: Parameter):
        def hook(grad: Tensor) -> Tensor | None:
            if not self.sync or self.group.size == 1:
                return None
            self._arrived(param, grad.data)
            if len(self.seen) == self.total:
                self.finish()
                # .grad now holds the average; the engine still adds this gradient: make it 0
                return Tensor._leaf(np.zeros_like(grad.data))
            return None

        return hook

    def _arrived(self, param: Parameter, grad: np.ndarray | None) -> None:
        bucket, k = self.place[id(param)]
        segment = bucket.segment(bucket.send, k)
        held = param.grad
        if grad is None:
            segment[...] = 0 if held is None else held.data
        elif held is None:
            segment[...] = grad
        else:
            np.add(held.data, grad, out=segment, casting="unsafe")
        self.seen.add(id(param))
        bucket.ready += 1
        self._launch_full_buckets()
        for started in self.buckets[: self.next_launch]:  # let MPI move them along meanwhile
            if started.request is not None:
                started.request.Test()

    def _launch_full_buckets(self) -> None:
        """Start the allreduce of each full bucket, in bucket order (every rank must start the
        same collectives in the same order)."""
        from mpi4py import MPI

        while self.next_launch < len(self.buckets):
            bucket = self.buckets[self.next_launch]
            if bucket.ready < len(bucket.params):
                return
            bucket.request = self.group.comm.Iallreduce(bucket.send, bucket.receive, op=MPI.SUM)
            self.next_launch += 1

    def finish(self) -> None:
        """Complete a pending reduction: send what is missing, wait for every bucket, write
        the averages into ``.grad``. Nothing to do when no reduction is pending."""
        if not self.seen:
            return
        without_grad = set()
        for bucket in self.buckets:
            for p in bucket.params:
                if id(p) not in self.seen:
                    if p.grad is None:
                        without_grad.add(id(p))
                    self._arrived(p, None)
        size = self.group.size
        for bucket in self.buckets:
            wait_for(bucket.request, "DistributedDataParallel gradient all_reduce", self.group)
            for k, p in enumerate(bucket.params):
                if id(p) in without_grad:  # unused on every rank (same model): stays None
                    continue
                average = bucket.segment(bucket.receive, k) / size
                p.grad = Tensor._leaf(average)
        self._reset()

    def remove(self) -> None:
        """Take the hooks off the parameters."""
        for handle in self.handles:
            handle.remove()
        self.handles = []
