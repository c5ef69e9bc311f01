"""The runner every image-classification recipe shares: train, then test, count, draw, save.

`train_classifier` trains through `fit` (the one training loop) with the run folder's
checkpoints (``checkpoints/``, so ``--resume`` carries on a killed run exactly) and run log
(``metrics.jsonl``, ``epochs.csv``). `report_classifier` then predicts the test set, counts the
right answers and the confusion matrix, writes the training curves, a grid of test images with
their predicted labels (the mistakes first), the confusion matrix and whatever pictures the
recipe adds (filters, attention maps), saves the weights, and prints it all. A recipe only says
which data, which model and which optimizer.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..io import save_model
from ..plot import plot_confusion_matrix, plot_history, plot_image_grid
from ..tensor import Tensor
from ..train import (
    confusion_matrix,
    fit,
    format_confusion_matrix,
    predict,
    predicted_classes,
)
from ..train.distributed import is_main_process

# (predictions, true labels) -> the path of the picture it wrote
ExtraPlot = Callable[[np.ndarray, np.ndarray], str]
# The image datasets the recipes read, told apart by their pixels per image, and the grey level
# each one divides by to put its pixels in [0, 1]: what a saved model's user does to new images.
PIXEL_SCALES = {64: ("digits", 16.0), 784: ("mnist", 255.0)}


def image_extras(image_shape: Sequence[int], **more: object) -> dict:
    """What a saved model's document needs to take new images: their shape and how the
    recipe scaled their pixels, plus `more`."""
    dataset, scale = PIXEL_SCALES.get(math.prod(image_shape), (None, None))
    normalisation = {"pixels": [0.0, 1.0], "dataset": dataset, "divide_by": scale}
    return {"input_shape": list(image_shape), "normalisation": normalisation, **more}


def train_classifier(
    model: Any,
    train_data: Any,
    test: tuple[Tensor, Tensor],
    *,
    name: str,
    out_dir: str,
    optimizer: Any,
    scheduler: Any,
    epochs: int,
    minutes: float | None = None,
    resume: bool = False,
    checkpoint_every: int | None = None,
    progress: bool | None = None,
    num_classes: int = 10,
    extra_plots: Sequence[ExtraPlot] = (),
    say: Callable[..., None] = print,
) -> dict:
    """Train `model` on `train_data` (mini-batches) for `epochs` (or `minutes`), validating on
    `test` after every epoch, with checkpoints and a run log in `out_dir`; then
    `report_classifier`. `resume` carries on from the newest checkpoint in out_dir."""
    history = fit(
        model,
        train_data,
        epochs,
        optimizer=optimizer,
        scheduler=scheduler,
        val_data=test,
        progress=progress,
        minutes=minutes,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        checkpoint_every=checkpoint_every,
        resume=resume,
        log_dir=out_dir,
    )
    x_test, y_test = test
    if not is_main_process():  # another rank of a distributed run: the numbers, rank 0 writes
        _, _, accuracy, counts = test_numbers(model, x_test, y_test, num_classes)
        return {
            "test_accuracy": accuracy,
            "history": history.history,
            "confusion_matrix": counts,
            "seconds": history.seconds,
            "files": [],
        }
    return report_classifier(
        model,
        history,
        x_test,
        y_test,
        out_dir,
        name,
        num_classes=num_classes,
        seconds=history.seconds,
        extra_plots=extra_plots,
        say=say,
    )


def mistakes_first(predictions: np.ndarray, truth: np.ndarray, count: int = 36) -> list[int]:
    """Indices of up to `count` test examples: every mistake first, then the others in order."""
    order = np.concatenate([np.flatnonzero(predictions != truth), np.arange(len(truth))])
    return list(dict.fromkeys(order.tolist()))[:count]


def test_numbers(
    model: Any, x_test: Tensor, y_test: Tensor, num_classes: int
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """(predicted classes, true classes, accuracy, confusion matrix) on the test set."""
    predictions = predicted_classes(predict(model, x_test, batch_size=256))
    truth = y_test.numpy()
    accuracy = float((predictions == truth).mean())
    return (
        predictions,
        truth,
        accuracy,
        confusion_matrix(predictions, y_test, num_classes=num_classes),
    )


def report_classifier(
    model: Any,
    history: Any,
    x_test: Tensor,
    y_test: Tensor,
    out_dir: str,
    title: str,
    num_classes: int = 10,
    seconds: float | None = None,
    extra_plots: Sequence[ExtraPlot] = (),
    say: Callable[..., None] = print,
) -> dict:
    """Evaluate `model` on the test set, write curves.png, predictions.png, confusion_matrix.png,
    the extra plots and model.safetensors to `out_dir`, print the results and return them."""
    predictions, truth, accuracy, counts = test_numbers(model, x_test, y_test, num_classes)
    os.makedirs(out_dir, exist_ok=True)
    shown = mistakes_first(predictions, truth)
    files = [
        plot_history(history, os.path.join(out_dir, "curves.png"), title=title),
        plot_image_grid(
            x_test.numpy()[shown],
            os.path.join(out_dir, "predictions.png"),
            true=truth[shown],
            predicted=predictions[shown],
            title="test images: predicted label (mistakes first, in red)",
        ),
        plot_confusion_matrix(counts, os.path.join(out_dir, "confusion_matrix.png")),
        *(plot(predictions, truth) for plot in extra_plots),
        os.path.join(out_dir, "model.safetensors"),
    ]
    _, document = save_model(
        model,
        files[-1],
        extras=image_extras(
            x_test.shape[1:],
            class_names=[str(k) for k in range(num_classes)],
            title=title,
            test_accuracy=accuracy,
        ),
    )
    files.append(document)
    if seconds is not None:
        epochs = len(history.epochs) if hasattr(history, "epochs") else "?"
        say(f"\ntrained {epochs} epochs in {seconds:.1f} s")
    say(f"test accuracy: {accuracy:.2%} ({int((predictions == truth).sum())}/{len(truth)})")
    say(format_confusion_matrix(counts))
    say(f"wrote {', '.join(files)}")
    return {
        "test_accuracy": accuracy,
        "history": history.history,
        "confusion_matrix": counts,
        "seconds": seconds,
        "files": files,
    }
