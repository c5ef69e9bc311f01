"""Recipe: a generative adversarial network learns to draw digits by trying to fool a critic.

The generator turns 32 (digits) or 64 (MNIST) random numbers into an image; the discriminator
scores images as real or generated. Every batch, the discriminator takes one Adam step on real
images and on the generator's newest ones (real labelled 0.9: one-sided label smoothing), then
the generator takes one Adam step on the non-saturating loss -log D(G(z)), with its own
optimizer, so each step moves only its own network. On the digits both are fully connected
networks; on MNIST they are DCGAN's convolutional pair. It writes:

- samples.png: generated images with the judge's label (a classifier trained on the real
  images), and how many of 1,000 samples it is sure of and which digits they cover (a GAN that
  draws only a few kinds of digit, "mode collapse", shows here);
- losses.png: both networks' losses per epoch (they do not fall together: each one's gain is
  the other's loss), and discriminator.png: its mean probability "real" on real and generated
  images;
- progress/samples_epoch_*.png: the same noise drawn as training goes on; model.safetensors.

Training is seeded: the same seed gives the same numbers. Digits (offline;
`glassnet train digits-gan`) or MNIST (`glassnet train mnist-gan`).

Measured with seed 0 on one core: on the digits, 150 epochs (12 s): the judge is sure of 67.5% of
1,000 samples, covering all 10 digits; on MNIST's offline split, 15 epochs of the DCGAN (162 s):
59.6%, all 10 digits but unevenly (215 sevens, 4 ones: a GAN's habit of favouring some modes).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .. import randn
from ..data import DataLoader, TensorDataset
from ..io import save_model
from ..models import GAN
from ..optim import Adam
from ..plot import plot_image_mosaic, plot_series
from .common import image_extras
from .generative import (
    begin,
    judge_samples,
    snapshot_epochs,
    train_judge,
)

SETTINGS = {
    # epochs, batch size, learning rate, noise size, convolutional
    "digits": {"epochs": 150, "batch_size": 32, "lr": 1e-3, "latent": 32, "conv": False},
    "mnist": {"epochs": 15, "batch_size": 32, "lr": 2e-4, "latent": 64, "conv": True},
}


def train_gan(
    model: GAN,
    loader: DataLoader,
    epochs: int,
    lr: float,
    out_dir: str,
    say,
    progress_z=None,
    progress: bool | None = None,
) -> dict[str, list[float]]:
    """Alternate the two networks' Adam steps (betas (0.5, 0.999), as in DCGAN) over `epochs`
    passes of `loader`; returns each epoch's mean d_loss, g_loss, d_real and d_fake. The
    images drawn from `progress_z` are saved to progress/ at some epochs; `progress` shows a
    bar over each epoch's batches (by default when stderr is a terminal)."""
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    d_optimizer = Adam(model.discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    g_optimizer = Adam(model.generator.parameters(), lr=lr, betas=(0.5, 0.999))
    snapshots = snapshot_epochs(epochs)
    every = max(1, epochs // 25)
    history: dict[str, list[float]] = {}
    for epoch in range(1, epochs + 1):
        bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", disable=not show, leave=False)
        steps = [model.train_step(real, d_optimizer, g_optimizer) for real, _ in bar]
        for key in steps[0]:
            history.setdefault(key, []).append(float(np.mean([s[key] for s in steps])))
        if epoch % every == 0 or epoch == 1 or epoch in snapshots:
            say(
                f"epoch {epoch:4d}  d_loss {history['d_loss'][-1]:.4f}  g_loss "
                f"{history['g_loss'][-1]:.4f}  D(real) {history['d_real'][-1]:.3f}  D(fake) "
                f"{history['d_fake'][-1]:.3f}"
            )
        if progress_z is not None and epoch in snapshots:
            plot_image_mosaic(
                model.sample(len(progress_z), z=progress_z),
                os.path.join(out_dir, "progress", f"samples_epoch_{epoch:03d}.png"),
                title=f"epoch {epoch}: the same noise, drawn by the generator",
            )
    return history


def run(
    data: str = "digits",
    out_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    latent: int | None = None,
    conv: bool | None = None,
    hidden: tuple[int, ...] = (128, 256),
    widths: tuple[int, ...] = (32, 64),
    label_smoothing: float = 0.1,
    samples: int = 1000,
    split: str = "auto",
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a GAN on `data` ("digits" or "mnist"); judge its samples, draw, save. Options left
    at None take the dataset's settings (`SETTINGS`)."""
    say, (x_train, y_train), (x_test, y_test), described = begin("gan", data, split, seed, verbose)
    chosen = dict(SETTINGS[data])
    given = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "latent": latent, "conv": conv}
    chosen.update({k: v for k, v in given.items() if v is not None})
    out_dir = out_dir or f"runs/{data}-gan"
    judge, judge_accuracy = train_judge(data, (x_train, y_train), (x_test, y_test), say)

    model = GAN(
        x_train.shape[1:], chosen["latent"], hidden, chosen["conv"], widths, label_smoothing
    )
    say(model)
    loader = DataLoader(
        TensorDataset(x_train, y_train),
        batch_size=chosen["batch_size"],
        shuffle=True,
        drop_last=True,
    )
    start = time.perf_counter()
    history = train_gan(
        model,
        loader,
        chosen["epochs"],
        chosen["lr"],
        out_dir,
        say,
        progress_z=randn(64, chosen["latent"]),
        progress=progress,
    )
    seconds = time.perf_counter() - start
    say(f"\ntrained {chosen['epochs']} epochs in {seconds:.1f} s")

    os.makedirs(out_dir, exist_ok=True)
    quality, samples_file = judge_samples(
        judge, model.sample(samples), out_dir, f"{data} GAN samples", say
    )
    epochs_axis = range(1, chosen["epochs"] + 1)
    files = [
        samples_file,
        plot_series(
            epochs_axis,
            {"discriminator": history["d_loss"], "generator": history["g_loss"]},
            os.path.join(out_dir, "losses.png"),
            xlabel="epoch",
            ylabel="loss (mean over the epoch's batches)",
            title=f"{data} GAN: the two players' losses",
        ),
        plot_series(
            epochs_axis,
            {"D(real image)": history["d_real"], "D(generated image)": history["d_fake"]},
            os.path.join(out_dir, "discriminator.png"),
            xlabel="epoch",
            ylabel="mean probability 'real'",
            title="what the discriminator believes",
        ),
        os.path.join(out_dir, "model.safetensors"),
    ]
    _, document = save_model(
        model,
        files[-1],
        extras=image_extras(model.image_shape, recipe="gan", latent_dim=model.latent_dim),
    )
    files.append(document)
    say(f"wrote {', '.join(files)} and progress/")
    return {
        "history": history,
        "seconds": seconds,
        "judge_accuracy": judge_accuracy,
        "quality": quality,
        "settings": chosen,
        "files": files,
        "data": described,
    }
