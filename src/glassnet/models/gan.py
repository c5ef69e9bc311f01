"""The generative adversarial network (GAN): two networks that train each other by competing.

The generator turns random noise z into an image; the discriminator looks at an image and gives
one score, the logit of the probability that it is real. They take turns:

- the discriminator learns to tell real from made: binary cross-entropy with label 1 on real
  images and 0 on the generator's (its gradient stops at the generated images, so this step
  changes only the discriminator);
- the generator learns to fool it. Minimising log(1 - D(G(z))) would be the game as stated,
  but its gradient vanishes while the discriminator easily wins, early on; the non-saturating
  loss -log D(G(z)) (cross-entropy with label 1 on the generated images) points the same way
  and stays strong. Only the generator's optimizer steps, so the discriminator stays as it was.

Neither network ever sees a formula for "a digit": the generator learns what real images look
like only through the discriminator's gradient. One-sided label smoothing (real labels of 0.9
instead of 1) keeps the discriminator from growing too sure of itself. The convolutional variant
follows DCGAN: stride-2 convolutions with LeakyReLU(0.2) in the discriminator, stride-2
transposed convolutions with batch norm and ReLU in the generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..creation import full_like, randn
from ..nn import functional as F
from ..nn.layers import LeakyReLU, Linear, ReLU, Sigmoid
from ..nn.module import Module
from ..tensor import Tensor
from .encoders import (
    check_codes,
    check_image_shape,
    check_images,
    check_latent_dim,
    check_sizes,
    conv_decoder,
    conv_encoder,
    inference,
    mlp_decoder,
    mlp_encoder,
)


def _leaky() -> Module:
    return LeakyReLU(0.2)


class GAN(Module):
    """A generator (noise -> image, pixels in [0, 1]) and a discriminator (image -> one logit).

    Args:
        image_shape: ``(channels, height, width)`` of the images (pixels in [0, 1]).
        latent_dim: the size of the noise vector the generator starts from.
        hidden: the fully connected variant's hidden widths for the generator, first layer
            first; the discriminator uses them in reverse (wide near the image).
        conv: the DCGAN-style convolutional variant (image sides multiples of
            ``2 ** len(widths)``).
        widths: the convolutional variant's channels, near the image first (the
            discriminator's first layer, the generator's last hidden layer).
        label_smoothing: one-sided label smoothing: the discriminator's target for real images
            is ``1 - label_smoothing``.

    Submodules: ``generator`` and ``discriminator``. Train it with one optimizer for each
    network's parameters, taking turns: `glassnet.recipes.gan.GANTrainer` does that with
    `discriminator_loss` and `generator_loss`.

    Shape:
        ``generator``: ``(N, latent_dim)`` -> ``(N, *image_shape)``; ``discriminator``:
        ``(N, *image_shape)`` -> ``(N, 1)``; forward is the generator.

    Example::

        >>> gan = GAN((1, 8, 8), latent_dim=32, hidden=(128, 256))
        >>> d_opt = Adam(gan.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        >>> g_opt = Adam(gan.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        >>> trainer = GANTrainer(gan, {"discriminator": d_opt, "generator": g_opt})
        >>> history = trainer.fit(DataLoader(TensorDataset(images), batch_size=32), epochs=10)
        >>> gan.sample(16).shape
        (16, 1, 8, 8)
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        latent_dim: int = 64,
        hidden: Sequence[int] = (256, 512),
        conv: bool = False,
        widths: Sequence[int] = (64, 128),
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        name = "GAN"
        self.image_shape = check_image_shape(name, image_shape)
        self.latent_dim = check_latent_dim(name, latent_dim)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"GAN: label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.conv = conv
        if conv:
            widths = check_sizes(name, "widths", widths, allow_empty=False)
            self.generator = conv_decoder(
                latent_dim, self.image_shape, widths, ReLU, True, Sigmoid(), name
            )
            body, features = conv_encoder(self.image_shape, widths, _leaky, True, name)
        else:
            hidden = check_sizes(name, "hidden", hidden)
            self.generator = mlp_decoder(latent_dim, self.image_shape, hidden, _leaky, Sigmoid())
            body, features = mlp_encoder(self.image_shape, hidden[::-1], _leaky)
        body.append(Linear(features, 1))
        self.discriminator = body
        self.hidden, self.widths = list(hidden), list(widths)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``GAN(**model.config())``."""
        return {
            "image_shape": list(self.image_shape),
            "latent_dim": self.latent_dim,
            "hidden": self.hidden,
            "conv": self.conv,
            "widths": self.widths,
            "label_smoothing": self.label_smoothing,
        }

    def forward(self, z: Tensor) -> Tensor:
        """The generator's images for the noise `z` ``(N, latent_dim)``."""
        check_codes("GAN", z, self.latent_dim)
        return self.generator(z)

    def noise(self, n: int) -> Tensor:
        """`n` noise vectors from N(0, I), drawn from glassnet's generator."""
        return randn(n, self.latent_dim)

    def sample(self, n: int, z: Tensor | None = None) -> Tensor:
        """`n` generated images (from fresh noise, or the given `z`), in eval mode and without
        gradients."""
        with inference(self):
            return self(self.noise(n) if z is None else z)

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Cross-entropy of the discriminator's scores: real images labelled ``1 -
        label_smoothing``, generated ones 0. Returns the loss and the scores of both."""
        check_images("GAN discriminator", real, self.image_shape)
        real_scores = self.discriminator(real)
        fake_scores = self.discriminator(fake)
        target = 1.0 - self.label_smoothing
        loss = F.binary_cross_entropy_with_logits(
            real_scores, full_like(real_scores, target)
        ) + F.binary_cross_entropy_with_logits(fake_scores, full_like(fake_scores, 0.0))
        return loss, real_scores, fake_scores

    def generator_loss(self, fake: Tensor) -> Tensor:
        """The non-saturating generator loss: -log D(G(z)), the cross-entropy of the
        discriminator's scores on the generated images against the label 1 ("real")."""
        scores = self.discriminator(fake)
        return F.binary_cross_entropy_with_logits(scores, full_like(scores, 1.0))

    def extra_repr(self) -> str:
        kind = "dcgan" if self.conv else "mlp"
        return (
            f"image_shape={self.image_shape}, latent_dim={self.latent_dim}, {kind}, "
            f"label_smoothing={self.label_smoothing}"
        )
