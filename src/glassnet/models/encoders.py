"""Encoders and decoders: networks that squeeze an image into a few numbers, and back.

An encoder reads an image and ends in a short vector of features; a decoder starts from a short
vector (a code, or random noise) and paints an image. Autoencoders and VAEs put one after the
other; a GAN's discriminator is an encoder with one output and its generator is a decoder. Each
comes in two kinds: fully connected (the image flattened into one row of pixels) or convolutional
(stride-2 convolutions halve the image at every layer, stride-2 transposed convolutions double it
back, as in DCGAN).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

from .. import checks
from ..nn.container import Sequential
from ..nn.layers import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Flatten,
    Linear,
    ReLU,
    Unflatten,
)
from ..nn.modes import inference  # noqa: F401  (re-exported for the models)
from ..nn.module import Module
from ..tensor import Tensor

MakeActivation = Callable[[], Module]


def check_sizes(name: str, what: str, sizes: Sequence[int], allow_empty: bool = True) -> list:
    """`sizes` as a list of positive ints, or a ValueError that names `name` and `what`."""
    sizes = list(sizes)
    if not allow_empty and not sizes:
        raise ValueError(f"{name}: {what} needs at least one entry, got {sizes}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"{name}: {what} must be positive integers, got {sizes}")
    return sizes


def check_latent_dim(name: str, latent_dim: int) -> int:
    return checks.positive_int(latent_dim, "latent_dim", name)


def check_image_shape(name: str, image_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(check_sizes(name, "image_shape", image_shape))
    if len(shape) != 3:
        raise ValueError(
            f"{name}: image_shape must be (channels, height, width), got {tuple(image_shape)}"
        )
    return shape  # type: ignore[return-value]


def check_images(name: str, x: Tensor, image_shape: tuple[int, int, int]) -> None:
    """A clear error unless `x` is a batch of images of `image_shape`."""
    if x.ndim != 4 or tuple(x.shape[1:]) != image_shape:
        shape = "(N, " + ", ".join(str(s) for s in image_shape) + ")"
        hint = ""
        if x.ndim == 2 and x.shape[1] == prod(image_shape):
            hint = f"; reshape the flat rows with x.reshape(-1, {', '.join(map(str, image_shape))})"
        raise ValueError(f"{name}: expected images of shape {shape}, got {tuple(x.shape)}{hint}")


def check_codes(name: str, z: Tensor, latent_dim: int) -> None:
    """A clear error unless `z` is a batch of codes of `latent_dim` numbers."""
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"{name}: expected codes of shape (N, {latent_dim}), got {tuple(z.shape)}")


def conv_grid(name: str, image_shape: tuple[int, int, int], layers: int) -> tuple[int, int]:
    """The height and width left after `layers` stride-2 convolutions (each halves the image),
    or a ValueError if the sides do not halve evenly that many times."""
    _, height, width = image_shape
    factor = 2**layers
    if height % factor or width % factor:
        raise ValueError(
            f"{name}: the convolutional variant halves the image {layers} times, so its height "
            f"and width must be multiples of {factor}; got image_shape {image_shape} (use fewer "
            "widths, or the fully connected variant)"
        )
    return height // factor, width // factor


def mlp_encoder(
    image_shape: tuple[int, int, int], hidden: Sequence[int], make_activation: MakeActivation
) -> tuple[Sequential, int]:
    """Flatten -> [Linear -> activation] for each hidden width; returns it and its output width."""
    layers: list[Module] = [Flatten()]
    width = prod(image_shape)
    for size in hidden:
        layers += [Linear(width, size), make_activation()]
        width = size
    return Sequential(*layers), width


def conv_encoder(
    image_shape: tuple[int, int, int],
    widths: Sequence[int],
    make_activation: MakeActivation,
    batch_norm: bool,
    name: str,
) -> tuple[Sequential, int]:
    """[Conv2d(4x4, stride 2) -> (BatchNorm2d) -> activation] for each width, then Flatten.

    Every convolution halves the height and width. As in DCGAN, the first layer has no batch
    norm. Returns the network and the number of features it ends with."""
    height, width = conv_grid(name, image_shape, len(widths))
    layers: list[Module] = []
    channels = image_shape[0]
    for i, size in enumerate(widths):
        norm = batch_norm and i > 0
        layers.append(Conv2d(channels, size, 4, stride=2, padding=1, bias=not norm))
        if norm:
            layers.append(BatchNorm2d(size))
        layers.append(make_activation())
        channels = size
    layers.append(Flatten())
    return Sequential(*layers), channels * height * width


def mlp_decoder(
    latent_dim: int,
    image_shape: tuple[int, int, int],
    hidden: Sequence[int],
    make_activation: MakeActivation,
    output_activation: Module | None,
) -> Sequential:
    """[Linear -> activation] for each hidden width, Linear to every pixel, the optional output
    activation, and Unflatten to (C, H, W)."""
    layers: list[Module] = []
    width = latent_dim
    for size in hidden:
        layers += [Linear(width, size), make_activation()]
        width = size
    layers.append(Linear(width, prod(image_shape)))
    if output_activation is not None:
        layers.append(output_activation)
    layers.append(Unflatten(1, tuple(image_shape)))
    return Sequential(*layers)


def conv_decoder(
    latent_dim: int,
    image_shape: tuple[int, int, int],
    widths: Sequence[int],
    make_activation: MakeActivation,
    batch_norm: bool,
    output_activation: Module | None,
    name: str,
) -> Sequential:
    """The mirror of `conv_encoder`: Linear from the code to the smallest feature maps
    (widths[-1] channels), then ConvTranspose2d(4x4, stride 2) layers that double the image
    through the widths in reverse order, the last one to the image's channels; batch norm and
    the activation after every layer but the last (DCGAN's generator)."""
    height, width = conv_grid(name, image_shape, len(widths))
    widths = list(widths)
    features = widths[-1] * height * width
    layers: list[Module] = [Linear(latent_dim, features, bias=not batch_norm)]
    if batch_norm:
        layers.append(BatchNorm1d(features))
    layers += [make_activation(), Unflatten(1, (widths[-1], height, width))]
    outs = widths[-2::-1] + [image_shape[0]]
    for i, (channels_in, channels_out) in enumerate(zip(widths[::-1], outs)):
        last = i == len(outs) - 1
        norm = batch_norm and not last
        layers.append(
            ConvTranspose2d(channels_in, channels_out, 4, stride=2, padding=1, bias=not norm)
        )
        if norm:
            layers.append(BatchNorm2d(channels_out))
        if not last:
            layers.append(make_activation())
    if output_activation is not None:
        layers.append(output_activation)
    return Sequential(*layers)


def encoder_and_decoder(
    name: str,
    image_shape: tuple[int, int, int],
    latent_dim: int,
    hidden: Sequence[int],
    conv: bool,
    widths: Sequence[int],
    batch_norm: bool,
    output_activation: Module | None,
) -> tuple[Sequential, int, Sequential]:
    """An encoder body (image -> features, ReLU), the number of features it ends with, and the
    mirrored decoder (code -> image): fully connected through `hidden`, or convolutional through
    `widths`. The sizes are checked first, with errors that name `name`."""
    if conv:
        widths = check_sizes(name, "widths", widths, allow_empty=False)
        encoder, features = conv_encoder(image_shape, widths, ReLU, batch_norm, name)
        decoder = conv_decoder(
            latent_dim, image_shape, widths, ReLU, batch_norm, output_activation, name
        )
    else:
        hidden = check_sizes(name, "hidden", hidden)
        encoder, features = mlp_encoder(image_shape, hidden, ReLU)
        decoder = mlp_decoder(latent_dim, image_shape, hidden[::-1], ReLU, output_activation)
    return encoder, features, decoder
