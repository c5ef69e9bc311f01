"""Recipes digits-cnn and mnist-cnn: a convolutional network reads handwritten digits.

3x3 filters slide across each image and detect strokes wherever they are (weight sharing),
blocks of conv -> batch norm -> ReLU stack them into shapes, and global average pooling plus one
Linear layer reads off the class. The recipe prints the CNN's summary next to a fully connected
network for the same input, writes the curves, a grid of test digits with the predicted labels,
the confusion matrix and the learned first-layer filters, and saves the weights.

On the 8x8 digits (offline; trained with four shifted copies of each image) it reaches about 99%
test accuracy; on MNIST (downloaded and cached; offline it trains on 8,000 of the 10k test
images and tests on the other 2,000), with every batch shifted by up to 2 pixels, above 98%.
"""

from __future__ import annotations

import os

from .. import manual_seed
from ..explain import summary
from ..models import MLP, SmallCNN
from ..optim import AdamW
from ..optim.lr_scheduler import CosineAnnealingLR
from ..plot import plot_filters
from .common import train_classifier
from .console import writer
from .images import load_images, training_batches

SETTINGS = {
    # epochs, batch size, learning rate, channels per block, the fully connected comparison
    "digits": {"epochs": 10, "batch_size": 64, "lr": 3e-3, "widths": (32, 64), "mlp": (256, 128)},
    "mnist": {"epochs": 8, "batch_size": 64, "lr": 3e-3, "widths": (16, 32, 64), "mlp": (256, 128)},
}


def weight_sharing_comparison(conv, image_shape: tuple[int, int, int]) -> str:
    """How many weights `conv` has, next to a fully connected layer that maps the same image to
    the same number of outputs: the guide's "dramatically more parameter-efficient", counted."""
    channels, height, width = image_shape
    outputs = conv.out_channels * height * width  # a 'same'-padded convolution keeps H x W
    conv_params = sum(p.numel() for p in conv.parameters())
    dense_params = channels * height * width * outputs + outputs
    return (
        f"first layer: {conv} has {conv_params:,} parameters; a Linear layer from the same "
        f"{channels}x{height}x{width} image to the same {outputs:,} outputs would have "
        f"{dense_params:,} ({dense_params / conv_params:,.0f}x as many)"
    )


def run(
    data: str = "digits",
    out_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    widths: tuple[int, ...] | None = None,
    augment: bool = True,
    split: str = "auto",
    minutes: float | None = None,
    resume: bool = False,
    checkpoint_every: int | None = 100,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a SmallCNN on `data` ("digits" or "mnist"; `split` as `images.load_images`);
    evaluate, plot and save to `out_dir`. Options left at None take the dataset's `SETTINGS`."""
    say = writer(verbose)
    manual_seed(seed)
    chosen = dict(SETTINGS[data] if data in SETTINGS else SETTINGS["digits"])
    given = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "widths": widths}
    chosen.update({k: v for k, v in given.items() if v is not None})
    out_dir = out_dir or f"runs/{data}-cnn"
    train, test, described = load_images(data, split, say, recipe=f"{data}-cnn")
    say(described)
    image_shape = tuple(test[0].shape[1:])
    pixels = image_shape[1] * image_shape[2]

    model = SmallCNN(in_channels=1, num_classes=10, widths=chosen["widths"])
    cnn_table = summary(model, input_shape=image_shape)
    mlp_table = summary(MLP([pixels, *chosen["mlp"], 10]), input_shape=(pixels,))
    say(model)
    say("the convolutional network:")
    say(cnn_table)
    say(f"a fully connected network for the same {pixels} pixels:")
    say(mlp_table)
    say(weight_sharing_comparison(model.features[0][0], image_shape))

    optimizer = AdamW(model.parameters(), lr=chosen["lr"], weight_decay=1e-4)
    report = train_classifier(
        model,
        training_batches(data, train, augment, chosen["batch_size"], seed),
        test,
        name=f"{data} CNN",
        out_dir=out_dir,
        optimizer=optimizer,
        scheduler=CosineAnnealingLR(optimizer, T_max=chosen["epochs"]),
        epochs=chosen["epochs"],
        minutes=minutes,
        resume=resume,
        checkpoint_every=checkpoint_every,
        progress=progress,
        extra_plots=[
            lambda *_: plot_filters(
                model.features[0][0].weight, os.path.join(out_dir, "filters.png")
            )
        ],
        say=say,
    )
    say(f"parameters: CNN {cnn_table.total_params:,}, fully connected {mlp_table.total_params:,}")
    return {
        **report,
        "parameters": cnn_table.total_params,
        "mlp_parameters": mlp_table.total_params,
        "data": described,
    }
