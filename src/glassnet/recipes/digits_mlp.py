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

import numpy as np

from .. import manual_seed, tensor
from ..data import DataLoader, TensorDataset
from ..data.datasets.digits import load_digits, shifted_copies
from ..explain import summary
from ..models import MLP
from ..optim import Adam
from ..optim.lr_scheduler import CosineAnnealingLR
from .common import train_classifier
from .console import writer


def run(
    out_dir: str = "runs/demo",
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 2e-3,
    hidden: tuple[int, ...] = (256, 128),
    augment: bool = True,
    minutes: float | None = None,
    resume: bool = False,
    checkpoint_every: int | None = 100,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train, evaluate and write curves, test predictions (mistakes first), the confusion matrix
    and the weights to `out_dir`."""
    say = writer(verbose)
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
    result = train_classifier(
        model,
        DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True),
        (x_test, y_test),
        name="digits MLP",
        out_dir=out_dir,
        optimizer=optimizer,
        scheduler=CosineAnnealingLR(optimizer, T_max=epochs),
        epochs=epochs,
        minutes=minutes,
        resume=resume,
        checkpoint_every=checkpoint_every,
        progress=progress,
        say=say,
    )
    history = result["history"]
    n_params = sum(p.numel() for p in model.parameters())
    say(f"final training loss {history['loss'][-1]:.4f}, test loss {history['val_loss'][-1]:.4f}")
    say(f"parameters: {n_params:,}")
    counts = result["confusion_matrix"]
    result["parameters"] = n_params
    result["per_class_accuracy"] = np.diag(counts) / np.maximum(counts.sum(1), 1)
    return result
