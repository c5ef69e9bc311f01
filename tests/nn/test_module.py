"""Module and containers against torch.nn: the same module tree is built in both libraries and
its registration, traversal order, state_dict keys, printed form, attribute rules, hooks and
container operations are compared; state_dicts move from PyTorch to glassnet and back."""

import copy
import pickle
from collections import OrderedDict
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from glassnet.dtypes import float64
from glassnet.nn.container import ModuleDict, ModuleList, Sequential
from glassnet.nn.module import Module
from glassnet.nn.parameter import Parameter
from glassnet.tensor import Tensor


def define(lib: str) -> SimpleNamespace:
    """The same small module classes, written once, built on torch.nn or on glassnet.nn."""
    if lib == "torch":
        nn = torch.nn
        L = SimpleNamespace(
            Module=nn.Module,
            Sequential=nn.Sequential,
            ModuleList=nn.ModuleList,
            ModuleDict=nn.ModuleDict,
            tensor=lambda a: torch.from_numpy(np.array(a)),
            param=lambda a: nn.Parameter(torch.from_numpy(np.array(a))),
            numpy=lambda t: t.detach().numpy(),
        )
    else:
        L = SimpleNamespace(
            Module=Module,
            Sequential=Sequential,
            ModuleList=ModuleList,
            ModuleDict=ModuleDict,
            tensor=lambda a: Tensor(np.array(a)),
            param=lambda a: Parameter(np.array(a)),
            numpy=lambda t: t.data,
        )

    class Leaf(L.Module):
        def __init__(self, n: int = 1, tag: str = "") -> None:
            super().__init__()
            self.n = n
            self.tag = tag
            self.scale = L.param(np.full(n, 2.0, dtype=np.float32))

        def forward(self, x, shift=0.0):
            return x * self.scale + shift

        def extra_repr(self) -> str:
            return f"n={self.n}"

    class Block(L.Module):
        def __init__(self, n: int) -> None:
            super().__init__()
            self.w = L.param(np.zeros((n, n), dtype=np.float32))
            self.register_buffer("running", L.tensor(np.zeros(n, dtype=np.float32)))
            self.register_buffer("count", L.tensor(np.zeros((), dtype=np.int64)))
            self.register_buffer("scratch", L.tensor(np.zeros(n, np.float32)), persistent=False)
            self.b = L.param(np.zeros(n, dtype=np.float32))
            self.register_parameter("unused", None)
            self.leaf = Leaf(n)
            self.note = "a plain attribute"

    class Net(L.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = L.param(np.zeros(4, dtype=np.float32))
            self.blocks = L.ModuleList([Block(2), Block(3)])
            self.heads = L.ModuleDict({"a": Block(2), "b": L.Sequential(Leaf(1), Block(2))})
            self.shared = self.blocks[0]  # the same module under a second name
            self.tied = self.blocks[1].w  # the same parameter under a second name
            self.seq = L.Sequential(OrderedDict([("first", Leaf(1)), ("second", Block(1))]))
            self.register_buffer("steps", L.tensor(np.zeros(1, dtype=np.int64)))
            self.empty = L.Sequential()
            self.register_module("nothing", None)

    class Multi(L.Module):
        def extra_repr(self) -> str:
            return "a=1,\nb=2"

    class Bare(L.Module):
        pass

    L.Leaf, L.Block, L.Net, L.Multi, L.Bare = Leaf, Block, Net, Multi, Bare
    return L


T = define("torch")
G = define("glassnet")


def outcome(fn, L):
    """What `fn(L)` returns, or the name of the exception it raises (to compare the libraries)."""
    try:
        return fn(L)
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e).__name__


def same_in_both(fn):
    expected, got = outcome(fn, T), outcome(fn, G)
    assert got == expected
    return got


def names(pairs):
    return [name for name, _ in pairs]


# -- registration and traversal order -------------------------------------------------------------


TRAVERSALS = {
    "named_parameters": lambda m: [(k, tuple(v.shape)) for k, v in m.named_parameters()],
    "named_parameters_all": lambda m: names(m.named_parameters(remove_duplicate=False)),
    "named_parameters_prefix": lambda m: names(m.named_parameters(prefix="model")),
    "named_parameters_local": lambda m: names(m.named_parameters(recurse=False)),
    "block_parameters": lambda m: names(m.blocks[1].named_parameters()),
    "named_buffers": lambda m: [(k, tuple(v.shape)) for k, v in m.named_buffers()],
    "named_buffers_all": lambda m: names(m.named_buffers(remove_duplicate=False)),
    "named_modules": lambda m: [(k, type(v).__name__) for k, v in m.named_modules()],
    "named_modules_all": lambda m: names(m.named_modules(remove_duplicate=False)),
    "named_modules_prefix": lambda m: names(m.named_modules(prefix="net")),
    "named_children": lambda m: [(k, type(v).__name__) for k, v in m.named_children()],
    "children": lambda m: [type(v).__name__ for v in m.children()],
    "modules": lambda m: [type(v).__name__ for v in m.modules()],
    "parameter_count": lambda m: len(list(m.parameters())),
    "buffer_count": lambda m: len(list(m.buffers())),
    "state_dict": lambda m: [(k, tuple(v.shape)) for k, v in m.state_dict().items()],
    "state_dict_prefix": lambda m: list(m.state_dict(prefix="p.")),
    "state_dict_block": lambda m: list(m.heads["b"].state_dict()),
    "repr": repr,
}


@pytest.mark.parametrize("what", TRAVERSALS)
def test_traversal_matches_torch(what):
    assert TRAVERSALS[what](G.Net()) == TRAVERSALS[what](T.Net())


def test_shared_parameter_is_listed_once_under_its_first_name():
    net = G.Net()
    params = dict(net.named_parameters())
    assert params["tied"] is net.blocks[1].w
    assert "blocks.1.w" not in params
    assert len(list(net.parameters())) == len({id(p) for p in net.parameters()})


def test_apply_visits_children_before_parents_like_torch():
    def order(L):
        net = L.Net()
        index = {id(m): name for name, m in net.named_modules()}
        visited = []
        assert net.apply(lambda m: visited.append(index[id(m)])) is net
        return visited

    same_in_both(order)


def test_get_submodule():
    net = G.Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("heads.b.1.leaf") is net.heads["b"][1].leaf
    with pytest.raises(AttributeError, match="no sub-module `nope`"):
        net.get_submodule("blocks.nope")
    with pytest.raises(AttributeError):
        T.Net().get_submodule("blocks.nope")


# -- attribute rules ------------------------------------------------------------------------------


def _set_param_none(L):
    m = L.Block(2)
    m.w = None
    return m.w, names(m.named_parameters()), list(m.state_dict()), "w" in m._parameters


def _set_param_tensor(L):
    L.Block(2).w = L.tensor(np.zeros((2, 2), np.float32))


def _replace_module(L):
    m = L.Block(2)
    m.leaf = L.Block(1)
    return names(m.named_modules())


def _set_module_none(L):
    m = L.Block(2)
    m.leaf = None
    return m.leaf, names(m.named_modules()), list(m.state_dict()), repr(m)


def _set_module_string(L):
    L.Block(2).leaf = "not a module"


def _plain_tensor_attribute(L):
    m = L.Block(2)
    m.plain = L.tensor(np.ones(3, np.float32))
    return names(m.named_parameters()), names(m.named_buffers()), L.numpy(m.plain).tolist()


def _parameter_replaces_buffer(L):
    m = L.Block(2)
    m.running = L.param(np.ones(2, np.float32))
    return names(m.named_parameters()), names(m.named_buffers()), list(m.state_dict())


def _parameter_replaces_plain(L):
    m = L.Block(2)
    m.note = L.param(np.ones(2, np.float32))
    return names(m.named_parameters()), "note" in m.__dict__


def _module_replaces_parameter(L):
    m = L.Block(2)
    m.b = L.Leaf(3)
    return names(m.named_parameters()), names(m.named_children())


def _set_buffer(L):
    m = L.Block(2)
    m.running = L.tensor(np.ones(2, np.float32))
    m.count = None
    return L.numpy(m.running).tolist(), list(m.state_dict())


def _set_buffer_string(L):
    L.Block(2).running = "x"


def _delete_everything(L):
    m = L.Block(2)
    del m.w, m.running, m.scratch, m.leaf, m.note
    return list(m.state_dict()), names(m.named_buffers()), hasattr(m, "w"), hasattr(m, "note")


def _delete_missing(L):
    del L.Block(2).nothing


def _missing_attribute(L):
    return L.Block(2).nothing


def _non_persistent_then_persistent(L):
    m = L.Block(2)
    before = list(m.state_dict())
    m.register_buffer("scratch", L.tensor(np.ones(2, np.float32)))
    return before, list(m.state_dict())


def _register_buffer(name, value_kind="tensor"):
    def run(L):
        value = L.tensor(np.ones(2, np.float32)) if value_kind == "tensor" else [1.0]
        m = L.Block(2)
        m.register_buffer(name, value)
        return names(m.named_buffers())

    return run


def _register_parameter_tensor(L):
    L.Block(2).register_parameter("p", L.tensor(np.ones(2, np.float32)))


def _register_parameter_existing(L):
    L.Block(2).register_parameter("note", L.param(np.ones(2, np.float32)))


def _add_module_not_module(L):
    L.Block(2).add_module("x", 3)


def _add_module_existing(L):
    L.Block(2).add_module("w", L.Leaf())


def _assign_before_init(L):
    class Early(L.Module):
        def __init__(self):
            self.p = L.param(np.ones(1, np.float32))
            super().__init__()

    Early()


def _dir(L):
    listed = dir(L.Block(2))
    return [n for n in ("w", "b", "running", "scratch", "leaf", "note", "train") if n in listed]


def _no_forward(L):
    L.Bare()(L.tensor(np.ones(1, np.float32)))


ATTRIBUTE_SCENARIOS = {
    "set_param_none": _set_param_none,
    "set_param_tensor": _set_param_tensor,
    "replace_module": _replace_module,
    "set_module_none": _set_module_none,
    "set_module_string": _set_module_string,
    "plain_tensor_attribute": _plain_tensor_attribute,
    "parameter_replaces_buffer": _parameter_replaces_buffer,
    "parameter_replaces_plain": _parameter_replaces_plain,
    "module_replaces_parameter": _module_replaces_parameter,
    "set_buffer": _set_buffer,
    "set_buffer_string": _set_buffer_string,
    "delete_everything": _delete_everything,
    "delete_missing": _delete_missing,
    "missing_attribute": _missing_attribute,
    "non_persistent_then_persistent": _non_persistent_then_persistent,
    "register_buffer_new": _register_buffer("extra"),
    "register_buffer_dotted": _register_buffer("a.b"),
    "register_buffer_empty": _register_buffer(""),
    "register_buffer_existing": _register_buffer("note"),
    "register_buffer_list": _register_buffer("extra", "list"),
    "register_buffer_int_name": _register_buffer(3),
    "register_parameter_tensor": _register_parameter_tensor,
    "register_parameter_existing": _register_parameter_existing,
    "add_module_not_module": _add_module_not_module,
    "add_module_existing": _add_module_existing,
    "assign_before_init": _assign_before_init,
    "dir": _dir,
    "no_forward": _no_forward,
}


@pytest.mark.parametrize("scenario", ATTRIBUTE_SCENARIOS)
def test_attribute_rules_match_torch(scenario):
    same_in_both(ATTRIBUTE_SCENARIOS[scenario])


def test_error_messages_name_the_attribute():
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        G.Block(2).w = Tensor(np.zeros((2, 2), np.float32))
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nothing'"):
        G.Block(2).nothing  # noqa: B018
    with pytest.raises(KeyError, match="attribute 'note' already exists"):
        G.Block(2).register_buffer("note", None)
    with pytest.raises(NotImplementedError, match=r"Module \[Bare\] is missing"):
        G.Bare()()


# -- modes, gradients, dtypes ---------------------------------------------------------------------


def test_train_eval_propagate_to_every_module():
    net = G.Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.heads.train()
    assert [n for n, m in net.named_modules() if m.training] == [
        n for n, _ in net.named_modules() if n.startswith("heads")
    ]
    assert net.train() is net and all(m.training for m in net.modules())
    assert same_in_both(lambda L: L.Net().train("yes")) == "ValueError"


def test_requires_grad_and_zero_grad():
    leaf = G.Leaf(3)
    x = Tensor(np.arange(3, dtype=np.float32))
    leaf(x).sum().backward()
    grad = leaf.scale.grad
    np.testing.assert_array_equal(grad.data, [0.0, 1.0, 2.0])
    leaf.zero_grad(set_to_none=False)
    assert leaf.scale.grad is grad and not grad.data.any()
    leaf.zero_grad()
    assert leaf.scale.grad is None
    assert leaf.requires_grad_(False) is leaf and not leaf.scale.requires_grad
    assert leaf(x).requires_grad is False
    leaf.requires_grad_()
    assert leaf.scale.requires_grad


def test_num_parameters_counts_shared_parameters_once():
    net, ref = G.Net(), T.Net()
    assert net.num_parameters() == sum(p.numel() for p in ref.parameters())
    net.blocks.requires_grad_(False)
    ref.blocks.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == sum(
        p.numel() for p in ref.parameters() if p.requires_grad
    )


def _dtypes(net):
    return {k: v.dtype for k, v in net.state_dict().items()}


@pytest.mark.parametrize(
    "convert",
    [
        lambda m: m.double(),
        lambda m: m.to(float64),
        lambda m: m.to(np.float64),
        lambda m: m.to("cpu", dtype=float64),
        lambda m: m.to(Tensor(np.zeros(1))),
    ],
)
def test_dtype_conversion_keeps_parameter_objects(convert):
    net = G.Net()
    leaf = net.seq.first
    leaf(Tensor(np.ones(1, np.float32))).sum().backward()
    params = list(net.parameters())
    assert convert(net) is net
    assert list(net.parameters()) == params  # the same objects, as an optimizer holds them
    assert leaf.scale.grad.dtype == np.float64
    ref = T.Net().double()
    assert {k: str(v).replace("glassnet.", "") for k, v in _dtypes(net).items()} == {
        k: str(v).replace("torch.", "") for k, v in _dtypes(ref).items()
    }
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.blocks[0].count.dtype == np.int64


def test_to_rejects_integer_dtypes_and_other_devices():
    net = G.Net()
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(np.int64)
    with pytest.raises(TypeError, match=r"CPU only\), got 'cuda'"):
        net.to("cuda")


class Weight(Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = Parameter(np.zeros((2, 2), np.float32))
        self.register_buffer("seen", Tensor(np.zeros(1, np.int64)))


class Tied(Module):
    """Module-level classes (pickle finds classes by name) sharing a parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = ModuleList([Weight(), Weight()])
        self.tied = self.layers[0].w


def test_deepcopy_and_pickle_give_independent_copies():
    for net in (G.Net(), Tied()):
        clones = [copy.deepcopy(net)]
        if isinstance(net, Tied):
            clones.append(pickle.loads(pickle.dumps(net)))
        for clone in clones:
            assert list(clone.state_dict()) == list(net.state_dict())
            assert repr(clone) == repr(net)
            owner = clone.layers[0] if isinstance(net, Tied) else clone.blocks[1]
            assert clone.tied is owner.w  # sharing survives the copy
            clone.tied.data[...] = 5.0
            assert not net.tied.data.any()


# -- hooks ----------------------------------------------------------------------------------------


def _hook_run(L):
    events = []
    leaf = L.Leaf(2)
    x = L.tensor(np.array([1.0, 3.0], np.float32))

    def pre_add_one(m, args):
        events.append("pre_add_one")
        return args[0] + 1.0  # a single value stands for a one-element tuple

    def pre_first(m, args):
        events.append("pre_first")

    def pre_kwargs(m, args, kwargs):
        events.append(f"pre_kwargs {sorted(kwargs)}")
        return args, {"shift": 100.0}

    def post_times_ten(m, args, output):
        events.append("post_times_ten")
        return output * 10.0

    def post_kwargs(m, args, kwargs, output):
        events.append(f"post_kwargs {kwargs.get('shift')}")

    handles = [
        leaf.register_forward_pre_hook(pre_add_one),
        leaf.register_forward_pre_hook(pre_first, prepend=True),
        leaf.register_forward_pre_hook(pre_kwargs, with_kwargs=True),
        leaf.register_forward_hook(post_times_ten),
        leaf.register_forward_hook(post_kwargs, with_kwargs=True),
    ]
    outputs = [L.numpy(leaf(x, shift=0.5)).tolist()]
    handles[0].remove()
    handles[2].remove()
    outputs.append(L.numpy(leaf(x)).tolist())
    for handle in handles:
        handle.remove()
    with leaf.register_forward_hook(post_times_ten):
        outputs.append(L.numpy(leaf(x)).tolist())
    outputs.append(L.numpy(leaf(x)).tolist())
    return events, outputs


def test_hooks_match_torch():
    events, outputs = same_in_both(_hook_run)
    assert outputs == [[1040.0, 1080.0], [20.0, 60.0], [20.0, 60.0], [2.0, 6.0]]
    assert events[:3] == ["pre_first", "pre_add_one", "pre_kwargs ['shift']"]


def test_forward_hooks_see_every_layer_of_a_sequential():
    model = G.Sequential(G.Leaf(2, "a"), G.Sequential(G.Leaf(2, "b"), G.Leaf(2, "c")))
    seen = []
    handles = [
        m.register_forward_hook(lambda m, args, out: seen.append((m.tag, out.data.tolist())))
        for m in model.modules()
        if isinstance(m, G.Leaf)
    ]
    out = model(Tensor(np.ones(2, np.float32)))
    assert seen == [("a", [2.0, 2.0]), ("b", [4.0, 4.0]), ("c", [8.0, 8.0])]
    assert out.data.tolist() == [8.0, 8.0]
    for handle in handles:
        handle.remove()
    model(Tensor(np.ones(2, np.float32)))
    assert len(seen) == 3


def test_pre_hook_with_kwargs_must_return_a_pair():
    leaf = G.Leaf(1)
    leaf.register_forward_pre_hook(lambda m, args, kwargs: 3, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        leaf(Tensor(np.ones(1, np.float32)))


# -- state_dict -----------------------------------------------------------------------------------


def random_torch_net(seed: int = 0, double: bool = False):
    torch.manual_seed(seed)
    net = T.Net()
    if double:
        net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
        for name, b in net.named_buffers():
            b.copy_(
                torch.randint(0, 100, b.shape) if b.dtype == torch.int64 else torch.randn(b.shape)
            )
    return net


def arrays(state_dict):
    return {
        k: (v.data if isinstance(v, Tensor) else v.detach().numpy()).copy()
        for k, v in state_dict.items()
    }


def test_state_dict_is_detached_and_shares_memory():
    net = G.Net()
    state = net.state_dict()
    assert all(type(v) is Tensor and not v.requires_grad for v in state.values())
    assert np.shares_memory(state["blocks.0.w"].data, net.blocks[0].w.data)
    kept = net.state_dict(keep_vars=True)
    assert kept["embed"] is net.embed and kept["steps"] is net.steps
    into = OrderedDict(first=1)
    assert net.blocks[0].state_dict(destination=into, prefix="x.") is into
    assert list(into) == ["first", "x.w", "x.b", "x.running", "x.count", "x.leaf.scale"]


@pytest.mark.parametrize("double", [False, True])
def test_torch_state_dict_round_trip(double):
    ref = random_torch_net(double=double)
    expected = arrays(ref.state_dict())
    net = G.Net().double() if double else G.Net()
    result = net.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert (
        repr(result)
        == "<All keys matched successfully>"
        == repr(ref.load_state_dict(ref.state_dict()))
    )
    assert result.missing_keys == [] and result.unexpected_keys == []
    ours = arrays(net.state_dict())
    assert list(ours) == list(expected)
    for key in expected:
        assert ours[key].dtype == expected[key].dtype
        np.testing.assert_array_equal(ours[key], expected[key], err_msg=key)

    back = T.Net().double() if double else T.Net()
    back.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in net.state_dict().items()})
    for key, value in arrays(back.state_dict()).items():
        np.testing.assert_array_equal(value, expected[key], err_msg=key)


def test_torch_tensors_load_directly():
    ref = random_torch_net(seed=1)
    net = G.Net()
    net.load_state_dict(ref.state_dict())
    np.testing.assert_array_equal(net.heads["b"][1].w.data, ref.heads["b"][1].w.detach().numpy())


def test_load_copies_in_place_keeping_dtype_and_identity():
    net = G.Net()
    params = {k: (v, v.data) for k, v in net.state_dict(keep_vars=True).items()}
    source = arrays(random_torch_net(seed=2, double=True).state_dict())
    net.load_state_dict(source)
    for key, (tensor, array) in params.items():
        now = net.state_dict(keep_vars=True)[key]
        assert now is tensor and now.data is array, key
        assert now.dtype == (np.int64 if source[key].dtype == np.int64 else np.float32)
        np.testing.assert_array_equal(now.data, source[key].astype(now.dtype))


def _broken(change):
    state = arrays(random_torch_net(seed=3).state_dict())
    change(state)
    return state


LOAD_ERRORS = {
    "missing": (lambda s: s.pop("seq.second.w"), ["Missing key(s)", '"seq.second.w"']),
    "unexpected": (
        lambda s: s.update({"seq.third.w": np.zeros(1), "extra": np.zeros(2)}),
        ["Unexpected key(s)", '"seq.third.w", "extra"'],
    ),
    "shape": (
        lambda s: s.update({"heads.b.1.w": np.zeros((3, 2), np.float32)}),
        ["size mismatch for heads.b.1.w", "shape (3, 2) from checkpoint", "model is (2, 2)"],
    ),
    "not_an_array": (
        lambda s: s.update({"seq.second.b": [1.0]}),
        ["'seq.second.b'", "got list"],
    ),
    "strings": (
        lambda s: s.update({"seq.second.b": np.array(["a"])}),
        ["'seq.second.b'", "got ndarray"],
    ),
    "several": (
        lambda s: (s.pop("embed"), s.update(extra=np.zeros(1), steps=np.zeros(2))),
        [
            'Missing key(s) in state_dict: "embed"',
            'Unexpected key(s) in state_dict: "extra"',
            "size mismatch for steps",
        ],
    ),
}


@pytest.mark.parametrize("case", LOAD_ERRORS)
def test_failed_load_names_the_problem_and_changes_nothing(case):
    change, fragments = LOAD_ERRORS[case]
    net = G.Net()
    before = arrays(net.state_dict())
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Net") as info:
        net.load_state_dict(_broken(change))
    for fragment in fragments:
        assert fragment in str(info.value)
    after = arrays(net.state_dict())
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    with pytest.raises(RuntimeError):  # torch refuses the same state_dict
        T.Net().load_state_dict({k: to_torch(v) for k, v in _broken(change).items()})


def to_torch(value):
    numeric = isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
    return torch.from_numpy(value) if numeric else value


def test_non_strict_load_returns_the_key_lists_like_torch():
    def load(L):
        net = L.Net()
        state = arrays(random_torch_net(seed=4).state_dict())
        del state["blocks.1.b"], state["heads.a.leaf.scale"]
        state["blocks.7.w"] = np.zeros(2, np.float32)
        values = state if L is G else {k: to_torch(v) for k, v in state.items()}
        result = net.load_state_dict(values, strict=False)
        return repr(result), L.numpy(net.embed).tolist()

    text, embed = same_in_both(load)
    assert "missing_keys=['blocks.1.b', 'heads.a.leaf.scale']" in text
    assert embed == random_torch_net(seed=4).embed.detach().numpy().tolist()


def test_non_strict_load_still_rejects_wrong_shapes():
    state = arrays(G.Net().state_dict())
    state["embed"] = np.zeros(5, np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for embed"):
        G.Net().load_state_dict(state, strict=False)


def test_load_rejects_a_non_mapping():
    with pytest.raises(TypeError, match="dict-like state_dict, got list"):
        G.Net().load_state_dict([1, 2])


# -- printing -------------------------------------------------------------------------------------


REPRS = {
    "sequential": lambda L: L.Sequential(L.Leaf(2), L.Bare(), L.Multi()),
    "named_sequential": lambda L: L.Sequential(OrderedDict(relu=L.Bare(), out=L.Leaf(3))),
    "module_list_runs": lambda L: L.ModuleList(
        [
            L.Leaf(1),
            L.Leaf(1),
            L.Leaf(1),
            L.Leaf(2),
            L.Sequential(L.Leaf(1)),
            L.Sequential(L.Leaf(1)),
        ]
    ),
    "module_dict": lambda L: L.ModuleDict(
        {"enc": L.Sequential(L.Leaf(1), L.Multi()), "dec": L.Bare()}
    ),
    "empty": lambda L: (L.Sequential(), L.ModuleList(), L.ModuleDict(), L.Bare()),
    "extra_and_children": lambda L: L.Block(2),
    "multi_line_extra": lambda L: L.Multi(),
}


@pytest.mark.parametrize("case", REPRS)
def test_repr_matches_torch(case):
    same_in_both(lambda L: repr(REPRS[case](L)))


# -- containers -----------------------------------------------------------------------------------


def state(c):
    """A container's children as (name, tag) pairs, or a module's tag, to compare libraries."""
    if isinstance(c, tuple | list):
        return [state(x) for x in c]
    if hasattr(c, "tag"):
        return c.tag
    if isinstance(c, torch.nn.Module | Module):
        return type(c).__name__, [(k, None if m is None else m.tag) for k, m in c._modules.items()]
    return c


def leaves(L, n=6):
    return [L.Leaf(1, tag=str(i)) for i in range(n)]


def _seq(L):
    return L.Sequential(*leaves(L, 4))


def _named_seq(L):
    return L.Sequential(OrderedDict((k, L.Leaf(1, tag=k)) for k in "abcd"))


def _do(make, action):
    def run(L):
        c = make(L)
        result = action(c, L)
        return state(result), state(c)

    return run


SEQUENTIAL_OPS = {
    "index": _do(_seq, lambda s, L: [s[0], s[2], s[-1], s[-4]]),
    "index_out_of_range": _do(_seq, lambda s, L: s[4]),
    "index_negative_out_of_range": _do(_seq, lambda s, L: s[-5]),
    "index_numpy_int": _do(_seq, lambda s, L: s[np.int64(1)]),
    "slice": _do(_seq, lambda s, L: s[1:3]),
    "slice_step": _do(_seq, lambda s, L: s[::-2]),
    "slice_named": _do(_named_seq, lambda s, L: s[1:]),
    "index_named": _do(_named_seq, lambda s, L: s[-2]),
    "len_iter": _do(_seq, lambda s, L: (len(s), list(s))),
    "append": _do(_seq, lambda s, L: s.append(L.Leaf(tag="new")) is s),
    "extend": _do(_seq, lambda s, L: s.extend([L.Leaf(tag="x"), L.Leaf(tag="y")]) is s),
    "insert_front": _do(_seq, lambda s, L: s.insert(0, L.Leaf(tag="new")) is s),
    "insert_end": _do(_seq, lambda s, L: s.insert(4, L.Leaf(tag="new"))),
    "insert_negative": _do(_seq, lambda s, L: s.insert(-1, L.Leaf(tag="new"))),
    "insert_out_of_range": _do(_seq, lambda s, L: s.insert(9, L.Leaf(tag="new"))),
    "setitem": _do(_seq, lambda s, L: s.__setitem__(-2, L.Leaf(tag="new"))),
    "setitem_named": _do(_named_seq, lambda s, L: s.__setitem__(1, L.Leaf(tag="new"))),
    "delitem": _do(_seq, lambda s, L: s.__delitem__(1)),
    "delitem_slice": _do(_seq, lambda s, L: s.__delitem__(slice(0, 3, 2))),
    "delitem_named": _do(_named_seq, lambda s, L: s.__delitem__(0)),
    "pop": _do(_seq, lambda s, L: s.pop(-1)),
    "add": _do(_seq, lambda s, L: s + _named_seq(L)),
    "add_list": _do(_seq, lambda s, L: s + [L.Leaf()]),
    "iadd": _do(_seq, lambda s, L: s.__iadd__(_named_seq(L)) is s),
    "mul": _do(_seq, lambda s, L: s * 2),
    "rmul": _do(_seq, lambda s, L: 2 * s[:2]),
    "mul_zero": _do(_seq, lambda s, L: s * 0),
    "parameters": _do(_seq, lambda s, L: len(list(s.parameters()))),
}


@pytest.mark.parametrize("op", SEQUENTIAL_OPS)
def test_sequential_matches_torch(op):
    same_in_both(SEQUENTIAL_OPS[op])


def test_sequential_forward_chains_modules():
    def run(L):
        model = L.Sequential(L.Leaf(2), L.Leaf(2), L.Leaf(2))
        return L.numpy(model(L.tensor(np.array([1.0, -0.5], np.float32)))).tolist()

    assert same_in_both(run) == [8.0, -4.0]


def _list(L):
    return L.ModuleList(leaves(L, 4))


MODULE_LIST_OPS = {
    "index": _do(_list, lambda m, L: [m[0], m[-1]]),
    "index_out_of_range": _do(_list, lambda m, L: m[-5]),
    "slice": _do(_list, lambda m, L: m[1::2]),
    "len_iter": _do(_list, lambda m, L: (len(m), list(m))),
    "append": _do(_list, lambda m, L: m.append(L.Leaf(tag="new")) is m),
    "append_not_module": _do(_list, lambda m, L: m.append(3)),
    "extend": _do(_list, lambda m, L: m.extend(L.Sequential(L.Leaf(tag="x"))) is m),
    "extend_not_iterable": _do(_list, lambda m, L: m.extend(3)),
    "insert": _do(_list, lambda m, L: m.insert(1, L.Leaf(tag="new"))),
    "insert_end": _do(_list, lambda m, L: m.insert(len(m), L.Leaf(tag="new"))),
    "setitem": _do(_list, lambda m, L: m.__setitem__(-1, L.Leaf(tag="new"))),
    "delitem": _do(_list, lambda m, L: m.__delitem__(-3)),
    "delitem_slice": _do(_list, lambda m, L: m.__delitem__(slice(1, None))),
    "pop": _do(_list, lambda m, L: m.pop(1)),
    "iadd": _do(_list, lambda m, L: m.__iadd__([L.Leaf(tag="x"), L.Leaf(tag="y")]) is m),
    "add": _do(_list, lambda m, L: m + [L.Leaf(tag="x")]),
    "empty": _do(lambda L: L.ModuleList(), lambda m, L: (len(m), list(m))),
    "no_forward": _do(_list, lambda m, L: m(L.tensor(np.ones(1, np.float32)))),
}


@pytest.mark.parametrize("op", MODULE_LIST_OPS)
def test_module_list_matches_torch(op):
    same_in_both(MODULE_LIST_OPS[op])


def _dict(L):
    return L.ModuleDict({k: L.Leaf(tag=k) for k in ("b", "a", "c")})


MODULE_DICT_OPS = {
    "getitem": _do(_dict, lambda d, L: d["a"]),
    "getitem_missing": _do(_dict, lambda d, L: d["z"]),
    "keys_values_items": _do(
        _dict, lambda d, L: (list(d.keys()), list(d.values()), [(k, v.tag) for k, v in d.items()])
    ),
    "iter_len_contains": _do(_dict, lambda d, L: (list(d), len(d), "a" in d, "z" in d)),
    "setitem_replaces_in_place": _do(_dict, lambda d, L: d.__setitem__("b", L.Leaf(tag="new"))),
    "setitem_new": _do(_dict, lambda d, L: d.__setitem__("z", L.Leaf(tag="z"))),
    "delitem": _do(_dict, lambda d, L: d.__delitem__("a")),
    "pop": _do(_dict, lambda d, L: d.pop("c")),
    "clear": _do(_dict, lambda d, L: d.clear()),
    "update_dict": _do(_dict, lambda d, L: d.update({"a": L.Leaf(tag="A"), "d": L.Leaf(tag="d")})),
    "update_pairs": _do(
        _dict, lambda d, L: d.update([("e", L.Leaf(tag="e")), ["f", L.Leaf(tag="f")]])
    ),
    "update_module_dict": _do(_dict, lambda d, L: d.update(L.ModuleDict({"g": L.Leaf(tag="g")}))),
    "update_not_iterable": _do(_dict, lambda d, L: d.update(3)),
    "update_bad_pair": _do(_dict, lambda d, L: d.update([("a", L.Leaf(), 1)])),
    "update_not_a_pair": _do(_dict, lambda d, L: d.update([3])),
    "update_not_module": _do(_dict, lambda d, L: d.update({"a": 3})),
    "from_pairs": _do(lambda L: L.ModuleDict([("x", L.Leaf(tag="x"))]), lambda d, L: len(d)),
}


@pytest.mark.parametrize("op", MODULE_DICT_OPS)
def test_module_dict_matches_torch(op):
    same_in_both(MODULE_DICT_OPS[op])


def test_container_errors_say_what_was_wrong():
    with pytest.raises(IndexError, match="Sequential: index 4 is out of range"):
        Sequential(G.Leaf())[4]
    with pytest.raises(
        TypeError, match="ModuleList.extend expects an iterable of modules, got int"
    ):
        ModuleList().extend(3)
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        ModuleDict([("a", G.Leaf(), 1)])
