"""ONNX Runtime against glassnet: the same exported network, the same batch, one thread each.

Exports LeNet-5 and the character GPT of shakespeare-gpt (2 layers here and 4 as the recipe
trains it) with `glassnet.onnx.export`, then times one forward pass of each in glassnet (eval
mode, under no_grad) and in ONNX Runtime (one intra-op and one inter-op thread), alternating
the two, and prints the medians and the ratio. Run it pinned to one core:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        taskset -c 1 .venv/bin/python benchmarks/onnx_runtime.py

Both run in one process: with one thread each, their thread pools have nothing to fight over.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

import glassnet as gn  # noqa: E402
import glassnet.onnx  # noqa: E402
from glassnet.models import GPT, LeNet5  # noqa: E402


def workloads() -> list[tuple[str, object, gn.Tensor]]:
    gn.manual_seed(0)
    lenet = LeNet5()
    gpt2 = GPT(vocab_size=65, context=128, d_model=128, n_layers=2, n_heads=4)
    gpt4 = GPT(vocab_size=65, context=128, d_model=128, n_layers=4, n_heads=4)
    tokens = gn.randint(0, 65, (16, 128))
    return [
        ("lenet5 b64", lenet, gn.randn(64, 1, 28, 28)),
        ("lenet5 b256", lenet, gn.randn(256, 1, 28, 28)),
        ("char-gpt 2L b16 x128", gpt2, tokens),
        ("char-gpt 4L b16 x128", gpt4, tokens),
        ("char-gpt 4L b1 x128", gpt4, tokens[:1]),
    ]


def session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(model, x: gn.Tensor, folder: str, rounds: int, warmup: int) -> tuple[list, list]:
    model.eval()
    axes = {"input": {0: "batch"}}
    path = glassnet.onnx.export(model, x, os.path.join(folder, "m.onnx"), dynamic_axes=axes)
    sess = session(path)
    feeds = {"input": x.numpy()}

    def ours():
        with gn.no_grad():
            return model(x)

    def theirs():
        return sess.run(None, feeds)

    expected, got = ours().numpy(), theirs()[0]
    assert np.abs(expected - got).max() <= 1e-4 * max(1.0, float(np.abs(expected).max()))
    for _ in range(warmup):
        ours()
        theirs()
    glassnet_times, ort_times = [], []
    for _ in range(rounds):  # alternate, so that a slow spell of the machine hits both
        glassnet_times.append(time_once(ours))
        ort_times.append(time_once(theirs))
    return glassnet_times, ort_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    print(f"onnxruntime {ort.__version__}, one thread each; medians of {args.rounds} runs")
    print(f"{'workload':<22} {'glassnet ms':>11} {'ORT ms':>8} {'ratio':>6} {'ratio p25-p75':>14}")
    with tempfile.TemporaryDirectory() as folder:
        for name, model, x in workloads():
            ours, theirs = measure(model, x, folder, args.rounds, args.warmup)
            ratios = np.array(ours) / np.array(theirs)
            p25, p75 = np.percentile(ratios, [25, 75])
            print(
                f"{name:<22} {np.median(ours) * 1e3:>11.2f} {np.median(theirs) * 1e3:>8.2f} "
                f"{np.median(ratios):>6.2f} {p25:>7.2f}-{p75:.2f}"
            )


if __name__ == "__main__":
    main()
