"""Recipe: a generative adversarial network learns to draw digits by trying to fool a critic.

The generator turns 32 (digits) or 64 (MNIST) random numbers into an image; the discriminator
scores images as real or generated. Every batch, the discriminator takes one Adam step on real
images and on the generator's newest ones (real labelled 0.9: one-sided label smoothing), then
the generator takes one Adam step on the non-saturating loss -log D(G(z)), with its own
optimizer, so each step moves only its own network (`GANTrainer`: the one Trainer with that
step). On the digits both are fully connected networks; on MNIST they are DCGAN's convolutional
pair. It writes:

- samples.png: generated images with the judge's label (a classifier trained on the real
  images), and how many of 1,000 samples it is sure of and which digits they cover (a GAN that
  draws only a few kinds of digit, "mode collapse", shows here);
- losses.png: both networks' losses per epoch (they do not fall together: each one's gain is
  the other's loss), and discriminator.png: its mean probability "real" on real and generated
  images;
- progress/samples_epoch_*.png: the same noise drawn as training goes on; model.safetensors;
- metrics.jsonl, epochs.csv, steps.csv: the run's log; checkpoints/: the newest checkpoints, to
  resume from (`run(resume=True)`).

Training is seeded: the same seed gives the same numbers. Digits (offline;
`glassnet train digits-gan`) or MNIST (`glassnet train mnist-gan`).

Measured with seed 0 on one core: on the digits, 150 epochs (12 s): the judge is sure of 67.5% of
1,000 samples, covering all 10 digits; on MNIST's offline split, 15 epochs of the DCGAN (162 s):
59.6%, all 10 digits but unevenly (215 sevens, 4 ones: a GAN's habit of favouring some modes).
"""

from __future__ import annotations

import os
from typing import Any

from .. import randn
from ..data import DataLoader, TensorDataset
from ..io import save_model
from ..models import GAN
from ..optim import Adam
from ..plot import plot_image_mosaic, plot_series
from ..tensor import Tensor
from ..train import Callback, Trainer
from .common import image_extras
from .generative import Say, begin, judge_samples, snapshot_epochs, train_judge

SETTINGS = {
    # epochs, batch size, learning rate, noise size, convolutional
    "digits": {"epochs": 150, "batch_size": 32, "lr": 1e-3, "latent": 32, "conv": False},
    "mnist": {"epochs": 15, "batch_size": 32, "lr": 2e-4, "latent": 64, "conv": True},
}


class GANTrainer(Trainer):
    """The Trainer for a `GAN`: each batch of real images is one round of the game.

    The discriminator takes a step on the real images and on freshly generated ones (detached:
    no gradient reaches the generator), then the generator takes a step through the updated
    discriminator's scores on the same generated images. Each optimizer covers one network, so
    each step moves only its own; gradients are cleared before each backward, so none leaks
    from one player's step into the other's. The epoch's logs are the means of d_loss, g_loss
    and the discriminator's probability "real" on real (d_real) and generated (d_fake) images.

    Args:
        model: the GAN.
        optimizers: ``{"discriminator": ..., "generator": ...}``, each over that network's
            parameters.
        **kwargs: the `Trainer`'s other arguments (callbacks, checkpoint_dir, log_dir...).
    """

    def __init__(self, model: GAN, optimizers: dict[str, Any], **kwargs: Any) -> None:
        if not isinstance(model, GAN):
            raise TypeError(f"GANTrainer: model must be a GAN, got {type(model).__name__}")
        if not isinstance(optimizers, dict) or set(optimizers) != {"discriminator", "generator"}:
            got = sorted(optimizers) if isinstance(optimizers, dict) else type(optimizers).__name__
            raise ValueError(
                "GANTrainer: optimizers must be a dict with the keys 'discriminator' and "
                f"'generator', got {got}"
            )
        if kwargs.get("accumulate_grad_batches", 1) != 1:
            raise ValueError(
                "GANTrainer: both players step on every batch, so accumulate_grad_batches must "
                f"be 1, got {kwargs['accumulate_grad_batches']!r}"
            )
        kwargs.setdefault("loss_fn", None)
        kwargs.setdefault("metrics", ())
        super().__init__(model, optimizers, **kwargs)

    def train_step(self, batch: Any) -> dict[str, float]:
        real = batch[0] if isinstance(batch, tuple | list) else batch
        fake = self.model(self.model.noise(len(real)))
        logs = self.discriminator_step(real, fake)
        logs.update(self.generator_step(fake))
        return logs

    def discriminator_step(self, real: Tensor, fake: Tensor) -> dict[str, float]:
        """One update of the discriminator on real images and generated ones (detached)."""
        loss, real_scores, fake_scores = self.model.discriminator_loss(real, fake.detach())
        self.optimizers["discriminator"].zero_grad()  # the generator's step left some here
        self.backward(loss)
        self.optimizer_step("discriminator")
        return {
            "d_loss": float(loss.data),
            "d_real": float(real_scores.sigmoid().data.mean()),
            "d_fake": float(fake_scores.sigmoid().data.mean()),
        }

    def generator_step(self, fake: Tensor) -> dict[str, float]:
        """One update of the generator through the discriminator's judgement of `fake` (made
        with its graph kept). Only the generator's optimizer steps; the gradients this leaves
        in the discriminator are cleared before its next step."""
        loss = self.model.generator_loss(fake)
        self.optimizers["generator"].zero_grad()
        self.backward(loss)
        self.optimizer_step("generator")
        return {"g_loss": float(loss.data)}


class EpochReport(Callback):
    """Prints the epoch's means of both losses and of D's beliefs at the first epoch, every
    `every` epochs and at the `also` epochs."""

    def __init__(self, say: Say, every: int, also: set[int]) -> None:
        self.say, self.every, self.also = say, every, also

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if epoch % self.every == 0 or epoch == 1 or epoch in self.also:
            self.say(
                f"epoch {epoch:4d}  d_loss {logs['d_loss']:.4f}  g_loss {logs['g_loss']:.4f}  "
                f"D(real) {logs['d_real']:.3f}  D(fake) {logs['d_fake']:.3f}"
            )


class ProgressPictures(Callback):
    """Draws the noise `z` through the generator at the `epochs` given, into
    `out_dir`/progress/samples_epoch_NNN.png (the same noise each time: the pictures show the
    generator learning)."""

    def __init__(self, z: Tensor, epochs: set[int], out_dir: str) -> None:
        self.z, self.epochs, self.out_dir = z, epochs, out_dir

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if epoch in self.epochs:
            plot_image_mosaic(
                trainer.model.sample(len(self.z), z=self.z),
                os.path.join(self.out_dir, "progress", f"samples_epoch_{epoch:03d}.png"),
                title=f"epoch {epoch}: the same noise, drawn by the generator",
            )


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
    resume: bool = False,
    checkpoint_every: int | None = None,
) -> dict:
    """Train a GAN on `data` ("digits" or "mnist"); judge its samples, draw, save. Options left
    at None take the dataset's settings (`SETTINGS`). Checkpoints go to `out_dir`/checkpoints
    after every epoch (and every `checkpoint_every` steps); `resume=True` carries on from the
    newest one, to the same numbers as a run that never stopped. The run's log (metrics.jsonl,
    epochs.csv, steps.csv) goes to `out_dir`."""
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
    optimizers = {
        name: Adam(getattr(model, name).parameters(), lr=chosen["lr"], betas=(0.5, 0.999))
        for name in ("discriminator", "generator")
    }
    snapshots = snapshot_epochs(chosen["epochs"])
    trainer = GANTrainer(
        model,
        optimizers,
        callbacks=[
            EpochReport(say, max(1, chosen["epochs"] // 25), snapshots),
            ProgressPictures(randn(64, chosen["latent"]), snapshots, out_dir),
        ],
        progress=progress,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        checkpoint_every=checkpoint_every,
        log_dir=out_dir,
        say=say,
    )
    trainer.fit(loader, chosen["epochs"], resume=resume)
    history = trainer.history.history
    seconds = trainer.elapsed()
    say(f"\ntrained {chosen['epochs']} epochs in {seconds:.1f} s")

    os.makedirs(out_dir, exist_ok=True)
    quality, samples_file = judge_samples(
        judge, model.sample(samples), out_dir, f"{data} GAN samples", say
    )
    epochs_axis = trainer.history.epochs
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
