"""Recipes digits-vit and mnist-vit: a Vision Transformer reads digits as a sequence of patches.

Each image is cut into 16 patches (2x2 pixels of the 8x8 digits, 7x7 of MNIST's 28x28); a class
token and the patch tokens pass through four pre-norm transformer encoder layers, in which every
token attends to every other, and the class token's final vector is classified. No convolution
and no built-in notion of "nearby": the position embeddings are learned, and the training images
are shifted as augmentation (the data as for the CNN recipes). AdamW (decay on the weight
matrices only) with a warm-up and cosine learning-rate schedule. The recipe writes the curves,
the predictions, the confusion matrix and, for a few test digits, the patches the class token
attends to in each head of the last layer. On the digits it reaches about 97% test accuracy.
"""

from __future__ import annotations

import os

import numpy as np

from .. import manual_seed
from ..explain import summary
from ..models import ViT
from ..nn import inference
from ..optim.lr_scheduler import warmup_cosine
from ..plot import plot_patch_attention
from .common import train_classifier
from .console import writer
from .images import load_images, training_batches

SETTINGS = {
    "digits": {"epochs": 30, "lr": 2e-3, "warmup_epochs": 3, "patch_size": 2},
    "mnist": {"epochs": 10, "lr": 1e-3, "warmup_epochs": 1, "patch_size": 7},
}


def run(
    data: str = "digits",
    out_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int = 64,
    lr: float | None = None,
    weight_decay: float = 0.05,
    warmup_epochs: int | None = None,
    patch_size: int | None = None,
    d_model: int = 64,
    depth: int = 4,
    heads: int = 4,
    mlp_dim: int = 128,
    dropout: float = 0.1,
    augment: bool = True,
    split: str = "auto",
    minutes: float | None = None,
    resume: bool = False,
    checkpoint_every: int | None = 100,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a ViT on `data` ("digits" or "mnist"); evaluate, plot and save to `out_dir`.
    Options left at None take the dataset's `SETTINGS`."""
    say = writer(verbose)
    manual_seed(seed)
    chosen = dict(SETTINGS[data] if data in SETTINGS else SETTINGS["digits"])
    given = {"epochs": epochs, "lr": lr, "warmup_epochs": warmup_epochs, "patch_size": patch_size}
    chosen.update({k: v for k, v in given.items() if v is not None})
    epochs, patch = chosen["epochs"], chosen["patch_size"]
    out_dir = out_dir or f"runs/{data}-vit"
    name = f"{data} ViT"
    train, (x_test, y_test), described = load_images(data, split, say, recipe=f"{data}-vit")
    side = x_test.shape[-1]
    say(f"{described}; {(side // patch) ** 2} patches of {patch}x{patch}")
    model = ViT(side, patch, 1, 10, d_model, depth, heads, mlp_dim, dropout)
    table = summary(model, input_shape=tuple(x_test.shape[1:]))
    say(model)
    say(table)
    optimizer = model.configure_optimizer(weight_decay=weight_decay, lr=chosen["lr"])

    def attention_plot(predictions: np.ndarray, truth: np.ndarray) -> str:
        shown = [int(np.flatnonzero(truth == c)[0]) for c in np.unique(truth)][:6]
        with inference(model):
            _, maps = model(x_test[shown], return_attention=True)
        return plot_patch_attention(
            x_test.numpy()[shown],
            maps[-1],
            os.path.join(out_dir, "attention.png"),
            labels=[f"label {truth[i]}, predicted {predictions[i]}" for i in shown],
            title=f"{name}: the class token's attention to the patches, last layer",
        )

    report = train_classifier(
        model,
        training_batches(data, train, augment, batch_size, seed),
        (x_test, y_test),
        name=name,
        out_dir=out_dir,
        optimizer=optimizer,
        # stepped once per epoch; one step longer than the training, so the last epoch learns
        scheduler=warmup_cosine(optimizer, min(chosen["warmup_epochs"], epochs), epochs + 1),
        epochs=epochs,
        minutes=minutes,
        resume=resume,
        checkpoint_every=checkpoint_every,
        progress=progress,
        num_classes=model.head.out_features,
        extra_plots=[attention_plot],
        say=say,
    )
    return {**report, "parameters": table.total_params, "data": described}
