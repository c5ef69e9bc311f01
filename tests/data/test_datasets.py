"""The ready-made datasets: TensorFlow Playground's toy sets and the handwritten digits."""

import numpy as np
import pytest

import glassnet
from glassnet.data import DataLoader, TensorDataset
from glassnet.data.datasets import (
    REGRESSION_DATASETS,
    TOY_DATASETS,
    Digits,
    as_tensor_dataset,
    circle,
    load_digits,
    make_toy_dataset,
    moons,
    multi_gaussian,
    multiclass_blobs,
    plane,
    spiral,
    xor,
)
from glassnet.data.datasets import digits as digits_module

CLASSIFICATION = sorted(set(TOY_DATASETS) - REGRESSION_DATASETS)
FIRST_TEST_INDICES = [5, 9, 12, 14, 16, 17, 19, 23]  # of the fixed digits test split


# -- toy datasets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
@pytest.mark.parametrize("n", [1, 7, 500])
def test_toy_shapes_dtypes_and_range(name, n):
    X, y = make_toy_dataset(name, n=n, noise=0, seed=0)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,)
    assert y.dtype == (np.float32 if name in REGRESSION_DATASETS else np.int64)
    assert np.abs(X).max() <= 6.0


@pytest.mark.parametrize("name", [n for n in CLASSIFICATION if n not in ("xor", "blobs")])
def test_two_class_toy_sets_are_balanced(name):
    for n in (500, 501):
        _, y = make_toy_dataset(name, n=n, noise=0, seed=1)
        assert set(np.unique(y)) == {0, 1}
        assert abs(int(y.sum()) - n / 2) <= 0.5  # points are drawn by class, half each


def test_circle_labels_and_noise():
    X, y = circle(1000, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_array_equal(y, (radius < 2.5).astype(np.int64))
    assert radius[y == 0].min() >= 3.5 and radius.max() <= 5.0
    # With noise the points stay where they are and their labels are read at a shifted point.
    Xn, yn = circle(1000, noise=50, seed=0)
    np.testing.assert_array_equal(Xn, X)
    assert 0.02 < (yn != y).mean() < 0.5


def test_xor_labels_follow_the_quadrants_without_noise():
    X, y = xor(1000, seed=2)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(np.int64))
    assert np.abs(X).min() >= 0.3  # kept away from the axes
    assert 0.4 < y.mean() < 0.6


def test_noise_flips_some_xor_labels():
    X, y = xor(1000, noise=50, seed=2)
    wrong = (y != (X[:, 0] * X[:, 1] >= 0)).mean()
    assert 0.05 < wrong < 0.5


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_toy_determinism_by_seed(name):
    a = make_toy_dataset(name, n=100, noise=20, seed=3)
    b = make_toy_dataset(name, n=100, noise=20, seed=3)
    c = make_toy_dataset(name, n=100, noise=20, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    glassnet.manual_seed(9)
    d = make_toy_dataset(name, n=100, noise=20)
    glassnet.manual_seed(9)
    np.testing.assert_array_equal(d[0], make_toy_dataset(name, n=100, noise=20)[0])


def test_spiral_without_noise_lies_on_two_arms():
    X, y = spiral(400, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() < 5.0
    # Class 0 is class 1 turned by half a circle: the same radii, opposite points.
    ones = X[y == 1][np.argsort(radius[y == 1])]
    zeros = X[y == 0][np.argsort(radius[y == 0])]
    np.testing.assert_allclose(zeros, -ones, atol=1e-5)


def test_spiral_with_more_classes_has_an_arm_per_class():
    assert np.bincount(spiral(301, seed=0, classes=3)[1]).tolist() == [100, 100, 101]
    X, y = spiral(300, seed=0, classes=3)
    # the arm of class 1 is the arm of class 2 turned by a third of a circle
    turn = 2 * np.pi / 3
    rotation = np.array([[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]])
    radius = np.hypot(X[:, 0], X[:, 1])
    first = X[y == 2][np.argsort(radius[y == 2])]
    second = X[y == 1][np.argsort(radius[y == 1])]
    np.testing.assert_allclose(second, first @ rotation.T, atol=1e-4)
    with pytest.raises(ValueError, match="classes"):
        spiral(100, classes=1)


def test_regression_targets():
    X, y = plane(300, seed=0)
    np.testing.assert_allclose(y, X.sum(axis=1) / 10, rtol=1e-5, atol=1e-6)
    X, y = multi_gaussian(2000, seed=0)
    assert -1.0 <= y.min() < -0.5 and 0.5 < y.max() <= 1.0
    near = np.hypot(X[:, 0] + 4, X[:, 1] - 2.5) < 0.5  # the +1 bump at (-4, 2.5)
    np.testing.assert_allclose(y[near], 1 - np.hypot(X[near, 0] + 4, X[near, 1] - 2.5) / 2, 1e-5)


def test_moons_match_scikit_learn_up_to_the_playground_scaling():
    from sklearn.datasets import make_moons

    X, y = moons(201, seed=0)
    theirs, their_y = make_moons(201, shuffle=False)
    ours = X / (10 / 3) + (0.5, 0.25)
    for label in (0, 1):
        a = np.sort(ours[y == label], axis=0)
        b = np.sort(theirs[their_y == label], axis=0)
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("classes", [2, 3, 5, 8])
def test_multiclass_blobs(classes):
    X, y = multiclass_blobs(400, classes=classes, seed=0)
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1
    centres = np.array([X[y == k].mean(axis=0) for k in range(classes)])
    np.testing.assert_allclose(np.hypot(*centres.T), 3.0, atol=0.25)
    assert np.abs(X).max() <= 6.0


def test_toy_errors():
    with pytest.raises(
        ValueError, match=r"unknown toy dataset 'moon'; known datasets: circle, xor"
    ):
        make_toy_dataset("moon")
    with pytest.raises(ValueError, match="scale from 0 to 50, got 80"):
        make_toy_dataset("circle", noise=80)
    with pytest.raises(ValueError, match="n \\(the number of points\\)"):
        make_toy_dataset("spiral", n=0)
    with pytest.raises(ValueError, match="classes should be an integer from 2 to 8, got 1"):
        multiclass_blobs(classes=1)
    with pytest.raises(TypeError, match="seed should be an integer"):
        make_toy_dataset("gauss", seed="0")


def test_as_tensor_dataset_feeds_a_loader():
    ds = as_tensor_dataset(*make_toy_dataset("circle", n=50, seed=0))
    assert isinstance(ds, TensorDataset) and len(ds) == 50
    x, y = next(iter(DataLoader(ds, batch_size=16)))
    assert x.shape == (16, 2) and x.dtype == np.float32 and y.dtype == np.int64


# -- digits ---------------------------------------------------------------------------------------


def test_digits_split_sizes_classes_and_range():
    sizes = {}
    for split in ("train", "test", "all"):
        X, y = load_digits(split)
        assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape[1] == 64
        assert 0.0 <= X.numpy().min() and X.numpy().max() == 1.0
        assert set(np.unique(y.numpy())) == set(range(10))
        sizes[split] = len(y)
    assert sizes == {"train": 1437, "test": 360, "all": 1797}


def test_digits_split_is_stratified_disjoint_and_fixed():
    split = digits_module._split_indices()
    train, test = split["train"], split["test"]
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.union1d(train, test), np.arange(1797))
    _, y = load_digits("all")
    per_class = np.bincount(y.numpy()[test], minlength=10)
    np.testing.assert_array_equal(per_class, [36, 37, 35, 37, 36, 36, 36, 36, 35, 36])
    # Pins the split itself: a change here changes every accuracy reported on the test set.
    assert test[:8].tolist() == FIRST_TEST_INDICES


def test_digits_values_are_scikit_learn_divided_by_16():
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    X, y = load_digits("all")
    np.testing.assert_array_equal(X.numpy(), (bunch.data / 16).astype(np.float32))
    np.testing.assert_array_equal(y.numpy(), bunch.target)


def test_digits_images_and_dataset():
    X, _ = load_digits("test", flatten=False)
    assert X.shape == (360, 1, 8, 8)
    flat, _ = load_digits("test")
    np.testing.assert_array_equal(X.numpy().reshape(360, 64), flat.numpy())
    ds = Digits("train")
    assert len(ds) == 1437 and repr(ds) == "Digits(split='train', samples=1437)"
    x, y = next(iter(DataLoader(ds, batch_size=32, shuffle=True)))
    assert x.shape == (32, 64) and y.shape == (32,)
    inverted = Digits("test", flatten=False, transform=lambda image: 1.0 - image)
    image, label = inverted[0]
    np.testing.assert_allclose(image.numpy(), 1.0 - X.numpy()[0])
    xb, _ = next(iter(DataLoader(inverted, batch_size=4)))
    np.testing.assert_allclose(xb.numpy(), 1.0 - X.numpy()[:4])
    with pytest.raises(ValueError, match="split should be one of train, test, all, got 'val'"):
        load_digits("val")


def test_load_digits_copies_so_callers_cannot_corrupt_the_cache():
    X, _ = load_digits("train")
    X.data[:] = -1.0
    assert load_digits("train")[0].numpy().min() == 0.0


def test_shifted_copies_move_each_digit_one_pixel():
    from glassnet.data.datasets.digits import shifted_copies

    image = np.zeros((1, 1, 8, 8), np.float32)
    image[0, 0, 3, 4] = 1.0
    images, labels = shifted_copies(image, np.array([7]))
    assert images.shape == (5, 1, 8, 8) and labels.tolist() == [7] * 5
    spots = sorted(tuple(int(i) for i in np.argwhere(im[0])[0]) for im in images)
    assert spots == sorted([(3, 4), (4, 4), (2, 4), (3, 5), (3, 3)])
    edge = np.zeros((1, 64), np.float32)
    edge[0, 7] = 1.0  # top-right corner: moving it up or right drops it
    moved, _ = shifted_copies(edge, np.array([0]))
    assert moved.shape == (5, 64) and moved.sum() == 3.0
