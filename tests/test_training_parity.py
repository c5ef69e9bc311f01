"""Training parity: the same network, from the same initial weights, fed the same batches in the
same order, trained in glassnet and in PyTorch, ends in the same place.

Per-op tests show each piece is right; these show the pieces add up over hundreds of steps of a
real training run (forward, loss, backward, optimizer, batch norm's running statistics, eval mode).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.data.datasets.digits import load_digits, shifted_copies
from glassnet.models import MLP, SmallCNN

pytestmark = pytest.mark.slow


def torch_small_cnn(widths: tuple[int, ...]) -> torch.nn.Module:
    """SmallCNN written in PyTorch, module for module, so state_dict keys match glassnet's."""
    tnn = torch.nn

    def block(i: int, o: int) -> torch.nn.Sequential:
        return tnn.Sequential(
            tnn.Conv2d(i, o, 3, padding=1, bias=False), tnn.BatchNorm2d(o), tnn.ReLU()
        )

    layers: list[torch.nn.Module] = []
    channels = 1
    for k, width in enumerate(widths):
        layers += [block(channels, width), block(width, width)]
        if k < len(widths) - 1:
            layers.append(tnn.MaxPool2d(2))
        channels = width
    model = tnn.Module()
    model.features = tnn.Sequential(*layers)
    model.head = tnn.Sequential(
        tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Dropout(0.0), tnn.Linear(channels, 10)
    )
    model.forward = lambda x: model.head(model.features(x))
    return model


def copy_weights(ours: gn.nn.Module, theirs: torch.nn.Module) -> None:
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def train_both(ours, theirs, x, y, x_test, y_test, epochs: int, batch: int, lr: float):
    """AdamW with a cosine schedule on identical shuffled batches; returns both runs' losses and
    test accuracies."""
    opt_ours = gn.optim.AdamW(ours.parameters(), lr=lr, weight_decay=1e-4)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=lr, weight_decay=1e-4)
    schedules = (
        gn.optim.lr_scheduler.CosineAnnealingLR(opt_ours, T_max=epochs),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt_theirs, T_max=epochs),
    )
    order_rng = np.random.default_rng(0)
    losses = [[], []]
    for _ in range(epochs):
        order = order_rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start : start + batch]
            xb, yb = x[idx], y[idx]
            opt_ours.zero_grad()
            loss = gn.nn.functional.cross_entropy(ours(gn.tensor(xb)), gn.tensor(yb))
            loss.backward()
            opt_ours.step()
            opt_theirs.zero_grad()
            ref = torch.nn.functional.cross_entropy(
                theirs(torch.from_numpy(xb)), torch.from_numpy(yb)
            )
            ref.backward()
            opt_theirs.step()
            losses[0].append(loss.item())
            losses[1].append(ref.item())
        for schedule in schedules:
            schedule.step()
    ours.eval()
    theirs.eval()
    with gn.no_grad():
        acc_ours = float((ours(gn.tensor(x_test)).numpy().argmax(1) == y_test).mean())
    with torch.no_grad():
        acc_theirs = float((theirs(torch.from_numpy(x_test)).numpy().argmax(1) == y_test).mean())
    return losses, acc_ours, acc_theirs


def digits(images: bool) -> tuple[np.ndarray, ...]:
    (x, y), (xt, yt) = (tuple(t.numpy() for t in load_digits(s)) for s in ("train", "test"))
    if images:  # as the digits-cnn recipe trains: on the images and their shifted copies
        x, y = shifted_copies(x.reshape(-1, 1, 8, 8), y)
        xt = xt.reshape(-1, 1, 8, 8)
    return x, y, xt, yt


def test_cnn_trains_like_torch_from_the_same_start():
    gn.manual_seed(0)
    ours = SmallCNN(in_channels=1, num_classes=10, widths=(16, 32))
    theirs = torch_small_cnn((16, 32))
    copy_weights(ours, theirs)
    x, y, xt, yt = digits(images=True)
    losses, acc_ours, acc_theirs = train_both(ours, theirs, x, y, xt, yt, 4, 64, 3e-3)
    # step by step at first (float32 rounding only), and to the same place at the end
    np.testing.assert_allclose(losses[0][:20], losses[1][:20], rtol=1e-3)
    assert abs(np.mean(losses[0][-20:]) - np.mean(losses[1][-20:])) < 0.02
    # float32 rounding makes the two runs drift apart over ~600 steps (training is chaotic), so
    # they end at different weights of the same quality: within 2 of the 360 test images (0.56
    # percentage points), measured 1-2 apart at 98-99%.
    assert acc_ours >= 0.98 and abs(acc_ours - acc_theirs) * len(yt) <= 2 + 1e-6, (
        acc_ours,
        acc_theirs,
    )


def test_mlp_trains_like_torch_from_the_same_start():
    gn.manual_seed(0)
    ours = MLP([64, 128, 10])
    theirs = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    copy_weights(ours, theirs)
    x, y, xt, yt = digits(images=False)
    losses, acc_ours, acc_theirs = train_both(ours, theirs, x, y, xt, yt, 10, 32, 2e-3)
    np.testing.assert_allclose(losses[0][:50], losses[1][:50], rtol=1e-4)
    assert acc_ours >= 0.92 and abs(acc_ours - acc_theirs) <= 0.005 + 1e-9, (acc_ours, acc_theirs)


SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def mnist_parity() -> tuple[list, float, float]:
    """Train the mnist-cnn network in both libraries; (losses, glassnet accuracy, torch's)."""
    from glassnet.data.datasets.mnist import load_mnist
    from glassnet.recipes.mnist_cnn import OFFLINE_TRAIN, SPLIT_SEED

    images, labels = (t.numpy() for t in load_mnist("test", root=SHARED_MNIST, download=False))
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    train, test = order[:OFFLINE_TRAIN], order[OFFLINE_TRAIN:]
    gn.manual_seed(0)
    ours = SmallCNN(in_channels=1, num_classes=10, widths=(16, 32, 64))
    theirs = torch_small_cnn((16, 32, 64))
    copy_weights(ours, theirs)
    losses, acc_ours, acc_theirs = train_both(
        ours, theirs, images[train], labels[train], images[test], labels[test], 2, 64, 3e-3
    )
    return losses, acc_ours, acc_theirs


@pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
    reason=f"MNIST's test set is not at {SHARED_MNIST}",
)
def test_mnist_cnn_trains_like_torch_from_the_same_start():
    """The mnist-cnn recipe's network and offline split (8,000 of MNIST's 10k test images to
    train on, the other 2,000 to test), trained in both libraries: within 0.5 points.

    It runs in a fresh Python process with every thread pool at one thread. Two epochs end in a
    sensitive place: the summation order of 2-thread BLAS alone moved glassnet's result from
    97.85% to 95.95% (and torch's from 98.00% to 97.25%), more than the 0.5 points compared here;
    with one thread each both runs are repeatable."""
    one_thread = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
    result = subprocess.run(
        [sys.executable, __file__],
        env={**os.environ, **one_thread},
        capture_output=True,
        text=True,
        timeout=900,
        cwd=Path(__file__).parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    losses, acc_ours, acc_theirs = report["losses"], report["ours"], report["theirs"]
    print(f"MNIST 8,000/2,000: glassnet {acc_ours:.2%}, torch {acc_theirs:.2%}")
    # Adam's first steps move every weight by about lr whatever the gradient's size, so float32
    # rounding shows in the loss within ~10 steps here (0.3% at step 10): compare the first 5
    np.testing.assert_allclose(losses[0][:5], losses[1][:5], rtol=1e-3)
    assert acc_ours >= 0.97 and abs(acc_ours - acc_theirs) <= 0.005 + 1e-9, (acc_ours, acc_theirs)


if __name__ == "__main__":
    losses, ours, theirs = mnist_parity()
    print(json.dumps({"losses": losses, "ours": ours, "theirs": theirs}))
