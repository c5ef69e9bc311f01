"""Data: datasets that hold samples and the DataLoader that serves them in mini-batches.

The names and behaviour are PyTorch's (``torch.utils.data``): a Dataset answers ``len`` and
``dataset[i]``; a sampler gives the order; a DataLoader shuffles, batches and collates. Ready-made
datasets live in `glassnet.data.datasets`.
"""

from . import datasets, transforms
from .archive import ChecksumMismatch, fetch_archive
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .distributed_sampler import DistributedSampler
from .download import DownloadError, data_dir
from .sampler import RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "DistributedSampler",
    "Dataset",
    "ChecksumMismatch",
    "DownloadError",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "data_dir",
    "fetch_archive",
    "datasets",
    "default_convert",
    "random_split",
    "transforms",
]
