"""Test helpers: run one computation in glassnet and in PyTorch and compare, and check gradients
against finite differences.

`compare` feeds the same NumPy arrays to both libraries, checks the output (values, shape, dtype),
sends the same random gradient back through both and checks every input's gradient. `gradcheck`
checks a float64 backward pass against a five-point central difference. `train_side_by_side`
trains a model and its PyTorch twin from the same start on the same batches and keeps what the
training parity tests compare: each step's loss and weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from glassnet.autograd import no_grad
from glassnet.nn.module import Module
from glassnet.nn.utils import clip_grad_norm_ as gn_clip_grad_norm_
from glassnet.tensor import Tensor

# Two float64 training runs from the same start (the training parity tests) agree to about 1e-12
# after 20 steps, measured; 1e-9 leaves room for other BLAS builds and CPUs, and a real difference
# (a gradient wrong in one entry, a missed term) shows at once by far more.
FLOAT64_RTOL = 1e-9
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


@dataclass
class SideBySide:
    """Two training runs from the same start on the same batches: each step's loss in glassnet
    and in PyTorch, and both models' parameters and buffers after each of the recorded steps."""

    losses: np.ndarray  # (2, steps): glassnet's row, then torch's
    states: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]

    def divergence(self, steps: int) -> np.ndarray:
        """For each of the first `steps` steps, the largest relative difference between the runs:
        of the loss, and, where the step's state was recorded, of each parameter and buffer as a
        whole, ||ours - theirs|| / ||theirs||. (Not entry by entry: a weight near zero has no
        meaningful relative error of its own, and Adam's first steps move a weight whose gradient
        is near its eps by an amount that float32 rounding of that gradient changes a lot.)"""
        out = []
        for step in range(steps):
            ours, theirs = self.losses[:, step]
            worst = abs(ours - theirs) / abs(theirs)
            if step < len(self.states):
                for name, expected in self.states[step][1].items():
                    expected = expected.astype(np.float64)
                    difference = np.linalg.norm(self.states[step][0][name] - expected)
                    worst = max(worst, difference / max(np.linalg.norm(expected), 1e-300))
            out.append(worst)
        return np.array(out)

    def assert_same_steps(self, steps: int, rtol: float) -> None:
        divergence = self.divergence(steps)
        assert (divergence <= rtol).all(), f"relative difference by step: {divergence}"


def copy_weights(ours: Module, theirs: torch.nn.Module) -> None:
    """Load glassnet's state_dict into its PyTorch twin (same keys, same layouts)."""
    theirs.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    )


def train_side_by_side(
    models: tuple[Module, torch.nn.Module],
    optimizers: tuple[Any, torch.optim.Optimizer],
    loss_fns: tuple[Callable[[Any], Tensor], Callable[[Any], torch.Tensor]],
    batches: Iterable,
    record: int = 0,
    clip: float | None = None,
) -> SideBySide:
    """Train a glassnet model and its PyTorch twin (same weights) one step each per batch: zero
    the gradients, `loss_fn(batch)`, backward, clip the gradient norm to `clip` if given, step.
    Keeps both models' state_dicts after each of the first `record` steps."""
    clips = (gn_clip_grad_norm_, torch.nn.utils.clip_grad_norm_)
    losses: list[list[float]] = [[], []]
    states = []
    for step, batch in enumerate(batches):
        for model, optimizer, loss_fn, clip_norm, out in zip(
            models, optimizers, loss_fns, clips, losses
        ):
            optimizer.zero_grad()
            loss = loss_fn(batch)
            loss.backward()
            if clip is not None:
                clip_norm(model.parameters(), clip)
            optimizer.step()
            out.append(loss.item())
        if step < record:
            states.append(
                tuple(
                    {k: np.array(v.detach().numpy()) for k, v in model.state_dict().items()}
                    for model in models
                )
            )
    return SideBySide(np.array(losses), states)
