"""Learning-rate schedulers against torch.optim.lr_scheduler: the same rates (and momenta) step for
step, state_dict round trips, the warm-up + cosine helper, and clear errors."""

import math
import warnings

import numpy as np
import pytest
import torch

import glassnet.optim.lr_scheduler as gs
from glassnet.nn.parameter import Parameter
from glassnet.optim import SGD, Adagrad, Adam
from glassnet.tensor import Tensor

ts = torch.optim.lr_scheduler


def optimizers(kind="sgd", lrs=(0.1, 0.03)):
    """A glassnet optimizer and a torch one with the same param groups (one per lr)."""
    gn_groups = [{"params": [Parameter(np.ones(2))], "lr": lr} for lr in lrs]
    th_groups = [{"params": [torch.ones(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "adam":
        return Adam(gn_groups), torch.optim.Adam(th_groups)
    return SGD(gn_groups, momentum=0.9), torch.optim.SGD(th_groups, momentum=0.9)


def trace(opt, sched, steps, metrics=None):
    """The rates (and momenta) in force before each step, then after the last one."""
    rows = []
    for i in range(steps + 1):
        group = opt.param_groups
        rows.append(
            [g["lr"] for g in group]
            + [g.get("momentum", g.get("betas", (None,))[0]) for g in group]
            + list(sched.get_last_lr())
        )
        if i < steps:
            opt.step()
            sched.step() if metrics is None else sched.step(metrics[i])
    return np.array(rows, dtype=float)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=20)),
    ("CosineAnnealingLR", dict(T_max=13, eta_min=0.002)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.05, end_factor=0.6, total_iters=17)),
    ("LambdaLR", dict(lr_lambda=lambda t: 1.0 / (1.0 + 0.1 * t))),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=60)),
    (
        "OneCycleLR",
        dict(max_lr=[0.5, 2.0], total_steps=60, anneal_strategy="linear", pct_start=0.25),
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.8, epochs=6, steps_per_epoch=10, three_phase=True, div_factor=10.0),
    ),
    (
        "OneCycleLR",
        dict(max_lr=0.8, total_steps=60, base_momentum=[0.7, 0.8], final_div_factor=100.0),
    ),
]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize(
    "name,kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)]
)
def test_rates_match_torch(name, kwargs, kind):
    gn_opt, th_opt = optimizers(kind)
    steps = 60 if name == "OneCycleLR" else 80
    mine = trace(gn_opt, getattr(gs, name)(gn_opt, **kwargs), steps)
    theirs = trace(th_opt, getattr(ts, name)(th_opt, **kwargs), steps)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


def test_one_cycle_moves_momentum_opposite_to_the_rate():
    opt, _ = optimizers("sgd")
    rows = trace(opt, gs.OneCycleLR(opt, max_lr=1.0, total_steps=50), 49)
    lr, momentum = rows[:, 0], rows[:, 2]
    peak = int(np.argmax(lr))
    assert momentum[0] == pytest.approx(0.95) and momentum[peak] == pytest.approx(0.85)
    assert lr[0] == pytest.approx(1.0 / 25) and lr[-1] == pytest.approx(1.0 / 25 / 1e4)


def test_one_cycle_without_cycle_momentum_leaves_momentum_alone():
    gn_opt, th_opt = optimizers("sgd")
    mine = trace(gn_opt, gs.OneCycleLR(gn_opt, 1.0, total_steps=30, cycle_momentum=False), 30)
    theirs = trace(th_opt, ts.OneCycleLR(th_opt, 1.0, total_steps=30, cycle_momentum=False), 30)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    assert set(mine[:, 2]) == {0.9}


@pytest.mark.parametrize(
    "make",
    [
        lambda m, o: m.SequentialLR(
            o,
            [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=40)],
            [5],
        ),
        lambda m, o: m.SequentialLR(
            o,
            [
                m.ExponentialLR(o, gamma=0.9),
                m.StepLR(o, step_size=4),
                m.LinearLR(o, 0.5, total_iters=3),
            ],
            milestones=[10, 25],
        ),
    ],
)
def test_sequential_matches_torch(make):
    gn_opt, th_opt = optimizers()
    mine = trace(gn_opt, make(gs, gn_opt), 50)
    theirs = trace(th_opt, make(ts, th_opt), 50)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


METRICS = [
    1.0,
    0.9,
    0.9,
    0.9,
    0.9,
    0.8999,
    0.85,
    0.85,
    0.86,
    0.87,
    0.88,
    0.84,
    0.84,
    0.84,
    0.84,
    0.84,
    0.7,
    0.71,
    0.72,
    0.73,
    0.74,
    0.75,
    0.76,
    0.77,
    0.78,
    0.6,
    0.6,
    0.6,
    0.6,
    0.6,
]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(patience=2),
        dict(patience=1, factor=0.5, cooldown=2),
        dict(patience=0, threshold=0.05, threshold_mode="abs", min_lr=0.01),
        dict(mode="max", patience=2, factor=0.2, min_lr=[1e-3, 1e-2]),
        dict(mode="max", threshold_mode="abs", threshold=0.0, patience=1),
        dict(patience=0, factor=0.999999999, eps=1e-8),
    ],
)
def test_reduce_on_plateau_matches_torch(kwargs):
    gn_opt, th_opt = optimizers()
    mine = trace(gn_opt, gs.ReduceLROnPlateau(gn_opt, **kwargs), len(METRICS), METRICS)
    theirs = trace(th_opt, ts.ReduceLROnPlateau(th_opt, **kwargs), len(METRICS), METRICS)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt, _ = optimizers()
    sched = gs.ReduceLROnPlateau(opt, patience=0)
    for _ in range(3):
        sched.step(Tensor(1.0))
    assert sched.get_last_lr() == pytest.approx([1e-3, 3e-4])


SAVED = [
    lambda m, o: m.StepLR(o, 3, gamma=0.5),
    lambda m, o: m.CosineAnnealingLR(o, T_max=11, eta_min=1e-3),
    lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=40, three_phase=True),
    lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.2, total_iters=4), m.ExponentialLR(o, 0.9)], [4]
    ),
    lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1),
]


@pytest.mark.parametrize("make", SAVED)
def test_state_dict_round_trip_resumes_the_schedule(make):
    metrics = [1.0 / (1 + (i % 7)) for i in range(30)]

    def advance(opt, sched, start, stop):
        for i in range(start, stop):
            opt.step()
            sched.step(metrics[i]) if isinstance(sched, gs.ReduceLROnPlateau) else sched.step()

    opt, _ = optimizers()
    sched = make(gs, opt)
    advance(opt, sched, 0, 12)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    advance(opt, sched, 12, 30)

    resumed_opt, _ = optimizers()
    resumed = make(gs, resumed_opt)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved_sched)
    advance(resumed_opt, resumed, 12, 30)
    assert resumed.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in resumed_opt.param_groups] == [g["lr"] for g in opt.param_groups]


def test_lambda_state_dict_saves_callable_objects_only():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, t):
            return self.rate**t

    opt, _ = optimizers()
    sched = gs.LambdaLR(opt, [Decay(), lambda t: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    state["lr_lambdas"][0]["rate"] = 0.25
    sched.load_state_dict(state)
    assert sched.lr_lambdas[0].rate == 0.25


def test_constructing_sets_initial_lr_and_resuming_needs_it():
    opt, _ = optimizers()
    sched = gs.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]
    assert sched.last_epoch == 0 and sched.base_lrs == [0.1, 0.03]
    fresh, _ = optimizers()
    with pytest.raises(KeyError, match="param group 0 has no 'initial_lr'"):
        gs.StepLR(fresh, step_size=2, last_epoch=4)


def test_resuming_with_last_epoch_uses_the_closed_form():
    gn_opt, th_opt = optimizers()
    for o in (gn_opt, th_opt):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
    mine = trace(gn_opt, gs.CosineAnnealingLR(gn_opt, T_max=10, last_epoch=4), 10)
    theirs = trace(th_opt, ts.CosineAnnealingLR(th_opt, T_max=10, last_epoch=4), 10)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_scheduler_step_before_optimizer_step_warns():
    opt, _ = optimizers()
    sched = gs.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    opt2, _ = optimizers()
    sched2 = gs.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


# -- warm-up + cosine -----------------------------------------------------------------------------


def test_warmup_cosine_shape():
    opt, _ = optimizers(lrs=(0.1, 0.02))
    sched = gs.warmup_cosine(opt, warmup_steps=4, total_steps=20, min_lr=0.001)
    rates = trace(opt, sched, 25)[:, 0]
    np.testing.assert_allclose(rates[:5], [0.1 * k / 5 for k in range(1, 6)])
    assert np.all(np.diff(rates[:5]) > 0) and np.all(np.diff(rates[4:20]) < 0)
    assert rates[19] == pytest.approx(0.001) and rates[24] == pytest.approx(0.001)
    # The cosine runs from step 4 to step 19, so it passes halfway down at step 11.5.
    assert rates[11] > (0.1 + 0.001) / 2 > rates[12]


def test_warmup_cosine_equals_its_formula_in_torch():
    warmup, total, low = 3, 30, 0.004

    def factor(t, peak):
        if t < warmup:
            return (t + 1) / (warmup + 1)
        progress = min(1.0, (t - warmup) / (total - 1 - warmup))
        return low / peak + (1 - low / peak) * 0.5 * (1 + math.cos(math.pi * progress))

    gn_opt, th_opt = optimizers()
    mine = trace(gn_opt, gs.warmup_cosine(gn_opt, warmup, total, low), 35)
    theirs = trace(
        th_opt, ts.LambdaLR(th_opt, [lambda t: factor(t, 0.1), lambda t: factor(t, 0.03)]), 35
    )
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_warmup_cosine_without_warmup_starts_at_the_peak():
    opt, _ = optimizers()
    gs.warmup_cosine(opt, warmup_steps=0, total_steps=10)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make,error,match",
    [
        (
            lambda o: gs.StepLR(o, step_size=0),
            ValueError,
            "step_size must be a positive integer, got 0",
        ),
        (
            lambda o: gs.LinearLR(o, start_factor=0.0),
            ValueError,
            r"start_factor must be in \(0, 1\]",
        ),
        (lambda o: gs.LinearLR(o, end_factor=1.5), ValueError, r"end_factor must be in \[0, 1\]"),
        (lambda o: gs.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be positive"),
        (
            lambda o: gs.LambdaLR(o, [lambda t: 1.0]),
            ValueError,
            "LambdaLR: lr_lambda needs one value per param group, 2 in all, got 1",
        ),
        (lambda o: gs.LambdaLR(o, 0.5), TypeError, "lr_lambda should be a function"),
        (lambda o: gs.OneCycleLR(o, max_lr=1.0), ValueError, "give either total_steps"),
        (
            lambda o: gs.OneCycleLR(o, 1.0, total_steps=-3),
            ValueError,
            "total_steps must be a positive",
        ),
        (
            lambda o: gs.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=0),
            ValueError,
            "steps_per_epoch must",
        ),
        (
            lambda o: gs.OneCycleLR(o, 1.0, total_steps=9, pct_start=1.5),
            ValueError,
            "pct_start must be in",
        ),
        (
            lambda o: gs.OneCycleLR(o, 1.0, 9, anneal_strategy="exp"),
            ValueError,
            "'cos' or 'linear'",
        ),
        (
            lambda o: gs.OneCycleLR(o, [1.0], total_steps=9),
            ValueError,
            "OneCycleLR: max_lr needs one value per param group",
        ),
        (lambda o: gs.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1"),
        (
            lambda o: gs.ReduceLROnPlateau(o, mode="lower"),
            ValueError,
            "mode must be 'min' or 'max'",
        ),
        (
            lambda o: gs.ReduceLROnPlateau(o, threshold_mode="x"),
            ValueError,
            "threshold_mode must be",
        ),
        (
            lambda o: gs.ReduceLROnPlateau(o, min_lr=[0.1]),
            ValueError,
            "min_lr needs one value per param group",
        ),
        (
            lambda o: gs.SequentialLR(o, [gs.StepLR(o, 2), gs.StepLR(o, 3)], []),
            ValueError,
            "one milestone fewer",
        ),
        (
            lambda o: gs.SequentialLR(o, [gs.ReduceLROnPlateau(o)], []),
            ValueError,
            "not support ReduceLROnPlateau",
        ),
        (
            lambda o: gs.SequentialLR(o, [gs.StepLR(optimizers()[0], 2)], []),
            ValueError,
            "different optimizer",
        ),
        (
            lambda o: gs.StepLR(torch.optim.SGD([torch.ones(1, requires_grad=True)]), 2),
            TypeError,
            "needs a glassnet Optimizer",
        ),
        (
            lambda o: gs.warmup_cosine(o, 10, 10),
            ValueError,
            r"warmup_steps must be an integer in \[0, total_steps=10\)",
        ),
        (lambda o: gs.warmup_cosine(o, 2, 10, min_lr=0.05), ValueError, "group 1 has lr=0.03"),
    ],
)
def test_invalid_arguments_are_rejected(make, error, match):
    opt, _ = optimizers()
    with pytest.raises(error, match=match):
        make(opt)


def test_one_cycle_refuses_to_step_past_its_end():
    opt, _ = optimizers()
    sched = gs.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    for _ in range(5):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="tried to step 6 times, but total_steps is 5"):
        sched.step()


def test_one_cycle_needs_momentum_or_betas():
    with pytest.raises(ValueError, match="Adagrad has neither"):
        gs.OneCycleLR(Adagrad([Parameter(np.ones(1))]), 1.0, total_steps=10)


def test_reduce_on_plateau_with_a_group_added_later():
    opt, _ = optimizers()
    sched = gs.ReduceLROnPlateau(opt, patience=0, min_lr=0.01)
    opt.add_param_group({"params": [Parameter(np.ones(1))], "lr": 0.5})
    sched.step(1.0)
    sched.step(1.0)
    assert sched.get_last_lr() == pytest.approx([0.01, 0.01, 0.05])

    opt, _ = optimizers()
    sched = gs.ReduceLROnPlateau(opt, patience=0, min_lr=[0.01, 0.001])
    opt.add_param_group({"params": [Parameter(np.ones(1))], "lr": 0.5})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="now has 3 param groups but min_lrs has 2"):
        sched.step(1.0)
