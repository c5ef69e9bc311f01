"""Reference networks, ready to train: each one a few lines on top of `glassnet.nn`.

They are ordinary Modules whose layer names match the equivalent PyTorch models, so weights can move
between the two libraries.
"""

from .cnn import LeNet5, SmallCNN
from .mlp import ACTIVATIONS, MLP

__all__ = ["ACTIVATIONS", "MLP", "LeNet5", "SmallCNN"]
