"""Saliency maps checked against PyTorch on the same model and inputs, integrated gradients'
completeness, the model left as it was found, and the pictures."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.explain import (
    gradient_x_input,
    integrated_gradients,
    occlusion,
    plot_adversarial,
    plot_saliency,
    smoothgrad,
    vanilla_gradient,
)
from glassnet.models import SmallCNN


def twin_cnns(dtype=np.float64):
    """The same small CNN in glassnet and in PyTorch, with the same weights."""
    gn.manual_seed(0)
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 16),
        nn.Tanh(),
        nn.Linear(16, 5),
    ).to(dtype)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 5),
    ).to(torch.float64 if dtype == np.float64 else torch.float32)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def images(n=4, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(0, 1, (n, 1, 8, 8)).astype(dtype)


def torch_grad(model, x, targets):
    xt = torch.tensor(x, requires_grad=True)
    out = model(xt)
    out[torch.arange(len(x)), torch.tensor(targets)].sum().backward()
    return xt.grad.numpy(), out.detach().numpy()


def test_vanilla_gradient_and_gradient_x_input_match_pytorch():
    ours, theirs = twin_cnns()
    x = images()
    targets = [0, 3, 4, 1]
    expected, _ = torch_grad(theirs, x, targets)
    np.testing.assert_allclose(vanilla_gradient(ours, x, targets).numpy(), expected, rtol=1e-10)
    got = gradient_x_input(ours, gn.tensor(x), gn.tensor(targets)).numpy()
    np.testing.assert_allclose(got, expected * x, rtol=1e-10, atol=1e-15)
    # by default the predicted class
    _, out = torch_grad(theirs, x, [0] * 4)
    predicted, _ = torch_grad(theirs, x, out.argmax(1))
    np.testing.assert_allclose(vanilla_gradient(ours, x).numpy(), predicted, rtol=1e-10)


def test_smoothgrad_matches_pytorch_with_the_same_noise():
    ours, theirs = twin_cnns()
    x = images()
    got = smoothgrad(ours, x, 2, samples=6, noise_level=0.2, generator=np.random.default_rng(7))
    spread = x.max(axis=(1, 2, 3), keepdims=True) - x.min(axis=(1, 2, 3), keepdims=True)
    noise = np.random.default_rng(7).standard_normal((6, *x.shape)) * 0.2 * spread
    expected = np.mean([torch_grad(theirs, x + e, [2] * 4)[0] for e in noise], axis=0)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-14)


def test_integrated_gradients_match_pytorch():
    ours, theirs = twin_cnns()
    x, baseline = images(3), images(1, seed=5)[0] * 0.1
    steps = 12
    got = integrated_gradients(ours, x, [1, 2, 3], baseline=baseline, steps=steps).numpy()
    alphas = (np.arange(steps) + 0.5) / steps
    grads = [torch_grad(theirs, baseline + a * (x - baseline), [1, 2, 3])[0] for a in alphas]
    np.testing.assert_allclose(got, (x - baseline) * np.mean(grads, axis=0), rtol=1e-9)


def test_integrated_gradients_are_complete():
    """Attributions add up to score(input) - score(baseline), within 1% with enough steps."""
    ours, theirs = twin_cnns(np.float32)
    x = images(6, dtype=np.float32)
    with torch.no_grad():
        out = theirs(torch.tensor(np.concatenate([x, np.zeros_like(x)]))).numpy()
    targets = out[:6].argmax(1)
    gap = out[np.arange(6), targets] - out[6 + np.arange(6), targets]
    coarse = integrated_gradients(ours, x, steps=2, return_delta=True)[1]
    attributions, delta = integrated_gradients(ours, x, steps=100, return_delta=True)
    sums = attributions.numpy().reshape(6, -1).sum(1)
    np.testing.assert_allclose(sums - gap, delta, rtol=1e-3, atol=1e-5)
    assert np.all(np.abs(delta) <= 0.01 * np.abs(gap))
    assert np.abs(coarse).sum() > 10 * np.abs(delta).sum()  # the error falls with more steps


def test_occlusion_matches_pytorch():
    ours, theirs = twin_cnns()
    x = images(2)
    got = occlusion(ours, x, [4, 1], window=3, stride=2, baseline=0.5).numpy()
    with torch.no_grad():
        clean = theirs(torch.tensor(x)).numpy()[[0, 1], [4, 1]]
        total, count = np.zeros((2, 8, 8)), np.zeros((8, 8))
        for i in range(0, 6, 2):
            for j in range(0, 6, 2):
                hidden = x.copy()
                hidden[..., i : i + 3, j : j + 3] = 0.5
                drop = clean - theirs(torch.tensor(hidden)).numpy()[[0, 1], [4, 1]]
                total[:, i : i + 3, j : j + 3] += drop[:, None, None]
                count[i : i + 3, j : j + 3] += 1
    expected = np.where(count > 0, total / np.maximum(count, 1), 0.0)[:, None]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
    assert not got[..., 7, :].any()  # the last row is in no window at stride 2


def assert_left_as_found(run):
    """`run(model, images)` on a SmallCNN in training mode, with one layer frozen and one
    gradient already there, changes none of that, adds no gradient and no batch statistics."""
    gn.manual_seed(2)
    model = SmallCNN(1, 10, widths=(4, 8))
    model.train()
    model.features[0][0].weight.requires_grad_(False)
    head = model.head[-1].weight
    head.grad = gn.ones(*head.shape)
    stats = model.features[0][1].running_mean.numpy().copy()
    run(model, images(3, dtype=np.float32))
    assert all(m.training for m in model.modules())
    assert not model.features[0][0].weight.requires_grad and head.requires_grad
    np.testing.assert_array_equal(head.grad.numpy(), 1.0)
    assert all(p.grad is None for p in model.parameters() if p is not head)
    np.testing.assert_array_equal(model.features[0][1].running_mean.numpy(), stats)


@pytest.mark.parametrize(
    "explain",
    [
        vanilla_gradient,
        gradient_x_input,
        lambda m, x: smoothgrad(m, x, samples=2),
        lambda m, x: integrated_gradients(m, x, steps=3),
        occlusion,
    ],
    ids=["gradient", "gradient_x_input", "smoothgrad", "integrated_gradients", "occlusion"],
)
def test_saliency_leaves_the_model_as_it_was(explain):
    assert_left_as_found(explain)


def test_bad_input_is_a_clear_error():
    ours, _ = twin_cnns()
    x = images(2)
    with pytest.raises(ValueError, match=r"target must hold 2 class indices in \[0, 5\)"):
        vanilla_gradient(ours, x, [0, 5])
    with pytest.raises(ValueError, match="floating-point batch"):
        vanilla_gradient(ours, x[0, 0, 0])
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        integrated_gradients(ours, x, steps=0)
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        smoothgrad(ours, x, samples=0)
    with pytest.raises(ValueError, match=r"window \(9, 9\) is larger than the image"):
        occlusion(ours, x, window=9)
    with pytest.raises(TypeError, match="expected a glassnet Module"):
        vanilla_gradient(lambda t: t, x)


def test_pictures(tmp_path):
    ours, _ = twin_cnns()
    x = images(3)
    maps = {"gradient": vanilla_gradient(ours, x), "occlusion": occlusion(ours, x)}
    path = plot_saliency(x, maps, tmp_path / "s.png", labels=["a", "b", "c"])
    assert path.endswith("s.png") and (tmp_path / "s.png").stat().st_size > 1000
    adv = np.clip(x + 0.1, 0, 1)
    plot_adversarial(
        x, adv, tmp_path / "a.png", [1, 2, 3], [1, 2, 3], [0.9] * 3, [4, 2, 0], [0.8] * 3
    )
    assert (tmp_path / "a.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="maps\\['gradient'\\] has shape"):
        plot_saliency(x, {"gradient": np.zeros((3, 4, 4))}, tmp_path / "x.png")
