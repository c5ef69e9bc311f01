"""The glassnet side of the benchmark, written exactly as a user would write the PyTorch version.

It builds the nn.Sequential that models.py describes, loads the driver's weights with
load_state_dict, trains it with optim.SGD or runs it under glassnet.no_grad(), and times steps on
request (see protocol.py). It imports glassnet (and so NumPy's BLAS) and never torch.
"""

from __future__ import annotations

import platform
from itertools import cycle
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.models import GPT, ViT
from models import TRANSFORMERS, build
from protocol import ADAMW_LEARNING_RATE, CHECK_STEPS, LEARNING_RATE, Step, serve, thread_pools


def info() -> dict[str, Any]:
    version = getattr(gn, "__version__", "(no __version__)")
    return {
        "library": f"glassnet {version}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": "NumPy's BLAS pool (below); everything else runs on one thread",
        "pools": thread_pools(),
    }


def new_model(name: str) -> nn.Module:
    if name in TRANSFORMERS:
        family, config = TRANSFORMERS[name]
        return (GPT if family == "gpt" else ViT)(**config)
    return build(name, nn)


def init(name: str, seed: int, out: str) -> None:
    """The model's initial weights, glassnet's default initialisation seeded with `seed`."""
    gn.manual_seed(seed)
    np.savez(out, **{k: v.numpy() for k, v in new_model(name).state_dict().items()})


def build_model(name: str, data: dict[str, np.ndarray]) -> nn.Module:
    model = new_model(name)
    model.load_state_dict({key: gn.Tensor(data[key]) for key in model.state_dict()})
    return model


def prepare(name: str, kind: str, data: dict[str, np.ndarray]) -> tuple[Step, dict[str, Any]]:
    model = build_model(name, data)
    if kind == "infer":
        model.eval()
        inputs = cycle([gn.Tensor(x) for x in data["x"]])

        def infer_step() -> gn.Tensor:
            with gn.no_grad():
                return model(next(inputs))

        return infer_step, {"losses": [], "arrays": {"output": infer_step().numpy()}}

    batches = cycle([(gn.Tensor(x), gn.Tensor(y)) for x, y in zip(data["x"], data["y"])])
    if name in TRANSFORMERS:
        optimizer = optim.AdamW(model.parameters(), lr=ADAMW_LEARNING_RATE)
    else:
        optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def train_step() -> gn.Tensor:
        x, y = next(batches)
        optimizer.zero_grad()
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss

    losses = [train_step().item() for _ in range(CHECK_STEPS)]
    first_key, first = next(iter(model.named_parameters()))
    return train_step, {"losses": losses, "arrays": {first_key: first.detach().numpy().copy()}}


if __name__ == "__main__":
    serve(info, prepare, init)
