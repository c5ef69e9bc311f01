"""The programs the distributed tests start on several ranks (`python workers.py NAME OUT ...`).

Each one joins the process group, does its part and writes what the test checks into the
folder OUT (rank 0 writes, unless said otherwise).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

import glassnet as gn
import glassnet.distributed as dist
import glassnet.nn.functional as F
from glassnet import nn
from glassnet.models import GPT, MLP
from glassnet.nn.parallel import DistributedDataParallel

STEPS = 4
GLOBAL_BATCH = 8


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.data.copy() for k, v in model.state_dict().items()}


def same_on_every_rank(model: nn.Module) -> bool:
    """Whether every rank holds exactly rank 0's parameters."""
    flat = np.concatenate([p.data.ravel().astype(np.float64) for p in model.parameters()])
    mine = gn.tensor(flat)
    dist.broadcast(mine, src=0)
    agree = gn.tensor(np.array([float(np.array_equal(mine.data, flat))]))
    dist.all_reduce(agree, dist.ReduceOp.MIN)
    return bool(agree.data[0] == 1.0)


def mlp(dtype: str) -> nn.Module:
    model = MLP([6, 16, 16, 3], activation="tanh")
    return model.double() if dtype == "float64" else model


def gpt(dtype: str) -> nn.Module:
    return GPT(vocab_size=11, context=8, d_model=16, n_layers=2, n_heads=2, dropout=0.0)


def cnn(sync_bn: bool) -> nn.Module:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 5 * 5, 3),
    ).double()
    return nn.SyncBatchNorm.convert_sync_batchnorm(model) if sync_bn else model


def batches(kind: str, dtype: str, rng: np.random.Generator):
    """(inputs, targets, loss function) for one global batch of `kind`."""
    if kind == "gpt":
        x = rng.integers(0, 11, (GLOBAL_BATCH, 8))
        y = rng.integers(0, 11, (GLOBAL_BATCH, 8))
        return x, y, lambda out, t: F.cross_entropy(out.reshape(-1, 11), t.reshape(-1))
    if kind == "cnn":
        x = rng.normal(size=(GLOBAL_BATCH, 1, 5, 5))
    else:
        x = rng.normal(size=(GLOBAL_BATCH, 6)).astype(dtype)
    return x, rng.integers(0, 3, GLOBAL_BATCH), F.cross_entropy


def parity(out: Path, kind: str, dtype: str, reference: str) -> None:
    """Train `kind` with DDP for STEPS steps (each rank its slice of the global batch) and, on
    rank 0, the same model in one process: on the whole batch ("whole") or accumulating over
    the ranks' slices ("slices"). Writes both final weights and whether every rank held the
    same weights after every step."""
    rank, size = dist.get_rank(), dist.get_world_size()
    gn.manual_seed(100 + rank)  # different on each rank: DDP must copy rank 0's
    build = {"mlp": lambda: mlp(dtype), "gpt": lambda: gpt(dtype)}.get(kind)
    sync_bn = kind == "cnn-sync"
    if build is None:
        build = lambda: cnn(sync_bn)  # noqa: E731
    model = build()
    single = cnn(False) if sync_bn else build()  # the reference: plain BatchNorm, one process
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.002)  # several buckets
    single.load_state_dict(weights(model))
    # SGD: Adam divides by the gradients' own size, so it would turn rounding noise in a
    # gradient that is zero in exact arithmetic (attention's key bias) into a full step
    optimizer = gn.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    single_optimizer = gn.optim.SGD(single.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    identical = []
    for _ in range(STEPS):
        x, y, loss_fn = batches(kind.split("-")[0], dtype, rng)
        slices = list(zip(np.array_split(x, size), np.array_split(y, size)))
        xs, ys = slices[rank]
        loss_fn(ddp(gn.tensor(xs)), gn.tensor(ys)).backward()
        optimizer.step()
        optimizer.zero_grad()
        identical.append(same_on_every_rank(model))
        if rank == 0:
            if reference == "whole":
                loss_fn(single(gn.tensor(x)), gn.tensor(y)).backward()
            else:
                for xs, ys in slices:
                    (loss_fn(single(gn.tensor(xs)), gn.tensor(ys)) / size).backward()
            single_optimizer.step()
            single_optimizer.zero_grad()
    if rank == 0:
        np.savez(out / "ddp.npz", **weights(model))
        np.savez(out / "single.npz", **weights(single))
        (out / "identical.json").write_text(json.dumps(identical))


def no_sync(out: Path) -> None:
    """Two micro-batches under no_sync, then one synchronised: the gradients must be the
    average over ranks of each rank's sum of three."""
    rank, size = dist.get_rank(), dist.get_world_size()
    gn.manual_seed(0)
    model = mlp("float64")
    ddp = DistributedDataParallel(model)
    rng = np.random.default_rng(rank)
    data = [(rng.normal(size=(4, 6)), rng.integers(0, 3, 4)) for _ in range(3)]
    with ddp.no_sync():
        for x, y in data[:2]:
            F.cross_entropy(ddp(gn.tensor(x)), gn.tensor(y)).backward()
    local_after_two = [p.grad.data.copy() for p in model.parameters()]
    x, y = data[2]
    F.cross_entropy(ddp(gn.tensor(x)), gn.tensor(y)).backward()
    averaged = [p.grad.data.copy() for p in model.parameters()]
    local = mlp("float64")
    local.load_state_dict(weights(model))
    for x, y in data:
        F.cross_entropy(local(gn.tensor(x)), gn.tensor(y)).backward()
    expected = []
    for p in local.parameters():
        total = gn.tensor(p.grad.data.copy())
        dist.all_reduce(total, dist.ReduceOp.AVG)
        expected.append(total.data)
    np.savez(out / f"rank{rank}.npz", *averaged, *expected, *local_after_two)
    (out / f"rank{rank}.json").write_text(json.dumps({"n": len(averaged), "size": size}))


def collectives(out: Path) -> None:
    rank, size = dist.get_rank(), dist.get_world_size()
    results = {}
    t = gn.tensor([float(rank), 1.0])
    dist.all_reduce(t)
    results["sum"] = t.tolist()
    t = gn.tensor([float(rank), 1.0])
    dist.all_reduce(t, dist.ReduceOp.AVG)
    results["avg"] = t.tolist()
    t = gn.tensor([float(rank)])
    dist.all_reduce(t, dist.ReduceOp.MAX)
    results["max"] = t.tolist()
    t = gn.tensor([float(rank) * 10])
    dist.broadcast(t, src=size - 1)
    results["broadcast"] = t.tolist()
    gathered = [gn.zeros(2) for _ in range(size)]
    dist.all_gather(gathered, gn.tensor([float(rank), -float(rank)]))
    results["all_gather"] = [g.tolist() for g in gathered]
    work = dist.all_reduce(gn.tensor([1.0]), async_op=True)
    results["async"] = work.wait()
    dist.barrier()
    results["size"] = dist.get_world_size()
    (out / f"rank{rank}.json").write_text(json.dumps(results))
    dist.destroy_process_group()


def fail(out: Path, how: str) -> None:
    """Rank 1 fails (`how`: raise, kill or hang) while rank 0 waits in an all_reduce."""
    if dist.get_rank() == 1:
        time.sleep(0.5)
        if how == "raise":
            raise ValueError("a broken batch on purpose")
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(120)  # "hang": alive, but never joins the collective
    dist.all_reduce(gn.tensor([1.0]))


def different_models(out: Path) -> None:
    width = 16 if dist.get_rank() == 0 else 17
    DistributedDataParallel(MLP([6, width, 3]))


def train(out: Path, *options: str) -> None:
    """A Trainer run of a small MLP (with dropout) on 96 random samples, global batch 16, 3
    epochs of 6 steps, checkpointing every 2 steps into OUT/checkpoints. Options: resume,
    steps=K (stop after step K), stop=K (rank 1 kills itself at the start of step K + 1),
    record (rank 0 writes the weights its first step starts from), dropout=P, shuffle=0,
    accumulate=K (accumulate_grad_batches)."""
    settings = dict(option.split("=") if "=" in option else (option, "1") for option in options)
    gn.manual_seed(0)
    data_rng = np.random.default_rng(0)
    x = gn.tensor(data_rng.normal(size=(96, 6)).astype(np.float32))
    y = gn.tensor(data_rng.integers(0, 3, 96))
    model = MLP([6, 32, 3], activation="relu", dropout=float(settings.get("dropout", 0.1)))
    first_weights = []

    class Recording(gn.train.Trainer):
        def train_step(self, batch):
            if not first_weights:
                first_weights.append(weights(self.model))
            if self.global_step == int(settings.get("stop", -1)) and dist.get_rank() == 1:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().train_step(batch)

    trainer = Recording(
        model,
        gn.optim.Adam(model.parameters(), lr=1e-2),
        progress=False,
        checkpoint_dir=out / "checkpoints",
        checkpoint_every=2,
        keep_checkpoints=100,
        log_dir=out,
        accumulate_grad_batches=int(settings.get("accumulate", 1)),
    )
    shuffle = settings.get("shuffle", "1") == "1"
    loader = gn.data.DataLoader(gn.data.TensorDataset(x, y), batch_size=16, shuffle=shuffle)
    trainer.fit(loader, epochs=3, max_steps=int(settings.get("steps", 18)),
                resume="resume" in settings)  # fmt: skip
    if dist.get_rank() == 0:
        np.savez(out / "final.npz", **weights(model))
        if "record" in settings:
            np.savez(out / "start.npz", **first_weights[0])
        position = {"global_step": trainer.global_step, "epoch": trainer.epoch}
        (out / "position.json").write_text(json.dumps(position))


if __name__ == "__main__":
    name, out, *rest = sys.argv[1:]
    dist.init_process_group()
    {
        "parity": parity,
        "no_sync": no_sync,
        "collectives": collectives,
        "fail": fail,
        "different_models": different_models,
        "train": train,
    }[name](Path(out), *rest)
