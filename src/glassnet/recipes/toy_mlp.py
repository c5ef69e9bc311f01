"""Recipe: a small network learns to separate the two arms of a spiral.

The classic TensorFlow Playground problem: points in the plane, two classes wound around each
other. A straight line cannot separate them; a few layers of neurons with nonlinear activations can.
"""

from __future__ import annotations

import os

import numpy as np

from .. import manual_seed
from ..data.datasets.toy import make_toy_dataset
from ..io import save_model
from ..models import MLP
from ..optim import Adam
from ..plot import plot_history
from ..tensor import Tensor
from ..train import fit


def run(
    out_dir: str = "runs/spiral-mlp",
    dataset: str = "spiral",
    epochs: int = 200,
    noise: float = 0.0,
    resume: bool = False,
    checkpoint_every: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train an MLP with two hidden layers of 32 ReLU units on a 2-D playground dataset.

    (With 16 tanh units per layer, the playground's default, the spiral was learned for one seed
    in four and the others stayed near chance, 54-57%, after 200 epochs; 32 ReLU units reached
    99.2-100% on seeds 0-3, measured with benchmarks/recipe_seeds.py.)"""
    say = print if verbose else (lambda *a, **k: None)
    manual_seed(seed)
    x, y = make_toy_dataset(dataset, n=500, noise=noise, seed=seed)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order] / 6.0, y[order]  # inputs scaled to [-1, 1]
    split = len(x) // 2
    train = (Tensor(x[:split]), Tensor(y[:split]))
    test = (Tensor(x[split:]), Tensor(y[split:]))
    model = MLP([2, 32, 32, 2], activation="relu")
    history = fit(
        model,
        train,
        epochs=epochs,
        optimizer=Adam(model.parameters(), lr=0.01),
        batch_size=16,
        val_data=test,
        progress=progress,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        checkpoint_every=checkpoint_every,
        resume=resume,
        log_dir=out_dir,
    )
    os.makedirs(out_dir, exist_ok=True)
    curves = plot_history(history, os.path.join(out_dir, "curves.png"), title=f"{dataset} MLP")
    saved = save_model(
        model,
        os.path.join(out_dir, "model.safetensors"),
        extras={"dataset": dataset, "input_shape": [2], "normalisation": {"divide_by": 6.0}},
    )
    accuracy = history["val_accuracy"][-1]
    say(f"{dataset}: test accuracy {accuracy:.2%} after {epochs} epochs; wrote {curves}")
    return {"test_accuracy": accuracy, "history": history.history, "files": [curves, *saved]}
