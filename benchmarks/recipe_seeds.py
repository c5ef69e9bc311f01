"""A recipe's headline number over several seeds, each run in its own process on one core.

Used to check that a change to the training code keeps what the README reports ("the ported
recipes reach the numbers in the README"): run it once against the old source tree and once
against the new one and compare the two rows of each recipe.

    python benchmarks/recipe_seeds.py digits-cnn digits-mlp --seeds 0 1 2 [--src OTHER/src]

Each run is pinned to CPU 0 (taskset) with one BLAS thread; prints one JSON line per run and a
summary per recipe (mean and spread).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# the number each recipe is judged by, and keyword arguments that keep a run short where needed
HEADLINE = {
    "digits-mlp": "test_accuracy",
    "digits-cnn": "test_accuracy",
    "mnist-cnn": "test_accuracy",
    "digits-vit": "test_accuracy",
    "mnist-vit": "test_accuracy",
    "spiral-mlp": "test_accuracy",
    "digits-ae": "test_mse",
    "digits-vae": "test_elbo",
    "forecast-lstm": "rmse",
}

CHILD = """
import json, sys, time
from glassnet.recipes import get_recipe
name, seed, out, key, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
start = time.perf_counter()
result = get_recipe(name).run(seed=seed, out_dir=out, verbose=False, progress=False,
                              **json.loads(extra))
print(json.dumps({"recipe": name, "seed": seed, key: float(result[key]),
                  "seconds": round(time.perf_counter() - start, 1)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="+", choices=sorted(HEADLINE))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--src", default=os.path.join(os.path.dirname(__file__), "..", "src"))
    parser.add_argument("--kwargs", default="{}", help="JSON keyword arguments for run()")
    parser.add_argument("--cpu", default="0")
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": os.path.abspath(args.src),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for name in args.recipes:
        key, values = HEADLINE[name], []
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as out:
                done = subprocess.run(
                    ["taskset", "-c", args.cpu, sys.executable, "-c", CHILD, name, str(seed),
                     out, key, args.kwargs],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
            if done.returncode:
                print(done.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{name} seed {seed} failed")
            line = done.stdout.strip().splitlines()[-1]
            print(line, flush=True)
            values.append(json.loads(line)[key])
        spread = f"{min(values):.4f}..{max(values):.4f}"
        print(f"# {name} {key}: mean {statistics.mean(values):.4f}, range {spread}", flush=True)


if __name__ == "__main__":
    main()
