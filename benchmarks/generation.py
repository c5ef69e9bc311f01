"""How fast a glassnet GPT writes, in tokens per second, with and without the key/value cache.

Without the cache every new token re-reads the whole text so far: T tokens cost about T^2/2
positions of work. With it, the prompt is read once and each new token is one position's work
against the stored keys and values. This script times greedy generation of a full context window
from a one-token prompt, both ways, on untrained models of the sizes the benchmarks and the
shakespeare-gpt recipe use (speed does not depend on the weights), and prints medians over
repeats. It imports only glassnet.

    python benchmarks/generation.py [--repeats 5] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

CONFIGS = {
    # name: GPT keyword arguments
    "gpt block (1x128, context 64)": dict(
        vocab_size=65, context=64, d_model=128, n_layers=1, n_heads=4
    ),
    "char-gpt 2L (2x128, context 128)": dict(
        vocab_size=65, context=128, d_model=128, n_layers=2, n_heads=4
    ),
    "shakespeare-gpt (4x128, context 128)": dict(
        vocab_size=65, context=128, d_model=128, n_layers=4, n_heads=4
    ),
}


def tokens_per_second(model, length: int, use_cache: bool) -> float:
    start = time.perf_counter()
    model.generate([0], length, temperature=0.0, use_cache=use_cache)
    return length / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per setting")
    parser.add_argument("--threads", type=int, help="BLAS threads (default: NumPy's own)")
    args = parser.parse_args()
    if args.threads is not None:  # must be set before NumPy loads OpenBLAS
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import glassnet as gn
    from glassnet.models import GPT

    print(f"greedy generation of a full context window, median of {args.repeats} runs")
    print(f"{'model':<38}{'cached tok/s':>14}{'uncached tok/s':>16}{'speed-up':>10}")
    for name, config in CONFIGS.items():
        gn.manual_seed(0)
        model = GPT(**config)
        length = config["context"] - 1
        tokens_per_second(model, length, True)  # warm up
        speeds = {
            cached: statistics.median(
                tokens_per_second(model, length, cached) for _ in range(args.repeats)
            )
            for cached in (True, False)
        }
        print(
            f"{name:<38}{speeds[True]:>14,.0f}{speeds[False]:>16,.0f}"
            f"{speeds[True] / speeds[False]:>9.1f}x"
        )


if __name__ == "__main__":
    main()
