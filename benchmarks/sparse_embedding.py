"""One training step of matrix factorisation (batch 1024, 64 numbers per row) as the tables grow:
dense gradients with Adam cost time in proportion to the tables, sparse ones (Embedding(sparse=True)
with SparseAdam) in proportion to the rows the batch read.

    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/sparse_embedding.py
"""

from __future__ import annotations

import time

import numpy as np

import glassnet
from glassnet.models import MatrixFactorization
from glassnet.nn import functional as F
from glassnet.optim import Adam, SparseAdam

BATCH, DIM, STEPS = 1024, 64, 15


def step_ms(rows: int, sparse: bool) -> float:
    """Median milliseconds of one step (zero_grad, forward, MSE, backward, optimizer step)."""
    glassnet.manual_seed(0)
    model = MatrixFactorization(rows, rows, DIM, 3.5, sparse=sparse)
    optimizer = (SparseAdam if sparse else Adam)(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    times = []
    for _ in range(STEPS + 2):
        users = glassnet.tensor(rng.integers(0, rows, BATCH))
        items = glassnet.tensor(rng.integers(0, rows, BATCH))
        stars = glassnet.tensor(rng.integers(1, 6, BATCH).astype(np.float32))
        started = time.perf_counter()
        optimizer.zero_grad()
        F.mse_loss(model(users, items), stars).backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times[2:]))


def main() -> None:
    print(f"{'rows per table':>15}  {'dense + Adam ms':>16}  {'sparse + SparseAdam ms':>22}")
    for rows in (1_682, 30_000, 300_000):
        print(f"{rows:15,}  {step_ms(rows, False):16.2f}  {step_ms(rows, True):22.2f}")


if __name__ == "__main__":
    main()
