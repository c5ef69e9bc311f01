"""The conversation between the benchmark driver and a worker process, one JSON line each way.

A worker serves one library. The driver asks it to `setup` a workload from a weights-and-batches
file (the worker builds the model, checks its first training steps and warms up), then to `time`
(or `profile`) k steps, again and again. Each request is answered with one JSON line on the
worker's real stdout; anything a library prints goes to stderr, so it cannot break the exchange.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# A workload as a worker builds it: `step()` runs one timed step (it returns the loss for
# training steps, the output for inference); `check` holds what the driver compares between the
# two libraries: the first losses and arrays after a few steps.
Step = Callable[[], Any]
Prepare = Callable[[str, str, dict[str, np.ndarray]], tuple[Step, dict[str, Any]]]
# Writes a model's initial weights (its own library's default initialisation) to a .npz file.
Init = Callable[[str, int, str], None]

CHECK_STEPS = 3
LEARNING_RATE = 0.01  # SGD, for the nn.Sequential workloads
ADAMW_LEARNING_RATE = 1e-3  # AdamW (weight decay 0.01 on every parameter), for the transformers


def layer_arrays(data: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight, bias) of each Linear layer, in order, from a file whose keys follow PyTorch's
    nn.Sequential state_dict ("0.weight", "0.bias", "2.weight", ...)."""
    indices = sorted(int(key.split(".")[0]) for key in data if key.endswith(".weight"))
    return [(data[f"{i}.weight"], data[f"{i}.bias"]) for i in indices]


def thread_pools() -> list[str]:
    """The native thread pools loaded in this process, as "library (api): threads"."""
    from threadpoolctl import threadpool_info

    return [
        f"{pool['prefix']} ({pool['internal_api']}): {pool['num_threads']}"
        for pool in threadpool_info()
    ]


def serve(info: Callable[[], dict[str, Any]], prepare: Prepare, init: Init | None = None) -> None:
    """Answer the driver's requests on stdin until it says quit or closes the pipe."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    step: Step | None = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["cmd"] == "quit":
                break
            if request["cmd"] == "info":
                reply: dict[str, Any] = {"info": info()}
            elif request["cmd"] == "init" and init is not None:
                init(request["model"], request["seed"], request["out"])
                reply = {}
            elif request["cmd"] == "setup":
                step, reply = _setup(prepare, request)
            elif request["cmd"] in ("time", "profile"):
                if step is None:
                    raise RuntimeError(f"{request['cmd']!r} requested before any 'setup'")
                if request["cmd"] == "time":
                    reply = {"times": _time_steps(step, request["steps"])}
                else:
                    reply = _profile(step, request["steps"])
            else:
                raise ValueError(f"unknown command {request['cmd']!r}")
            reply["ok"] = True
        except Exception:
            reply = {"ok": False, "error": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")


def _setup(prepare: Prepare, request: dict[str, Any]) -> tuple[Step, dict[str, Any]]:
    data: dict[str, np.ndarray] = {}
    for path in request["data"]:  # the batches, and the weights where they are a file of their own
        with np.load(path) as file:
            data.update({key: file[key] for key in file.files})
    step, check = prepare(request["model"], request["kind"], data)
    np.savez(request["check"], **check.pop("arrays"))
    for _ in range(request["warmup"]):
        step()
    return step, check


def _profile(step: Step, steps: int) -> dict[str, Any]:
    """The median of `steps` plainly timed steps, then per function over `steps` steps under
    cProfile: calls, own time and cumulative time per step (microseconds), most own time first."""
    plain = statistics.median(_time_steps(step, steps))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    rows = []
    stats = pstats.Stats(profiler).stats
    for (file, line, function), (_, calls, own, cumulative, _) in stats.items():
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({function})" if line else function,
                "calls": calls / steps,
                "own_us": 1e6 * own / steps,
                "cumulative_us": 1e6 * cumulative / steps,
            }
        )
    rows.sort(key=lambda row: -row["own_us"])
    return {"step_us": 1e6 * plain, "rows": rows}


def _time_steps(step: Step, steps: int) -> list[float]:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times
