"""The autograd engine against PyTorch: gradient accumulation, retain_graph, non-scalar backward,
deep and diamond-shaped graphs, grad modes (context managers and decorators), detach, retain_grad,
requires_grad_, leaves and grad_fn, conversions out of the graph, and in-place arithmetic."""

import operator

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, gradcheck, random


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    """A failing grad-mode test must not leave recording switched off for the tests after it."""
    yield
    set_grad_enabled(True)
    torch.set_grad_enabled(True)


def pair(x):
    """The same leaf in both libraries."""
    return Tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)


# -- backward --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
def test_gradients_accumulate_across_backward_calls(dtype):
    x = random((3, 4), dtype)
    ours, theirs = pair(x)
    for a in (ours, theirs):
        (a * a).sum().backward()
        (a.exp() * 3.0).sum().backward()
    assert ours.grad.dtype == dtype
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_setting_grad_to_none_starts_again():
    ours, theirs = pair(random((3,)))
    for a in (ours, theirs):
        (a * a).sum().backward()
        a.grad = None
        (a * 5.0).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())
    np.testing.assert_array_equal(ours.grad.data, 5.0)


def _graph(lib, x, w):
    h = (x @ w).tanh()
    return (h[:, 1:] * h[:, :-1]).sum() + h.exp().mean() + (x * x).sum(1).max()


@pytest.mark.parametrize("dtype", FLOATS)
def test_retain_graph_allows_a_second_backward(dtype):
    x, w = random((4, 3), dtype, seed=1), random((3, 5), dtype, seed=2)
    (gx, gw), (tx, tw) = zip(pair(x), pair(w))
    ours, theirs = _graph(gn, gx, gw), _graph(torch, tx, tw)
    for _ in range(2):
        ours.backward(retain_graph=True)
        theirs.backward(retain_graph=True)
    ours.backward()  # the last one may free the graph
    theirs.backward()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(gw.grad.data, tw.grad.numpy(), **tol)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ours.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        theirs.backward()


def test_second_backward_without_retain_graph_raises():
    ours, theirs = pair(random((3,)))
    y, t = (ours * ours).sum(), (theirs * theirs).sum()
    y.backward()
    t.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        t.backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())  # unchanged by the failure


def test_backward_through_a_shared_part_of_a_freed_graph_raises():
    x = Tensor(random((3,)), requires_grad=True)
    h = x.exp()
    (h * 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 3.0).sum().backward()


def test_non_scalar_backward_needs_a_gradient():
    ours, theirs = pair(random((2, 3)))
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (ours * 2.0).backward()
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (theirs * 2.0).backward()


@pytest.mark.parametrize("dtype", FLOATS)
def test_non_scalar_backward_with_a_gradient(dtype):
    x, g = random((2, 3), dtype, seed=1), random((2, 3), dtype, seed=2)
    ours, theirs = pair(x)
    (ours.sin() * 2.0).backward(Tensor(g))
    (theirs.sin() * 2.0).backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6)
    ours.grad = None
    (ours.sin() * 2.0).backward(g)  # a NumPy array works as well
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6)


def test_one_element_non_scalar_backward_needs_no_gradient():
    ours, theirs = pair(random((1, 1)))
    (ours * 3.0).backward()
    (theirs * 3.0).backward()
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_gradient_of_the_wrong_shape_raises():
    x = Tensor(random((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3, 2\)"):
        (x * 2.0).backward(np.ones((3, 2)))


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    for t in (Tensor(random((3,))).sum(), torch.tensor(random((3,))).sum()):
        with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
            t.backward()
    x = Tensor(random((3,)), requires_grad=True)
    with no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_backward_on_a_leaf():
    ours, theirs = pair(random((3,)))
    g = random((3,), seed=5)
    for _ in range(2):
        ours.backward(g)
        theirs.backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_leaves_outside_the_graph_get_no_gradient():
    a, b = Tensor(random((3,)), requires_grad=True), Tensor(random((3,)), requires_grad=True)
    (a * 2.0).sum().backward()
    assert b.grad is None and a.grad is not None


def test_constants_get_no_gradient():
    x = Tensor(random((3,)), requires_grad=True)
    c = Tensor(random((3,), seed=1))
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad


# -- graph shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["add", "mul"])
def test_deep_chain_has_no_recursion_limit(op):
    """A chain of 5,000 operations is far deeper than Python's recursion limit: the topological
    sort must be iterative."""
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0 if op == "add" else y * 1.0001
    y.sum().backward()
    expected = 1.0 if op == "add" else 1.0001**5000
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-9)


def test_deep_chain_that_reuses_the_leaf():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 5001.0)


def test_wide_graph():
    ours, theirs = pair(random((4,)))
    for a, lib in ((ours, gn), (theirs, torch)):
        lib.stack([a * float(i) for i in range(2000)]).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())


DIAMONDS = {
    "x_plus_x": lambda x: x + x,
    "x_times_x": lambda x: x * x,
    "x_minus_x": lambda x: x - x,
    "x_over_x": lambda x: x / x.exp(),
    "two_branches": lambda x: (x * 2.0) * x.exp(),
    "shared_intermediate": lambda x: (lambda h: h * h + h.exp() - h)(x.sin()),
    "nested_diamonds": lambda x: (lambda h: (lambda k: k * h + k.sum())(h.tanh() + h))(x * 3.0),
    "reuse_through_reshape": lambda x: x.reshape(-1) * x.T.reshape(-1),
    "three_uses": lambda x: x * x * x + x,
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", DIAMONDS)
def test_diamond_graphs_match_torch(name, dtype):
    compare(DIAMONDS[name], DIAMONDS[name], random((3, 3), dtype))


@pytest.mark.parametrize("name", DIAMONDS)
def test_diamond_graphs_gradcheck(name):
    gradcheck(DIAMONDS[name], random((3, 3)))


def _shared_sum_gradient(x, b, order):
    """A leaf and an intermediate receive the same gradient array from one add, and the leaf
    gets more gradient from elsewhere: the engine must not let the two share storage."""
    h = b * 3.0
    u = (x + h) if order % 2 else (h + x)
    if order >= 2:
        k = (x * 5.0) * h
    else:
        k = x * 5.0
    return (u * u).sum() + (k * k).sum()


@pytest.mark.parametrize("order", range(4))
def test_gradient_arrays_are_not_shared_between_tensors(order):
    compare(
        lambda x, b: _shared_sum_gradient(x, b, order),
        lambda x, b: _shared_sum_gradient(x, b, order),
        random((3,), seed=1),
        random((3,), seed=2),
    )


def test_two_roots_sharing_a_graph():
    x = random((3,))
    (ours, theirs) = pair(x)
    for a in (ours, theirs):
        h = a.exp()
        (h * 2.0).sum().backward(retain_graph=True)
        (h * h).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())


# -- grad modes ------------------------------------------------------------------------------------


def test_no_grad_context():
    x = Tensor(random((3,)), requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2.0
        z = y.exp().sum()
    assert is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad and t.grad_fn is None and t.is_leaf
    assert (x * 2.0).requires_grad


def test_enable_grad_inside_no_grad():
    x = Tensor(random((3,)), requires_grad=True)
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            y = x * 2.0
        assert not is_grad_enabled()
        z = x * 2.0
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2.0)


def test_set_grad_enabled_context_and_call():
    x = Tensor(random((3,)), requires_grad=True)
    for mode in (False, True):
        with set_grad_enabled(mode):
            assert is_grad_enabled() is mode
            assert (x * 2.0).requires_grad is mode
        assert is_grad_enabled()
    set_grad_enabled(False)  # called, not entered: takes effect at once, as in PyTorch
    assert not is_grad_enabled() and not (x * 2.0).requires_grad
    set_grad_enabled(True)
    assert is_grad_enabled()
    with no_grad():
        with set_grad_enabled(True):
            assert (x * 2.0).requires_grad
        assert not is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with no_grad():
            raise ValueError("boom")
    assert is_grad_enabled()
    with no_grad():
        with pytest.raises(ValueError):
            with enable_grad():
                raise ValueError("boom")
        assert not is_grad_enabled()


def test_grad_mode_decorators():
    x = Tensor(random((3,)), requires_grad=True)

    @no_grad()
    def frozen(t):
        assert not is_grad_enabled()
        return t * 2.0, unfrozen(t)

    @enable_grad()
    def unfrozen(t):
        assert is_grad_enabled()
        return t * 3.0

    a, b = frozen(x)
    assert is_grad_enabled()
    assert not a.requires_grad and b.requires_grad
    assert frozen.__name__ == "frozen"  # functools.wraps
    with no_grad():
        assert unfrozen(x).requires_grad
        assert not is_grad_enabled()

    @no_grad()
    def raises():
        raise KeyError("x")

    with pytest.raises(KeyError):
        raises()
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_decorator():
    @torch.set_grad_enabled(False)
    def theirs():
        return torch.is_grad_enabled()

    assert torch.is_grad_enabled() and not theirs() and torch.is_grad_enabled()
    try:

        @set_grad_enabled(False)
        def ours():
            return is_grad_enabled()

        assert is_grad_enabled(), "decorating switched grad mode off for the whole program"
        assert not ours() and is_grad_enabled()
    finally:
        set_grad_enabled(True)


def test_bare_no_grad_decorator():
    @torch.no_grad
    def theirs():
        return torch.is_grad_enabled()

    assert not theirs()

    @no_grad
    def ours():
        return is_grad_enabled()

    assert not ours() and is_grad_enabled()


def test_in_place_update_under_no_grad_decorated_step():
    w = Tensor(random((3,)), requires_grad=True)
    (w * w).sum().backward()

    @no_grad()
    def step():
        w.sub_(w.grad, alpha=0.1)

    before = w.data.copy()
    step()
    np.testing.assert_allclose(w.data, before - 0.1 * 2 * before)
    assert w.is_leaf and w.requires_grad


# -- leaves, detach, retain_grad, requires_grad_ ---------------------------------------------------


def test_leaves_and_grad_fn():
    x = Tensor(random((3,)), requires_grad=True)
    c = Tensor(random((3,)))
    assert x.is_leaf and x.grad_fn is None and c.is_leaf and c.grad_fn is None
    y = x * c
    assert not y.is_leaf and y.requires_grad and "Mul" in repr(y.grad_fn)
    assert "grad_fn=<MulBackward>" in repr(y)
    assert "requires_grad=True" in repr(x)
    z = c * 2.0
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None
    assert "Sum" in repr(y.sum().grad_fn)


def test_detach_shares_data_and_cuts_the_graph():
    x = random((3,))
    ours, theirs = pair(x)
    d = ours.detach()
    assert np.shares_memory(d.data, ours.data)
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    (ours * ours.detach()).sum().backward()
    (theirs * theirs.detach()).sum().backward()
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
    np.testing.assert_array_equal(ours.grad.data, x)  # not 2x: the detached factor is a constant
    d.data[0] = 100.0
    assert ours.data[0] == 100.0  # shared memory, as in PyTorch


def test_detach_of_an_intermediate():
    ours, theirs = pair(random((3,)))
    for a in (ours, theirs):
        h = a.exp()
        (h.detach() * a + h).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())


def test_detach_in_place():
    x = Tensor(random((3,)), requires_grad=True)
    y = x * 2.0
    assert y.detach_() is y
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None


@pytest.mark.parametrize("dtype", FLOATS)
def test_retain_grad_on_a_non_leaf(dtype):
    x = random((2, 3), dtype)
    ours, theirs = pair(x)
    kept = []
    for a in (ours, theirs):
        y = a * 2.0
        y.retain_grad()
        z = y.exp()
        ((z * y).sum() + (y * 3.0).sum()).backward()
        kept.append((y, z))
    (y, z), (ty, tz) = kept
    assert y.grad.dtype == dtype
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6)
    assert z.grad is None  # not retained


def test_retain_grad_accumulates_with_retain_graph():
    ours, theirs = pair(random((3,)))
    kept = []
    for a in (ours, theirs):
        y = a.sin()
        y.retain_grad()
        loss = (y * y).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        kept.append(y)
    np.testing.assert_allclose(kept[0].grad.data, kept[1].grad.numpy())
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())


def test_retain_grad_on_a_leaf_and_on_a_constant():
    x = Tensor(random((3,)), requires_grad=True)
    x.retain_grad()  # a no-op on a leaf
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2.0)
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        Tensor(random((3,))).retain_grad()


def test_requires_grad_():
    x = Tensor(random((3,)))
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2.0)
    x.requires_grad_(False)
    assert not (x * 2.0).requires_grad
    y = Tensor(random((3,)), requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    y.requires_grad_(True)  # allowed on a non-leaf that already requires grad, as in PyTorch
    for bad in (np.arange(3), np.array([True, False])):
        with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
            Tensor(bad).requires_grad_()
        with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
            Tensor(bad, requires_grad=True)


# -- leaving the graph: item, numpy, tolist, conversions -------------------------------------------


def test_item():
    for value, kind in ((2.5, float), (3, int), (True, bool)):
        ours, theirs = Tensor(value).item(), torch.tensor(value).item()
        assert ours == theirs and type(ours) is type(theirs) is kind
    x = Tensor(np.array([[1.5]], np.float32), requires_grad=True)
    assert x.item() == 1.5 and type(x.item()) is float  # works on tensors that require grad
    with pytest.raises(
        RuntimeError, match="a Tensor with 6 elements cannot be converted to Scalar"
    ):
        Tensor(random((2, 3))).item()
    with pytest.raises(
        RuntimeError, match="a Tensor with 6 elements cannot be converted to Scalar"
    ):
        torch.zeros(2, 3).item()
    assert float(Tensor(2.5)) == 2.5 and int(Tensor(7)) == 7


def test_numpy():
    x = Tensor(random((3,)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        x.numpy()
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        torch.zeros(3, requires_grad=True).numpy()
    a = x.detach().numpy()
    assert isinstance(a, np.ndarray) and np.shares_memory(a, x.data)
    c = Tensor(random((3,)))
    assert c.numpy() is c.data  # shares memory, as torch's numpy() does
    with no_grad():
        assert not (x * 2.0).requires_grad
        (x * 2.0).numpy()


def test_tolist():
    for data in ([[1.5, 2.0], [3.0, 4.0]], [1, 2, 3], 2.5, [True, False]):
        ours, theirs = Tensor(data).tolist(), torch.tensor(data).tolist()
        assert ours == theirs
        assert type(ours) is type(theirs)
    assert type(Tensor([1, 2]).tolist()[0]) is int
    assert Tensor(random((2, 3)), requires_grad=True).tolist()  # allowed, as in PyTorch


CONVERSIONS = {
    "to_float64": (lambda t: t.to(gn.float64), lambda t: t.to(torch.float64)),
    "to_float32": (lambda t: t.to(gn.float32), lambda t: t.to(torch.float32)),
    "to_dtype_kw": (lambda t: t.to(dtype=gn.float64), lambda t: t.to(dtype=torch.float64)),
    "to_cpu_dtype": (lambda t: t.to("cpu", gn.float64), lambda t: t.to("cpu", torch.float64)),
    "to_tensor": (
        lambda t: t.to(Tensor(np.zeros(1, np.float64))),
        lambda t: t.to(torch.zeros(1, dtype=torch.float64)),
    ),
    "double": (lambda t: t.double(), lambda t: t.double()),
    "float": (lambda t: t.float(), lambda t: t.float()),
    "astype_float64": (lambda t: t.astype(np.float64), lambda t: t.to(torch.float64)),
    "type_float32": (lambda t: t.type(gn.float32), lambda t: t.type(torch.float32)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", CONVERSIONS)
def test_float_conversions_pass_gradients_back(name, dtype):
    ours, theirs = CONVERSIONS[name]
    compare(lambda t: ours(t) * 2.0, lambda t: theirs(t) * 2.0, random((3, 2), dtype))


def test_conversion_to_the_same_dtype_returns_the_tensor():
    x = Tensor(random((3,), np.float32), requires_grad=True)
    for same in (x.to(gn.float32), x.to("cpu"), x.to(), x.float(), x.cpu()):
        assert same is x
    assert x.to(gn.float64) is not x


def test_integer_conversions_leave_the_graph():
    x = Tensor(np.array([1.7, -2.2, 0.0], np.float32), requires_grad=True)
    for ours, theirs in (
        (x.long(), torch.tensor(x.data).long()),
        (x.int(), torch.tensor(x.data).int()),
        (x.bool(), torch.tensor(x.data).bool()),
        (x.to(gn.int64), torch.tensor(x.data).to(torch.int64)),
    ):
        assert not ours.requires_grad and ours.is_leaf
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.data, theirs.numpy())


# -- in-place arithmetic --------------------------------------------------------------------------


def test_sgd_step_under_no_grad_changes_the_same_array():
    w = Tensor(random((3, 4), np.float32), requires_grad=True)
    (w * w).sum().backward()
    data, expected = w.data, w.data - np.float32(0.1) * w.grad.data
    with no_grad():
        w -= 0.1 * w.grad
    assert w.data is data and w.dtype == np.float32
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.data, expected, rtol=1e-6)


def test_in_place_operators_under_no_grad():
    x = random((3,))
    t, ref = Tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    data = t.data
    with no_grad(), torch.no_grad():
        for a in (t, ref):
            a += 1.0
            a *= 3.0
            a -= a * 0.5
            a /= 2.0
            a.add_(1.0, alpha=2.0)
            a.sub_(0.5)
            a.mul_(a)
            a.div_(4.0)
    assert t.data is data and t.is_leaf
    np.testing.assert_allclose(t.data, ref.detach().numpy())


def test_in_place_on_a_leaf_that_requires_grad_raises_while_recording():
    w = Tensor(random((3,)), requires_grad=True)
    for op in (operator.iadd, operator.isub, operator.imul, operator.itruediv):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            op(w, 1.0)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            op(torch.zeros(3, requires_grad=True), 1.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        w.add_(1.0)
    assert w.is_leaf and w.grad_fn is None


def _in_place_chain(x, b):
    y = x * 2.0
    y += b
    y *= x
    y -= 0.5 * b
    y /= b.exp()
    return y


def _in_place_methods(x, b):
    y = x.sin()
    y.add_(b, alpha=3.0)
    y.mul_(b)
    y.sub_(x, alpha=0.5)
    y.div_(2.0)
    return y


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("fn", [_in_place_chain, _in_place_methods], ids=["ops", "methods"])
def test_in_place_on_an_intermediate_matches_torch(fn, dtype):
    compare(fn, fn, random((3, 4), dtype, seed=1), random((3, 4), dtype, seed=2))


def test_in_place_on_an_intermediate_gradcheck():
    gradcheck(_in_place_chain, random((2, 3), seed=1), random((2, 3), seed=2))


def test_in_place_with_a_tensor_that_requires_grad_into_a_constant():
    def fn(b):
        y = Tensor(np.ones(3)) if isinstance(b, Tensor) else torch.ones(3, dtype=b.dtype)
        y += b * 2.0
        return y

    out, _, (b,), _ = compare(fn, fn, random((3,)))
    assert out.requires_grad and not out.is_leaf


def test_in_place_keeps_the_dtype():
    def fn(x):
        y = x * 1.0
        y += Tensor(np.ones(3)) if isinstance(x, Tensor) else torch.ones(3, dtype=torch.float64)
        return y

    compare(fn, fn, random((3,), np.float32))


def test_in_place_float_into_an_integer_tensor_raises():
    for t in (Tensor(np.arange(3)), torch.arange(3)):
        with pytest.raises(RuntimeError, match="result type Float can't be cast|can't be cast"):
            t += 0.5
    t = Tensor(np.arange(3))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        t *= 1.5
    t += 2
    t *= 3
    np.testing.assert_array_equal(t.data, [6, 9, 12])
    assert t.dtype == np.int64


def test_retain_grad_on_the_root():
    ours, theirs = pair(random((2, 2)))
    g = random((2, 2), seed=3)
    kept = []
    for a, grad in ((ours, g), (theirs, torch.tensor(g))):
        y = a * 2.0
        y.retain_grad()
        y.backward(grad)
        kept.append(y)
    np.testing.assert_array_equal(kept[0].grad.data, kept[1].grad.numpy())
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_in_place_on_a_view_while_recording_is_refused_clearly():
    # torch writes through to the base (it tracks views); glassnet does not track views, so rather
    # than give the view a new array silently it refuses, and says what to write instead.
    y = Tensor(random((2, 3)), requires_grad=True) * 2.0
    v = y[0]
    with pytest.raises(RuntimeError, match="view"):
        v += 1.0
    with no_grad():  # without the graph, the numbers change in place, through to the base
        v += 1.0
    np.testing.assert_array_equal(y.data[0], v.data)
