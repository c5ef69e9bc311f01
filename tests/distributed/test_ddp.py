"""DistributedDataParallel on 2 and 4 ranks against one process doing the same work."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .ranks import check, run_ranks


def assert_close(ours: dict, reference: dict, rtol: float, keys=None) -> None:
    for key in keys if keys is not None else reference:
        scale = max(float(np.abs(reference[key]).max()), 1e-12)
        error = float(np.abs(ours[key] - reference[key]).max()) / scale
        assert error <= rtol, f"{key}: relative error {error:.3g} > {rtol}"


@pytest.mark.parametrize(
    "ranks, kind, dtype, rtol",
    [
        (2, "mlp", "float64", 1e-6),
        (4, "mlp", "float64", 1e-6),
        (2, "mlp", "float32", 1e-5),
        (2, "gpt", "float32", 1e-5),
    ],
)
def test_ddp_equals_one_process_on_the_global_batch(tmp_path, ranks, kind, dtype, rtol):
    done, _ = run_ranks(ranks, "parity", str(tmp_path), kind, dtype, "whole")
    check(done)
    ours, single = np.load(tmp_path / "ddp.npz"), np.load(tmp_path / "single.npz")
    assert_close(ours, single, rtol)
    assert json.loads((tmp_path / "identical.json").read_text()) == [True] * 4


def test_batch_norm_under_ddp_equals_accumulating_over_the_ranks_slices(tmp_path):
    # without SyncBatchNorm each rank normalises by its own slice's statistics: the same as one
    # process accumulating gradients over the slices (the parameters; buffers are rank 0's)
    done, _ = run_ranks(2, "parity", str(tmp_path), "cnn", "float64", "slices")
    check(done)
    ours, single = np.load(tmp_path / "ddp.npz"), np.load(tmp_path / "single.npz")
    parameters = [k for k in single if "running" not in k and "num_batches" not in k]
    assert_close(ours, single, 1e-6, parameters)
    assert json.loads((tmp_path / "identical.json").read_text()) == [True] * 4


def test_sync_batch_norm_equals_one_process_on_the_whole_batch(tmp_path):
    done, _ = run_ranks(2, "parity", str(tmp_path), "cnn-sync", "float64", "whole")
    check(done)
    ours, single = np.load(tmp_path / "ddp.npz"), np.load(tmp_path / "single.npz")
    assert_close(ours, single, 1e-6)  # running statistics included: they are the whole batch's
    assert json.loads((tmp_path / "identical.json").read_text()) == [True] * 4


def test_no_sync_accumulates_locally_then_averages_the_sum(tmp_path):
    done, _ = run_ranks(2, "no_sync", str(tmp_path))
    check(done)
    local_grads = []
    for rank in range(2):
        n = json.loads((tmp_path / f"rank{rank}.json").read_text())["n"]
        arrays = np.load(tmp_path / f"rank{rank}.npz")
        arrays = [arrays[f"arr_{i}"] for i in range(3 * n)]
        averaged, expected, after_two = arrays[:n], arrays[n : 2 * n], arrays[2 * n :]
        for a, e in zip(averaged, expected):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)
        local_grads.append(after_two)
    # inside no_sync nothing was averaged: the ranks' gradients (different data) still differ
    assert any(not np.allclose(a, b) for a, b in zip(*local_grads))


def test_ranks_with_different_models_fail_at_wrap_time_naming_the_rank(tmp_path):
    done, seconds = run_ranks(2, "different_models", str(tmp_path), timeout=60)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "rank 1 built a different model" in output
    assert "0.weight (17, 6)" in output and "(16, 6)" in output
