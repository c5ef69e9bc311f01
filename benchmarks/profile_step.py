"""Where one library's step spends its time: cProfile over many steps, reported per step.

The step runs in the same kind of fresh worker process as in run.py, built from the same weights
and batches, so the profile shows the state the benchmark measures. NumPy's ufuncs and the @
operator are not entries of their own: their time counts in the Python function that calls them,
so an op's (or a backward closure's) own time is its array work plus its Python overhead.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from models import TRANSFORMERS
from run import WORKLOADS, workers, write_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = [w.name for w in WORKLOADS]
    parser.add_argument("workload", nargs="?", default=names[0], choices=names)
    parser.add_argument("--candidate", choices=["glassnet", "numpy", "torch"], default="glassnet")
    parser.add_argument("--steps", type=int, default=500, help="profiled steps (default 500)")
    parser.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    parser.add_argument("--threads", type=int, help="thread pool size (default: the library's)")
    parser.add_argument("--tune-malloc", action="store_true", help="as in run.py")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    workload = next(w for w in WORKLOADS if w.name == args.workload)
    with tempfile.TemporaryDirectory(prefix="glassnet-profile-") as tmp:
        data, check = Path(tmp) / "data.npz", Path(tmp) / "check.npz"
        write_data(workload, 0, data)
        files = [str(data)]
        with workers(args, args.candidate) as (worker,):
            if workload.model in TRANSFORMERS:  # the worker's own library draws the weights
                files.append(str(Path(tmp) / "weights.npz"))
                worker.ask(cmd="init", model=workload.model, seed=0, out=files[-1])
            worker.ask(
                cmd="setup",
                model=workload.model,
                kind=workload.kind,
                data=files,
                check=str(check),
                warmup=50,
            )
            report = worker.ask(cmd="profile", steps=args.steps)

    total = sum(row["own_us"] for row in report["rows"])
    print(
        f"{args.candidate}, {workload.name}: {report['step_us']:.0f} us per step (median, "
        f"unprofiled), {total:.0f} us profiled ({args.steps} steps)"
    )
    print(f"{'own us/step':>11}  {'share':>5}  {'calls/step':>10}  {'cum us/step':>11}  function")
    for row in report["rows"][: args.top]:
        print(
            f"{row['own_us']:11.1f}  {row['own_us'] / total:5.1%}  {row['calls']:10.1f}  "
            f"{row['cumulative_us']:11.1f}  {row['function']}"
        )


if __name__ == "__main__":
    main()
