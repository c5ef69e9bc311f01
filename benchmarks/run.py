"""Time glassnet against PyTorch on the same models, weights and batches, and report the ratios.

Each library runs in its own worker process that imports only that library (in one process their
thread pools slow each other down), started afresh for each workload. This driver imports neither:
it writes each workload's initial weights and batches to a file with seeded NumPy, checks that both
workers compute the same losses and weights, then asks them in turn, A B A B, to time a block of
steps. The ratio of each round's medians cancels slow drifts of the machine; the median over rounds
is the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models import ARCHITECTURES, TRANSFORMERS, init_bound, parameter_shapes

HERE = Path(__file__).resolve().parent
REFERENCE = "torch"
N_BATCHES = 8  # distinct batches per workload, cycled through, so no step reuses a warm input
LOSS_TOLERANCE = 1e-4
ARRAY_TOLERANCE = 1e-5
OUTPUT_TOLERANCE = 1e-4
NOISY_LOAD = 0.05  # share of the CPUs used by other processes above which a row is suspect
# Read by OpenBLAS (NumPy), OpenMP (torch's own kernels) and MKL (torch's matrix products).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# glibc malloc settings for --tune-malloc: blocks up to 32 MiB come from the heap instead of a
# fresh mmap, and up to 256 MiB of freed heap stays in the process, so a step's large temporaries
# reuse pages that are already mapped instead of page-faulting on every step.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


class BenchmarkError(RuntimeError):
    """The libraries computed different things, or a worker failed: no timing is meaningful."""


@dataclass(frozen=True)
class Workload:
    """A model, what is done with it (train: forward, backward, SGD step; infer: forward under
    no_grad), the batch size, and the largest glassnet/torch time ratio we aim for (None: only
    reported)."""

    name: str
    kind: str
    batch: int
    target: float | None
    model: str = "mlp"  # a key of models.ARCHITECTURES


WORKLOADS = (
    Workload("mlp train b128", "train", 128, 0.9),
    Workload("mlp train b16", "train", 16, 0.8),
    Workload("mlp infer b1024", "infer", 1024, None),
    Workload("lenet5 train b64", "train", 64, 2.0, "lenet5"),
    Workload("lenet5 infer b256", "infer", 256, None, "lenet5"),
    Workload("convnet train b32", "train", 32, 2.0, "convnet"),
    Workload("convnet infer b128", "infer", 128, None, "convnet"),
    Workload("gpt block train b16", "train", 16, 1.6, "gpt1"),
    Workload("char-gpt 2L train b16", "train", 16, 1.6, "gpt2"),
    Workload("vit digits train b64", "train", 64, 1.6, "vit"),
    Workload("vit digits infer b256", "infer", 256, None, "vit"),
)


class Worker:
    """One library's worker process, asked one JSON line at a time (see protocol.py)."""

    def __init__(self, library: str, env: dict[str, str]) -> None:
        self.library = library
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / f"worker_{library}.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise BenchmarkError(f"the {self.library} worker exited (its error is printed above)")
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise BenchmarkError(
                f"the {self.library} worker failed on {request}:\n{reply['error']}"
            )
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass  # it is already exiting
        self.process.wait(timeout=30)


@contextmanager
def workers(args: argparse.Namespace, *libraries: str) -> Iterator[list[Worker]]:
    """Fresh workers for the given libraries, with the thread and malloc settings of `args`.

    Fresh, because a process's history changes its speed: glibc's malloc adapts its mmap and trim
    thresholds to the blocks a process has freed, and whether a step's large temporaries page-fault
    on every step or reuse the heap made the same NumPy step 2.5x faster in a process that had
    freed a large array before. A new process measures what a user's script gets.
    """
    env = dict(os.environ)
    if args.threads is not None:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(args.threads)))
    if args.tune_malloc:
        env.update(TUNED_MALLOC)
    started = [Worker(library, env) for library in libraries]
    try:
        yield started
    finally:
        for worker in started:
            worker.close()


def write_data(workload: Workload, seed: int, path: Path) -> None:
    """N_BATCHES batches: inputs in [0, 1) and class labels, or for a GPT token ids and the next
    tokens; and for an nn.Sequential model the initial weights (PyTorch's default initialisation,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), under nn.Sequential's state_dict keys). A transformer's
    initial weights come from the reference worker instead (see `measure`)."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    batches = (N_BATCHES, workload.batch)
    if workload.model in TRANSFORMERS:
        family, config = TRANSFORMERS[workload.model]
        if family == "gpt":
            text = rng.integers(0, config["vocab_size"], (*batches, config["context"] + 1))
            arrays["x"], arrays["y"] = text[..., :-1], text[..., 1:]
        else:
            size = config["image_size"]
            arrays["x"] = rng.random((*batches, config["in_channels"], size, size), np.float32)
            arrays["y"] = rng.integers(0, config["num_classes"], batches, dtype=np.int64)
        np.savez(path, **arrays)
        return
    for key, shape, fan_in in parameter_shapes(workload.model):
        bound = init_bound(fan_in)
        arrays[key] = rng.uniform(-bound, bound, shape).astype(np.float32)
    input_shape = ARCHITECTURES[workload.model][0]
    arrays["x"] = rng.random((*batches, *input_shape), dtype=np.float32)
    arrays["y"] = rng.integers(0, 10, batches, dtype=np.int64)
    np.savez(path, **arrays)


def verify(workload: Workload, names: list[str], checks: list[dict], paths: list[Path]) -> str:
    """Compare the two workers' first losses and resulting arrays; raise if they differ, else
    return a one-line summary."""
    summary = []
    for step, losses in enumerate(zip(*(check["losses"] for check in checks)), start=1):
        summary.append(f"loss {step}: " + " / ".join(f"{loss:.6f}" for loss in losses))
        if abs(losses[0] - losses[1]) >= LOSS_TOLERANCE:
            raise BenchmarkError(
                f"{workload.name}: training loss at step {step} differs: "
                f"{names[0]} {losses[0]!r}, {names[1]} {losses[1]!r} "
                f"(tolerance {LOSS_TOLERANCE})"
            )
    with np.load(paths[0]) as first, np.load(paths[1]) as second:
        for key in first.files:
            tolerance = OUTPUT_TOLERANCE if key == "output" else ARRAY_TOLERANCE
            diff = float(np.max(np.abs(first[key] - second[key])))
            summary.append(f"max |diff| {key}: {diff:.1e}")
            if not diff < tolerance:
                raise BenchmarkError(
                    f"{workload.name}: {key!r} differs between {names[0]} and {names[1]} by up "
                    f"to {diff:.3g} (tolerance {tolerance})"
                )
    return "; ".join(summary)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    return float(q1), float(q2), float(q3)


def measure(
    workload: Workload, pair: list[Worker], args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    data = tmp / f"{workload.model}_{workload.kind}_{workload.batch}.npz"
    write_data(workload, args.seed, data)
    files = [str(data)]
    if workload.model in TRANSFORMERS:
        weights = tmp / f"{workload.model}_weights.npz"
        pair[1].ask(cmd="init", model=workload.model, seed=args.seed, out=str(weights))
        files.append(str(weights))
    check_paths = [tmp / f"check_{index}.npz" for index in range(2)]
    checks = [
        worker.ask(
            cmd="setup",
            model=workload.model,
            kind=workload.kind,
            data=files,
            check=str(path),
            warmup=args.warmup,
        )
        for worker, path in zip(pair, check_paths)
    ]
    names = [worker.library for worker in pair]
    print(f"  {workload.name}: {verify(workload, names, checks, check_paths)}", flush=True)

    times: list[list[float]] = [[], []]
    round_ratios = []
    for _ in range(args.rounds):
        medians = []
        for worker, all_times in zip(pair, times):
            # Let the other worker's thread pools stop spinning before this one starts.
            time.sleep(args.pause)
            block = worker.ask(cmd="time", steps=args.steps)["times"]
            all_times += block
            medians.append(statistics.median(block))
        round_ratios.append(medians[0] / medians[1])

    q1, ratio, q3 = quartiles(round_ratios)
    if workload.target is None:
        result = "-"
    else:
        result = "PASS" if ratio <= workload.target else "MISS"
    return {
        "workload": workload.name,
        "kind": workload.kind,
        "batch": workload.batch,
        "model": workload.model,
        "candidate_ms": 1e3 * statistics.median(times[0]),
        "reference_ms": 1e3 * statistics.median(times[1]),
        "ratio": ratio,
        "ratio_p25": q1,
        "ratio_p75": q3,
        "target": workload.target,
        "result": result,
        "losses": [check["losses"] for check in checks],
        "round_ratios": round_ratios,
        "candidate_times_ms": [1e3 * t for t in times[0]],
        "reference_times_ms": [1e3 * t for t in times[1]],
    }


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall clock, CPU seconds used by the whole machine, CPU seconds used by this process and
    its finished children), or None where /proc/stat does not exist."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy time, and
    # steal is time the hypervisor gave to other virtual machines.
    ticks = [int(field) for field in stat.read_text().split("\n", 1)[0].split()[1:9]]
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return (
        time.perf_counter(),
        busy,
        own.user + own.system + own.children_user + own.children_system,
    )


def other_load(start: tuple[float, float, float] | None) -> float | None:
    """The share of all CPUs that something other than this benchmark used since `start`."""
    end = cpu_snapshot()
    if start is None or end is None:
        return None
    wall, busy, own = (b - a for a, b in zip(start, end))
    return max(0.0, busy - own) / (wall * (os.cpu_count() or 1))


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        if models:
            cpu = models[0]
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
    }


def print_header(
    host: dict[str, Any], infos: list[dict[str, Any]], args: argparse.Namespace
) -> None:
    print(f"machine: {host['cpu']}, {host['cpu_count']} CPUs ({host['usable_cpus']} usable)")
    print(f"         {host['platform']}")
    for info in infos:
        print(f"{info['library']} (python {info['python']}, numpy {info['numpy']})")
        print(f"    {info['threads']}")
        print(f"    thread pools: {'; '.join(info['pools']) or 'none'}")
    threads = "library defaults" if args.threads is None else f"{args.threads} (forced)"
    malloc = "tuned (--tune-malloc)" if args.tune_malloc else "glibc defaults"
    print(
        f"method: fresh worker processes per workload, threads: {threads}, malloc: {malloc}; "
        f"{args.rounds} rounds x {args.steps} steps, alternating {args.candidate} / {REFERENCE} "
        f"with {args.pause} s pauses, after {args.warmup} warm-up steps; ratio = median over "
        "rounds of the ratio of the round's median step times"
    )
    print("checks (losses and max differences, candidate / reference):")


def print_table(candidate: str, results: list[dict[str, Any]]) -> None:
    # Against itself, the two columns are the two torch workers.
    same = candidate == REFERENCE
    headers = [
        "workload",
        f"{candidate} A ms" if same else f"{candidate} ms",
        f"{REFERENCE} B ms" if same else f"{REFERENCE} ms",
        "ratio",
        "ratio p25-p75",
        "target",
        "result",
        "other load",
    ]
    rows = [
        [
            r["workload"],
            f"{r['candidate_ms']:.3f}",
            f"{r['reference_ms']:.3f}",
            f"{r['ratio']:.3f}",
            f"{r['ratio_p25']:.2f}-{r['ratio_p75']:.2f}",
            "-" if r["target"] is None else f"<= {r['target']}",
            r["result"],
            "?" if r["other_load"] is None else f"{r['other_load']:.0%}",
        ]
        for r in results
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * width for width in widths], *rows]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        print("  ".join(cells))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds of 10 steps (a smoke run)")
    parser.add_argument("--rounds", type=int, help="A B rounds per workload (default 15)")
    parser.add_argument("--steps", type=int, help="timed steps per request (default 20)")
    parser.add_argument("--warmup", type=int, help="untimed steps after setup (default 30)")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.3,
        help="seconds of idle time before each block (default 0.3), so that the other worker's "
        "thread pools, which busy-wait for a while after their work, have gone to sleep",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and batches")
    parser.add_argument(
        "--threads",
        type=int,
        help="set every thread pool of both workers to this size (default: each library's own)",
    )
    parser.add_argument(
        "--only", action="append", metavar="TEXT", help="run only workloads whose name has TEXT"
    )
    parser.add_argument(
        "--candidate",
        choices=["glassnet", "numpy", REFERENCE],
        default="glassnet",
        help="what is timed against torch: glassnet; 'numpy', the same step hand-written in NumPy "
        "(glassnet's floor); or 'torch' itself (the noise floor of the method)",
    )
    parser.add_argument(
        "--tune-malloc",
        action="store_true",
        help="keep freed memory in both workers (glibc MALLOC_MMAP_THRESHOLD_/"
        "MALLOC_TRIM_THRESHOLD_), to see what page faults on fresh temporaries cost",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write all results here")
    args = parser.parse_args(argv)
    defaults = (5, 10, 10) if args.quick else (15, 20, 30)
    for name, default in zip(("rounds", "steps", "warmup"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    for name in ("rounds", "steps", "warmup", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be at least 1, got {value}")
    if args.pause < 0:
        parser.error(f"--pause must be 0 or more seconds, got {args.pause}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workloads = [w for w in WORKLOADS if not args.only or any(t in w.name for t in args.only)]
    if args.candidate == "numpy":  # the hand-written NumPy step exists for the MLP only
        workloads = [w for w in workloads if w.model == "mlp"]
    if not workloads:
        names = ", ".join(w.name for w in WORKLOADS)
        raise SystemExit(f"--only {args.only} matches no workload; the workloads are: {names}")
    host = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="glassnet-bench-") as tmp:
        for workload in workloads:
            start = cpu_snapshot()
            with workers(args, args.candidate, REFERENCE) as pair:
                if not results:
                    infos = [worker.ask(cmd="info")["info"] for worker in pair]
                    print_header(host, infos, args)
                result = measure(workload, pair, args, Path(tmp))
            result["other_load"] = other_load(start)
            results.append(result)
    print()
    print_table(args.candidate, results)
    if any((r["other_load"] or 0.0) > NOISY_LOAD for r in results):
        print(
            f"\nother load above {NOISY_LOAD:.0%}: other processes (or the hypervisor) took CPU "
            "time during those rows, so their times are unreliable; run again on a quiet machine"
        )
    if args.json:
        settings = {
            key: getattr(args, key)
            for key in ("rounds", "steps", "warmup", "seed", "threads", "tune_malloc")
        }
        report = {
            "machine": host,
            "candidate": args.candidate,
            "reference": REFERENCE,
            "workers": infos,
            "settings": settings,
            "results": results,
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        sys.exit(f"benchmark stopped: {error}")
