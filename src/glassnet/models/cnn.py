"""Convolutional networks: small filters that slide across an image, sharing their weights.

A fully connected layer gives every pixel its own weight for every neuron. A convolution instead
learns a few small filters (3x3 or 5x5 numbers) and slides each one across the whole image, so
the same edge detector works in every corner, with a handful of weights. Pooling then keeps the
strongest response in each small window, and the next layer sees larger patterns. Two networks:

- `LeNet5`, LeCun's 1998 digit reader (28x28 input): two convolution + pooling stages, then three
  fully connected layers.
- `SmallCNN`, today's habit in miniature: blocks of conv -> batch norm -> ReLU, max pooling
  between blocks, global average pooling and one Linear layer at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..nn.container import Sequential
from ..nn.layers import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Tanh,
)
from ..nn.module import Module
from ..tensor import Tensor


class LeNet5(Module):
    """LeNet-5 for 1x28x28 images (MNIST), with ReLU or tanh and max pooling.

    ``features``: Conv2d(1, 6, 5, padding=2) -> act -> MaxPool2d(2) -> Conv2d(6, 16, 5) -> act ->
    MaxPool2d(2), which turns a 28x28 image into 16 maps of 5x5. ``classifier``: Flatten ->
    Linear(400, 120) -> act -> Linear(120, 84) -> act -> Linear(84, num_classes).

    Args:
        num_classes: outputs (raw scores; cross_entropy applies the softmax).
        in_channels: channels of the input image.
        activation: ``"relu"`` (default) or ``"tanh"`` (the 1998 original).

    Shape:
        input ``(N, in_channels, 28, 28)``, output ``(N, num_classes)``.
    """

    def __init__(
        self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu"
    ) -> None:
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"LeNet5: activation must be 'relu' or 'tanh', got {activation!r}")
        self.num_classes, self.in_channels, self.activation = num_classes, in_channels, activation
        act = ReLU if activation == "relu" else Tanh
        self.features = Sequential(
            Conv2d(in_channels, 6, 5, padding=2),
            act(),
            MaxPool2d(2),
            Conv2d(6, 16, 5),
            act(),
            MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(),
            Linear(16 * 5 * 5, 120),
            act(),
            Linear(120, 84),
            act(),
            Linear(84, num_classes),
        )

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``LeNet5(**model.config())``."""
        return {
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
            "activation": self.activation,
        }

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def conv_bn_relu(in_channels: int, out_channels: int) -> Sequential:
    """3x3 convolution (no bias: the batch norm's shift plays its part), batch norm, ReLU."""
    return Sequential(
        Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        BatchNorm2d(out_channels),
        ReLU(),
    )


class SmallCNN(Module):
    """Blocks of two conv-BN-ReLU layers, max pooling between blocks, global average pooling and
    a Linear head: a small modern image classifier.

    Args:
        in_channels: channels of the input image (1 for grey-scale).
        num_classes: outputs (raw scores).
        widths: channels of each block; every block but the last halves the image with
            MaxPool2d(2), so an 8x8 image needs at most 3 blocks, a 28x28 one at most 4.
        dropout: dropout probability before the head.

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, num_classes)``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        widths: Sequence[int] = (32, 64),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        widths = list(widths)
        if not widths or any(not isinstance(w, int) or w <= 0 for w in widths):
            raise ValueError(f"SmallCNN: widths must be positive integers, got {widths}")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.widths, self.dropout = widths, dropout
        layers: list[Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            layers += [conv_bn_relu(channels, width), conv_bn_relu(width, width)]
            if i < len(widths) - 1:
                layers.append(MaxPool2d(2))
            channels = width
        self.features = Sequential(*layers)
        self.head = Sequential(
            AdaptiveAvgPool2d(1), Flatten(), Dropout(dropout), Linear(channels, num_classes)
        )

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``SmallCNN(**model.config())``."""
        return {
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "widths": list(self.widths),
            "dropout": self.dropout,
        }

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))
