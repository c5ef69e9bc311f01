"""The PyTorch side of the benchmark: the reference every glassnet time is divided by.

It builds the same nn.Sequential (models.py) from the driver's weights file, trains it with plain
SGD or runs it under torch.no_grad(), and times steps on request (see protocol.py). It imports
torch and never glassnet, so the two libraries' thread pools never share a process.
"""

from __future__ import annotations

import platform
import sys
from itertools import cycle
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from models import TRANSFORMERS, build
from protocol import ADAMW_LEARNING_RATE, CHECK_STEPS, LEARNING_RATE, Step, serve, thread_pools

# glassnet's GPT and ViT written in PyTorch live with the tests that check them against glassnet
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from torch_twins import TorchGPT, TorchViT  # noqa: E402


def info() -> dict[str, Any]:
    return {
        "library": f"torch {torch.__version__}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": f"torch.get_num_threads()={torch.get_num_threads()}, "
        f"interop={torch.get_num_interop_threads()}",
        "pools": thread_pools(),
    }


def new_model(name: str) -> torch.nn.Module:
    if name in TRANSFORMERS:
        family, config = TRANSFORMERS[name]
        return (TorchGPT if family == "gpt" else TorchViT)(**config)
    return build(name, torch.nn)


def init(name: str, seed: int, out: str) -> None:
    """The model's initial weights, PyTorch's default initialisation seeded with `seed`."""
    torch.manual_seed(seed)
    np.savez(out, **{k: v.detach().numpy() for k, v in new_model(name).state_dict().items()})


def build_model(name: str, data: dict[str, np.ndarray]) -> torch.nn.Module:
    model = new_model(name)
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
    if name in TRANSFORMERS:
        optimizer = torch.optim.AdamW(model.parameters(), lr=ADAMW_LEARNING_RATE)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def train_step() -> torch.Tensor:
        x, y = next(batches)
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss

    losses = [train_step().item() for _ in range(CHECK_STEPS)]
    first_key, first = next(iter(model.named_parameters()))
    return train_step, {"losses": losses, "arrays": {first_key: first.detach().numpy().copy()}}


if __name__ == "__main__":
    serve(info, prepare, init)
