"""Recipe: a variational autoencoder learns to draw new handwritten digits.

A fully connected VAE (encoder 512-256 to the mean and log-variance of a Gaussian over
`latent` numbers, decoder back through 256-512 to Bernoulli pixel probabilities) is trained on
the training images by minimising the negative ELBO, with one draw of the code per image (the
reparameterisation trick). After every epoch the test ELBO (nats per image, higher is better;
with a fixed draw of the noise, so epochs compare fairly) is computed and printed with its two
terms. It then writes:

- samples.png: new digits, decoded from codes drawn from N(0, I), each with the judge's label
  (a classifier trained on the real images), and the share of 1,000 samples it is sure of;
- reconstructions.png: test images and their reconstructions from the mean code;
- latent_walk.png: the straight line between the codes of two test digits, decoded step by step;
- latent_space.png: where the test images' codes lie, coloured by digit (the first two principal
  axes, or the plane itself with ``--latent 2``, which also writes manifold.png: the decoded
  grid of the 2-D code space);
- curves.png (test ELBO, reconstruction and KL per epoch), progress/samples_epoch_*.png (the
  same codes decoded as training goes on) and model.safetensors.

Digits (offline; `glassnet train digits-vae`) or MNIST (`glassnet train mnist-vae`).

Measured with seed 0 on one core: on the digits, 200 epochs (27 s) take the test ELBO from -27.44
to -23.89 nats per image, and the judge is sure (p > 0.9) of 75.6% of 1,000 samples, which cover
all 10 digits; on MNIST's offline split, 30 epochs (58 s): -151.26 to -121.29, 66.4%, 10 digits.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .. import randn, tensor
from ..creation import from_numpy
from ..explain import summary
from ..io import save_model
from ..models import VAE
from ..models.encoders import inference
from ..optim import Adam
from ..plot import plot_image_mosaic, plot_image_rows, plot_latent_space, plot_series
from ..tensor import Tensor
from ..train import Callback, fit
from .common import image_extras
from .generative import (
    begin,
    judge_samples,
    one_of_each,
    pca_projection,
    snapshot_epochs,
    train_judge,
)

EPOCHS = {"digits": 200, "mnist": 30}
HIDDEN = {"digits": (512, 256), "mnist": (512, 256)}
EVAL_SEED = 1234  # the noise of the test ELBO, the same every epoch


def test_elbo(model: VAE, x: Tensor, batch_size: int = 1000) -> dict[str, float]:
    """The ELBO and its terms on `x` (nats per image), in eval mode, with one code drawn per
    image from a fixed-seed generator of its own (so it does not disturb training's)."""
    rng = np.random.default_rng(EVAL_SEED)
    totals = np.zeros(3)
    with inference(model):
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]
            eps = rng.standard_normal((len(batch), model.latent_dim)).astype(np.float32)
            terms = model.loss_terms(model(batch, eps=from_numpy(eps)), batch)
            n = len(batch)
            totals += n * np.array([terms.elbo, float(terms.reconstruction), float(terms.kl)])
    elbo, reconstruction, kl = totals / len(x)
    return {"elbo": elbo, "reconstruction": reconstruction, "kl": kl}


class VAEMonitor(Callback):
    """After every epoch: the test ELBO and its terms into `history`, a line printed (at most
    about 25 of them), and at some epochs the decoded fixed codes `z` saved to progress/."""

    def __init__(self, model: VAE, x_test: Tensor, z: Tensor, epochs: int, out_dir: str, say):
        self.model, self.x_test, self.z, self.out_dir, self.say = model, x_test, z, out_dir, say
        self.snapshots = snapshot_epochs(epochs)
        self.every = max(1, epochs // 25)
        self.history: dict[str, list[float]] = {}

    def state_dict(self) -> dict:
        return {"history": self.history}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: list(v) for k, v in state["history"].items()}

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        result = {"loss": logs["loss"], **test_elbo(self.model, self.x_test)}
        for key, value in result.items():
            self.history.setdefault(key, []).append(value)
        if epoch % self.every == 0 or epoch == 1 or epoch in self.snapshots:
            self.say(
                f"epoch {epoch:4d}  train loss {result['loss']:8.3f}  test ELBO "
                f"{result['elbo']:8.3f} (reconstruction {result['reconstruction']:.3f}, "
                f"KL {result['kl']:.3f})"
            )
        if epoch in self.snapshots:
            plot_image_mosaic(
                self.model.sample(len(self.z), z=self.z),
                os.path.join(self.out_dir, "progress", f"samples_epoch_{epoch:03d}.png"),
                title=f"epoch {epoch}: the same codes decoded (test ELBO {result['elbo']:.2f})",
            )


def latent_walks(model: VAE, x: Tensor, labels: Tensor, pairs: int = 5, steps: int = 10) -> dict:
    """Rows of `steps` images from one test digit's code to another's (0 to 1, 2 to 3, ...)."""
    index = one_of_each(labels, 2 * pairs)
    rows = {}
    for k in range(pairs):
        a, b = index[2 * k], index[2 * k + 1]
        name = f"{int(labels.numpy()[a])} to {int(labels.numpy()[b])}"
        rows[name] = model.interpolate(x[int(a)], x[int(b)], steps)
    return rows


def manifold(model: VAE, per_side: int = 15) -> np.ndarray:
    """The 2-D code space decoded on a grid, row by row: codes at evenly spaced quantiles of
    N(0, 1), z1 growing to the right and z2 growing upwards."""
    from statistics import NormalDist

    values = [NormalDist().inv_cdf(q) for q in np.linspace(0.03, 0.97, per_side)]
    grid = np.array([[x, y] for y in values[::-1] for x in values], dtype=np.float32)
    return model.sample(len(grid), z=tensor(grid)).numpy()


def run(
    data: str = "digits",
    out_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int = 32,
    lr: float = 3e-3,
    latent: int = 8,
    hidden: tuple[int, ...] | None = None,
    conv: bool = False,
    widths: tuple[int, ...] = (32, 64),
    likelihood: str = "bernoulli",
    beta: float = 1.0,
    samples: int = 1000,
    split: str = "auto",
    resume: bool = False,
    checkpoint_every: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a VAE on `data` ("digits" or "mnist"); report the test ELBO per epoch, judge its
    samples, draw, save."""
    say, (x_train, y_train), (x_test, y_test), described = begin("vae", data, split, seed, verbose)
    out_dir = out_dir or f"runs/{data}-vae"
    epochs = epochs or EPOCHS[data]
    hidden = hidden or HIDDEN[data]
    judge, judge_accuracy = train_judge(data, (x_train, y_train), (x_test, y_test), say)

    model = VAE(x_train.shape[1:], latent, hidden, conv, widths, True, likelihood, beta)
    say(model)
    say(summary(model.decoder, input_shape=(latent,)))
    monitor = VAEMonitor(model, x_test, randn(64, latent), epochs, out_dir, say)
    start = time.perf_counter()
    fit(
        model,
        (x_train, x_train),
        epochs=epochs,
        optimizer=Adam(model.parameters(), lr=lr),
        loss_fn=model.loss,
        batch_size=batch_size,
        metrics=(),
        callbacks=[monitor],
        progress=progress,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        checkpoint_every=checkpoint_every,
        resume=resume,
        log_dir=out_dir,
    )
    seconds = time.perf_counter() - start
    history = monitor.history
    say(f"\ntrained {epochs} epochs in {seconds:.1f} s")
    say(
        f"test ELBO {history['elbo'][0]:.3f} after the first epoch, {history['elbo'][-1]:.3f} "
        f"after the last (nats per image; reconstruction {history['reconstruction'][-1]:.3f}, "
        f"KL {history['kl'][-1]:.3f})"
    )

    os.makedirs(out_dir, exist_ok=True)
    generated = model.sample(samples)
    quality, samples_file = judge_samples(
        judge, generated, out_dir, f"{data} VAE samples (codes from N(0, I))", say
    )
    index = one_of_each(y_test, 12)
    shown = x_test[tensor(index)]
    files = [
        samples_file,
        plot_series(
            range(1, epochs + 1),
            {k: history[k] for k in ("elbo", "reconstruction", "kl")},
            os.path.join(out_dir, "curves.png"),
            xlabel="epoch",
            ylabel="nats per test image",
            title=f"{data} VAE: test ELBO = -(reconstruction + KL), per epoch",
        ),
        plot_image_rows(
            {"original": shown, "reconstruction": model.reconstruct(shown)},
            os.path.join(out_dir, "reconstructions.png"),
            title="test images rebuilt from the mean of their code",
        ),
        plot_image_rows(
            latent_walks(model, x_test, y_test),
            os.path.join(out_dir, "latent_walk.png"),
            title="walking in a straight line from one digit's code to another's",
        ),
    ]
    with inference(model):
        means = np.concatenate(
            [model.encode(x_test[s : s + 1000])[0].numpy() for s in range(0, len(x_test), 1000)]
        )
    points, axis = pca_projection(means)
    files.append(
        plot_latent_space(
            points,
            y_test.numpy(),
            os.path.join(out_dir, "latent_space.png"),
            title="the test images' mean codes"
            + ("" if latent == 2 else f" ({latent}-D, first two principal axes)"),
            xlabel=f"{axis}1",
            ylabel=f"{axis}2",
        )
    )
    if latent == 2:
        files.append(
            plot_image_mosaic(
                manifold(model),
                os.path.join(out_dir, "manifold.png"),
                columns=15,
                title="the 2-D code space decoded: z1 from -1.9 (left) to 1.9 (right), z2 from "
                "1.9 (top) to -1.9 (bottom)",
            )
        )
    files.append(os.path.join(out_dir, "model.safetensors"))
    _, document = save_model(
        model,
        files[-1],
        extras=image_extras(model.image_shape, recipe="vae", latent_dim=model.latent_dim),
    )
    files.append(document)
    say(f"wrote {', '.join(files)} and progress/")
    return {
        "test_elbo": history["elbo"][-1],
        "history": history,
        "seconds": seconds,
        "judge_accuracy": judge_accuracy,
        "quality": quality,
        "files": files,
        "data": described,
    }
