"""Shared test set-up: make `tests/` importable so every test can use `torch_compare`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
