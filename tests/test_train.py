"""The training loop: it learns, it reports, it stops cleanly when the loss goes bad."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.io import load
from glassnet.train import (
    EarlyStopping,
    ModelCheckpoint,
    TrainingDiverged,
    accuracy,
    confusion_matrix,
    evaluate,
    fit,
    format_confusion_matrix,
    predict,
)


def blobs(n: int = 200, seed: int = 0) -> tuple[gn.Tensor, gn.Tensor]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    x = centres[y] + rng.normal(0, 0.5, (n, 2))
    return gn.tensor(x.astype(np.float32)), gn.tensor(y)


def small_model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def test_fit_learns_and_reports_history() -> None:
    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    history = fit(model, (x, y), epochs=15, lr=0.02, val_data=blobs(100, seed=1), progress=False)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert len(history["loss"]) == 15
    assert history["loss"][-1] < history["loss"][0] / 3
    assert history["val_accuracy"][-1] > 0.95
    assert evaluate(model, blobs(100, seed=2))["accuracy"] > 0.95


def test_fit_accepts_a_dataloader_and_an_optimizer() -> None:
    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    loader = DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit(model, loader, epochs=5, optimizer=opt, progress=False)
    assert history["accuracy"][-1] > 0.9


def test_fit_is_reproducible_with_a_seed() -> None:
    runs = []
    for _ in range(2):
        gn.manual_seed(123)
        model = small_model()
        fit(model, blobs(), epochs=3, progress=False)
        runs.append(model.state_dict()["0.weight"].data.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_weights(tmp_path) -> None:
    gn.manual_seed(0)
    x, y = blobs(64)
    x.data[40] = np.nan  # batch 3 of 4 (batch_size 16), after shuffling is turned off
    model = small_model()
    checkpoint = tmp_path / "best.safetensors"
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False)
    clean = DataLoader(TensorDataset(*blobs(64)), batch_size=16)
    opt = optim.SGD(model.parameters(), lr=0.05)
    fit(
        model,
        clean,
        epochs=2,
        optimizer=opt,
        val_data=blobs(32, 3),
        callbacks=[ModelCheckpoint(checkpoint)],
        progress=False,
    )
    saved = {k: v.data.copy() for k, v in load(checkpoint).items()}

    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingDiverged, match=r"nan at epoch 1, batch 3 of 4"):
        # the first two batches train normally; the third has a NaN input
        fit(model, loader, epochs=1, optimizer=opt, progress=False)
    after = model.state_dict()
    assert all(np.isfinite(v.data).all() for v in after.values())
    assert any(not np.array_equal(before[k], after[k].data) for k in before)  # 2 good steps ran
    reloaded = load(checkpoint)
    for key, value in saved.items():
        np.testing.assert_array_equal(reloaded[key].data, value)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_divergence_from_a_huge_learning_rate_is_caught() -> None:
    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    with pytest.raises(TrainingDiverged, match="lower learning rate"):
        fit(
            model,
            (x * 1e20, y),
            epochs=5,
            optimizer=optim.SGD(model.parameters(), lr=1e10),
            progress=False,
        )


def test_early_stopping_restores_best_weights() -> None:
    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    # a noisy validation set the model cannot keep improving on: it stops early
    rng = np.random.default_rng(5)
    val = (
        gn.tensor(rng.normal(0, 3, (50, 2)).astype(np.float32)),
        gn.tensor(rng.integers(0, 3, 50)),
    )
    history = fit(
        model, (x, y), epochs=100, lr=0.05, val_data=val, callbacks=[stopper], progress=False
    )
    assert stopper.stopped_epoch is not None and len(history["loss"]) < 100
    best = min(history["val_loss"])
    assert abs(evaluate(model, val)["loss"] - best) < 1e-5


def test_early_stopping_needs_the_metric() -> None:
    with pytest.raises(KeyError, match="val_loss"):
        fit(small_model(), blobs(), epochs=1, callbacks=[EarlyStopping()], progress=False)


def test_checkpoint_keeps_the_best_epoch(tmp_path) -> None:
    gn.manual_seed(0)
    model = small_model()
    path = tmp_path / "ckpt" / "model.npz"
    ckpt = ModelCheckpoint(path, monitor="val_accuracy")
    fit(model, blobs(), epochs=4, val_data=blobs(50, 1), callbacks=[ckpt], progress=False)
    assert path.exists() and ckpt.best_epoch is not None
    fresh = small_model()
    fresh.load_state_dict(load(path))
    assert abs(evaluate(fresh, blobs(50, 1))["accuracy"] - ckpt.best) < 1e-9


def test_predict_and_metrics_agree_with_sklearn() -> None:
    from sklearn.metrics import confusion_matrix as sk_confusion

    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    fit(model, (x, y), epochs=5, progress=False)
    out = predict(model, x, batch_size=33)
    assert out.shape == (200, 3)
    pred = out.data.argmax(1)
    assert accuracy(out, y) == pytest.approx((pred == y.numpy()).mean())
    np.testing.assert_array_equal(confusion_matrix(pred, y, 3), sk_confusion(y.numpy(), pred))
    assert "true \\ predicted" in format_confusion_matrix(confusion_matrix(pred, y, 3))


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(small_model(), blobs(), epochs=0)
    with pytest.raises(TypeError, match="expected a DataLoader"):
        fit(small_model(), "data.csv", epochs=1)
    with pytest.raises(ValueError, match="unknown metric .f1."):
        fit(small_model(), blobs(), epochs=1, metrics=["f1"])


def test_fit_steps_a_scheduler_once_per_epoch() -> None:
    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    optimizer = gn.optim.SGD(model.parameters(), lr=0.1)
    scheduler = gn.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = fit(model, (x, y), epochs=5, optimizer=optimizer, scheduler=scheduler, progress=False)
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.025)  # after the 5th step


def test_fit_gives_reduce_on_plateau_the_validation_loss() -> None:
    seen = []

    class Watched(gn.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    gn.manual_seed(0)
    x, y = blobs()
    model = small_model()
    optimizer = gn.optim.SGD(model.parameters(), lr=0.05)
    history = fit(
        model,
        (x, y),
        epochs=3,
        optimizer=optimizer,
        scheduler=Watched(optimizer),
        val_data=blobs(100, seed=1),
        progress=False,
    )
    assert seen == history["val_loss"]


def test_fit_takes_any_reiterable_batch_source() -> None:
    """Anything with a length that yields (inputs, targets) batches works as a loader, e.g. a
    wrapper that augments each batch."""
    x, y = blobs()

    class Batches:
        def __len__(self):
            return 4

        def __iter__(self):
            for i in range(4):
                yield x[i * 50 : (i + 1) * 50] + 0.0, y[i * 50 : (i + 1) * 50]

    gn.manual_seed(0)
    history = fit(small_model(), Batches(), epochs=3, lr=0.05, progress=False)
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
