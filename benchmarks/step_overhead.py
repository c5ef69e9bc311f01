"""The engine's own cost: one training step of a tiny MLP (32-32-10, batch 16), where Python
overhead per op and per graph node dominates the arithmetic. Prints the best of 25 blocks of 200
steps in microseconds. Compare two trees on one pinned core:

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=<tree>/src taskset -c 1 python benchmarks/step_overhead.py
"""

import timeit

import numpy as np

import glassnet as gn
from glassnet import nn


def main() -> None:
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = gn.optim.SGD(model.parameters(), lr=0.01)
    x, y = gn.randn(16, 32), gn.tensor(np.arange(16) % 10)

    def step() -> None:
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    best = min(timeit.repeat(step, number=200, repeat=25)) / 200
    print(f"tiny MLP train step: {best * 1e6:.1f} us")


if __name__ == "__main__":
    main()
