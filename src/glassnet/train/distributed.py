"""The Trainer in a data-parallel run: what changes when a process group is open.

Each rank trains the same model on its own share of every batch: the training data is re-cut
with a DistributedSampler (the recipe's batch size stays the global batch, each of N ranks takes
1/N of it, so a recipe trains with the same hyperparameters on any number of ranks), the
gradients are averaged during backward, and rank 0's buffers (batch norm's running statistics)
are copied to all before each step, as DistributedDataParallel does. Epoch numbers are averaged
over the ranks; only rank 0 prints and writes files. A checkpoint carries every rank's random
generator states, gathered to rank 0, so a run resumed on the same number of ranks continues
bit for bit; on another number of ranks each rank starts from rank 0's states and the data is
re-sharded (same weights, optimizer state and position, not the same numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import DataLoader, DistributedSampler, RandomSampler
from ..distributed import (
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    get_world_size,
    is_initialized,
)
from ..distributed.group import current_group
from ..nn.module import Module
from ..nn.parallel.distributed import check_same_model, sync_module_states
from ..nn.parallel.reducer import GradientReducer
from ..random import as_rng
from ..tensor import Tensor


def process_group_open() -> bool:
    """Whether this process is one rank of several (a data-parallel run)."""
    return is_initialized() and get_world_size() > 1


def is_main_process() -> bool:
    """True on rank 0, and in a run of one process: the one that prints and writes files."""
    return not process_group_open() or current_group("is_main_process").rank == 0


class DataParallelRun:
    """This rank's part in a Trainer's data-parallel run: the sharded loader, the gradient
    reducer and the checkpoint's per-rank states."""

    def __init__(self, model: Module) -> None:
        who = "Trainer"
        self.group = current_group(who)
        self.rank, self.size = self.group.rank, self.group.size
        self.model = model
        check_same_model(model, who)
        sync_module_states(model)
        self.reducer = GradientReducer(list(model.named_parameters()), self.group)
        self.sampler: DistributedSampler | None = None

    def shard(self, loader: Any) -> Any:
        """`loader` with each rank reading its own 1/N of every epoch, in batches of 1/N of
        the loader's batch size (the global batch stays the same)."""
        if isinstance(getattr(loader, "sampler", None), DistributedSampler):
            self.sampler = loader.sampler
            return loader
        if not isinstance(loader, DataLoader) or loader.batch_size is None:
            raise TypeError(
                f"Trainer.fit in a distributed run: the training data must be a DataLoader with "
                f"a batch size (or a Dataset or a pair of tensors), to share it among the "
                f"{self.size} ranks; got {type(loader).__name__}"
            )
        if loader.batch_size % self.size:
            raise ValueError(
                f"Trainer.fit in a distributed run: the batch size {loader.batch_size} is the "
                f"global batch and must divide evenly among the {self.size} ranks"
            )
        shuffle = loader.shuffle or isinstance(loader.sampler, RandomSampler)
        seed = [int(as_rng(loader.generator).integers(2**31))]  # the same draw on every rank
        broadcast_object_list(seed, src=0)
        self.sampler = DistributedSampler(
            loader.dataset, self.size, self.rank, shuffle, seed[0], loader.drop_last
        )
        return DataLoader(
            loader.dataset,
            batch_size=loader.batch_size // self.size,
            sampler=self.sampler,
            drop_last=loader.drop_last,
            collate_fn=loader.collate_fn,
        )

    def start_epoch(self, epoch: int) -> None:
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def sync_buffers(self) -> None:
        """Rank 0's buffers (running statistics) on every rank."""
        for buffer in self.model.buffers():
            broadcast(buffer, src=0)

    def rank_zero_decides(self, flag: bool) -> bool:
        """Rank 0's `flag` on every rank."""
        decision = Tensor(np.array([float(flag)]))
        broadcast(decision, src=0)
        return bool(decision.data[0])

    def average(self, logs: dict[str, float]) -> dict[str, float]:
        """Each number averaged over the ranks (every rank has the same keys and, thanks to the
        sampler, the same number of samples)."""
        keys = sorted(logs)
        values = Tensor(np.array([logs[k] for k in keys], dtype=np.float64))
        all_reduce(values)
        return {k: float(v) / self.size for k, v in zip(keys, values.data)}

    def add_rank_states(self, state: dict[str, Any]) -> dict[str, Any]:
        """`state` (rank 0's view) with every rank's generator states, gathered to all."""
        mine = {
            "generators": state["generators"],
            "epoch_start_generators": state["epoch_start_generators"],
        }
        everyone: list = [None] * self.size
        all_gather_object(everyone, mine)
        sampler_seed = None if self.sampler is None else self.sampler.seed
        state["ranks"] = {"world_size": self.size, "states": everyone, "sampler_seed": sampler_seed}
        return state

    def own_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """`state` as read from a checkpoint, with this rank's generator states in place of
        rank 0's when it was written by a run of as many ranks."""
        saved = state.get("ranks")
        if saved is None:
            return state
        if saved["sampler_seed"] is not None and self.sampler is not None:
            self.sampler.seed = int(saved["sampler_seed"])
        if int(saved["world_size"]) == self.size:
            state = dict(state)
            state.update(saved["states"][self.rank])
        return state

    def wait_for_main(self) -> None:
        barrier()
