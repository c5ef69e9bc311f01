"""MNIST and Fashion-MNIST: 70,000 grey-scale 28x28 images each, in ten classes.

MNIST holds handwritten digits (60,000 for training, 10,000 for testing), the classic first real
problem for a neural network; Fashion-MNIST (Zalando) has the same format and sizes but shows
clothes, shoes and bags, and is harder. The four files of each are downloaded once from the
canonical mirrors into glassnet's cache folder (see `glassnet.data.download`), checked against
their published SHA-256, and parsed from the IDX format.

Files already in the cache folder are used as they are: they either came through the checked
download, or were put there by hand to work offline (any gzip wrapper, or uncompressed; the IDX
parser still checks their structure).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ...tensor import Tensor
from ..dataset import TensorDataset
from ..download import data_dir, download
from .idx import read_idx

MIRRORS: dict[str, list[str]] = {
    "MNIST": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "FashionMNIST": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}
"""Where each dataset's files are fetched from, tried in order (a file's URL is mirror + name)."""

# The published SHA-256 of the gzipped files on the mirrors, as TensorFlow Datasets and Keras list
# them (torchvision lists the same files by MD5).
SHA256: dict[str, dict[str, str]] = {
    "MNIST": {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
    },
}

CLASSES: dict[str, list[str]] = {
    "MNIST": [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ],
    "FashionMNIST": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}  # fmt: skip

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _locate(name: str, filename: str, root: str | os.PathLike | None, fetch: bool) -> Path:
    """The path of one of the dataset's files in the cache, downloading it if needed."""
    base = data_dir(root)
    folder = base / name
    # the cache's own layout first, then files put by hand in the folder itself or in a
    # lower-case subfolder ("mnist/"), gzipped or not
    for directory in (folder, base, base / name.lower()):
        for candidate in (directory / filename, directory / filename.removesuffix(".gz")):
            if candidate.is_file():
                return candidate
    if not fetch:
        raise FileNotFoundError(
            f"{name}: {filename} is not in {folder} and download=False; pass download=True, or "
            f"put the file there (set GLASSNET_DATA or pass root= to use another folder)"
        )
    urls = [mirror + filename for mirror in MIRRORS[name]]
    return download(urls, filename, SHA256[name][filename], folder)


def _load_arrays(
    name: str, split: str, root: str | os.PathLike | None, fetch: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One split's images (uint8, (n, 28, 28)) and labels (int64, (n,)), checked to agree."""
    if split not in FILES:
        raise ValueError(f"{name}: split should be 'train' or 'test', got {split!r}")
    images_file, labels_file = (_locate(name, f, root, fetch) for f in FILES[split])
    images = read_idx(images_file, ndim=3)
    labels = read_idx(labels_file, ndim=1)
    if len(images) != len(labels):
        raise ValueError(
            f"{name}: {images_file} holds {len(images)} images but {labels_file} holds "
            f"{len(labels)} labels"
        )
    if labels.size and labels.max() >= len(CLASSES[name]):
        raise ValueError(
            f"{labels_file}: label {labels.max()} is out of range for {len(CLASSES[name])} classes"
        )
    return images, labels.astype(np.int64)


def _as_tensors(images: np.ndarray, labels: np.ndarray, flatten: bool) -> tuple[Tensor, Tensor]:
    scaled = images.astype(np.float32)
    scaled *= 1.0 / 255.0
    shape = (len(images), -1) if flatten else (len(images), 1, *images.shape[1:])
    return Tensor(scaled.reshape(shape)), Tensor(labels)


def load_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    flatten: bool = False,
) -> tuple[Tensor, Tensor]:
    """MNIST's handwritten digits as two tensors, for whole-array use.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        root: the cache folder (default ``$GLASSNET_DATA`` or the user cache); the files live
            in its ``MNIST`` subfolder.
        download: fetch missing files from `MIRRORS`; False raises FileNotFoundError instead.
        flatten: images as rows of 784 values instead of (1, 28, 28).

    Returns:
        images: float32 Tensor (n, 1, 28, 28) (or (n, 784)), pixel values in [0, 1];
        labels: int64 Tensor (n,), the digits 0-9.
    """
    return _as_tensors(*_load_arrays("MNIST", split, root, download), flatten)


def load_fashion_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    flatten: bool = False,
) -> tuple[Tensor, Tensor]:
    """Fashion-MNIST as two tensors; arguments and result as for `load_mnist` (the files live in
    the ``FashionMNIST`` subfolder; the labels index ``CLASSES["FashionMNIST"]``)."""
    return _as_tensors(*_load_arrays("FashionMNIST", split, root, download), flatten)


class MNIST(TensorDataset):
    """MNIST's handwritten digits as a Dataset of (image, label) pairs.

    Args:
        root: the cache folder (default ``$GLASSNET_DATA`` or the user cache folder).
        train: the 60,000 training images; False gives the 10,000 test images.
        download: fetch missing files; False raises FileNotFoundError instead.
        transform: applied to each image when it is read (e.g. a `transforms.Compose` of
            augmentations); without one, a DataLoader gathers whole batches at once.

    Each sample is a float32 Tensor (1, 28, 28) with values in [0, 1] (after `transform`) and the
    label as a Python int.

    Example::

        >>> test = MNIST(train=False)
        >>> image, label = test[0]       # image.shape == (1, 28, 28), label == 7
    """

    name = "MNIST"

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
    ) -> None:
        self.train = train
        self.split = "train" if train else "test"
        self.root = data_dir(root) / self.name
        self.transform = transform
        self.classes = CLASSES[self.name]
        super().__init__(*_as_tensors(*_load_arrays(self.name, self.split, root, download), False))

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        image, label = super().__getitem__(index)
        if self.transform is not None:
            image = self.transform(image)
        return image, (int(label.data) if label.ndim == 0 else label)

    def _rows_are_samples(self) -> bool:
        return self.transform is None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={self.split!r}, samples={len(self)}, root={self.root})"


class FashionMNIST(MNIST):
    """Fashion-MNIST (clothes, shoes and bags in ten classes, see ``classes``) as a Dataset of
    (image, label) pairs; arguments and samples as for `MNIST`."""

    name = "FashionMNIST"


OFFLINE_TRAIN = 8000
"""Of the 10,000 test images, how many train when only those are at hand (the rest test)."""
SPLIT_SEED = 0
"""The seed of the fixed permutation that makes that offline split."""


def mnist_train_test(
    split: str = "auto", say: Callable[[str], Any] = print
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor], str]:
    """(train images, labels), (test images, labels) and a sentence saying which were used.

    Args:
        split: ``"full"`` (60,000 / 10,000), ``"t10k"`` (8,000 / 2,000 of the test set: a fixed
            permutation seeded with `SPLIT_SEED`, for working offline with only the two t10k
            files) or ``"auto"`` (full if it can be had, else t10k, saying so through `say`).

    Raises DownloadError or OSError (as `load_mnist`) when not even the test files can be had.
    """
    from ..download import DownloadError

    if split not in ("auto", "full", "t10k"):
        raise ValueError(f"MNIST split must be 'auto', 'full' or 't10k', got {split!r}")
    if split in ("auto", "full"):
        try:
            train, test = load_mnist("train"), load_mnist("test")
            return train, test, "MNIST: 60,000 training and 10,000 test images"
        except (DownloadError, OSError) as error:
            if split == "full":
                raise
            say(f"the full MNIST could not be had ({type(error).__name__}); trying t10k only")
    images, labels = load_mnist("test")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    first, rest = order[:OFFLINE_TRAIN], order[OFFLINE_TRAIN:]
    x, y = images.numpy(), labels.numpy()
    return (
        (Tensor(x[first]), Tensor(y[first])),
        (Tensor(x[rest]), Tensor(y[rest])),
        f"MNIST t10k only: {len(first):,} images to train on and the other {len(rest):,} to test "
        f"(permutation seed {SPLIT_SEED})",
    )
