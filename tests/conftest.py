"""Shared test set-up: make `tests/` importable so every test can use `torch_compare`, and keep
PyTorch (the reference) on one thread: the reference values are the same, and on a small shared
machine torch's thread pool otherwise fights NumPy's and makes the suite several times slower."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)
