"""Recipe: a feedforward network reads handwritten digits.

The guide's first example, for real: 8x8 images of handwritten digits (64 numbers each) go through
two hidden layers of weighted sums and ReLUs; a softmax over 10 outputs says which digit it is.

With only 1,437 training images, the network soon learns them by heart (overfits). The recipe shows
it four more copies of each, shifted by one pixel up, down, left and right (data augmentation: the
same digit, drawn a little elsewhere), and lowers the learning rate along a cosine curve. Trained
with Adam on mini-batches for 20 epochs it gets about 98% of the unseen test digits right, where
the same network on the plain images stops near 96.5% (measured over 5 seeds).
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import manual_seed, tensor
from ..data.datasets.digits import load_digits, shifted_copies
from ..explain import summary
from ..io import save
from ..models import MLP
from ..optim import Adam
from ..optim.lr_scheduler import CosineAnnealingLR
from ..plot import plot_confusion_matrix, plot_history
from ..train import confusion_matrix, fit, format_confusion_matrix, predict, predicted_classes


def run(
    out_dir: str = "runs/demo",
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 2e-3,
    hidden: tuple[int, ...] = (256, 128),
    augment: bool = True,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train, evaluate and write curves, confusion matrix and weights to `out_dir`."""
    say = print if verbose else (lambda *a, **k: None)
    manual_seed(seed)
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    say(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels, 10 classes")
    if augment:
        x_train, y_train = (tensor(a) for a in shifted_copies(x_train.numpy(), y_train.numpy()))
        say(f"augmented with shifted copies: {len(x_train)} training images")

    model = MLP([64, *hidden, 10], activation="relu")
    say(model)
    say(summary(model, input_shape=(64,)))

    optimizer = Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    history = fit(
        model,
        (x_train, y_train),
        epochs=epochs,
        optimizer=optimizer,
        scheduler=CosineAnnealingLR(optimizer, T_max=epochs),
        batch_size=batch_size,
        val_data=(x_test, y_test),
        progress=progress,
    )
    seconds = time.perf_counter() - start

    predictions = predicted_classes(predict(model, x_test))
    test_accuracy = float((predictions == y_test.numpy()).mean())
    counts = confusion_matrix(predictions, y_test, num_classes=10)
    n_params = sum(p.numel() for p in model.parameters())

    os.makedirs(out_dir, exist_ok=True)
    curves = plot_history(history, os.path.join(out_dir, "curves.png"), title="digits MLP")
    matrix = plot_confusion_matrix(counts, os.path.join(out_dir, "confusion_matrix.png"))
    weights = os.path.join(out_dir, "model.safetensors")
    save(model, weights)

    say(f"\ntrained {epochs} epochs in {seconds:.1f} s")
    say(f"final training loss {history['loss'][-1]:.4f}, test loss {history['val_loss'][-1]:.4f}")
    say(
        f"test accuracy: {test_accuracy:.2%} ({int((predictions == y_test.numpy()).sum())}"
        f"/{len(y_test)})"
    )
    say(format_confusion_matrix(counts))
    say(f"parameters: {n_params:,}")
    say(f"wrote {curves}, {matrix} and {weights}")
    return {
        "test_accuracy": test_accuracy,
        "history": history.history,
        "parameters": n_params,
        "confusion_matrix": counts,
        "seconds": seconds,
        "files": [curves, matrix, weights],
        "per_class_accuracy": np.diag(counts) / np.maximum(counts.sum(1), 1),
    }
