"""Data-parallel training on 1 and 2 ranks: time per step, split into compute and communication,
and the allreduce bandwidth of MPI on this machine's loopback.

Each rank runs one BLAS thread. The global batch is fixed (the recipes' size), so 2 ranks each
compute half of it. Per step we time, alternately, a full DistributedDataParallel step (forward,
backward with the gradient allreduce started from the gradient hooks, optimizer step) and the
same step under ``no_sync()`` (no communication): the difference is the communication that
backward did not hide. The allreduce of the model's gradients alone is timed too. Medians over
repeats; the ranks meet at a barrier (untimed) before every step.

    python benchmarks/distributed.py [--repeats 20] [--cpus 0,1]

The driver starts the workers itself with the mpiexec beside this Python, pinned with taskset.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODELS = {
    # name: (builder keyword arguments, global batch)
    "mnist-cnn (SmallCNN 16-32-64, batch 64)": ("cnn", 64),
    "shakespeare-gpt (4x128, context 128, batch 16)": ("gpt", 16),
}
SIZES_MB = (1, 10, 100)


def build(kind: str):
    import glassnet as gn
    import glassnet.nn.functional as F
    from glassnet.models import GPT, SmallCNN

    rng = gn.random.default_generator()
    if kind == "cnn":
        model = SmallCNN(in_channels=1, num_classes=10, widths=(16, 32, 64))

        def batch(n):
            x = gn.tensor(rng.normal(size=(n, 1, 28, 28)).astype("float32"))
            return x, gn.tensor(rng.integers(0, 10, n))

        return model, batch, F.cross_entropy
    model = GPT(vocab_size=65, context=128, d_model=128, n_layers=4, n_heads=4)

    def batch(n):
        return gn.tensor(rng.integers(0, 65, (n, 128))), gn.tensor(rng.integers(0, 65, (n, 128)))

    return model, batch, lambda out, t: F.cross_entropy(out.reshape(-1, 65), t.reshape(-1))


def worker_steps(kind: str, global_batch: int, repeats: int) -> dict:
    import numpy as np

    import glassnet as gn
    import glassnet.distributed as dist
    from glassnet.nn.parallel import DistributedDataParallel

    size = dist.get_world_size()
    gn.manual_seed(0)
    model, make_batch, loss_fn = build(kind)
    ddp = DistributedDataParallel(model)
    optimizer = gn.optim.SGD(ddp.parameters(), lr=1e-3)
    x, y = make_batch(global_batch // size)

    def step(sync: bool) -> float:
        dist.barrier()
        started = time.perf_counter()
        if sync:
            loss_fn(ddp(x), y).backward()
        else:
            with ddp.no_sync():
                loss_fn(ddp(x), y).backward()
        optimizer.step()
        optimizer.zero_grad()
        return time.perf_counter() - started

    for _ in range(3):
        step(True)
        step(False)
    full, compute = [], []
    for _ in range(repeats):
        full.append(step(True))
        compute.append(step(False))
    grads = gn.tensor(np.zeros(sum(p.numel() for p in model.parameters()), np.float32))
    allreduce = []
    for _ in range(repeats):
        dist.barrier()
        started = time.perf_counter()
        dist.all_reduce(grads)
        allreduce.append(time.perf_counter() - started)
    return {
        "ranks": size,
        "parameters": int(grads.numel()),
        "step_ms": 1e3 * statistics.median(full),
        "compute_ms": 1e3 * statistics.median(compute),
        "allreduce_ms": 1e3 * statistics.median(allreduce) if size > 1 else 0.0,
        "buckets": len(ddp.reducer.buckets),
    }


def worker_bandwidth(repeats: int) -> list[dict]:
    import numpy as np

    import glassnet as gn
    import glassnet.distributed as dist

    size = dist.get_world_size()
    rows = []
    for mb in SIZES_MB:
        buffer = gn.tensor(np.ones(mb * 2**20 // 4, np.float32))
        dist.all_reduce(buffer)
        times = []
        for _ in range(max(3, repeats // 2)):
            dist.barrier()
            started = time.perf_counter()
            dist.all_reduce(buffer)
            times.append(time.perf_counter() - started)
        t = statistics.median(times)
        bus = 2 * (size - 1) / size * mb * 2**20 / t  # bytes each rank moves, per second
        rows.append({"MB": mb, "ms": 1e3 * t, "bus_GB_s": bus / 1e9})
    return rows


def run_workers(n: int, args: list[str], cpus: str) -> list:
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}  # fmt: skip
    command = ["taskset", "-c", cpus, mpiexec, "-n", str(n), sys.executable, __file__, *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return [json.loads(line[7:]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cpus", default="0,1", help="taskset's CPU list for the ranks")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import glassnet.distributed as dist

        dist.init_process_group()
        if args.worker == "steps":
            result = worker_steps(args.kind, args.batch, args.repeats)
        else:
            result = worker_bandwidth(args.repeats)
        if dist.get_rank() == 0:
            print("RESULT " + json.dumps(result), flush=True)
        dist.destroy_process_group()
        return
    print(f"taskset -c {args.cpus}, one BLAS thread per rank, medians of {args.repeats} steps")
    print(f"{'model':48} {'ranks':>5} {'step ms':>8} {'compute':>8} {'exposed comm':>12} "
          f"{'allreduce':>9} {'speedup':>7}")  # fmt: skip
    for name, (kind, batch) in MODELS.items():
        one = None
        for n in (1, 2):
            work = ["--worker", "steps", "--kind", kind, "--batch", str(batch)]
            (r,) = run_workers(n, [*work, "--repeats", str(args.repeats)], args.cpus)
            one = one or r["step_ms"]
            print(f"{name:48} {n:>5} {r['step_ms']:8.1f} {r['compute_ms']:8.1f} "
                  f"{r['step_ms'] - r['compute_ms']:12.1f} {r['allreduce_ms']:9.2f} "
                  f"{one / r['step_ms']:7.2f}x   ({r['parameters']:,} parameters, "
                  f"{r['buckets']} buckets)")  # fmt: skip
    (rows,) = run_workers(2, ["--worker", "bandwidth", "--repeats", str(args.repeats)], args.cpus)
    print("\nallreduce on 2 ranks, loopback (shared memory), float32")
    for row in rows:
        print(f"{row['MB']:5d} MB  {row['ms']:8.2f} ms  bus bandwidth {row['bus_GB_s']:6.2f} GB/s")


if __name__ == "__main__":
    main()
