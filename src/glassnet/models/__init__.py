"""Reference networks, ready to train: each one a few lines on top of `glassnet.nn`.

They are ordinary Modules whose layer names match the equivalent PyTorch models, so weights can move
between the two libraries.
"""

from .autoencoder import Autoencoder
from .charrnn import CharRNN
from .cnn import LeNet5, SmallCNN
from .gan import GAN
from .gpt import GPT
from .mlp import ACTIVATIONS, MLP
from .resnet import ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .vae import VAE
from .vit import ViT

__all__ = [
    "ACTIVATIONS",
    "GAN",
    "MLP",
    "VAE",
    "Autoencoder",
    "CharRNN",
    "GPT",
    "LeNet5",
    "ResNet",
    "SmallCNN",
    "ViT",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
]
