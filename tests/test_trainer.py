"""The one training loop: custom steps, budgets, accumulation, metrics, logs and exact resume."""

from __future__ import annotations

import errno
import json
import math
import os

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.data import DataLoader, TensorDataset
from glassnet.optim import SGD, Adam
from glassnet.optim.lr_scheduler import CosineAnnealingLR
from glassnet.train import (
    Callback,
    CheckpointError,
    CheckpointManager,
    EarlyStopping,
    Trainer,
    TrainingDiverged,
    fit,
    read_metrics,
)
from glassnet.train.metrics import (
    MeanAbsoluteError,
    Perplexity,
    RootMeanSquaredError,
    TopKAccuracy,
    as_metric,
)
from glassnet.train.state import pack, unpack


def blobs(n: int = 96, seed: int = 0) -> TensorDataset:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 1, 4, 4)) + y[:, None, None, None]).astype(np.float32)
    return TensorDataset(gn.tensor(x), gn.tensor(y))


def conv_net() -> nn.Module:
    """Convolution, batch norm and dropout: every kind of state a resume has to get right."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(64, 3),
    )


class Crash(Exception):
    """Stands in for a SIGKILL: the run stops right after a given step."""


class CrashAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_batch_end(self, trainer, step, logs) -> None:
        if step == self.step:
            raise Crash


def run(tmp, crash_at=None, resume=False, seed=0, epochs=3, log=True):
    gn.manual_seed(seed)
    model = conv_net()
    optimizer = Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(blobs(), batch_size=10, shuffle=True)  # 10 batches, the last of 6
    trainer = Trainer(
        model,
        optimizer,
        scheduler=CosineAnnealingLR(optimizer, T_max=epochs),
        callbacks=[CrashAt(crash_at)] if crash_at else [],
        progress=False,
        checkpoint_dir=tmp / "checkpoints",
        checkpoint_every=3,
        log_dir=tmp if log else None,
    )
    history = trainer.fit(loader, epochs, val_data=blobs(30, seed=1), resume=resume)
    return model, history, trainer


def weights(model) -> dict[str, bytes]:
    return {k: v.numpy().tobytes() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("crash_at", [4, 10, 17])
def test_resumed_run_ends_bit_identical(tmp_path, crash_at) -> None:
    """Killed mid-epoch (4: after the checkpoint of step 3), at an epoch's last batch (10) and
    in the second epoch (17), then resumed by a fresh process-like setup with another seed: the
    final weights, optimizer moments and history equal the uninterrupted run's, byte for byte."""
    reference, ref_history, ref_trainer = run(tmp_path / "ref")
    with pytest.raises(Crash):
        run(tmp_path / "cut", crash_at=crash_at)
    resumed, history, trainer = run(tmp_path / "cut", resume=True, seed=123)
    assert weights(resumed) == weights(reference)
    assert history.history == ref_history.history
    ref_state = ref_trainer.optimizers["optimizer"].state_dict()["state"]
    state = trainer.optimizers["optimizer"].state_dict()["state"]
    for i in ref_state:
        np.testing.assert_array_equal(state[i]["exp_avg"], ref_state[i]["exp_avg"])
    # the run log reads as if the run had never stopped
    strip = [
        {k: v for k, v in e.items() if k != "time"}
        for e in read_metrics(tmp_path / "cut" / "metrics.jsonl")
    ]
    ref = [
        {k: v for k, v in e.items() if k != "time"}
        for e in read_metrics(tmp_path / "ref" / "metrics.jsonl")
    ]
    assert strip == ref
    assert len([e for e in ref if e["event"] == "step"]) == 30


def test_damaged_checkpoint_falls_back_and_says_so(tmp_path) -> None:
    reference, _, _ = run(tmp_path / "ref", log=False)
    with pytest.raises(Crash):
        run(tmp_path / "cut", crash_at=8, log=False)  # checkpoints at steps 3 and 6
    newest = CheckpointManager(tmp_path / "cut" / "checkpoints").paths()[-1]
    assert newest.endswith("step-000000006.safetensors")
    data = open(newest, "rb").read()
    with open(newest, "wb") as f:  # one flipped byte inside the arrays
        f.write(data[:-5] + bytes([data[-5] ^ 0xFF]) + data[-4:])
    messages = []
    gn.manual_seed(5)
    model = conv_net()
    optimizer = Adam(model.parameters(), lr=1e-2)
    trainer = Trainer(
        model,
        optimizer,
        scheduler=CosineAnnealingLR(optimizer, T_max=3),
        progress=False,
        checkpoint_dir=tmp_path / "cut" / "checkpoints",
        checkpoint_every=3,
        say=messages.append,
    )
    trainer.fit(DataLoader(blobs(), batch_size=10, shuffle=True), 3, blobs(30, seed=1), resume=True)
    assert "damaged" in messages[0] and "falling back" in messages[0]
    assert "step-000000003" in messages[1]
    assert weights(model) == weights(reference)


def test_truncated_checkpoint_is_reported(tmp_path) -> None:
    manager = CheckpointManager(tmp_path, keep=2, say=lambda m: None)
    manager.save(1, {"w": np.arange(4.0), "step": 1})
    path = manager.save(2, {"w": np.arange(4.0) * 2, "step": 2})
    with open(path, "r+b") as f:
        f.truncate(30)
    with pytest.raises(CheckpointError, match="cannot be read"):
        manager.read(path)
    state, used = manager.latest()
    assert state["step"] == 1 and used.endswith("step-000000001.safetensors")


def test_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch) -> None:
    manager = CheckpointManager(tmp_path, say=lambda m: None)
    first = manager.save(1, {"w": np.ones(3)})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(CheckpointError, match="disk is full.*step-000000001.*intact"):
        manager.save(2, {"w": np.zeros(3)})
    monkeypatch.undo()
    assert manager.paths() == [first]
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
    np.testing.assert_array_equal(manager.read(first)["w"], np.ones(3))


def test_keeps_the_newest_checkpoints_only(tmp_path) -> None:
    manager = CheckpointManager(tmp_path, keep=2)
    for step in range(1, 6):
        manager.save(step, {"step": step})
    assert [os.path.basename(p) for p in manager.paths()] == [
        "step-000000004.safetensors",
        "step-000000005.safetensors",
    ]


def test_checkpoint_of_another_model_names_what_differs(tmp_path) -> None:
    run(tmp_path, epochs=1, log=False)
    model = nn.Sequential(nn.Linear(16, 3))
    trainer = Trainer(
        model, SGD(model.parameters(), lr=0.1), checkpoint_dir=tmp_path / "checkpoints"
    )
    expected = r"(?s)written by glassnet .* for a Sequential.*Unexpected key.*size mismatch for 0"
    with pytest.raises(ValueError, match=expected):
        trainer.fit(DataLoader(blobs(), batch_size=10), 2, resume=True)


def test_resume_without_a_checkpoint_is_clear(tmp_path) -> None:
    model = conv_net()
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), checkpoint_dir=tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        trainer.fit(DataLoader(blobs(), batch_size=10), 1, resume=True)
    with pytest.raises(ValueError, match="resume=True needs"):
        Trainer(model, SGD(model.parameters(), lr=0.1)).fit(blobs(), 1, resume=True)


def test_state_survives_json_exactly() -> None:
    tree = {
        "lr": 0.1 + 0.2,
        "tiny": 5e-324,
        "inf": math.inf,
        "betas": (0.9, 0.999),
        "by_index": {0: {"m": np.arange(3, dtype=np.float32)}, 1: {"step": np.int64(7)}},
        "big": 2**100,
        "none": None,
        "nested": [[1, 2], {"a": np.zeros((2, 0))}],
    }
    document, arrays = pack(tree)
    back = unpack(json.loads(json.dumps(document)), arrays)
    assert back["lr"] == tree["lr"] and back["tiny"] == 5e-324 and back["inf"] == math.inf
    assert back["betas"] == (0.9, 0.999) and back["big"] == 2**100 and back["none"] is None
    assert back["by_index"][1]["step"] == 7 and back["by_index"][1]["step"].dtype == np.int64
    np.testing.assert_array_equal(back["by_index"][0]["m"], tree["by_index"][0]["m"])
    assert back["nested"][1]["a"].shape == (2, 0)
    with pytest.raises(TypeError, match="at .fn.*function"):
        pack({"fn": lambda: 0})


def test_gradient_accumulation_equals_a_bigger_batch() -> None:
    """Two batches of 8, gradients added up, are one step on the batch of 16 (float64)."""
    data = blobs(64)
    x = gn.tensor(data.tensors[0].numpy().reshape(64, -1).astype(np.float64))
    y = data.tensors[1]
    results = []
    for batch, accumulate in ((16, 1), (8, 2)):
        gn.manual_seed(0)
        model = nn.Linear(16, 3).double()
        fit(
            model,
            DataLoader(TensorDataset(x, y), batch_size=batch),
            2,
            optimizer=SGD(model.parameters(), lr=0.5, momentum=0.9),
            accumulate_grad_batches=accumulate,
            progress=False,
        )
        results.append(model.weight.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-14)


def test_budgets_steps_and_minutes() -> None:
    gn.manual_seed(0)
    model = conv_net()
    trainer = Trainer(model, Adam(model.parameters()), progress=False)
    history = trainer.fit(DataLoader(blobs(), batch_size=10), epochs=5, max_steps=14)
    assert trainer.global_step == 14
    assert history.epochs == [1, 2]  # one full epoch and the part of the second
    trainer = Trainer(model, Adam(model.parameters()), progress=False)
    trainer.fit(DataLoader(blobs(), batch_size=10), minutes=1e-9)
    assert trainer.global_step == 0 or trainer.global_step == 1
    with pytest.raises(ValueError, match="give a budget"):
        trainer.fit(blobs())
    with pytest.raises(ValueError, match="minutes must be a positive number"):
        trainer.fit(blobs(), minutes=math.nan)


class TwoPlayer(Trainer):
    """A GAN-shaped step: two optimizers, each stepped by name."""

    def train_step(self, batch):
        inputs, _ = batch
        a_loss = (self.model[0](inputs.reshape(len(inputs), -1)) ** 2).mean()
        self.optimizers["a"].zero_grad()
        self.backward(a_loss)
        self.optimizer_step("a")
        b_loss = (self.model[1](inputs.reshape(len(inputs), -1)) - 1).abs().mean()
        self.optimizers["b"].zero_grad()
        self.backward(b_loss)
        self.optimizer_step("b")
        return {"a_loss": float(a_loss.data), "b_loss": float(b_loss.data)}


def test_custom_step_with_two_optimizers(tmp_path) -> None:
    gn.manual_seed(0)
    model = nn.ModuleList([nn.Linear(16, 2), nn.Linear(16, 2)])
    optimizers = {
        "a": Adam(model[0].parameters(), lr=0.05),
        "b": Adam(model[1].parameters(), lr=0.05),
    }
    trainer = TwoPlayer(model, optimizers, metrics=(), progress=False, log_dir=tmp_path)
    history = trainer.fit(DataLoader(blobs(), batch_size=16), epochs=8)
    assert history["a_loss"][-1] < 0.2 * history["a_loss"][0]
    assert history["b_loss"][-1] < 0.5 * history["b_loss"][0]
    assert "lr" in history
    with pytest.raises(ValueError, match="2 optimizers .*name the one"):
        trainer.optimizer_step()
    epochs = [e for e in read_metrics(tmp_path / "metrics.jsonl") if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 9))
    header = (tmp_path / "epochs.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,step,time,a_loss,b_loss")


def test_train_step_must_return_logs() -> None:
    class Silent(Trainer):
        def train_step(self, batch):
            return None

    model = conv_net()
    with pytest.raises(TypeError, match="train_step must return a dict"):
        Silent(model, Adam(model.parameters()), progress=False).fit(blobs(), 1)


def test_divergence_stops_before_the_update() -> None:
    model = conv_net()
    before = weights(model)
    data = blobs()
    data.tensors[0].numpy()[20] = np.nan
    with pytest.raises(TrainingDiverged, match=r"epoch 1, batch 3 of 10 \(step 3\)"):
        Trainer(model, SGD(model.parameters(), lr=0.1), progress=False).fit(
            DataLoader(data, batch_size=10), 1
        )
    assert weights(model) != before  # two good steps were taken, then it stopped


def test_metrics_match_torch() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 7)).astype(np.float32)
    target = rng.integers(0, 7, 50)
    metric = as_metric("top3_accuracy")
    metric.update(scores[:20], target[:20])
    metric.update(scores[20:], target[20:])
    top = torch.tensor(scores).topk(3, dim=1).indices
    expected = (top == torch.tensor(target)[:, None]).any(dim=1).float().mean().item()
    assert metric.compute() == pytest.approx(expected) and isinstance(metric, TopKAccuracy)
    perplexity = Perplexity()
    perplexity.update(scores.reshape(5, 10, 7), target.reshape(5, 10))
    ce = torch.nn.functional.cross_entropy(
        torch.tensor(scores, dtype=torch.float64), torch.tensor(target)
    )
    assert perplexity.compute() == pytest.approx(math.exp(ce.item()), rel=1e-12)
    pred, true = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    mae, rmse = MeanAbsoluteError(), RootMeanSquaredError()
    mae.update(pred, true)
    rmse.update(pred, true)
    assert mae.compute() == pytest.approx(np.abs(pred - true).mean())
    assert rmse.compute() == pytest.approx(np.sqrt(((pred - true) ** 2).mean()))
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        as_metric("f1")


def test_validation_metrics_and_early_stopping_resume(tmp_path) -> None:
    gn.manual_seed(0)
    model = conv_net()
    trainer = Trainer(
        model,
        Adam(model.parameters(), lr=1e-2),
        metrics=["accuracy", "top2_accuracy"],
        callbacks=[EarlyStopping(patience=1)],
        progress=False,
    )
    history = trainer.fit(DataLoader(blobs(), batch_size=10), 4, val_data=blobs(30, seed=1))
    assert {"loss", "accuracy", "top2_accuracy", "val_loss", "val_accuracy"} <= set(history.history)
    assert history["val_top2_accuracy"][-1] >= history["val_accuracy"][-1]
    assert trainer.callbacks[0].state_dict()["best"] == min(history["val_loss"])


def test_inference_restores_every_mode_even_on_error() -> None:
    model = conv_net()
    model.train()
    model[1].eval()  # a frozen batch norm stays frozen
    with pytest.raises(RuntimeError), nn.inference(model):
        assert not model.training and not gn.is_grad_enabled()
        raise RuntimeError("inside")
    assert model.training and not model[1].training and model[3].training
    assert gn.is_grad_enabled()


def test_step_on_demand_counts_and_calls_back() -> None:
    seen = []

    class Watch(Callback):
        def on_batch_end(self, trainer, step, logs):
            seen.append((step, round(logs["loss"], 6)))

    gn.manual_seed(0)
    model = conv_net()
    trainer = Trainer(model, Adam(model.parameters()), callbacks=[Watch()], progress=False)
    batch = next(iter(DataLoader(blobs(), batch_size=10)))
    logs = [trainer.step(batch)["loss"] for _ in range(3)]
    assert trainer.global_step == 3 and [s for s, _ in seen] == [1, 2, 3]
    assert logs[-1] < logs[0]


def test_tensorboard_callback_writes_scalars(tmp_path) -> None:
    pytest.importorskip("tensorboard", reason="the tensorboard package is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from glassnet.train import TensorBoard

    gn.manual_seed(0)
    model = conv_net()
    history = fit(
        model,
        DataLoader(blobs(), batch_size=10),
        2,
        val_data=blobs(30, seed=1),
        callbacks=[TensorBoard(tmp_path)],
        progress=False,
    )
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"step/loss", "epoch/loss", "epoch/val_accuracy", "epoch/lr"} <= tags
    assert len(events.Scalars("step/loss")) == 20
    val = [e.value for e in events.Scalars("epoch/val_accuracy")]
    assert val == pytest.approx(history["val_accuracy"])
