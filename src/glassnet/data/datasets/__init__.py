"""Ready-made datasets: TensorFlow Playground's toy 2-D problems and real handwritten digits."""

from .digits import Digits, load_digits
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
    "as_tensor_dataset",
    "circle",
    "gauss",
    "load_digits",
    "make_toy_dataset",
    "moons",
    "multi_gaussian",
    "multiclass_blobs",
    "plane",
    "spiral",
    "xor",
]
