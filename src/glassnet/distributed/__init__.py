"""Distributed training over MPI with PyTorch's names (``torch.distributed``).

Start N copies of a program with ``mpiexec -n N`` (or ``glassnet launch -n N``), call
`init_process_group()` in each, and the collectives here move tensors between them.
`glassnet.nn.parallel.DistributedDataParallel` and `glassnet.data.DistributedSampler` build
data-parallel training on them; the Trainer uses both by itself once a group is initialized.
"""

from .collectives import (
    CollectiveTimeout,
    ReduceOp,
    Work,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
)
from .group import (
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    launched_world_size,
)

__all__ = [
    "CollectiveTimeout",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "launched_world_size",
]
