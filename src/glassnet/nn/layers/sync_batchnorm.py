"""SyncBatchNorm: batch normalisation over the whole batch of a data-parallel run.

With DistributedDataParallel each process sees only its slice of the batch, so a plain BatchNorm
normalises with that slice's mean and variance. SyncBatchNorm sums the statistics over every
process first (and, in backward, the sums the input's gradient needs), so training on N
processes normalises exactly as one process would on the whole batch. Without a process group,
or with one process, it is a BatchNorm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor
from ..module import Module
from .normalization import _BatchNorm


def _sum_over_ranks(array: np.ndarray) -> np.ndarray:
    from ...distributed import all_reduce

    summed = Tensor(np.ascontiguousarray(array))
    all_reduce(summed)
    return summed.data


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose batch statistics are those of all processes' batches together
    (PyTorch's ``nn.SyncBatchNorm``): y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, per
    channel C, with E and Var over every process's (N, C, *) input.

    Args: as BatchNorm1d/2d (num_features, eps, momentum, affine, track_running_stats);
        `process_group` is accepted for PyTorch compatibility (the one default group).

    Shape: (N, C, *) with any number of trailing dimensions. Every process must call it in the
    same order (its forward and backward each talk to the other processes).
    """

    _ranks = (2, 3, 4, 5)
    _shapes = "(N, C, *)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _sum_across(self) -> Any:
        from ...distributed import get_world_size, is_initialized

        return _sum_over_ranks if is_initialized() and get_world_size() > 1 else None

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """`module` with every BatchNorm layer in it replaced by a SyncBatchNorm that shares its
        parameters and running statistics (the module itself when it is a BatchNorm)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                affine=module.affine,
                track_running_stats=module.track_running_stats,
                process_group=process_group,
            )
            for name in ("weight", "bias"):
                converted.register_parameter(name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted.register_buffer(name, getattr(module, name))
            converted.train(module.training)
            return converted
        for name, child in list(module.named_children()):
            module.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return module
