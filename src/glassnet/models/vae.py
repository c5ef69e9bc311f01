"""The variational autoencoder (VAE): an autoencoder whose codes follow a known distribution, so
that new images can be made by decoding random codes.

The encoder does not give one code per image but a Gaussian: a mean `mu` and a log-variance
`logvar` for every latent number. Training draws a code from it, z = mu + sigma * eps with eps
from N(0, 1) (the reparameterisation trick: the randomness sits in eps, so the gradient flows to
mu and sigma), and the decoder must rebuild the image from z. The loss is the negative ELBO (the
evidence lower bound on log p(x)), a sum of two terms per image:

- reconstruction: -log p(x | z), how unlikely the image is under the decoder's output (binary
  cross-entropy for a Bernoulli decoder, squared error over sigma^2 for a Gaussian one);
- KL(q(z | x) || N(0, I)): how far each image's Gaussian strays from the standard normal,
  -1/2 sum(1 + logvar - mu^2 - exp(logvar)).

The KL term packs the codes of all images into one round cloud around 0, with no gaps, so a code
drawn from N(0, I) decodes to a plausible image, and the straight line between two codes passes
through plausible images too. A weight `beta` on the KL term (beta-VAE) trades sharper
reconstructions (beta < 1) for a tidier latent space (beta > 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..creation import randn, randn_like
from ..nn import functional as F
from ..nn.layers import Linear
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..ops.shape import cat
from ..tensor import Tensor
from .encoders import (
    check_codes,
    check_image_shape,
    check_images,
    check_latent_dim,
    encoder_and_decoder,
    inference,
)

LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2.0 * math.pi)


def _per_example(t: Tensor) -> Tensor:
    """Sum over every dimension but the first: one number per example."""
    return t.reshape(t.shape[0], -1).sum(dim=1)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) of each example, summed over the latent dimensions:
    ``-1/2 sum(1 + logvar - mu^2 - exp(logvar))``, shape ``(N,)``."""
    return _per_example(1.0 + logvar - mu * mu - logvar.exp()) * -0.5


def bernoulli_nll(logits: Tensor, x: Tensor) -> Tensor:
    """-log p(x | logits) of each image, each pixel a Bernoulli with probability
    sigmoid(logit) (pixels in [0, 1] act as soft targets): the per-pixel binary cross-entropy,
    summed over the pixels, shape ``(N,)``."""
    return _per_example(F.binary_cross_entropy_with_logits(logits, x, reduction="none"))


def gaussian_nll(mean: Tensor, x: Tensor, log_sigma: Tensor) -> Tensor:
    """-log N(x | mean, sigma^2) of each image, every pixel with the same standard deviation
    sigma = exp(log_sigma): ``sum((x - mean)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2)``,
    shape ``(N,)``."""
    pixels = math.prod(x.shape[1:])
    squared = _per_example((x - mean) * (x - mean))
    return squared * (-2.0 * log_sigma).exp() * 0.5 + (log_sigma + 0.5 * LOG_2PI) * pixels


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None) -> Tensor:
    """A code drawn from N(mu, exp(logvar)) as ``mu + exp(logvar / 2) * eps``, eps ~ N(0, I)
    (drawn from glassnet's generator unless given), so the gradient reaches mu and logvar."""
    if eps is None:
        eps = randn_like(mu)
    elif tuple(eps.shape) != tuple(mu.shape):
        raise ValueError(f"reparameterize: eps has shape {eps.shape}, expected {mu.shape}")
    return mu + (logvar * 0.5).exp() * eps


class VAEOutput(NamedTuple):
    """What a VAE's forward pass gives: the decoder's raw output for the drawn codes (logits of
    the pixels for a Bernoulli decoder, their means for a Gaussian one), the encoder's mean and
    log-variance, and the codes z."""

    decoded: Tensor
    mu: Tensor
    logvar: Tensor
    z: Tensor


class VAELoss(NamedTuple):
    """The loss terms, each averaged over the batch: ``loss = reconstruction + beta * kl`` is
    what training minimises, ``elbo = -(reconstruction + kl)`` (nats per image) the bound."""

    loss: Tensor
    reconstruction: Tensor
    kl: Tensor
    elbo: float


class VAE(Module):
    """A variational autoencoder with a Gaussian encoder and a Bernoulli or Gaussian decoder.

    Args:
        image_shape: ``(channels, height, width)`` of the images (pixels in [0, 1]).
        latent_dim: the number of latent dimensions (2 can be drawn as a map).
        hidden: the fully connected variant's hidden widths (the decoder mirrors them).
        conv: the convolutional variant (see `Autoencoder`): stride-2 convolutions, whose
            image sides must be multiples of ``2 ** len(widths)``.
        widths: the convolutional variant's channels.
        batch_norm: batch norm in the convolutional variant.
        likelihood: ``"bernoulli"`` (binary cross-entropy on the pixels) or ``"gaussian"``
            (squared error, with one learned standard deviation ``log_sigma`` for all pixels).
        beta: the weight of the KL term in the training loss (1 is the true ELBO).

    Submodules: ``encoder`` (image -> features), ``fc_mu`` and ``fc_logvar`` (features ->
    ``latent_dim``), ``decoder`` (code -> raw image output); ``log_sigma`` for Gaussian.

    Shape:
        input ``(N, *image_shape)``; forward gives a `VAEOutput`; `sample` and `reconstruct`
        give images ``(N, *image_shape)`` (pixel means).

    Example::

        >>> vae = VAE((1, 8, 8), latent_dim=8, hidden=(128,))
        >>> terms = vae.loss_terms(vae(x), x)       # x: (N, 1, 8, 8) in [0, 1]
        >>> terms.loss.backward()
        >>> vae.sample(16).shape
        (16, 1, 8, 8)
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        latent_dim: int = 16,
        hidden: Sequence[int] = (256,),
        conv: bool = False,
        widths: Sequence[int] = (32, 64),
        batch_norm: bool = True,
        likelihood: str = "bernoulli",
        beta: float = 1.0,
    ) -> None:
        super().__init__()
        name = "VAE"
        self.image_shape = check_image_shape(name, image_shape)
        self.latent_dim = check_latent_dim(name, latent_dim)
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE: likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if not beta >= 0.0:
            raise ValueError(f"VAE: beta must be 0 or more, got {beta!r}")
        self.likelihood = likelihood
        self.beta = float(beta)
        self.conv = conv
        self.encoder, features, self.decoder = encoder_and_decoder(
            name, self.image_shape, latent_dim, hidden, conv, widths, batch_norm, None
        )
        self.fc_mu = Linear(features, latent_dim)
        self.fc_logvar = Linear(features, latent_dim)
        self.hidden, self.widths, self.batch_norm = list(hidden), list(widths), batch_norm
        if likelihood == "gaussian":
            self.log_sigma = Parameter(Tensor([math.log(0.1)]).float())

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``VAE(**model.config())``."""
        return {
            "image_shape": list(self.image_shape),
            "latent_dim": self.latent_dim,
            "hidden": self.hidden,
            "conv": self.conv,
            "widths": self.widths,
            "batch_norm": self.batch_norm,
            "likelihood": self.likelihood,
            "beta": self.beta,
        }

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The mean and log-variance of each image's Gaussian over codes, ``(N, latent_dim)``."""
        check_images("VAE", x, self.image_shape)
        features = self.encoder(x)
        return self.fc_mu(features), self.fc_logvar(features)

    def decode(self, z: Tensor) -> Tensor:
        """Images from codes: each pixel's mean (its probability for a Bernoulli decoder)."""
        check_codes("VAE", z, self.latent_dim)
        out = self.decoder(z)
        return out.sigmoid() if self.likelihood == "bernoulli" else out

    def forward(self, x: Tensor, eps: Tensor | None = None) -> VAEOutput:
        """Encode, draw one code per image (with the given noise eps, else fresh), decode."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, eps)
        return VAEOutput(self.decoder(z), mu, logvar, z)

    def reconstruction_nll(self, decoded: Tensor, x: Tensor) -> Tensor:
        """-log p(x | z) of each image, from the decoder's raw output, shape ``(N,)``."""
        if self.likelihood == "bernoulli":
            return bernoulli_nll(decoded, x)
        return gaussian_nll(decoded, x, self.log_sigma)

    def loss_terms(self, output: VAEOutput, x: Tensor) -> VAELoss:
        """The reconstruction and KL terms of a forward pass on `x`, averaged over the batch."""
        reconstruction = self.reconstruction_nll(output.decoded, x).mean()
        kl = gaussian_kl(output.mu, output.logvar).mean()
        loss = reconstruction + kl * self.beta if self.beta != 1.0 else reconstruction + kl
        return VAELoss(loss, reconstruction, kl, -float(reconstruction.data + kl.data))

    def loss(self, output: VAEOutput, x: Tensor) -> Tensor:
        """The training loss, ``reconstruction + beta * KL`` per image: usable as `fit`'s
        ``loss_fn`` with ``train_data=(x, x)``."""
        return self.loss_terms(output, x).loss

    def sample(self, n: int, z: Tensor | None = None) -> Tensor:
        """`n` new images: codes drawn from N(0, I) (or the given codes `z`), decoded, in eval
        mode and without gradients."""
        with inference(self):
            return self.decode(randn(n, self.latent_dim) if z is None else z)

    def reconstruct(self, x: Tensor) -> Tensor:
        """Each image decoded from the mean of its code (no noise): its reconstruction."""
        with inference(self):
            return self.decode(self.encode(x)[0])

    def interpolate(self, a: Tensor, b: Tensor, steps: int = 10) -> Tensor:
        """Images along the straight line between the codes (the means) of images `a` and `b`
        (each ``(C, H, W)`` or ``(1, C, H, W)``): ``steps`` images ``(steps, C, H, W)``, the
        first `a`'s reconstruction and the last `b`'s."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise ValueError(f"VAE.interpolate: steps must be an int of at least 2, got {steps!r}")
        ends = [t.reshape(1, *t.shape) if t.ndim == 3 else t for t in (a, b)]
        if any(end.shape[0] != 1 for end in ends):
            raise ValueError(
                f"VAE.interpolate: a and b must be single images, got shapes {a.shape}, {b.shape}"
            )
        with inference(self):
            mu, _ = self.encode(cat(ends))
            weights = Tensor(np.linspace(0.0, 1.0, steps, dtype=mu.dtype)[:, None])
            return self.decode(mu[0:1] * (1.0 - weights) + mu[1:2] * weights)

    def extra_repr(self) -> str:
        kind = "conv" if self.conv else "mlp"
        return (
            f"image_shape={self.image_shape}, latent_dim={self.latent_dim}, {kind}, "
            f"likelihood={self.likelihood!r}, beta={self.beta}"
        )
