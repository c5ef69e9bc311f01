"""Image transforms: change each training image a little, every time it is read.

A network that sees every digit shifted by a few pixels, or slightly turned, learns that such
changes do not matter, and so does better on images it has never seen (data augmentation).
Normalising the pixel values to mean 0 and spread 1 helps training in a different way: it keeps
the first layer's inputs in the range its initial weights expect.

Each transform takes one image, a ``(C, H, W)`` Tensor or NumPy array (any leading dimensions, or
just ``(H, W)``, work too), and returns a new one of the same kind and dtype. They are plugged into
a dataset as ``transform=`` and chained with `Compose`. The random ones draw from glassnet's
seeded generator (or a `generator` of their own), so ``glassnet.manual_seed`` repeats them. The
names and arguments are torchvision's.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..random import Generator, as_rng
from ..tensor import Tensor

Image = Tensor | np.ndarray
GeneratorLike = Generator | np.random.Generator | None


def _pixels(name: str, image: Any) -> np.ndarray:
    """The array behind `image`, checked to be at least (H, W)."""
    array = image.data if isinstance(image, Tensor) else image
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{name}: expected an image as a Tensor or NumPy array of shape (C, H, W), got "
            f"{type(image).__name__}"
        )
    if array.ndim < 2:
        raise ValueError(
            f"{name}: expected an image of shape (C, H, W) or (H, W), got {array.shape}"
        )
    return array


def _like(array: np.ndarray, image: Image) -> Image:
    """`array` as the same kind of object as the input `image`."""
    return Tensor(array) if isinstance(image, Tensor) else array


def _pair(name: str, what: str, value: Any) -> tuple[Any, Any]:
    if isinstance(value, numbers.Number):
        return value, value
    if isinstance(value, Sequence) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, Sequence) and len(value) == 1:
        return value[0], value[0]
    raise ValueError(f"{name}: {what} should be a number or a pair of numbers, got {value!r}")


def shift(image: Image, dy: int, dx: int, fill: float = 0.0) -> Image:
    """`image` moved down by `dy` and right by `dx` whole pixels (negative: up, left); the pixels
    that come in from the border are `fill`."""
    a = _pixels("shift", image)
    out = np.full_like(a, fill)
    h, w = a.shape[-2:]
    if abs(dy) < h and abs(dx) < w:
        out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = a[
            ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return _like(out, image)


class Compose:
    """Apply several transforms one after the other.

    Example::

        >>> augment = Compose([RandomCrop(28, padding=2), Normalize((0.1307,), (0.3081,))])
        >>> train = MNIST(transform=augment)
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        for position, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(
                    f"Compose: transform at position {position} is not callable, got "
                    f"{type(t).__name__}"
                )
        self.transforms = list(transforms)

    def __call__(self, image: Any) -> Any:
        for t in self.transforms:
            image = t(image)
        return image

    def __repr__(self) -> str:
        return "Compose(" + "".join(f"\n    {t!r}" for t in self.transforms) + "\n)"


class ToTensor:
    """An (H, W) or (H, W, C) NumPy image (the layout image files give) to a (C, H, W) Tensor;
    uint8 pixels 0-255 become float32 values in [0, 1], other dtypes are kept."""

    def __call__(self, picture: np.ndarray) -> Tensor:
        if not isinstance(picture, np.ndarray):
            raise TypeError(
                f"ToTensor: expected a NumPy array (H, W) or (H, W, C), got "
                f"{type(picture).__name__}"
            )
        if picture.ndim not in (2, 3):
            raise ValueError(
                f"ToTensor: expected an (H, W) or (H, W, C) array, got {picture.shape}"
            )
        chw = (picture[None] if picture.ndim == 2 else picture.transpose(2, 0, 1)).copy()
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32)
            chw *= 1.0 / 255.0
        return Tensor(chw)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """Per channel, subtract `mean` and divide by `std`: out[c] = (image[c] - mean[c]) / std[c].

    Args:
        mean, std: one number per channel, or a single number for all of them (e.g. MNIST's
            ``(0.1307,)`` and ``(0.3081,)``).
        inplace: write into the input image instead of a new one.
    """

    def __init__(
        self, mean: float | Sequence[float], std: float | Sequence[float], inplace: bool = False
    ) -> None:
        self.mean = tuple(np.atleast_1d(np.asarray(mean, dtype=np.float64)).tolist())
        self.std = tuple(np.atleast_1d(np.asarray(std, dtype=np.float64)).tolist())
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std {self.std} contains 0, which would divide by zero")
        self.inplace = inplace

    def __call__(self, image: Image) -> Image:
        a = _pixels("Normalize", image)
        if a.dtype.kind != "f":
            raise TypeError(
                f"Normalize: expected a floating point image, got dtype {a.dtype} (convert it "
                "first, e.g. with ToTensor)"
            )
        channels = a.shape[-3] if a.ndim >= 3 else 1
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: {len(values)} {name} values for an image of shape {a.shape} "
                    f"with {channels} channel(s)"
                )
        per_channel = (-1, 1, 1) if a.ndim >= 3 else (1, 1)
        mean = np.asarray(self.mean, dtype=a.dtype).reshape(per_channel)
        std = np.asarray(self.std, dtype=a.dtype).reshape(per_channel)
        if self.inplace:
            a -= mean
            a /= std
            return image
        return _like((a - mean) / std, image)

    def __repr__(self) -> str:
        return f"Normalize(mean={list(self.mean)}, std={list(self.std)})"


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


class RandomCrop:
    """Cut a random `size` window out of the image, after padding its border if asked to.

    With ``padding=4`` and ``size`` equal to the image's own size, this moves the content by up
    to 4 pixels in each direction, filling the gap with `fill`: the classic augmentation for
    CIFAR-10 and MNIST.

    Args:
        size: the output's (height, width), or one number for a square.
        padding: added to the border first: one number for all sides, (left/right, top/bottom),
            or (left, top, right, bottom).
        pad_if_needed: pad an image smaller than `size` so that it can be cropped.
        fill: the value of padded pixels when `padding_mode` is ``"constant"``.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.
        generator: the random stream (default: glassnet's global one).
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0.0,
        padding_mode: str = "constant",
        generator: GeneratorLike = None,
    ) -> None:
        self.size = tuple(int(s) for s in _pair("RandomCrop", "size", size))
        if min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        if padding is None:
            padding = 0
        pads = [padding] if isinstance(padding, numbers.Number) else list(padding)
        if len(pads) not in (1, 2, 4) or any(
            not isinstance(p, numbers.Integral) or p < 0 for p in pads
        ):
            raise ValueError(
                "RandomCrop: padding should be a non-negative integer or a sequence of 2 or 4 of "
                f"them, got {padding!r}"
            )
        if len(pads) == 1:
            pads *= 4
        elif len(pads) == 2:
            pads *= 2
        self.padding = tuple(int(p) for p in pads)  # left, top, right, bottom
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"RandomCrop: padding_mode should be one of {', '.join(_PADDING_MODES)}, got "
                f"{padding_mode!r}"
            )
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def _pad(self, a: np.ndarray, left: int, top: int, right: int, bottom: int) -> np.ndarray:
        if not (left or top or right or bottom):
            return a
        widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
        if self.padding_mode == "constant":
            return np.pad(a, widths, mode="constant", constant_values=self.fill)
        return np.pad(a, widths, mode=self.padding_mode)

    def __call__(self, image: Image) -> Image:
        a = self._pad(_pixels("RandomCrop", image), *self.padding)
        th, tw = self.size
        if self.pad_if_needed:
            extra_h, extra_w = max(th - a.shape[-2], 0), max(tw - a.shape[-1], 0)
            a = self._pad(a, extra_w, extra_h, extra_w, extra_h)
        h, w = a.shape[-2:]
        if th > h or tw > w:
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the (padded) image "
                f"{(h, w)}; pass pad_if_needed=True to pad it"
            )
        rng = as_rng(self.generator)
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        return _like(np.ascontiguousarray(a[..., top : top + th, left : left + tw]), image)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomShift:
    """Move the image by a random whole number of pixels, up to `max_shift` in each direction
    (drawn uniformly from -max_shift..max_shift); pixels that come in are `fill`.

    Args:
        max_shift: the largest shift, one number for both axes or (vertical, horizontal).
        fill: the value of the pixels shifted in.
        generator: the random stream (default: glassnet's global one).
    """

    def __init__(
        self, max_shift: int | Sequence[int], fill: float = 0.0, generator: GeneratorLike = None
    ) -> None:
        limits = _pair("RandomShift", "max_shift", max_shift)
        if any(not isinstance(m, numbers.Integral) or m < 0 for m in limits):
            raise ValueError(
                f"RandomShift: max_shift should be non-negative integers, got {max_shift!r}"
            )
        self.max_shift = (int(limits[0]), int(limits[1]))
        self.fill = fill
        self.generator = generator

    def __call__(self, image: Image) -> Image:
        rng = as_rng(self.generator)
        dy = int(rng.integers(-self.max_shift[0], self.max_shift[0] + 1))
        dx = int(rng.integers(-self.max_shift[1], self.max_shift[1] + 1))
        return shift(image, dy, dx, self.fill)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, fill={self.fill})"


class RandomAffine:
    """Turn, move and scale the image at random (torchvision's RandomAffine without shear).

    Output pixels take the value of the nearest source pixel; those that come from outside the
    image are `fill`. Without rotation and scaling, a move is an exact whole-pixel shift.

    Args:
        degrees: the range of the rotation angle, counter-clockwise: a number d for (-d, d), or
            (min, max); 0 for none.
        translate: the largest move as fractions (horizontal a, vertical b) of the width and
            height: the shifts are drawn from -a * W..a * W and -b * H..b * H and rounded to
            whole pixels, as torchvision draws them.
        scale: the range (min, max) of the zoom factor; None keeps the size.
        fill: the value of pixels that come from outside the image.
        generator: the random stream (default: glassnet's global one).
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        translate: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        fill: float = 0.0,
        generator: GeneratorLike = None,
    ) -> None:
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomAffine: degrees must be non-negative, got {degrees}")
            degrees = (-degrees, degrees)
        self.degrees = tuple(float(d) for d in _pair("RandomAffine", "degrees", degrees))
        if translate is not None:
            translate = tuple(float(t) for t in _pair("RandomAffine", "translate", translate))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(
                    f"RandomAffine: translate values should be between 0 and 1, got {translate}"
                )
        if scale is not None:
            scale = tuple(float(s) for s in _pair("RandomAffine", "scale", scale))
            if not all(s > 0 for s in scale):
                raise ValueError(f"RandomAffine: scale values should be positive, got {scale}")
        self.translate = translate
        self.scale = scale
        self.fill = fill
        self.generator = generator

    def get_params(self, height: int, width: int) -> tuple[float, int, int, float]:
        """Draw (angle in degrees, vertical shift, horizontal shift, scale) for one image."""
        rng = as_rng(self.generator)
        angle = float(rng.uniform(*self.degrees))
        dy = dx = 0
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            dx = int(round(rng.uniform(-max_dx, max_dx)))
            dy = int(round(rng.uniform(-max_dy, max_dy)))
        factor = 1.0 if self.scale is None else float(rng.uniform(*self.scale))
        return angle, dy, dx, factor

    def __call__(self, image: Image) -> Image:
        h, w = _pixels("RandomAffine", image).shape[-2:]
        angle, dy, dx, factor = self.get_params(h, w)
        return affine(image, angle, dy, dx, factor, self.fill)

    def __repr__(self) -> str:
        return (
            f"RandomAffine(degrees={list(self.degrees)}, translate={self.translate}, "
            f"scale={self.scale}, fill={self.fill})"
        )


class RandomHorizontalFlip:
    """Mirror the image left to right with probability `p` (for clothes, not for digits)."""

    def __init__(self, p: float = 0.5, generator: GeneratorLike = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p should be between 0 and 1, got {p!r}")
        self.p = p
        self.generator = generator

    def __call__(self, image: Image) -> Image:
        if as_rng(self.generator).random() >= self.p:
            return image
        a = _pixels("RandomHorizontalFlip", image)
        return _like(np.ascontiguousarray(a[..., ::-1]), image)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


# -- fixed changes, for measuring how a model copes with data unlike its training data ------------


def affine(
    image: Image, angle: float, dy: int = 0, dx: int = 0, scale: float = 1.0, fill: float = 0.0
) -> Image:
    """Turn the image by `angle` degrees counter-clockwise about its centre, zoom it by `scale`
    and move it by (dy, dx) pixels; output pixels take the nearest source pixel's value, those
    from outside the image `fill`. Any leading dimensions (a whole batch) are turned alike."""
    a = _pixels("affine", image)
    if angle == 0.0 and scale == 1.0:
        return shift(image, dy, dx, fill)
    h, w = a.shape[-2:]
    # For every output pixel, the source pixel it comes from: undo the move, then the turn and
    # zoom about the image centre (y grows downwards, so counter-clockwise on screen).
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    y = np.arange(h, dtype=np.float64)[:, None] - cy - dy
    x = np.arange(w, dtype=np.float64)[None, :] - cx - dx
    cos, sin = math.cos(math.radians(angle)) / scale, math.sin(math.radians(angle)) / scale
    src_x = np.rint(cos * x - sin * y + cx).astype(np.intp)
    src_y = np.rint(sin * x + cos * y + cy).astype(np.intp)
    inside = (src_x >= 0) & (src_x < w) & (src_y >= 0) & (src_y < h)
    out = np.where(inside, a[..., src_y.clip(0, h - 1), src_x.clip(0, w - 1)], fill)
    return _like(out.astype(a.dtype, copy=False), image)


def rotate(image: Image, angle: float, fill: float = 0.0) -> Image:
    """Turn the image by `angle` degrees counter-clockwise about its centre (nearest pixel,
    torchvision's default); corners that come from outside the image are `fill`."""
    return affine(image, angle, fill=fill)


def adjust_contrast(image: Image, factor: float) -> Image:
    """Blend each image with its own mean brightness, as torchvision does: factor 1 leaves it
    alone, 0 gives a flat grey image, 2 doubles the contrast (clipped to [0, 1]). Images are
    (..., C, H, W) or (H, W) floats in [0, 1]; colour images are averaged over channels."""
    a = _pixels("adjust_contrast", image)
    if not factor >= 0:
        raise ValueError(f"adjust_contrast: factor must be non-negative, got {factor!r}")
    axes = (-1, -2) if a.ndim == 2 else (-1, -2, -3)
    mean = a.mean(axis=axes, keepdims=True)
    out = np.clip(factor * a + (1.0 - factor) * mean, 0.0, 1.0)
    return _like(out.astype(a.dtype, copy=False), image)


def gaussian_noise(
    image: Image,
    sigma: float,
    mean: float = 0.0,
    clip: bool = True,
    generator: GeneratorLike = None,
) -> Image:
    """Add Gaussian noise N(mean, sigma^2) to every pixel (clipped to [0, 1] unless `clip` is
    False), drawn from glassnet's seeded generator or `generator` (torchvision's
    gaussian_noise)."""
    a = _pixels("gaussian_noise", image)
    if not sigma >= 0:
        raise ValueError(f"gaussian_noise: sigma must be non-negative, got {sigma!r}")
    out = a + (as_rng(generator).standard_normal(a.shape) * sigma + mean)
    if clip:
        out = np.clip(out, 0.0, 1.0)
    return _like(out.astype(a.dtype, copy=False), image)
