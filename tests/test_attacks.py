"""Adversarial attacks checked against PyTorch (the same FGSM perturbation; PGD from a fixed start
step for step), the model left as it was, clear errors, adversarial training batches and
distribution shifts; the robustness claims on real digits in the slow tests."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet as gn
from glassnet.attacks import (
    AdversarialBatches,
    accuracy_of,
    fgsm,
    format_robustness_table,
    format_shift_table,
    pgd,
    robustness_curve,
    shift_curves,
)
from glassnet.data.transforms import adjust_contrast, gaussian_noise, rotate
from glassnet.models import SmallCNN
from test_explain import assert_left_as_found, images, twin_cnns


def torch_loss_grad(model, x, labels, sign=1.0):
    xt = torch.tensor(x, requires_grad=True)
    (sign * TF.cross_entropy(model(xt), torch.tensor(labels))).backward()
    return xt.grad.numpy()


def test_fgsm_gives_pytorchs_perturbation():
    ours, theirs = twin_cnns()
    x, y = images(5), np.array([0, 1, 2, 3, 4])
    expected = np.clip(x + 0.1 * np.sign(torch_loss_grad(theirs, x, y)), 0, 1)
    np.testing.assert_array_equal(fgsm(ours, x, y, 0.1).numpy(), expected)
    # targeted: down the loss of the target class
    target = np.array([4, 4, 0, 0, 1])
    expected = np.clip(x - 0.1 * np.sign(torch_loss_grad(theirs, x, target)), 0, 1)
    np.testing.assert_array_equal(fgsm(ours, x, None, 0.1, target=target).numpy(), expected)
    same = fgsm(ours, gn.tensor(x), gn.tensor(y), 0.1, target=4).numpy()
    expected = np.clip(x - 0.1 * np.sign(torch_loss_grad(theirs, x, np.full(5, 4))), 0, 1)
    np.testing.assert_array_equal(same, expected)


@pytest.mark.parametrize("targeted", [False, True])
def test_pgd_from_a_fixed_start_matches_pytorch_step_for_step(targeted):
    ours, theirs = twin_cnns()
    x, y = images(5, seed=1), np.array([4, 3, 2, 1, 0])
    eps, alpha = 0.15, 0.04
    start = np.random.default_rng(2).uniform(-eps, eps, x.shape)
    classes, sign = (np.array([1, 1, 1, 2, 2]), -1.0) if targeted else (y, 1.0)
    adv = np.clip(x + start, 0, 1)
    for steps in range(1, 7):
        adv = adv + alpha * np.sign(torch_loss_grad(theirs, adv, classes, sign))
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0, 1)
        kwargs = {"target": classes} if targeted else {}
        got = pgd(ours, x, y, eps, steps=steps, step_size=alpha, start=start, **kwargs).numpy()
        np.testing.assert_array_equal(got, adv, err_msg=f"step {steps}")
    assert np.abs(adv - x).max() <= eps + 1e-12 and adv.min() >= 0 and adv.max() <= 1


def test_pgd_random_start_is_seeded_and_stays_in_the_ball():
    ours, _ = twin_cnns(np.float32)
    x, y = images(4, dtype=np.float32), np.array([0, 1, 2, 3])
    a = pgd(ours, x, y, 0.2, steps=3, generator=np.random.default_rng(0)).numpy()
    b = pgd(ours, x, y, 0.2, steps=3, generator=np.random.default_rng(0)).numpy()
    c = pgd(ours, x, y, 0.2, steps=0, random_start=False).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, x)
    assert a.dtype == np.float32 and np.abs(a - x).max() <= 0.2 + 1e-6
    assert a.min() >= 0.0 and a.max() <= 1.0
    wide = pgd(ours, x * 4 - 2, y, 0.5, steps=2, clip=(-2.0, 2.0)).numpy()
    assert wide.min() >= -2.0 and wide.max() <= 2.0


@pytest.mark.parametrize(
    "attack",
    [
        lambda m, x: fgsm(m, x, np.arange(3), 0.1),
        lambda m, x: pgd(m, x, np.arange(3), 0.1, steps=2),
        lambda m, x: robustness_curve(m, (x, np.arange(3)), [0.0, 0.1], attack="fgsm"),
        lambda m, x: list(AdversarialBatches(m, (gn.tensor(x), gn.tensor(np.arange(3))))),
    ],
    ids=["fgsm", "pgd", "robustness_curve", "AdversarialBatches"],
)
def test_attacks_leave_the_model_as_they_found_it(attack):
    assert_left_as_found(attack)


def test_bad_arguments_are_clear_errors():
    ours, _ = twin_cnns()
    x, y = images(3), np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"eps must be a finite number >= 0, got -0.1"):
        fgsm(ours, x, y, -0.1)
    with pytest.raises(ValueError, match="eps must be a finite number"):
        pgd(ours, x, y, float("nan"))
    with pytest.raises(TypeError, match="eps must be a number"):
        pgd(ours, x, y, "0.1")
    with pytest.raises(ValueError, match=r"valid range \[0.0, 1.0\].*go from -0.99\d+ to 0.99"):
        fgsm(ours, x * 2 - 1, y, 0.1)
    with pytest.raises(ValueError, match="clip must be a range"):
        fgsm(ours, x, y, 0.1, clip=(1.0, 0.0))
    with pytest.raises(ValueError, match="labels must be 3 integer class indices"):
        fgsm(ours, x, y[:2], 0.1)
    with pytest.raises(ValueError, match="target must be 3 integer class indices"):
        pgd(ours, x, None, 0.1, target=[1, 2])
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        pgd(ours, x, y, 0.1, steps=-1)
    with pytest.raises(ValueError, match="step_size must be >= 0"):
        pgd(ours, x, y, 0.1, step_size=-0.01)
    with pytest.raises(ValueError, match="start must have the images' shape"):
        pgd(ours, x, y, 0.1, start=np.full(x.shape, 0.5))
    with pytest.raises(ValueError, match="unknown attack 'cw'"):
        robustness_curve(ours, (x, y), [0.1], attack="cw")
    with pytest.raises(ValueError, match="fraction must be in"):
        AdversarialBatches(ours, (x, y), fraction=2.0)


def test_robustness_curve_and_its_table():
    ours, theirs = twin_cnns(np.float32)
    x = images(20, dtype=np.float32)
    y = gn.train.predict(ours, x).numpy().argmax(1)  # the model's own answers: accuracy 1 at eps 0
    curves = [robustness_curve(ours, (x, y), [0, 0.05, 0.3], attack=a) for a in ("fgsm", "pgd")]
    for curve in curves:
        assert curve.eps == [0.0, 0.05, 0.3] and curve.accuracy[0] == 1.0
        assert curve.accuracy[2] <= curve.accuracy[1] <= 1.0
    assert accuracy_of(ours, x, y) == 1.0
    table = format_robustness_table({"tiny CNN": curves})
    assert "eps 0.05" in table and "tiny CNN" in table and "pgd" in table.splitlines()[-1]


def test_adversarial_batches_for_fit():
    ours, _ = twin_cnns(np.float32)
    x, y = images(10, dtype=np.float32), np.arange(10) % 5
    batches = AdversarialBatches(ours, (gn.tensor(x), gn.tensor(y)), "fgsm", eps=0.1, batch_size=4)
    assert len(batches) == 3 and "fgsm" in repr(batches)
    seen = 0
    for adv, labels in batches:
        assert np.abs(adv.numpy() - x[_rows(x, adv.numpy(), 0.1)]).max() <= 0.1 + 1e-6
        seen += len(labels)
    assert seen == 10
    half = AdversarialBatches(ours, (gn.tensor(x), gn.tensor(y)), "pgd", eps=0.2, fraction=0.5)
    ((adv, _),) = list(half)
    changed = np.abs(adv.numpy() - x[_rows(x, adv.numpy(), 0.2)]).reshape(10, -1).max(1) > 0
    assert changed.sum() == 5 and changed[:5].all()
    gn.manual_seed(0)
    history = gn.train.fit(ours, batches, epochs=1, lr=1e-3, progress=False)
    assert len(history["loss"]) == 1


def _rows(x, adv, eps):
    """For each adversarial image, the row of `x` it was made from (the batches are shuffled)."""
    distance = np.abs(adv[:, None] - x[None]).reshape(len(adv), len(x), -1).max(-1)
    return distance.argmin(1)


def test_distribution_shift_transforms_and_curves():
    a = np.arange(16, dtype=np.float32).reshape(1, 4, 4) / 15
    np.testing.assert_array_equal(rotate(a, 90), np.rot90(a, axes=(1, 2)))
    np.testing.assert_array_equal(rotate(gn.tensor(a), 0).numpy(), a)
    np.testing.assert_allclose(adjust_contrast(a, 0.0), np.full_like(a, a.mean()))
    np.testing.assert_allclose(adjust_contrast(a, 1.0), a)
    assert adjust_contrast(a, 3.0).max() == 1.0 and adjust_contrast(a, 3.0).min() == 0.0
    noisy = gaussian_noise(a, 0.3, generator=np.random.default_rng(1))
    again = gaussian_noise(a, 0.3, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(noisy, again)
    assert noisy.dtype == np.float32 and 0.0 <= noisy.min() and noisy.max() <= 1.0
    with pytest.raises(ValueError, match="sigma must be non-negative"):
        gaussian_noise(a, -1.0)
    ours, _ = twin_cnns(np.float32)
    x = images(12, dtype=np.float32)
    y = gn.train.predict(ours, x).numpy().argmax(1)
    curves = shift_curves(ours, x, y, {"rotation": (0, 90), "noise": (0, 0.5), "contrast": (1, 0)})
    assert [level for level, _ in curves["noise"]] == [0, 0.5]
    assert all(points[0][1] == 1.0 for points in curves.values())
    assert "rotation  0deg: 100.0%" in format_shift_table(curves)
    with pytest.raises(ValueError, match="valid range"):
        shift_curves(ours, x + 2, y)


# -- the guide's claims, at full size on the real digits -------------------------------------------


@pytest.fixture(scope="module")
def digits():
    from glassnet.data.datasets.digits import load_digits, shifted_copies

    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    images_train, labels_train = shifted_copies(
        x_train.numpy().reshape(-1, 1, 8, 8), y_train.numpy()
    )
    return images_train, labels_train, x_test.numpy().reshape(-1, 1, 8, 8), y_test.numpy()


def train_cnn(digits, epochs, adversarial=None, seed=0):
    from glassnet.optim import AdamW
    from glassnet.optim.lr_scheduler import CosineAnnealingLR

    images_train, labels_train, _, _ = digits
    gn.manual_seed(seed)
    model = SmallCNN(1, 10, widths=(16, 32))
    data = (gn.tensor(images_train), gn.tensor(labels_train))
    if adversarial is not None:
        data = AdversarialBatches(model, data, batch_size=64, **adversarial)
    optimizer = AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    gn.train.fit(
        model, data, epochs, optimizer=optimizer, scheduler=scheduler, batch_size=64, progress=False
    )
    return model


@pytest.fixture(scope="module")
def clean_cnn(digits):
    return train_cnn(digits, epochs=8)


@pytest.mark.slow
def test_a_98_percent_digit_cnn_falls_below_30_percent_under_pgd(digits, clean_cnn):
    _, _, x_test, y_test = digits
    curve = robustness_curve(clean_cnn, (x_test, y_test), [0, 0.2], steps=10)
    assert curve.accuracy[0] >= 0.98
    assert curve.accuracy[1] < 0.30


@pytest.mark.slow
def test_adversarial_training_at_least_doubles_pgd_accuracy(digits, clean_cnn):
    _, _, x_test, y_test = digits
    robust = train_cnn(digits, epochs=4, adversarial={"attack": "pgd", "eps": 0.2, "steps": 3})
    before = robustness_curve(clean_cnn, (x_test, y_test), [0.2], steps=10).accuracy[0]
    after = robustness_curve(robust, (x_test, y_test), [0, 0.2], steps=10).accuracy
    assert after[1] >= 2 * before and after[1] >= 0.3
    assert after[0] >= 0.9
