"""Image transforms: shapes and dtypes kept, Tensor in gives Tensor out, manual_seed repeats the
random ones, Normalize is the plain formula, padded crops and shifts move the content exactly,
rotations by right angles agree with np.rot90, and a transform plugs into a dataset."""

import numpy as np
import pytest

import glassnet
from glassnet.data import DataLoader, TensorDataset
from glassnet.data.datasets import Digits
from glassnet.data.transforms import (
    Compose,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomShift,
    ToTensor,
    shift,
)
from glassnet.random import Generator, manual_seed
from glassnet.tensor import Tensor

RANDOM = {
    "crop": lambda: RandomCrop(28, padding=4),
    "crop_small": lambda: RandomCrop((20, 24)),
    "shift": lambda: RandomShift(3),
    "affine_translate": lambda: RandomAffine(0, translate=(0.1, 0.2)),
    "affine_rotate": lambda: RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1)),
    "flip": lambda: RandomHorizontalFlip(),
}
OUT_SHAPE = {"crop_small": (3, 20, 24)}


def image(shape=(3, 28, 28), seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


@pytest.mark.parametrize("as_tensor", [True, False], ids=["tensor", "array"])
@pytest.mark.parametrize("name", RANDOM)
def test_random_transforms_keep_type_shape_and_dtype(name, as_tensor):
    x = image()
    out = RANDOM[name]()(Tensor(x) if as_tensor else x)
    assert isinstance(out, Tensor if as_tensor else np.ndarray)
    assert out.shape == OUT_SHAPE.get(name, x.shape) and out.dtype == np.float32


@pytest.mark.parametrize("name", RANDOM)
def test_manual_seed_repeats_the_random_transforms(name):
    x = image()
    transform = RANDOM[name]()
    manual_seed(7)
    first = [np.asarray(transform(x)) for _ in range(6)]
    manual_seed(7)
    again = [np.asarray(transform(x)) for _ in range(6)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(first[0], f) for f in first[1:])  # it does vary


def test_a_private_generator_leaves_the_global_one_alone():
    x = image()
    manual_seed(1)
    expected = glassnet.random.default_generator().random()
    manual_seed(1)
    crop = RandomCrop(28, padding=2, generator=Generator(5))
    outputs = [crop(x) for _ in range(3)]
    assert glassnet.random.default_generator().random() == expected
    crop.generator = Generator(5)
    for out in outputs:
        np.testing.assert_array_equal(crop(x), out)


def test_normalize_is_the_formula():
    x = image()
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    out = Normalize(mean, std)(Tensor(x))
    expected = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)
    assert out.dtype == np.float32
    gray = image((1, 28, 28))
    np.testing.assert_allclose(
        Normalize((0.1307,), (0.3081,))(gray), (gray - 0.1307) / 0.3081, rtol=1e-6, atol=1e-6
    )
    batch = image((4, 3, 5, 5), dtype=np.float64)
    np.testing.assert_allclose(
        Normalize(0.5, 2.0)(batch), (batch - 0.5) / 2.0, rtol=1e-12
    )  # one value for every channel, any leading dimensions


def test_normalize_inplace_and_errors():
    x = image()
    expected = (x - 0.5) / 0.25
    assert Normalize(0.5, 0.25, inplace=True)(x) is x
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="contains 0"):
        Normalize(0.5, (1.0, 0.0))
    with pytest.raises(ValueError, match=r"2 mean values for an image of shape \(3, 28, 28\)"):
        Normalize((0.1, 0.2), 1.0)(image())
    with pytest.raises(TypeError, match="floating point"):
        Normalize(0.5, 0.5)(np.zeros((1, 4, 4), np.uint8))


@pytest.mark.parametrize("padding", [4, (2, 3), (1, 2, 3, 4)], ids=str)
def test_padded_crop_is_a_shift_of_the_content(padding):
    """A same-size crop of a padded image is the image moved by (padding - offset): every pixel
    keeps its neighbours, none is resampled."""
    left, top, right, bottom = (
        (padding,) * 4 if isinstance(padding, int) else padding * (4 // len(padding))
    )
    x = image((2, 10, 12))
    crop = RandomCrop((10, 12), padding=padding)
    seen = set()
    manual_seed(0)
    for _ in range(40):
        out = crop(x)
        matches = [
            (dy, dx)
            for dy in range(-bottom, top + 1)
            for dx in range(-right, left + 1)
            if np.array_equal(out, shift(x, dy, dx))
        ]
        assert matches, "the crop is not a shifted copy of the image"
        seen.update(matches)
    assert len(seen) > 10  # many different offsets were drawn


def test_crop_content_and_padding_modes():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    manual_seed(3)
    out = RandomCrop(2)(x)
    rows, cols = np.nonzero(np.isin(x[0], out[0]))
    np.testing.assert_array_equal(out[0], x[0, rows.min() : rows.min() + 2, cols.min() :][:, :2])
    edge = RandomCrop(6, padding=1, padding_mode="edge")(x)
    np.testing.assert_array_equal(edge[0], np.pad(x[0], 1, mode="edge"))
    filled = RandomCrop(6, padding=1, fill=-1.0)(x)
    assert filled[0, 0, 0] == -1.0 and filled[0, 1, 1] == 0.0
    grown = RandomCrop(6, pad_if_needed=True)(x)
    assert grown.shape == (1, 6, 6) and grown.sum() == x.sum()


def test_crop_errors():
    with pytest.raises(ValueError, match=r"crop size \(32, 32\) is larger than the \(padded\)"):
        RandomCrop(32)(image())
    with pytest.raises(ValueError, match="padding should be"):
        RandomCrop(28, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="padding_mode should be one of"):
        RandomCrop(28, padding_mode="wrap")
    with pytest.raises(TypeError, match="got list"):
        RandomCrop(2)([[1.0, 2.0], [3.0, 4.0]])


def test_shift_moves_content_and_fills():
    x = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    np.testing.assert_array_equal(shift(x, 1, -1), [[0, 0, 0], [2, 3, 0], [5, 6, 0]])
    np.testing.assert_array_equal(shift(x, 0, 0), x)
    np.testing.assert_array_equal(shift(x, 5, 0, fill=7.0), np.full((3, 3), 7.0))


def test_random_shift_stays_within_its_range():
    x = np.zeros((1, 9, 9), np.float32)
    x[0, 4, 4] = 1.0
    manual_seed(0)
    offsets = set()
    for _ in range(200):
        y, x_ = np.argwhere(RandomShift((1, 2))(x)[0])[0]
        offsets.add((int(y) - 4, int(x_) - 4))
    assert offsets == {(dy, dx) for dy in (-1, 0, 1) for dx in range(-2, 3)}


def test_affine_translation_is_an_exact_whole_pixel_shift():
    x = image((1, 20, 20))
    manual_seed(4)
    for _ in range(20):
        out = RandomAffine(0, translate=(0.2, 0.2))(x)
        assert any(
            np.array_equal(out, shift(x, dy, dx)) for dy in range(-4, 5) for dx in range(-4, 5)
        )


@pytest.mark.parametrize("size", [(1, 6, 6), (2, 7, 7)], ids=str)
def test_affine_right_angles_are_exact_rotations(size):
    x = image(size)
    turn = RandomAffine((90, 90))
    np.testing.assert_array_equal(turn(x), np.rot90(x, 1, axes=(-2, -1)))
    np.testing.assert_array_equal(RandomAffine((-90, -90))(x), np.rot90(x, -1, axes=(-2, -1)))
    np.testing.assert_array_equal(RandomAffine((180, 180))(x), x[..., ::-1, ::-1])


def test_affine_rotation_keeps_the_centre_and_fills_the_corners():
    x = np.ones((1, 9, 9), np.float32)
    x[0, 4, 4] = 5.0
    out = RandomAffine((45, 45), fill=-1.0)(x)
    assert out[0, 4, 4] == 5.0 and out[0, 0, 0] == -1.0 and out[0, 4, 0] == 1.0
    zoomed = RandomAffine(0, scale=(2.0, 2.0))(x)
    assert zoomed[0, 4, 4] == 5.0 and (zoomed == 5.0).sum() > 1


def test_affine_errors():
    with pytest.raises(ValueError, match="translate values should be between 0 and 1"):
        RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="degrees must be non-negative"):
        RandomAffine(-3)
    with pytest.raises(ValueError, match="scale values should be positive"):
        RandomAffine(0, scale=(0.0, 1.0))


def test_horizontal_flip():
    x = image((1, 4, 5))
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x), x[..., ::-1])
    assert RandomHorizontalFlip(0.0)(x) is x


def test_to_tensor_converts_layout_and_scale():
    picture = np.arange(24, dtype=np.uint8).reshape(2, 4, 3) * 10
    out = ToTensor()(picture)
    assert isinstance(out, Tensor) and out.shape == (3, 2, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, picture.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    gray = ToTensor()(np.ones((5, 6), np.float64))
    assert gray.shape == (1, 5, 6) and gray.dtype == np.float64
    with pytest.raises(TypeError, match="expected a NumPy array"):
        ToTensor()(Tensor(picture))


def test_compose_chains_and_prints():
    augment = Compose([RandomCrop(8, padding=1), Normalize(0.5, 0.5)])
    manual_seed(2)
    out = augment(image((1, 8, 8)))
    manual_seed(2)
    expected = Normalize(0.5, 0.5)(RandomCrop(8, padding=1)(image((1, 8, 8))))
    np.testing.assert_array_equal(out, expected)
    assert repr(augment).startswith("Compose(\n    RandomCrop(size=(8, 8), padding=(1, 1, 1, 1))")
    with pytest.raises(TypeError, match="position 1 is not callable"):
        Compose([Normalize(0, 1), 3])


def test_transform_as_dataset_transform_with_a_loader():
    pytest.importorskip("sklearn")
    augment = Compose([RandomShift(1), Normalize((0.5,), (0.5,))])
    digits = Digits("test", flatten=False, transform=augment)
    manual_seed(0)
    images, labels = next(iter(DataLoader(digits, batch_size=16, shuffle=True)))
    assert images.shape == (16, 1, 8, 8) and images.dtype == np.float32
    assert labels.shape == (16,)
    assert images.data.min() >= -1.0 and images.data.max() <= 1.0


class _Images(TensorDataset):
    def __init__(self, x, transform):
        super().__init__(x)
        self.transform = transform

    def __getitem__(self, index):
        return self.transform(super().__getitem__(index)[0])


def test_epochs_see_different_augmentations_but_repeat_under_a_seed():
    data = _Images(image((4, 1, 10, 10)), RandomCrop(10, padding=2))
    loader = DataLoader(data, batch_size=4)
    manual_seed(5)
    first, second = (batch.data.copy() for batch in [next(iter(loader)), next(iter(loader))])
    assert not np.array_equal(first, second)
    manual_seed(5)
    np.testing.assert_array_equal(next(iter(loader)).data, first)
