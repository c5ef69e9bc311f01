"""Reference networks, ready to train: each one a few lines on top of `glassnet.nn`.

They are ordinary Modules whose layer names match the equivalent PyTorch models, so weights can move
between the two libraries.
"""

from .charrnn import CharRNN
from .cnn import LeNet5, SmallCNN
from .gpt import GPT
from .mlp import ACTIVATIONS, MLP
from .vit import ViT

__all__ = ["ACTIVATIONS", "MLP", "CharRNN", "GPT", "LeNet5", "SmallCNN", "ViT"]
