"""Ready-made datasets: TensorFlow Playground's toy 2-D problems, real handwritten digits,
MNIST and Fashion-MNIST (downloaded once into a cache folder), and text for character-level
language models (Tiny Shakespeare, and Python source from the standard library)."""

from .digits import Digits, load_digits
from .idx import read_idx
from .mnist import MNIST, FashionMNIST, load_fashion_mnist, load_mnist
from .text import (
    CharCorpus,
    RandomWindows,
    ShiftingStreams,
    SlidingWindows,
    StreamBatches,
    Vocabulary,
    load_python_source,
    load_tiny_shakespeare,
    random_windows,
)
from .toy import (
    REGRESSION_DATASETS,
    TOY_DATASETS,
    as_tensor_dataset,
    circle,
    gauss,
    make_toy_dataset,
    moons,
    multi_gaussian,
    multiclass_blobs,
    plane,
    spiral,
    xor,
)

__all__ = [
    "REGRESSION_DATASETS",
    "TOY_DATASETS",
    "CharCorpus",
    "Digits",
    "FashionMNIST",
    "MNIST",
    "RandomWindows",
    "ShiftingStreams",
    "SlidingWindows",
    "StreamBatches",
    "Vocabulary",
    "as_tensor_dataset",
    "circle",
    "gauss",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_python_source",
    "load_tiny_shakespeare",
    "make_toy_dataset",
    "moons",
    "multi_gaussian",
    "multiclass_blobs",
    "plane",
    "random_windows",
    "read_idx",
    "spiral",
    "xor",
]
