"""Ready-made datasets: TensorFlow Playground's toy 2-D problems, real handwritten digits, and
MNIST and Fashion-MNIST (downloaded once into a cache folder)."""

from .digits import Digits, load_digits
from .idx import read_idx
from .mnist import MNIST, FashionMNIST, load_fashion_mnist, load_mnist
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
    "Digits",
    "FashionMNIST",
    "MNIST",
    "as_tensor_dataset",
    "circle",
    "gauss",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_toy_dataset",
    "moons",
    "multi_gaussian",
    "multiclass_blobs",
    "plane",
    "read_idx",
    "spiral",
    "xor",
]
