"""Parallel training of one model: `DistributedDataParallel` over glassnet.distributed."""

from .distributed import DistributedDataParallel
from .reducer import GradientReducer

__all__ = ["DistributedDataParallel", "GradientReducer"]
