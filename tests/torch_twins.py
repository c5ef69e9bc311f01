"""glassnet's models written in PyTorch, module for module and with the same attribute names,
so that a twin's ``load_state_dict`` takes the glassnet model's state_dict and the other way round.
Used by the tests and by the benchmarks' torch worker (never by glassnet itself), and shown in
docs/pytorch.md (a test checks that the page shows this code)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c = x.shape
        qkv = self.qkv(x).view(n, t, 3, self.n_heads, c // self.n_heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(n, t, c))


class MLP(nn.Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchGPT(nn.Module):
    """GPT without dropout, the head tied to the token embedding."""

    def __init__(
        self, vocab_size: int, context: int, d_model: int, n_layers: int, n_heads: int
    ) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2's initialisation, as glassnet's GPT.reset_parameters draws it."""
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        for block in self.blocks:
            for proj in (block.attn.proj, block.mlp.proj):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * len(self.blocks)))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok_emb(idx) + self.pos_emb.weight[: idx.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    @classmethod
    def copy_of(cls, model) -> TorchGPT:
        """The same network as the glassnet GPT `model`, with a copy of its weights."""
        config = model.config()
        twin = cls(
            *(config[k] for k in ("vocab_size", "context", "d_model", "n_layers", "n_heads"))
        )
        twin.load_state_dict(
            {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
        )
        return twin


class TorchViT(nn.Module):
    """glassnet's ViT (pre-norm encoder layers with GELU, class token, learned position
    embeddings) built from torch.nn's own TransformerEncoderLayer; no dropout."""

    def __init__(
        self,
        image_size: int,
        patch_size: int,
        in_channels: int,
        num_classes: int,
        d_model: int,
        depth: int,
        heads: int,
        mlp_dim: int,
    ) -> None:
        super().__init__()
        patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, d_model, patch_size, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, d_model))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model, heads, mlp_dim, 0.0, "gelu", batch_first=True, norm_first=True
            )
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(len(x), -1, -1), patches], 1) + self.pos_embed
        for layer in self.layers:
            tokens = layer(tokens)
        return self.head(self.norm(tokens[:, 0]))

    @classmethod
    def copy_of(cls, model) -> TorchViT:
        """The same network as the glassnet ViT `model` (square images), with a copy of its
        weights."""
        layer = model.layers[0]
        twin = cls(
            model.image_size[0],
            model.patch_size,
            model.in_channels,
            model.head.out_features,
            model.head.in_features,
            len(model.layers),
            layer.self_attn.num_heads,
            layer.linear1.out_features,
        )
        twin.load_state_dict(
            {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
        )
        return twin


# -- the rest of glassnet.models, written the same way ---------------------------------------------
# Each twin takes the glassnet model's arguments (``Twin(**model.config())``) and returns what the
# glassnet model's forward returns, so one comparison serves both.

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def torch_mlp(
    sizes: list[int],
    activation: str = "relu",
    dropout: float = 0.0,
    output_activation: str | None = None,
    bias: bool = True,
) -> nn.Sequential:
    """glassnet.models.MLP: Linear, activation, [Dropout,] ..., Linear, [output activation]."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, bias=bias))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0.0:
                layers.append(nn.Dropout(dropout))
    if output_activation is not None:
        layers.append(ACTIVATIONS[output_activation]())
    return nn.Sequential(*layers)


class TorchLeNet5(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu"):
        super().__init__()
        act = ACTIVATIONS[activation]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            act(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            act(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class TorchSmallCNN(nn.Module):
    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        widths: tuple[int, ...] = (32, 64),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            layers += [conv_bn_relu(channels, width), conv_bn_relu(width, width)]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(channels, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class TorchCharRNN(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        embed: int = 64,
        hidden: int = 256,
        layers: int = 2,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        recurrent = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.embedding = nn.Embedding(vocab_size, embed)
        self.rnn = recurrent(embed, hidden, layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x: torch.Tensor, state=None):
        output, state = self.rnn(self.embedding(x), state)
        return self.head(self.drop(output)), state


# ResNet exactly as torchvision.models.resnet writes it (minus groups, dilation and norm_layer),
# so its state_dict keys are torchvision's: conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc.


class TorchBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TorchBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TorchResNet(nn.Module):
    """torchvision's ResNet: `block` is "BasicBlock" (ResNet-18: layers [2, 2, 2, 2]) or
    "Bottleneck" (ResNet-50: [3, 4, 6, 3])."""

    def __init__(self, block: str, layers: list[int], num_classes: int = 1000) -> None:
        super().__init__()
        block_class = {"BasicBlock": TorchBasicBlock, "Bottleneck": TorchBottleneck}[block]
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block_class, 64, layers[0], 1)
        self.layer2 = self._make_layer(block_class, 128, layers[1], 2)
        self.layer3 = self._make_layer(block_class, 256, layers[2], 2)
        self.layer4 = self._make_layer(block_class, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block_class.expansion, num_classes)

    def _make_layer(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# Autoencoder, VAE and GAN are built from the encoders and decoders of glassnet.models.encoders:
# fully connected (Flatten, Linear layers) or convolutional (4x4 stride-2 convolutions, DCGAN's
# batch norm everywhere but the first convolution and the last transposed one).


def mlp_encoder(image_shape, hidden, act) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(image_shape)
    for size in hidden:
        layers += [nn.Linear(width, size), act()]
        width = size
    return nn.Sequential(*layers), width


def conv_encoder(image_shape, widths, act, batch_norm: bool) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    channels = image_shape[0]
    for i, size in enumerate(widths):
        norm = batch_norm and i > 0
        layers.append(nn.Conv2d(channels, size, 4, 2, 1, bias=not norm))
        if norm:
            layers.append(nn.BatchNorm2d(size))
        layers.append(act())
        channels = size
    layers.append(nn.Flatten())
    grid = math.prod(side // 2 ** len(widths) for side in image_shape[1:])
    return nn.Sequential(*layers), channels * grid


def mlp_decoder(latent_dim, image_shape, hidden, act, output_activation) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = latent_dim
    for size in hidden:
        layers += [nn.Linear(width, size), act()]
        width = size
    layers.append(nn.Linear(width, math.prod(image_shape)))
    if output_activation is not None:
        layers.append(output_activation)
    layers.append(nn.Unflatten(1, tuple(image_shape)))
    return nn.Sequential(*layers)


def conv_decoder(latent_dim, image_shape, widths, act, batch_norm, output_activation):
    height, width = (side // 2 ** len(widths) for side in image_shape[1:])
    features = widths[-1] * height * width
    layers: list[nn.Module] = [nn.Linear(latent_dim, features, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(features))
    layers += [act(), nn.Unflatten(1, (widths[-1], height, width))]
    outs = list(widths[-2::-1]) + [image_shape[0]]
    for i, (channels_in, channels_out) in enumerate(zip(widths[::-1], outs)):
        last = i == len(outs) - 1
        norm = batch_norm and not last
        layers.append(nn.ConvTranspose2d(channels_in, channels_out, 4, 2, 1, bias=not norm))
        if norm:
            layers.append(nn.BatchNorm2d(channels_out))
        if not last:
            layers.append(act())
    if output_activation is not None:
        layers.append(output_activation)
    return nn.Sequential(*layers)


def encoder_and_decoder(image_shape, latent_dim, hidden, conv, widths, batch_norm, output):
    if conv:
        encoder, features = conv_encoder(image_shape, widths, nn.ReLU, batch_norm)
        decoder = conv_decoder(latent_dim, image_shape, widths, nn.ReLU, batch_norm, output)
    else:
        encoder, features = mlp_encoder(image_shape, hidden, nn.ReLU)
        decoder = mlp_decoder(latent_dim, image_shape, hidden[::-1], nn.ReLU, output)
    return encoder, features, decoder


class TorchAutoencoder(nn.Module):
    def __init__(
        self, image_shape, latent_dim, hidden=(256,), conv=False, widths=(32, 64), batch_norm=True
    ) -> None:
        super().__init__()
        self.encoder, features, self.decoder = encoder_and_decoder(
            image_shape, latent_dim, hidden, conv, widths, batch_norm, nn.Sigmoid()
        )
        self.encoder.append(nn.Linear(features, latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class TorchVAE(nn.Module):
    """forward(x, eps) returns (decoder output, mu, logvar, z), as glassnet's VAEOutput."""

    def __init__(
        self,
        image_shape,
        latent_dim,
        hidden=(256,),
        conv=False,
        widths=(32, 64),
        batch_norm=True,
        likelihood="bernoulli",
        beta=1.0,
    ) -> None:
        super().__init__()
        self.encoder, features, self.decoder = encoder_and_decoder(
            image_shape, latent_dim, hidden, conv, widths, batch_norm, None
        )
        self.fc_mu = nn.Linear(features, latent_dim)
        self.fc_logvar = nn.Linear(features, latent_dim)
        if likelihood == "gaussian":
            self.log_sigma = nn.Parameter(torch.tensor([math.log(0.1)]))

    def forward(self, x: torch.Tensor, eps: torch.Tensor):
        features = self.encoder(x)
        mu, logvar = self.fc_mu(features), self.fc_logvar(features)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mu, logvar, z


class TorchGAN(nn.Module):
    """`generator` (noise -> image) and `discriminator` (image -> one logit); forward is the
    generator."""

    def __init__(
        self,
        image_shape,
        latent_dim,
        hidden=(256, 512),
        conv=False,
        widths=(64, 128),
        label_smoothing=0.0,
    ) -> None:
        super().__init__()

        def leaky() -> nn.Module:
            return nn.LeakyReLU(0.2)

        if conv:
            self.generator = conv_decoder(
                latent_dim, image_shape, widths, nn.ReLU, True, nn.Sigmoid()
            )
            body, features = conv_encoder(image_shape, widths, leaky, True)
        else:
            self.generator = mlp_decoder(latent_dim, image_shape, hidden, leaky, nn.Sigmoid())
            body, features = mlp_encoder(image_shape, hidden[::-1], leaky)
        body.append(nn.Linear(features, 1))
        self.discriminator = body

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)
