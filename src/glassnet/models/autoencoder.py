"""The autoencoder: a network trained to copy its input through a narrow bottleneck.

The encoder squeezes each image into a short code (16 numbers for a 64-pixel digit), and the
decoder rebuilds the image from that code alone. Because the code is too short to hold every
pixel, training to reconstruct forces the network to keep what matters (the stroke, the shape)
and drop what does not: a learned compression, like PCA but able to bend. No labels are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..nn.layers import Linear, Sigmoid
from ..nn.module import Module
from ..tensor import Tensor
from .encoders import (
    check_codes,
    check_image_shape,
    check_images,
    check_latent_dim,
    encoder_and_decoder,
)


class Autoencoder(Module):
    """An encoder to a ``latent_dim`` code and a decoder back to the image, fully connected or
    convolutional.

    Args:
        image_shape: ``(channels, height, width)`` of the images, e.g. ``(1, 8, 8)``.
        latent_dim: the size of the code in the bottleneck.
        hidden: the fully connected variant's hidden widths (the decoder mirrors them).
        conv: the convolutional variant: 4x4 stride-2 convolutions halve the image once per
            entry of ``widths`` (so the sides must be multiples of ``2 ** len(widths)``), a Linear
            layer makes the code, and transposed convolutions double it back.
        widths: the convolutional variant's channels, first layer first.
        batch_norm: batch norm in the convolutional variant (not after the first convolution).

    Submodules: ``encoder`` (image -> code) and ``decoder`` (code -> image, ending in a Sigmoid,
    so reconstructions are pixel values in [0, 1]; train with MSE or binary cross-entropy).

    Shape:
        input ``(N, *image_shape)``; ``encode`` gives ``(N, latent_dim)``; output ``(N,
        *image_shape)``.

    Example::

        >>> ae = Autoencoder((1, 8, 8), latent_dim=16, conv=True, widths=(32, 64))
        >>> ae(glassnet.zeros(5, 1, 8, 8)).shape
        (5, 1, 8, 8)
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        latent_dim: int = 16,
        hidden: Sequence[int] = (256,),
        conv: bool = False,
        widths: Sequence[int] = (32, 64),
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        name = "Autoencoder"
        self.image_shape = check_image_shape(name, image_shape)
        self.latent_dim = check_latent_dim(name, latent_dim)
        self.conv = conv
        self.encoder, features, self.decoder = encoder_and_decoder(
            name, self.image_shape, latent_dim, hidden, conv, widths, batch_norm, Sigmoid()
        )
        self.encoder.append(Linear(features, latent_dim))
        self.hidden, self.widths, self.batch_norm = list(hidden), list(widths), batch_norm

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``Autoencoder(**model.config())``."""
        return {
            "image_shape": list(self.image_shape),
            "latent_dim": self.latent_dim,
            "hidden": self.hidden,
            "conv": self.conv,
            "widths": self.widths,
            "batch_norm": self.batch_norm,
        }

    def encode(self, x: Tensor) -> Tensor:
        """The codes of a batch of images: ``(N, latent_dim)``."""
        check_images("Autoencoder", x, self.image_shape)
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        """Images (pixel values in [0, 1]) painted from codes ``(N, latent_dim)``."""
        check_codes("Autoencoder", z, self.latent_dim)
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def extra_repr(self) -> str:
        kind = "conv" if self.conv else "mlp"
        return f"image_shape={self.image_shape}, latent_dim={self.latent_dim}, {kind}"
