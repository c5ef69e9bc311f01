"""Residual networks (ResNet): very deep convolutional networks that learn corrections.

A plain stack of fifty convolutions trains worse than a stack of twenty: the signal and its
gradient fade on the long way through. He et al. (2015) let every block add its output to its own
input, out = relu(x + F(x)), so a block only has to learn a correction F to what passes through
unchanged, and the gradient has a short path back through every addition. Two kinds of block:

- `BasicBlock` (ResNet-18/34): two 3x3 convolutions.
- `Bottleneck` (ResNet-50/101/152): a 1x1 convolution narrows the channels by 4, a 3x3 one works
  on the narrow maps, another 1x1 widens them again: deeper for the same cost.

Where a block halves the map or changes the channel count, a 1x1 convolution (`downsample`)
reshapes the input so it can be added. The layout, module names and initialisation are
torchvision's, so ``state_dict()`` keys and shapes match ``torchvision.models.resnet50()``
('layer1.0.downsample.0.weight' is (256, 64, 1, 1) in both) and weights move between the two.
``with glassnet.device("meta"): resnet50()`` builds the 25.6 million parameters as shapes only,
to count them (see `glassnet.meta`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..nn.container import Sequential
from ..nn.init import constant_, kaiming_normal_
from ..nn.layers import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU
from ..nn.module import Module
from ..tensor import Tensor


def conv3x3(
    in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1
) -> Conv2d:
    """3x3 convolution, padded to keep the size (at stride 1), no bias (a batch norm follows)."""
    return Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> Conv2d:
    """1x1 convolution: mixes channels at each pixel, no bias."""
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(Module):
    """Two 3x3 conv-BN layers and the shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + x)."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[[int], Module] | None = None,
    ) -> None:
        super().__init__()
        norm_layer = norm_layer or BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(Module):
    """1x1 (narrow), 3x3 (stride here, as torchvision's "ResNet V1.5"), 1x1 (widen by
    `expansion` = 4), each followed by batch norm, and the shortcut added before the last ReLU."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Module | None = None,
        groups: int = 1,
        base_width: int = 64,
        dilation: int = 1,
        norm_layer: Callable[[int], Module] | None = None,
    ) -> None:
        super().__init__()
        norm_layer = norm_layer or BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(Module):
    """A residual network, torchvision's layout: a 7x7 stride-2 convolution and a max pool
    (224 -> 56), four stages of blocks (`layers` blocks each, 64/128/256/512 planes, the last
    three halving the map), global average pooling and one Linear layer.

    Args:
        block: `BasicBlock` or `Bottleneck` (the class or its name).
        layers: blocks per stage, e.g. [3, 4, 6, 3] for ResNet-50.
        num_classes: outputs of the final Linear layer.
        zero_init_residual: start each block's last batch-norm weight at 0, so every block
            starts as the identity.
        groups, width_per_group: grouped (ResNeXt) and wide bottlenecks.
        replace_stride_with_dilation: for stages 2-4, dilate instead of striding.
        norm_layer: the normalisation layer (default BatchNorm2d).

    Shape:
        input ``(N, 3, H, W)`` (224x224 for ImageNet; any size of at least 32 works, thanks to
        the adaptive pooling), output ``(N, num_classes)``.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck] | str,
        layers: Sequence[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
        replace_stride_with_dilation: Sequence[bool] | None = None,
        norm_layer: Callable[[int], Module] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(block, str):
            if block not in BLOCKS:
                raise ValueError(f"ResNet: block must be one of {list(BLOCKS)}, got {block!r}")
            block = BLOCKS[block]
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must give 4 block counts, got {list(layers)}")
        self._norm_layer = norm_layer or BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        dilate = replace_stride_with_dilation or [False, False, False]
        if len(dilate) != 3:
            raise ValueError(
                "replace_stride_with_dilation should be None or a 3-element tuple, got "
                f"{replace_stride_with_dilation}"
            )
        self.groups = groups
        self.base_width = width_per_group
        self.block, self.layers = block, list(layers)
        self.num_classes, self.zero_init_residual = num_classes, zero_init_residual
        self.replace_stride_with_dilation = list(dilate)
        self.norm_layer = norm_layer
        self.conv1 = Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = ReLU(inplace=True)
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=dilate[2])
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, Conv2d):
                kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, BatchNorm2d):
                constant_(m.weight, 1)
                constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    constant_(m.bn2.weight, 0)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``ResNet(**model.config())``; the block is
        written by its name. A custom `norm_layer` is code, not an argument a file can hold."""
        if self.norm_layer is not None:
            raise ValueError(
                f"ResNet.config: a custom norm_layer ({self.norm_layer!r}) cannot be described "
                "by the model's arguments; only the default BatchNorm2d can"
            )
        return {
            "block": self.block.__name__,
            "layers": self.layers,
            "num_classes": self.num_classes,
            "zero_init_residual": self.zero_init_residual,
            "groups": self.groups,
            "width_per_group": self.base_width,
            "replace_stride_with_dilation": self.replace_stride_with_dilation,
        }

    def _make_layer(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        planes: int,
        blocks: int,
        stride: int = 1,
        dilate: bool = False,
    ) -> Sequential:
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                self._norm_layer(planes * block.expansion),
            )
        layers = [
            block(
                self.inplanes,
                planes,
                stride,
                downsample,
                self.groups,
                self.base_width,
                previous_dilation,
                self._norm_layer,
            )
        ]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(
                block(
                    self.inplanes,
                    planes,
                    groups=self.groups,
                    base_width=self.base_width,
                    dilation=self.dilation,
                    norm_layer=self._norm_layer,
                )
            )
        return Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


BLOCKS: dict[str, type[BasicBlock] | type[Bottleneck]] = {
    "BasicBlock": BasicBlock,
    "Bottleneck": Bottleneck,
}


def _resnet(block: Any, layers: list[int], weights: Any, kwargs: dict) -> ResNet:
    if weights is not None:
        raise ValueError(
            "glassnet downloads no weights: build the model with weights=None and load "
            "torchvision's state_dict (converted to NumPy) with model.load_state_dict()"
        )
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights: Any = None, **kwargs: Any) -> ResNet:
    """ResNet-18: BasicBlocks [2, 2, 2, 2], 11,689,512 parameters for 1000 classes."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, kwargs)


def resnet34(*, weights: Any = None, **kwargs: Any) -> ResNet:
    """ResNet-34: BasicBlocks [3, 4, 6, 3], 21,797,672 parameters for 1000 classes."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, kwargs)


def resnet50(*, weights: Any = None, **kwargs: Any) -> ResNet:
    """ResNet-50: Bottlenecks [3, 4, 6, 3], 25,557,032 parameters for 1000 classes (the guide's
    "25 million"). ``with glassnet.device("meta"): resnet50()`` builds it without memory."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, kwargs)


def resnet101(*, weights: Any = None, **kwargs: Any) -> ResNet:
    """ResNet-101: Bottlenecks [3, 4, 23, 3], 44,549,160 parameters for 1000 classes."""
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, kwargs)


def resnet152(*, weights: Any = None, **kwargs: Any) -> ResNet:
    """ResNet-152: Bottlenecks [3, 8, 36, 3], 60,192,808 parameters for 1000 classes."""
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, kwargs)
