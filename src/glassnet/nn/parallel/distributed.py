"""DistributedDataParallel: one model copy per rank, each on its own share of the batch.

Data parallelism: every rank holds the same weights, runs forward and backward on a different
slice of the batch, and the ranks average their gradients, so every optimizer step is the step
a single process would take on the whole batch, and the weights stay identical everywhere.
Wrapping copies rank 0's parameters and buffers to every rank and checks that all ranks built
the same model; a `GradientReducer` averages the gradients while backward still runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ...autograd import is_grad_enabled
from ...distributed import all_gather_object, broadcast
from ...distributed.group import current_group
from ..module import Module
from .reducer import GradientReducer


class DistributedDataParallel(Module):
    """Wrap `module` for data-parallel training (PyTorch's ``nn.parallel.DistributedDataParallel``).

    Args:
        module: the model; every rank must build the same one (checked at wrap time).
        broadcast_buffers: copy rank 0's buffers (batch norm's running statistics) to every
            rank before each training forward, as PyTorch does.
        bucket_cap_mb: the size of the gradient buckets, in MB (the first is 1 MB, so
            communication starts early in backward).
        device_ids, output_device: accepted for PyTorch compatibility (CPU: None).

    The wrapped model's ``state_dict()`` keys start with ``module.`` as in PyTorch; save
    ``ddp.module.state_dict()`` for the plain model's keys. ``with ddp.no_sync():`` accumulates
    gradients locally (no communication) until the first backward after the block.

    Example::

        >>> dist.init_process_group()
        >>> model = DistributedDataParallel(Net())
        >>> loss_fn(model(x_rank), y_rank).backward()   # .grad now holds the average
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        broadcast_buffers: bool = True,
        bucket_cap_mb: float = 25.0,
    ) -> None:
        super().__init__()
        who = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{who}: module must be a glassnet Module, got {type(module).__name__}")
        group = current_group(who)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.require_backward_grad_sync = True
        check_same_model(module, who)
        sync_module_states(module)
        self.reducer = GradientReducer(list(module.named_parameters()), group, bucket_cap_mb)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.reducer.pending:
            raise RuntimeError(
                "DistributedDataParallel: the gradients of the previous backward were not all "
                "averaged: parameters "
                f"{', '.join(self.reducer.unfinished_names()) or '(none)'} received no gradient. "
                "Every parameter must take part in the loss on every step (or set "
                "requires_grad=False on those that do not)"
            )
        if self.module.training and self.broadcast_buffers and is_grad_enabled():
            for buffer in self.module.buffers():
                broadcast(buffer, src=0)
        self.reducer.sync = self.require_backward_grad_sync
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside the block, backward only accumulates gradients on each rank; the first
        backward after it averages the sum of them all."""
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before


def check_same_model(module: Module, who: str) -> None:
    """Every rank must hold parameters with the same names, shapes and dtypes, in the same
    order: ValueError naming the first rank whose model differs from rank 0's."""
    group = current_group(who)
    mine = [(n, tuple(p.shape), str(p.data.dtype)) for n, p in module.named_parameters()]
    everyone: list = [None] * group.size
    all_gather_object(everyone, mine)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone):
        if theirs == reference:
            continue
        if len(theirs) != len(reference):
            detail = f"{len(theirs)} parameters, rank 0 has {len(reference)}"
        else:
            a, b = next((a, b) for a, b in zip(theirs, reference) if a != b)
            detail = f"parameter {a[0]} {a[1]} {a[2]} where rank 0 has {b[0]} {b[1]} {b[2]}"
        raise ValueError(f"{who}: rank {rank} built a different model: {detail}")


def sync_module_states(module: Module) -> None:
    """Copy rank 0's parameters and buffers to every rank."""
    for tensor in [*module.parameters(), *module.buffers()]:
        broadcast(tensor, src=0)
