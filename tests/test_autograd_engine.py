"""The engine under stress and the ways users extend it, each against PyTorch: grad mode per thread,
version counters (in-place changes to saved tensors raise), 0-d tensors everywhere, multi-output
nodes, tensor and module hooks, autograd.grad, custom autograd.Function, and meta/cpu mixing."""

import threading

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import autograd, nn
from glassnet.autograd import no_grad, set_grad_enabled
from glassnet.tensor import Tensor
from torch_compare import compare, gradcheck, random

DEADLINE = 60.0  # seconds any thread in these tests may take before the test fails


def run_threads(*targets):
    """Run each target in its own thread; fail (not hang) if one outlives the deadline, and
    re-raise the first error a thread met."""
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        return run

    threads = [threading.Thread(target=guarded(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
        assert not t.is_alive(), f"a thread still ran after {DEADLINE} s"
    if errors:
        raise errors[0]


# -- grad mode is per thread -----------------------------------------------------------------------


def test_training_thread_keeps_its_graph_while_other_threads_switch_grad_mode():
    steps = 1000
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((16, 4)).astype(np.float32)
    x = Tensor(xs)
    y = Tensor(xs @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32))  # a learnable target
    model = nn.Linear(4, 1)
    opt = gn.optim.SGD(model.parameters(), lr=0.05)
    missing = []
    first_loss, last_loss = [], []

    def train():
        for step in range(steps):
            loss = ((model(x) - y) ** 2).mean()
            if not loss.requires_grad or loss.grad_fn is None:
                missing.append(step)
                continue
            opt.zero_grad()
            loss.backward()
            if model.weight.grad is None or not np.isfinite(model.weight.grad.data).all():
                missing.append(step)
            opt.step()
            (first_loss if step == 0 else last_loss).append(loss.item())

    def infer():
        other = nn.Linear(4, 1)
        for _ in range(steps):
            with no_grad():
                out = other(x)
                assert not out.requires_grad

    def switch():
        w = Tensor(np.ones(3, np.float32), requires_grad=True)
        for step in range(steps):
            set_grad_enabled(step % 2 == 0)
            out = w * 2.0
            assert out.requires_grad == (step % 2 == 0)
        set_grad_enabled(True)

    run_threads(train, infer, switch)
    assert missing == [], f"steps without a graph or gradient: {missing[:10]}"
    assert last_loss[-1] < first_loss[0] / 10  # it really trained
    assert gn.is_grad_enabled()  # this thread never saw the others' switches


def test_a_new_thread_starts_with_grad_enabled_and_its_own_device():
    seen = {}

    def look():
        seen["grad"] = gn.is_grad_enabled()
        seen["device"] = gn.nn.Linear(2, 2).weight.device

    with no_grad(), gn.device("meta"):
        run_threads(look)
        assert not gn.is_grad_enabled()
        assert gn.nn.Linear(2, 2).weight.device == "meta"
    assert seen == {"grad": True, "device": "cpu"}


# -- version counters ------------------------------------------------------------------------------


def test_changing_a_saved_tensor_in_place_raises_like_torch():
    w, x = gn.tensor([1.0, 2.0], requires_grad=True), gn.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    with no_grad():
        w -= 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*Mul"):
        y.backward()
    tw, tx = (
        torch.tensor([1.0, 2.0], requires_grad=True),
        torch.tensor([3.0, 4.0], requires_grad=True),
    )
    ty = (tw * tx).sum()
    with torch.no_grad():
        tw -= 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.backward()


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.zero_(),
        lambda t: t.fill_(2.0),
        lambda t: t.copy_(np.ones(3, np.float32)),
        lambda t: t.clamp_(0.0, 0.5),
        lambda t: t.__setitem__(0, 5.0),
        lambda t: t.mul_(2.0),
    ],
)
def test_every_in_place_change_bumps_the_version(change):
    x = gn.tensor([0.2, 0.4, 0.6])  # needs no gradient itself: only w does
    w = gn.tensor([1.0, 1.0, 1.0], requires_grad=True)
    loss = (w * x).sum()
    change(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_output_read_by_backward_is_protected_and_pass_through_ops_are_not():
    a = gn.tensor([0.5, 1.0], requires_grad=True)
    e = a.exp()  # exp's backward reads its output
    loss = e.sum()
    with no_grad():
        e += 1
    with pytest.raises(RuntimeError, match="output of Exp"):
        loss.backward()
    b = gn.tensor([1.0, 2.0], requires_grad=True)
    c = gn.tensor([3.0, 4.0])
    s = (b + c).sum()  # addition saves nothing: changing c afterwards is harmless, as in torch
    c.zero_()
    s.backward()
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_an_optimizer_step_makes_an_old_graph_stale():
    model = nn.Linear(3, 1)
    loss = model(gn.ones(2, 3)).sum()
    loss.backward(retain_graph=True)
    gn.optim.SGD(model.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_in_place_ops_recorded_in_the_graph_still_give_torchs_gradients():
    def f(lib, x):
        y = x * 2
        y += x  # recorded: y is a new node, the old value stays in the graph
        y *= 3
        z = y.clone()
        z[0] = 0.0
        return z.sum()

    x = random((3,))
    a = Tensor(x.copy(), requires_grad=True)
    b = torch.tensor(x.copy(), requires_grad=True)
    f(gn, a).backward()
    f(torch, b).backward()
    np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-12)
    for lib_x in (a, b):  # y *= y changes the y the product saved: both libraries refuse
        y = lib_x * 2
        y *= y
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# -- 0-d tensors -----------------------------------------------------------------------------------


def test_a_scalar_leaf_used_several_times():
    x = gn.tensor(1.5, requires_grad=True)
    ((x + x) * x).backward()
    tx = torch.tensor(1.5, requires_grad=True)
    ((tx + tx) * tx).backward()
    assert x.grad.shape == () and float(x.grad) == pytest.approx(float(tx.grad))
    ((x * x) * x).backward()  # and a second backward accumulates into the 0-d .grad
    ((tx * tx) * tx).backward()
    assert float(x.grad) == pytest.approx(float(tx.grad))


UNARY = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "log": lambda t: t.abs().log(),
    "sqrt": lambda t: t.abs().sqrt(),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "pow": lambda t: t**3,
    "clamp": lambda t: t.clamp(-0.5, 0.5),
    "sum": lambda t: t.sum(),
    "mean": lambda t: t.mean(),
    "max": lambda t: t.max(),
    "reshape": lambda t: t.reshape(1, 1),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "expand": lambda t: t.expand(3),
    "log1p": lambda t: t.abs().log1p(),
    "softmax": lambda t: t.softmax(0),
    "log_softmax": lambda t: t.log_softmax(0),
    "logsumexp": lambda t: t.logsumexp(0),
    "amax": lambda t: t.amax(),
    "norm": lambda t: t.norm(),
    "square": lambda t: t.square(),
    "rsqrt": lambda t: t.abs().rsqrt(),
    "reciprocal": lambda t: t.reciprocal(),
    "clone": lambda t: t.clone(),
    "flatten": lambda t: t.flatten(),
    "squeeze": lambda t: t.squeeze(),
    "transpose": lambda t: t.t(),
    "sum-dim": lambda t: t.sum(0),
    "mean-dim": lambda t: t.mean(dim=0, keepdim=True),
    "max-dim": lambda t: t.max(dim=0)[0],
    "getitem": lambda t: t[None],
    "stack": lambda t: (torch if isinstance(t, torch.Tensor) else gn).stack([t, t * 2]),
    "softplus": lambda t: (
        torch.nn.functional.softplus(t)
        if isinstance(t, torch.Tensor)
        else gn.nn.functional.softplus(t)
    ),
    "gelu": lambda t: (
        torch.nn.functional.gelu(t) if isinstance(t, torch.Tensor) else gn.nn.functional.gelu(t)
    ),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_on_0d_inputs(name):
    fn = UNARY[name]
    compare(fn, fn, np.asarray(0.7))
    compare(fn, fn, np.asarray(-0.3))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs() ** b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "where": lambda a, b: a.where(a > b, b),
    "matmul-like": lambda a, b: (a * b).sum(),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((), ()), ((), (3,)), ((2, 1), ())])
def test_binary_ops_with_0d_operands(name, shapes):
    fn = BINARY[name]
    compare(fn, fn, random(shapes[0], seed=1) + 2.0, random(shapes[1], seed=2) + 0.5)


def test_0d_gradients_by_finite_differences():
    gradcheck(lambda a, b: (a * b + a.exp()) / b, np.asarray(0.4), np.asarray(1.3))


# -- several outputs, one node ---------------------------------------------------------------------


def test_split_chunk_unbind_and_max_are_one_node_each():
    x = Tensor(random((6, 4)), requires_grad=True)
    for pieces in (x.split(2), x.chunk(3, dim=1), x.unbind(0), x.max(dim=1)):
        nodes = {id(p.grad_fn) for p in pieces if p.grad_fn is not None}
        assert len(nodes) == 1
    values, indices = x.max(dim=1)
    assert values.requires_grad and not indices.requires_grad


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.split(2)[1].sum() * 3 + t.split(2)[2].exp().sum(),
        lambda t: t.split([1, 5])[0].sum(),  # only one piece gets a gradient
        lambda t: (t.chunk(2, dim=1)[0] * t.chunk(2, dim=1)[1]).sum(),
        lambda t: t.unbind(1)[3].sum() + 2 * t.unbind(1)[0].sum(),
        lambda t: t.max(dim=0)[0].sum(),
    ],
)
def test_multi_output_gradients_match_torch(fn):
    compare(fn, fn, random((6, 4)))


def test_lstm_outputs_and_states_are_one_node_and_any_subset_backpropagates():
    from glassnet.ops.recurrent import lstm_layer

    gn.manual_seed(0)
    lstm = nn.LSTM(3, 5)
    x = gn.randn(4, 2, 3)
    out, h, c = lstm_layer(x, None, None, lstm.weight_ih_l0, lstm.weight_hh_l0)
    assert out.grad_fn is h.grad_fn is c.grad_fn
    c.sum().backward()  # only the cell state: the others get no gradient
    assert lstm.weight_ih_l0.grad is not None and lstm.weight_hh_l0.grad is not None
    _, (th, tc) = lstm(x)
    assert th.grad_fn is not None and tc.grad_fn is not None


def test_attention_output_and_weights_are_one_node_against_torch():
    from glassnet.ops.attention import attention

    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 5, 8)) for _ in range(3)]
    ours = nn.MultiheadAttention(8, 2, batch_first=True).double()
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    q, k, v = (Tensor(a, requires_grad=True) for a in arrays)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in arrays)
    out, weights = ours(q, k, v)
    tout, tweights = theirs(tq, tk, tv)
    ((out * 2).sum() + (weights**2).sum()).backward()
    ((tout * 2).sum() + (tweights**2).sum()).backward()
    for a, b in ((q, tq), (k, tk), (v, tv)):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-12)
    out, weights = attention(q, k, v, need_weights=True)
    assert out.grad_fn is weights.grad_fn


# -- hooks -----------------------------------------------------------------------------------------


def test_a_leaf_hook_fires_once_per_backward_with_the_whole_gradient():
    calls, torch_calls = [], []
    x = Tensor(random((3,)), requires_grad=True)
    tx = torch.tensor(x.data.copy(), requires_grad=True)
    x.register_hook(lambda g: calls.append(g.data.copy()))
    tx.register_hook(lambda g: torch_calls.append(g.numpy().copy()))
    for lib_x, lib in ((x, gn), (tx, torch)):
        ((lib_x * lib_x).sum() + lib_x.exp().sum() + (3 * lib_x).sum()).backward()
    assert len(calls) == len(torch_calls) == 1
    np.testing.assert_allclose(calls[0], torch_calls[0], rtol=1e-12)


def test_hooks_can_replace_gradients_and_be_removed():
    x = Tensor(random((4,)), requires_grad=True)
    tx = torch.tensor(x.data.copy(), requires_grad=True)
    y, ty = x * 2, tx * 2
    handle = y.register_hook(lambda g: g * 10)  # a non-leaf's hook
    ty.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: g + 1)
    tx.register_hook(lambda g: g + 1)
    (y**2).sum().backward(retain_graph=True)
    (ty**2).sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    handle.remove()
    x.grad = None
    (y**2).sum().backward()
    np.testing.assert_allclose(x.grad.data, 8 * x.data + 1, rtol=1e-12)


def test_hook_on_a_tensor_that_needs_no_gradient_is_refused():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gn.ones(2).register_hook(lambda g: g)


def test_module_full_backward_hook_matches_torch():
    rng = np.random.default_rng(0)
    ours = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)
    ).double()
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    seen, torch_seen = [], []
    ours[2].register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    theirs[2].register_full_backward_hook(lambda m, gi, go: torch_seen.append((gi, go)))
    x = rng.standard_normal((5, 4))
    (ours(Tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    assert len(seen) == len(torch_seen) == 1
    (gi, go), (tgi, tgo) = seen[0], torch_seen[0]
    np.testing.assert_allclose(gi[0].data, tgi[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(go[0].data, tgo[0].numpy(), rtol=1e-12)


def test_module_backward_hook_on_the_first_layer_sees_no_input_gradient():
    layer = nn.Linear(3, 2)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    layer(gn.ones(4, 3)).sum().backward()
    assert len(seen) == 1 and seen[0][0] == (None,)
    np.testing.assert_array_equal(seen[0][1][0].data, np.ones((4, 2), np.float32))


# -- autograd.grad ---------------------------------------------------------------------------------


def test_autograd_grad_matches_torch_and_leaves_dot_grad_alone():
    a, b = random((3,), seed=1), random((3,), seed=2)
    x, w = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    h, th = x * w, tx * tw
    out, tout = (h.tanh() * x).sum(), (th.tanh() * tx).sum()
    gx, gh = autograd.grad(out, [x, h])
    tgx, tgh = torch.autograd.grad(tout, [tx, th])
    np.testing.assert_allclose(gx.data, tgx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gh.data, tgh.numpy(), rtol=1e-12)
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input():
    x, unused = gn.ones(2, requires_grad=True), gn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        autograd.grad((x * 2).sum(), [unused])
    (g,) = autograd.grad((x * 2).sum(), [unused], allow_unused=True)
    assert g is None


# -- custom Functions ------------------------------------------------------------------------------


class StraightThrough(autograd.Function):
    """Round in the forward pass, pretend it was the identity in the backward pass."""

    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, grad):
        return grad


class TorchStraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_a_straight_through_estimator_trains_like_torchs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = x @ np.array([[2.0], [-1.0], [0.5]])
    w0 = rng.standard_normal((3, 1))
    w, tw = Tensor(w0.copy(), requires_grad=True), torch.tensor(w0.copy(), requires_grad=True)
    losses, torch_losses = [], []
    for _ in range(50):
        loss = ((Tensor(x) @ StraightThrough.apply(w * 4) / 4 - Tensor(y)) ** 2).mean()
        tloss = (
            (torch.tensor(x) @ TorchStraightThrough.apply(tw * 4) / 4 - torch.tensor(y)) ** 2
        ).mean()
        w.grad = None
        tw.grad = None
        loss.backward()
        tloss.backward()
        with no_grad():
            w -= 0.1 * w.grad
        with torch.no_grad():
            tw -= 0.1 * tw.grad
        losses.append(loss.item())
        torch_losses.append(tloss.item())
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-12)
    assert losses[-1] < losses[0] / 10


class MulAdd(autograd.Function):
    """Two inputs, two outputs, saved tensors and a non-tensor argument."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale, a + b

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        a, b = ctx.saved_tensors
        return g_prod * b * ctx.scale + g_sum, g_prod * a * ctx.scale + g_sum, None


def test_a_function_with_two_outputs_and_saved_tensors():
    def ours(a, b):
        prod, total = MulAdd.apply(a, b, 3.0)
        return (prod * total).sum()

    def reference(a, b):
        return (a * b * 3.0 * (a + b)).sum()

    compare(ours, reference, random((2, 3), seed=1), random((2, 3), seed=2))
    a, b = gn.ones(2, requires_grad=True), gn.ones(2)
    prod, _ = MulAdd.apply(a, b, 1.0)
    b.fill_(3.0)  # changed after forward saved it
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        prod.sum().backward()


def test_a_function_returning_a_gradient_of_the_wrong_shape_is_named():
    class Bad(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    with pytest.raises(RuntimeError, match="BadBackward returned an invalid gradient"):
        Bad.apply(gn.ones(3, requires_grad=True)).sum().backward()


# -- devices ---------------------------------------------------------------------------------------


def test_mixing_meta_and_cpu_tensors_raises_naming_both():
    real = gn.ones(3)
    with gn.device("meta"):
        meta = gn.ones(3)
    with pytest.raises(RuntimeError, match="meta and cpu"):
        meta + real
    assert (meta + 1.0).device == "meta"  # a Python number may join any device, as in torch
