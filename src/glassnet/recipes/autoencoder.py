"""Recipe: an autoencoder squeezes digits through a 16-number bottleneck and rebuilds them,
compared with PCA, the classic linear compression with the same number of components.

A convolutional autoencoder (stride-2 convolutions down to a Linear code of `latent` numbers,
transposed convolutions back up) learns to reconstruct the training images, with no labels. Its
mean squared error on held-out images is set against PCA (scikit-learn) keeping as many
components: PCA is the best any *linear* code of that size can do, so beating it shows what the
network's bends buy. It also writes originals next to both reconstructions, where the test
images' codes lie (coloured by digit), and what comes out when random codes are decoded: a plain
autoencoder was never asked to make its codes fill a known region, which is what the VAE adds.
Digits (offline; `glassnet train digits-ae`) or MNIST (`glassnet train mnist-ae`).

Measured with seed 0 on one core: on the digits, 100 epochs (22 s) reach a test MSE of 0.00540
against PCA's 0.01114; on MNIST's offline split, 15 epochs (94 s) reach 0.01026 against 0.02714.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import randn, tensor
from ..explain import summary
from ..io import save_model
from ..models import Autoencoder
from ..nn import functional as F
from ..plot import plot_history, plot_image_mosaic, plot_image_rows, plot_latent_space
from ..train import Callback, fit, predict
from .common import image_extras
from .generative import (
    begin,
    flat,
    judge_samples,
    one_of_each,
    pca_projection,
    snapshot_epochs,
    train_judge,
)

EPOCHS = {"digits": 100, "mnist": 15}


def pca_baseline(x_train: np.ndarray, x_test: np.ndarray, components: int) -> np.ndarray:
    """PCA with `components` components fitted on the training rows; the test rows rebuilt."""
    from sklearn.decomposition import PCA

    pca = PCA(components, random_state=0).fit(x_train)
    return pca.inverse_transform(pca.transform(x_test))


class ReconstructionSnapshots(Callback):
    """Saves the reconstructions of a few fixed test images at some epochs, to progress/."""

    def __init__(self, model: Autoencoder, images, epochs: set[int], out_dir: str) -> None:
        self.model, self.images, self.epochs, self.out_dir = model, images, epochs, out_dir

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        if epoch in self.epochs:
            rebuilt = predict(self.model, self.images).numpy()
            plot_image_mosaic(
                np.concatenate([self.images.numpy(), rebuilt]),
                os.path.join(self.out_dir, "progress", f"reconstructions_epoch_{epoch:03d}.png"),
                columns=len(rebuilt),
                title=f"epoch {epoch}: test images and (below) their reconstructions; "
                f"test MSE {logs['val_loss']:.5f}",
            )


def run(
    data: str = "digits",
    out_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int = 64,
    lr: float = 2e-3,
    latent: int = 16,
    conv: bool = True,
    widths: tuple[int, ...] = (32, 64),
    hidden: tuple[int, ...] = (256,),
    split: str = "auto",
    resume: bool = False,
    checkpoint_every: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train an autoencoder on `data` ("digits" or "mnist"), compare it with PCA, draw, save."""
    say, (x_train, y_train), (x_test, y_test), described = begin(
        "autoencoder", data, split, seed, verbose
    )
    out_dir = out_dir or f"runs/{data}-ae"
    epochs = epochs or EPOCHS[data]

    model = Autoencoder(x_train.shape[1:], latent, hidden, conv, widths)
    say(summary(model, input_shape=tuple(x_train.shape[1:])))
    shown = x_test[tensor(one_of_each(y_test, 12))]
    start = time.perf_counter()
    history = fit(
        model,
        (x_train, x_train),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        loss_fn=F.mse_loss,
        metrics=(),
        val_data=(x_test, x_test),
        callbacks=[ReconstructionSnapshots(model, shown, snapshot_epochs(epochs), out_dir)],
        progress=progress,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        checkpoint_every=checkpoint_every,
        resume=resume,
        log_dir=out_dir,
    )
    seconds = time.perf_counter() - start

    rebuilt = predict(model, x_test)
    mse = float(((flat(rebuilt) - flat(x_test)) ** 2).mean())
    pca_rebuilt = pca_baseline(flat(x_train), flat(x_test), latent)
    pca_mse = float(((pca_rebuilt - flat(x_test)) ** 2).mean())
    kind = "convolutional" if conv else "fully connected"
    say(f"\ntrained {epochs} epochs in {seconds:.1f} s")
    say(
        f"test reconstruction MSE (pixels in [0, 1]): {kind} autoencoder with a {latent}-number "
        f"code {mse:.5f}, PCA with {latent} components {pca_mse:.5f} "
        f"({pca_mse / mse:.2f}x the autoencoder's)"
    )

    os.makedirs(out_dir, exist_ok=True)
    index = one_of_each(y_test, 12)
    files = [
        plot_history(history, os.path.join(out_dir, "curves.png"), title=f"{data} autoencoder"),
        plot_image_rows(
            {
                "original": x_test.numpy()[index],
                f"autoencoder\nMSE {mse:.4f}": rebuilt.numpy()[index],
                f"PCA ({latent})\nMSE {pca_mse:.4f}": pca_rebuilt[index].reshape(shown.shape),
            },
            os.path.join(out_dir, "reconstructions.png"),
            title=f"held-out images rebuilt from {latent} numbers",
        ),
    ]
    codes = predict(model.encoder, x_test).numpy()
    train_codes = predict(model.encoder, x_train).numpy().astype(np.float64)
    points, axis = pca_projection(codes)
    files.append(
        plot_latent_space(
            points,
            y_test.numpy(),
            os.path.join(out_dir, "latent_space.png"),
            title=f"codes of the test images ({latent} numbers; first two principal axes)"
            if latent > 2
            else "codes of the test images",
            xlabel=f"{axis}1",
            ylabel=f"{axis}2",
        )
    )

    # decode random codes from a Gaussian fitted to the training codes: without the VAE's KL
    # term, nothing makes that region hold only digits
    judge, judge_accuracy = train_judge(data, (x_train, y_train), (x_test, y_test), say)
    mean, cov = train_codes.mean(axis=0), np.cov(train_codes, rowvar=False)
    noise = randn(1000, latent).numpy().astype(np.float64)
    random_codes = mean + noise @ np.linalg.cholesky(cov + 1e-6 * np.eye(latent)).T
    say("decoding 1,000 random codes (a Gaussian fitted to the training codes):")
    quality, samples_file = judge_samples(
        judge,
        predict(model.decoder, tensor(random_codes.astype(np.float32))),
        out_dir,
        "an autoencoder's decoder on random codes",
        say,
    )
    files.append(samples_file)
    files.append(os.path.join(out_dir, "model.safetensors"))
    _, document = save_model(
        model,
        files[-1],
        extras=image_extras(model.image_shape, recipe="autoencoder", latent_dim=model.latent_dim),
    )
    files.append(document)
    say(f"wrote {', '.join(files)} and progress/")
    return {
        "test_mse": mse,
        "pca_mse": pca_mse,
        "history": history.history,
        "seconds": seconds,
        "judge_accuracy": judge_accuracy,
        "random_code_quality": quality,
        "files": files,
        "data": described,
    }
