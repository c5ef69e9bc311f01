"""Test helpers: run one computation in glassnet and in PyTorch and compare, and check gradients
against finite differences.

`compare` feeds the same NumPy arrays to both libraries, checks the output (values, shape, dtype),
sends the same random gradient back through both and checks every input's gradient. `gradcheck`
checks a float64 backward pass against a five-point central difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from glassnet.autograd import no_grad
from glassnet.tensor import Tensor

TOLERANCES = {np.dtype(np.float32): (1e-5, 1e-6), np.dtype(np.float64): (1e-10, 1e-12)}
FLOATS = (np.float32, np.float64)


def random(shape: Sequence[int], dtype=np.float64, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def away_from(x: np.ndarray, points: Sequence[float], margin: float = 0.02) -> np.ndarray:
    """`x` with values near the given kinks pushed `margin` away, so that finite differences
    (and float32 rounding) do not straddle a point where the derivative jumps."""
    x = x.copy()
    for p in points:
        near = np.abs(x - p) < margin
        x[near] = p + np.where(x[near] >= p, margin, -margin)
    return x


def _tolerances(arrays: Sequence[np.ndarray], rtol: float | None, atol: float | None) -> tuple:
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    default = TOLERANCES[floats[0]] if floats else TOLERANCES[np.dtype(np.float64)]
    return (default[0] if rtol is None else rtol, default[1] if atol is None else atol)


def compare(
    glassnet_fn: Callable,
    torch_fn: Callable,
    *arrays: np.ndarray,
    rtol: float | None = None,
    atol: float | None = None,
    grad: bool = True,
    seed: int = 1,
) -> tuple[Tensor, torch.Tensor, list[Tensor], list[torch.Tensor]]:
    """Apply both functions to the same inputs (float arrays require grad in both) and assert that
    outputs and input gradients agree, within float32 or float64 tolerances by default."""
    rtol, atol = _tolerances(arrays, rtol, atol)
    needs_grad = [grad and a.dtype.kind == "f" for a in arrays]
    ours = [Tensor(a.copy(), requires_grad=r) for a, r in zip(arrays, needs_grad)]
    theirs = [torch.tensor(a.copy(), requires_grad=r) for a, r in zip(arrays, needs_grad)]
    out = glassnet_fn(*ours)
    ref = torch_fn(*theirs)
    expected = ref.detach().numpy()
    assert out.shape == expected.shape, f"shape {out.shape} != torch's {expected.shape}"
    assert out.dtype == expected.dtype, f"dtype {out.dtype} != torch's {expected.dtype}"
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=atol, err_msg="forward")
    if grad and ref.requires_grad:
        upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        out.backward(upstream)
        ref.backward(torch.tensor(upstream))
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if not b.requires_grad:
                continue
            if b.grad is None:
                assert a.grad is None or not a.grad.data.any(), f"input {i}: torch gives no grad"
                continue
            assert a.grad is not None, f"input {i}: no gradient"
            assert a.grad.dtype == a.dtype, f"input {i}: grad dtype {a.grad.dtype} != {a.dtype}"
            np.testing.assert_allclose(
                a.grad.data, b.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of input {i}"
            )
    return out, ref, ours, theirs


def gradcheck(
    fn: Callable,
    *arrays: np.ndarray,
    h: float = 1e-3,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    seed: int = 2,
) -> None:
    """Check fn's backward pass on float64 inputs against five-point central differences of
    sum(fn(inputs) * r) for a random r (integer inputs are passed through as constants)."""
    tensors = [Tensor(a.copy(), requires_grad=a.dtype == np.float64) for a in arrays]
    out = fn(*tensors)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(r)

    def objective(replaced: int, value: np.ndarray) -> float:
        args = [Tensor(value if j == replaced else a) for j, a in enumerate(arrays)]
        with no_grad():
            return float((fn(*args).data * r).sum())

    for i, a in enumerate(arrays):
        if a.dtype != np.float64:
            continue
        numeric = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            f = {}
            for step in (-2, -1, 1, 2):
                moved = a.copy()
                moved[idx] += step * h
                f[step] = objective(i, moved)
            numeric[idx] = (8.0 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12.0 * h)
        analytic = tensors[i].grad.data if tensors[i].grad is not None else np.zeros_like(a)
        np.testing.assert_allclose(
            analytic, numeric, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}"
        )
