"""The PyTorch side of the benchmark: the reference every glassnet time is divided by.

It builds the same nn.Sequential (models.py) from the driver's weights file, trains it with plain
SGD or runs it under torch.no_grad(), and times steps on request (see protocol.py). It imports
torch and never glassnet, so the two libraries' thread pools never share a process.
"""

from __future__ import annotations

import platform
from itertools import cycle
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from models import build
from protocol import CHECK_STEPS, LEARNING_RATE, Step, serve, thread_pools


def info() -> dict[str, Any]:
    return {
        "library": f"torch {torch.__version__}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": f"torch.get_num_threads()={torch.get_num_threads()}, "
        f"interop={torch.get_num_interop_threads()}",
        "pools": thread_pools(),
    }


def build_model(name: str, data: dict[str, np.ndarray]) -> torch.nn.Sequential:
    model = build(name, torch.nn)
    model.load_state_dict({key: torch.from_numpy(data[key]) for key in model.state_dict()})
    return model


def prepare(name: str, kind: str, data: dict[str, np.ndarray]) -> tuple[Step, dict[str, Any]]:
    model = build_model(name, data)
    if kind == "infer":
        model.eval()
        inputs = cycle([torch.from_numpy(x) for x in data["x"]])

        def infer_step() -> torch.Tensor:
            with torch.no_grad():
                return model(next(inputs))

        return infer_step, {"losses": [], "arrays": {"output": infer_step().numpy()}}

    batches = cycle(
        [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in zip(data["x"], data["y"])]
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def train_step() -> torch.Tensor:
        x, y = next(batches)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    losses = [train_step().item() for _ in range(CHECK_STEPS)]
    first_weight = model[0].weight.detach().numpy().copy()
    return train_step, {"losses": losses, "arrays": {"0.weight": first_weight}}


if __name__ == "__main__":
    serve(info, prepare)
