"""Data: datasets that hold samples and the DataLoader that serves them in mini-batches.

The names and behaviour are PyTorch's (``torch.utils.data``): a Dataset answers ``len`` and
``dataset[i]``; a DataLoader shuffles, batches and collates. Ready-made datasets live in
`glassnet.data.datasets`.
"""

from . import datasets
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "datasets",
    "default_convert",
    "random_split",
]
