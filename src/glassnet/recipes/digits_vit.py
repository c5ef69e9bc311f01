"""Recipe: a Vision Transformer reads the 8x8 handwritten digits as a sequence of patches.

Each digit is cut into 16 patches of 2x2 pixels; a class token and the 16 patch tokens pass
through four pre-norm transformer encoder layers, in which every token attends to every other,
and the class token's final vector is classified. No convolution and no built-in notion of
"nearby": the position embeddings are learned, and the training images come with shifted
copies. AdamW (decay on the weight matrices only) with a warm-up and cosine learning-rate
schedule. The recipe writes the curves, the predictions, the confusion matrix and, for a few
test digits, the patches the class token attends to in each head of the last layer. It reaches
about 97% test accuracy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import manual_seed, tensor
from ..data.datasets.digits import load_digits, shifted_copies
from ..explain import summary
from ..models import ViT
from ..nn import inference
from ..optim.lr_scheduler import warmup_cosine
from ..plot import plot_patch_attention
from ..tensor import Tensor
from ..train import fit
from .common import report_classifier


def train_vit(
    model: ViT,
    train_data: Any,
    test_data: tuple[Tensor, Tensor],
    *,
    name: str,
    out_dir: str,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    warmup_epochs: int,
    progress: bool | None,
    say: Callable[..., None],
) -> dict:
    """Train `model` with AdamW and a per-epoch warm-up + cosine schedule, then evaluate and
    save it with `report_classifier`, adding attention.png: for the first test image of each of
    the first six classes, where the class token looks in each head of the last layer."""
    x_test, y_test = test_data
    table = summary(model, input_shape=tuple(x_test.shape[1:]))
    say(model)
    say(table)
    optimizer = model.configure_optimizer(weight_decay=weight_decay, lr=lr)
    # stepped once per epoch; one step longer than the training, so the last epoch still learns
    scheduler = warmup_cosine(optimizer, min(warmup_epochs, epochs), epochs + 1)
    start = time.perf_counter()
    history = fit(
        model,
        train_data,
        epochs=epochs,
        optimizer=optimizer,
        scheduler=scheduler,
        batch_size=batch_size,
        val_data=(x_test, y_test),
        progress=progress,
    )
    seconds = time.perf_counter() - start

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

    result = report_classifier(
        model,
        history,
        x_test,
        y_test,
        out_dir,
        title=name,
        num_classes=model.head.out_features,
        seconds=seconds,
        extra_plots=[attention_plot],
        say=say,
    )
    return {**result, "parameters": table.total_params}


def run(
    out_dir: str = "runs/digits-vit",
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 0.05,
    warmup_epochs: int = 3,
    patch_size: int = 2,
    d_model: int = 64,
    depth: int = 4,
    heads: int = 4,
    mlp_dim: int = 128,
    dropout: float = 0.1,
    augment: bool = True,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a ViT on the digits; evaluate, plot and save to `out_dir`."""
    say = print if verbose else (lambda *a, **k: None)
    manual_seed(seed)
    x_train, y_train = load_digits("train", flatten=False)
    x_test, y_test = load_digits("test", flatten=False)
    images, labels = x_train.numpy(), y_train.numpy()
    if augment:
        images, labels = shifted_copies(images, labels)
    say(
        f"digits: {len(images)} training images (with shifted copies: {augment}) and "
        f"{len(x_test)} test images, 1x8x8, cut into {(8 // patch_size) ** 2} patches of "
        f"{patch_size}x{patch_size}"
    )
    model = ViT(8, patch_size, 1, 10, d_model, depth, heads, mlp_dim, dropout)
    return train_vit(
        model,
        (tensor(images), tensor(labels)),
        (x_test, y_test),
        name="digits ViT",
        out_dir=out_dir,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        warmup_epochs=warmup_epochs,
        progress=progress,
        say=say,
    )
