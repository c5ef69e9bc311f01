"""Reference networks, ready to train: each one a few lines on top of `glassnet.nn`.

They are ordinary Modules whose layer names match the equivalent PyTorch models, so weights can move
between the two libraries. Each has a `config()` giving the arguments that rebuild it, so
`save(model, "runs/x/model.safetensors")` and `load("runs/x")` move a whole model, not only its
weights (see `glassnet.io.saved_model`).
"""

from ..io.saved_model import load_model as load
from ..io.saved_model import save_model as save
from .autoencoder import Autoencoder
from .charrnn import CharRNN
from .cnn import LeNet5, SmallCNN
from .gan import GAN
from .gpt import GPT
from .mlp import ACTIVATIONS, MLP
from .recommender import AutoRec, MatrixFactorization, NeuralCF
from .registry import REGISTRY, register
from .resnet import ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .vae import VAE
from .vit import ViT

__all__ = [
    "ACTIVATIONS",
    "REGISTRY",
    "GAN",
    "MLP",
    "VAE",
    "AutoRec",
    "Autoencoder",
    "CharRNN",
    "GPT",
    "LeNet5",
    "MatrixFactorization",
    "NeuralCF",
    "ResNet",
    "SmallCNN",
    "ViT",
    "load",
    "register",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "save",
]
