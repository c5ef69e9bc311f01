"""Optimizers against torch.optim: step for step on a hand-differentiated loss, state_dicts both
ways, dtypes, and clear errors on bad input."""

import math

import numpy as np
import pytest
import torch

from glassnet.nn.parameter import Parameter
from glassnet.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from glassnet.tensor import Tensor

SHAPES = [(3, 4), (5,), (2, 3, 2)]
TARGETS = [np.random.default_rng(100 + i).standard_normal(s) for i, s in enumerate(SHAPES)]


def grad_of(x: np.ndarray, i: int) -> np.ndarray:
    """Gradient of a smooth, non-quadratic loss: sum((x - t)^2) * (i + 1) / 2 - cos(3x) / 10."""
    return (i + 1) * (x - TARGETS[i]) + 0.3 * np.sin(3.0 * x)


def make_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return [Parameter(a.copy()) for a in arrays], [
        torch.tensor(a, requires_grad=True) for a in arrays
    ]


def set_grads(gn_params, th_params, step, skip=None):
    """Give both sides the same gradient, computed from the torch side's current values.
    `skip(step, i)` leaves parameter i without a gradient at that step."""
    for i, (p, q) in enumerate(zip(gn_params, th_params)):
        if skip is not None and skip(step, i):
            p.grad, q.grad = None, None
            continue
        g = grad_of(q.detach().numpy(), i)
        p.grad = Tensor(g.astype(p.data.dtype))
        q.grad = torch.tensor(g, dtype=q.dtype)


def as_torch_groups(groups, gn_params, th_params):
    """The same param-group layout with torch tensors in place of glassnet Parameters."""
    index = {id(p): q for p, q in zip(gn_params, th_params)}
    return [dict(g, params=[index[id(p)] for p in g["params"]]) for g in groups]


def assert_params_close(gn_params, th_params, rtol=1e-6, atol=1e-10):
    for p, q in zip(gn_params, th_params):
        assert p.data.dtype == q.detach().numpy().dtype
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=rtol, atol=atol)


def assert_state_close(gn_opt, th_opt, gn_params, th_params, rtol=1e-6, atol=1e-10):
    for p, q in zip(gn_params, th_params):
        mine, theirs = gn_opt.state.get(p, {}), th_opt.state.get(q, {})
        assert set(mine) == set(theirs)
        for key, value in theirs.items():
            if key == "step":
                assert mine[key] == int(value)
            else:
                np.testing.assert_allclose(mine[key], value.numpy(), rtol=rtol, atol=atol)


CASES = [
    (SGD, torch.optim.SGD, dict(lr=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.5)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    (SGD, torch.optim.SGD, dict(lr=0.1, weight_decay=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.5, weight_decay=0.05, maximize=True)),
    (
        SGD,
        torch.optim.SGD,
        dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True),
    ),
    (Adam, torch.optim.Adam, dict(lr=0.05)),
    (Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True)),
    (Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    (Adam, torch.optim.Adam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    (AdamW, torch.optim.AdamW, dict(lr=0.05)),
    (AdamW, torch.optim.AdamW, dict(lr=0.05, weight_decay=0.2, amsgrad=True)),
    (AdamW, torch.optim.AdamW, dict(lr=0.01, betas=(0.5, 0.9), maximize=True)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.9)),
    (
        RMSprop,
        torch.optim.RMSprop,
        dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1),
    ),
    (RMSprop, torch.optim.RMSprop, dict(lr=0.005, eps=1e-4, maximize=True)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    (Adagrad, torch.optim.Adagrad, dict(lr=0.05, eps=1e-3, maximize=True)),
]
IDS = [f"{gn.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for gn, _, kw in CASES]


def run_both(gn_cls, th_cls, kwargs, steps=20, dtype=np.float64, groups=None, skip=None):
    gn_params, th_params = make_params(dtype)
    if groups is None:
        gn_opt, th_opt = gn_cls(gn_params, **kwargs), th_cls(th_params, **kwargs)
    else:
        gn_groups = groups(gn_params)
        gn_opt = gn_cls(gn_groups, **kwargs)
        th_opt = th_cls(as_torch_groups(gn_groups, gn_params, th_params), **kwargs)
    for step in range(steps):
        set_grads(gn_params, th_params, step, skip)
        gn_opt.step()
        th_opt.step()
        yield step, gn_opt, th_opt, gn_params, th_params


@pytest.mark.parametrize("gn_cls,th_cls,kwargs", CASES, ids=IDS)
def test_matches_torch_step_for_step(gn_cls, th_cls, kwargs):
    for _, gn_opt, th_opt, gn_params, th_params in run_both(gn_cls, th_cls, kwargs):
        assert_params_close(gn_params, th_params)
    assert_state_close(gn_opt, th_opt, gn_params, th_params)


@pytest.mark.parametrize("gn_cls,th_cls,kwargs", CASES[::3], ids=IDS[::3])
def test_param_groups_with_their_own_options(gn_cls, th_cls, kwargs):
    def groups(params):
        return [{"params": params[:2], "lr": kwargs["lr"] * 0.3}, {"params": params[2:]}]

    # Parameter 1 gets no gradient on odd steps: both libraries must skip it then.
    def skip(step, i):
        return i == 1 and step % 2 == 1

    for _, gn_opt, th_opt, gn_params, th_params in run_both(
        gn_cls, th_cls, kwargs, groups=groups, skip=skip
    ):
        assert_params_close(gn_params, th_params)
    assert [g["lr"] for g in gn_opt.param_groups] == [g["lr"] for g in th_opt.param_groups]
    assert_state_close(gn_opt, th_opt, gn_params, th_params)


@pytest.mark.parametrize("gn_cls,th_cls,kwargs", CASES[1::4], ids=IDS[1::4])
def test_float32_stays_float32_and_matches_torch(gn_cls, th_cls, kwargs):
    for _, gn_opt, th_opt, gn_params, th_params in run_both(
        gn_cls, th_cls, kwargs, steps=10, dtype=np.float32
    ):
        assert_params_close(gn_params, th_params, rtol=1e-5, atol=1e-6)
    for p in gn_params:
        assert p.data.dtype == np.float32
        assert all(
            v.dtype == np.float32 for v in gn_opt.state[p].values() if isinstance(v, np.ndarray)
        )


def test_numpy_float64_learning_rate_does_not_upcast_float32():
    p = Parameter(np.ones(4, dtype=np.float32))
    opt = Adam([p], lr=np.float64(0.1), betas=(np.float64(0.9), np.float64(0.99)))
    p.grad = Tensor(np.ones(4, dtype=np.float32))
    opt.step()
    assert p.data.dtype == np.float32
    assert opt.state[p]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("gn_cls,th_cls,kwargs", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(gn_cls, th_cls, kwargs):
    reference, resumed = make_params()[0], make_params()[0]
    ref_opt = gn_cls(reference, **kwargs)
    for step in range(20):
        for i, p in enumerate(reference):
            p.grad = Tensor(grad_of(p.data, i))
        ref_opt.step()
        if step == 4:
            saved = ref_opt.state_dict()
            for p, q in zip(resumed, reference):
                p.data[...] = q.data
    new_opt = gn_cls(resumed, lr=123.0)  # every option comes back from the state dict
    new_opt.load_state_dict(saved)
    for _ in range(15):
        for i, p in enumerate(resumed):
            p.grad = Tensor(grad_of(p.data, i))
        new_opt.step()
    for p, q in zip(resumed, reference):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_matches_pytorch():
    gn_params, th_params = make_params()
    opt = Adam([{"params": gn_params[:1]}, {"params": gn_params[1:], "lr": 0.1}], amsgrad=True)
    ref = torch.optim.Adam(
        [{"params": th_params[:1]}, {"params": th_params[1:], "lr": 0.1}], amsgrad=True
    )
    set_grads(gn_params, th_params, 0, skip=lambda step, i: i == 2)
    opt.step()
    ref.step()
    mine, theirs = opt.state_dict(), ref.state_dict()
    assert mine["state"].keys() == theirs["state"].keys() == {0, 1}
    for k in mine["state"]:
        assert mine["state"][k].keys() == theirs["state"][k].keys()
        assert isinstance(mine["state"][k]["step"], int)
    assert [g["params"] for g in mine["param_groups"]] == [[0], [1, 2]]
    for g_mine, g_theirs in zip(mine["param_groups"], theirs["param_groups"]):
        assert set(g_mine) <= set(g_theirs)
        assert all(g_mine[k] == g_theirs[k] for k in g_mine)


def test_state_dict_is_a_snapshot():
    p = Parameter(np.ones(3))
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = Tensor(np.ones(3))
    opt.step()
    saved = opt.state_dict()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], np.ones(3))


def to_torch_state(sd):
    state = {
        k: {
            key: torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v
            for key, v in s.items()
        }
        for k, s in sd["state"].items()
    }
    return {"state": state, "param_groups": sd["param_groups"]}


def to_numpy_state(sd):
    state = {
        k: {key: v.numpy() if isinstance(v, torch.Tensor) else v for key, v in s.items()}
        for k, s in sd["state"].items()
    }
    return {"state": state, "param_groups": sd["param_groups"]}


@pytest.mark.parametrize("gn_cls,th_cls,kwargs", CASES[1::2], ids=IDS[1::2])
def test_state_dicts_move_between_glassnet_and_torch(gn_cls, th_cls, kwargs):
    """Train 5 steps in one library, continue 5 in the other from its state dict: both orders
    give the same parameters as training 10 steps in glassnet alone."""
    steps = run_both(gn_cls, th_cls, kwargs, steps=10)
    for step, gn_opt, th_opt, gn_params, th_params in steps:
        if step == 4:
            # Swap the optimizers' states: glassnet gets torch's and torch gets glassnet's.
            from_torch, from_glassnet = to_numpy_state(th_opt.state_dict()), gn_opt.state_dict()
            gn_opt.load_state_dict(from_torch)
            th_opt.load_state_dict(to_torch_state(from_glassnet))
    assert_params_close(gn_params, th_params)
    assert_state_close(gn_opt, th_opt, gn_params, th_params)


def test_zero_grad_sets_none_or_zeros():
    p, q = Parameter(np.ones(3)), Parameter(np.ones(2))
    opt = SGD([p, q], lr=0.1)
    p.grad, q.grad = Tensor(np.ones(3)), Tensor(np.ones(2))
    grad = q.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and q.grad is grad
    np.testing.assert_array_equal(q.grad.data, np.zeros(2))
    opt.zero_grad()
    assert p.grad is None and q.grad is None


def test_step_returns_the_closure_loss():
    p = Parameter(np.array([2.0]))
    opt = SGD([p], lr=0.25)

    def closure():
        p.grad = Tensor(2.0 * p.data)  # d/dp of p^2
        return float(p.data[0] ** 2)

    assert opt.step(closure) == 4.0
    np.testing.assert_allclose(p.data, [1.0])


def test_add_param_group_fills_defaults():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = Adam([p], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": q, "lr": 0.5})
    assert opt.param_groups[1]["params"] == [q]
    assert opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)


def test_named_parameters_are_kept_as_param_names():
    p, q = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = SGD([("w", p), ("b", q)], lr=0.1)
    assert opt.param_groups[0]["params"] == [p, q]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_adagrad_creates_its_state_at_once_like_torch():
    gn_params, th_params = make_params()
    mine = Adagrad(gn_params, initial_accumulator_value=0.3).state_dict()
    theirs = torch.optim.Adagrad(th_params, initial_accumulator_value=0.3).state_dict()
    assert mine["state"].keys() == theirs["state"].keys()
    np.testing.assert_array_equal(mine["state"][2]["sum"], theirs["state"][2]["sum"].numpy())


def test_repr_lists_each_group():
    text = repr(SGD([Parameter(np.ones(2))], lr=0.5))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.5" in text


def test_subclass_with_its_own_update():
    class SignSGD(Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def _update_group(self, group):
            for p in group["params"]:
                if p.grad is not None:
                    p.data -= group["lr"] * np.sign(p.grad.data)

    p = Parameter(np.array([1.0, -1.0]))
    p.grad = Tensor(np.array([3.0, -0.5]))
    SignSGD([p]).step()
    np.testing.assert_allclose(p.data, [0.9, -0.9])


# -- errors ---------------------------------------------------------------------------------------


def one_param():
    return [Parameter(np.ones(2))]


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: SGD(one_param(), lr=-0.1), r"SGD \(defaults\): lr must be >= 0, got -0.1"),
        (lambda: SGD(one_param(), momentum=-1.0), "momentum must be >= 0"),
        (lambda: SGD(one_param(), nesterov=True), "Nesterov momentum needs momentum > 0"),
        (lambda: SGD(one_param(), momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
        (lambda: Adam(one_param(), lr=float("nan")), "lr must be >= 0, got nan"),
        (lambda: Adam(one_param(), betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\), got 1.0"),
        (lambda: Adam(one_param(), betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda: AdamW(one_param(), betas=(0.9,)), "betas must be a pair"),
        (lambda: Adam(one_param(), eps=-1e-8), "eps must be >= 0"),
        (lambda: AdamW(one_param(), weight_decay=-0.01), "weight_decay must be >= 0"),
        (lambda: RMSprop(one_param(), alpha=-0.5), "alpha must be >= 0"),
        (lambda: Adagrad(one_param(), lr_decay=-1.0), "lr_decay must be >= 0"),
        (lambda: Adam([]), "Adam got an empty parameter list"),
        (lambda: SGD([{"params": one_param(), "lr": -1.0}]), r"param group 0\): lr must be >= 0"),
        (lambda: SGD([{"lr": 0.1}]), "needs a 'params' entry"),
    ],
)
def test_invalid_options_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_parameter_in_two_groups_is_rejected():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p], "lr": 0.5}])
    opt = SGD([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(ValueError, match="lists the same parameter twice"):
        SGD([p, p])


def test_bad_parameters_are_rejected():
    p = Parameter(np.ones(2))
    with pytest.raises(TypeError, match="got a single Tensor"):
        SGD(p)
    with pytest.raises(TypeError, match="not a set"):
        SGD({p})
    with pytest.raises(TypeError, match="has a ndarray at position 1"):
        SGD([p, np.ones(2)])
    with pytest.raises(TypeError, match="param group must be a dict"):
        SGD([p]).add_param_group([Parameter(np.ones(1))])


def test_load_state_dict_checks_the_layout():
    a, b, c = (Parameter(np.ones(2)) for _ in range(3))
    saved = SGD([{"params": [a]}, {"params": [b, c]}], momentum=0.9).state_dict()
    with pytest.raises(ValueError, match="has 2 parameter groups, but the optimizer has 1"):
        SGD([a, b, c]).load_state_dict(saved)
    with pytest.raises(
        ValueError, match="group 1 has 2 parameters, but the optimizer's group 1 has 1"
    ):
        SGD([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="expects a dict with 'state' and 'param_groups'"):
        SGD([a]).load_state_dict({"momentum": 0.9})


def test_load_state_dict_checks_state_shapes():
    p = Parameter(np.ones((2, 3)))
    p.grad = Tensor(np.ones((2, 3)))
    opt = Adam([p])
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(
        ValueError,
        match=r"'exp_avg' of parameter 0 has shape \(2, 3\), but the parameter has shape \(3,\)",
    ):
        Adam([Parameter(np.ones(3))]).load_state_dict(saved)


def test_adam_learns_a_quadratic():
    p = Parameter(np.array([3.0, -2.0]))
    opt = Adam([p], lr=0.1)
    for _ in range(300):
        p.grad = Tensor(2.0 * (p.data - 1.0))
        opt.step()
    np.testing.assert_allclose(p.data, [1.0, 1.0], atol=1e-3)
    assert math.isfinite(float(p.data.sum()))
