"""Recurrent layers and embeddings against torch.nn: RNN (tanh, relu), LSTM and GRU with PyTorch's
weights (outputs, final states, gradients of the input, the initial states and every parameter)
for stacked, bidirectional, batch_first, bias-free, unbatched, float32 and float64 runs; the
lengths= extension against pack_padded_sequence; the cells; Embedding; float64 finite
differences of the sequence ops; state_dict keys; initialisation; dropout; error messages."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import glassnet.nn as nn
import glassnet.nn.functional as F
from glassnet import ops
from glassnet.ops.recurrent import gru_layer, lstm_layer, rnn_layer
from glassnet.random import manual_seed
from glassnet.tensor import Tensor
from torch_compare import FLOATS, gradcheck, random

T, N, I, H = 5, 3, 4, 6  # steps, batch, input features, hidden features
KINDS = {  # name: (layer class name, extra arguments)
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}
CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"batch_first": True},
    {"bias": False},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """torch's tiny recurrent kernels wait on their thread pool for up to a second per call on a
    busy 2-core machine; one thread runs them in milliseconds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tolerances(dtype):
    return (1e-5, 1e-5) if dtype == np.float32 else (1e-10, 1e-11)


def torch_dtype(dtype):
    return torch.float32 if dtype == np.float32 else torch.float64


def pair(cls, *args, dtype=np.float32, seed=0, **kwargs):
    """A torch layer and a glassnet layer with the same weights (torch's, through NumPy)."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(*args, dtype=torch_dtype(dtype), **kwargs)
    ours = getattr(nn, cls)(*args, dtype=dtype, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def as_list(result):
    """(output, h_n) or (output, (h_n, c_n)) as [output, h_n(, c_n)]."""
    out, states = result
    return [out, *states] if isinstance(states, tuple) else [out, states]


def check_run(ours, theirs, x, hx=None, dtype=np.float32, torch_run=None, **kwargs):
    """Run both layers, send the same random gradient into every result, and compare results and
    the gradients of the input, the initial states and every parameter."""
    rtol, atol = tolerances(dtype)
    hx_list = [] if hx is None else list(hx) if isinstance(hx, tuple) else [hx]
    our_in = [Tensor(a.copy(), requires_grad=True) for a in [x, *hx_list]]
    their_in = [torch.tensor(a.copy(), requires_grad=True) for a in [x, *hx_list]]

    def states(inputs):
        if not hx_list:
            return None
        return tuple(inputs[1:]) if len(hx_list) > 1 else inputs[1]

    mine = as_list(ours(our_in[0], states(our_in), **kwargs))
    run = torch_run or (lambda layer, x, h: layer(x, h))
    reference = as_list(run(theirs, their_in[0], states(their_in)))
    our_loss, their_loss = 0.0, 0.0
    for k, (a, b) in enumerate(zip(mine, reference)):
        expected = b.detach().numpy()
        assert a.shape == expected.shape, f"result {k}: shape {a.shape} != {expected.shape}"
        assert a.dtype == dtype
        np.testing.assert_allclose(a.data, expected, rtol, atol, err_msg=f"result {k}")
        upstream = random(a.shape, dtype, seed=10 + k)
        our_loss = our_loss + (a * Tensor(upstream)).sum()
        their_loss = their_loss + (b * torch.tensor(upstream)).sum()
    our_loss.backward()
    their_loss.backward()
    for k, (a, b) in enumerate(zip(our_in, their_in)):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol, atol, err_msg=f"input {k}")
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        assert p.grad.dtype == dtype
        expected = their_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad.data, expected, rtol, atol, err_msg=name)
    return mine


def initial_states(kind, shape, dtype):
    h0 = random(shape, dtype, seed=7)
    return (h0, random(shape, dtype, seed=8)) if kind == "lstm" else h0


# -- the layers against PyTorch -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("with_hx", [False, True], ids=["zeros", "hx"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(c) or "plain")
@pytest.mark.parametrize("kind", KINDS)
def test_layer_matches_torch(kind, config, with_hx, dtype):
    cls, extra = KINDS[kind]
    ours, theirs = pair(cls, I, H, dtype=dtype, **extra, **config)
    x = random((N, T, I) if config.get("batch_first") else (T, N, I), dtype)
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    hx = initial_states(kind, (layers, N, H), dtype) if with_hx else None
    out = check_run(ours, theirs, x, hx, dtype)[0]
    features = H * (2 if config.get("bidirectional") else 1)
    assert out.shape == ((N, T, features) if config.get("batch_first") else (T, N, features))


@pytest.mark.parametrize("with_hx", [False, True], ids=["zeros", "hx"])
@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_matches_torch(kind, with_hx):
    cls, extra = KINDS[kind]
    ours, theirs = pair(cls, I, H, num_layers=2, bidirectional=True, **extra)
    hx = initial_states(kind, (4, H), np.float32) if with_hx else None
    out, h_n = check_run(ours, theirs, random((T, I), np.float32), hx)[:2]
    assert out.shape == (T, 2 * H) and h_n.shape == (4, H)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_lengths_match_pack_padded_sequence(kind, batch_first):
    """lengths= gives what PyTorch gives for a packed batch: zeros after each sequence's end, and
    h_n (c_n) taken at its last real step, in both directions."""
    cls, extra = KINDS[kind]
    config = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    ours, theirs = pair(cls, I, H, **extra, **config)
    lengths = [3, T, 1, 4]  # unsorted, one full-length
    x = random((4, T, I) if batch_first else (T, 4, I), np.float32)

    def packed(layer, x, h):
        out, states = layer(pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False), h)
        return pad_packed_sequence(out, batch_first, total_length=T)[0], states

    hx = initial_states(kind, (4, 4, H), np.float32)
    for with_hx in (None, hx):
        ours.zero_grad()
        theirs.zero_grad()
        out = check_run(ours, theirs, x, with_hx, torch_run=packed, lengths=lengths)[0]
        steps = np.arange(T)[None, :] if batch_first else np.arange(T)[:, None]
        ends = np.array(lengths)[:, None] if batch_first else np.array(lengths)[None, :]
        assert not out.data[steps >= ends].any()


@pytest.mark.parametrize("kind", KINDS)
def test_length_zero_keeps_the_initial_state(kind):
    cls, extra = KINDS[kind]
    layer = getattr(nn, cls)(I, H, bidirectional=True, **extra)
    hx = initial_states(kind, (2, 2, H), np.float32)
    states = tuple(map(Tensor, hx)) if kind == "lstm" else Tensor(hx)
    out, *finals = as_list(layer(Tensor(random((T, 2, I), np.float32)), states, lengths=[0, T]))
    assert not out.data[:, 0].any()
    for final, initial in zip(finals, hx if kind == "lstm" else [hx]):
        np.testing.assert_array_equal(final.data[:, 0], initial[:, 0])


def test_lengths_as_tensor_of_full_length_change_nothing():
    layer = nn.GRU(I, H)
    x = Tensor(random((T, N, I), np.float32))
    expected = layer(x)[0].data
    np.testing.assert_array_equal(layer(x, lengths=Tensor(np.full(N, T)))[0].data, expected)


# -- the sequence ops ------------------------------------------------------------------------------


def weights(gates, dtype=np.float64, hidden=2, inputs=2, bias=True, seed=3):
    shapes = [(gates * hidden, inputs), (gates * hidden, hidden)]
    shapes += [(gates * hidden,)] * (2 if bias else 0)
    return [random(s, dtype, seed=seed + k, scale=0.7) for k, s in enumerate(shapes)]


def joined(*results):
    return ops.cat([r.reshape(-1) for r in results])


MASK = np.array([[1, 1], [1, 0], [0, 0]], dtype=bool)  # (T=3, N=2): lengths 2 and 1


@pytest.mark.parametrize("mask", [None, MASK], ids=["full", "masked"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_ops_gradcheck(kind, reverse, mask):
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    x = random((3, 2, 2), np.float64, seed=1)
    h0 = random((2, 2), np.float64, seed=2)
    c0 = random((2, 2), np.float64, seed=9)
    args = dict(mask=mask, reverse=reverse)
    layers = {
        "rnn_tanh": lambda x, h, *w: rnn_layer(x, h, *w, "tanh", **args),
        "rnn_relu": lambda x, h, *w: rnn_layer(x, h, *w, "relu", **args),
        "lstm": lambda x, h, c, *w: lstm_layer(x, h, c, *w, **args),
        "gru": lambda x, h, *w: gru_layer(x, h, *w, **args),
    }
    states = (h0, c0) if kind == "lstm" else (h0,)
    gradcheck(lambda *a: joined(*layers[kind](*a)), x, *states, *weights(gates))


def test_sequence_op_without_bias_and_initial_state_gradcheck():
    x = random((3, 2, 2), np.float64, seed=1)
    gradcheck(lambda x, *w: joined(*lstm_layer(x, None, None, *w)), x, *weights(4, bias=False))


def count_nodes(t):
    seen, stack = set(), [t]
    while stack:
        t = stack.pop()
        if t._node is not None and id(t) not in seen:
            seen.add(id(t))
            stack.extend(t._node.parents)
    return len(seen)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_graph_does_not_grow_with_the_sequence(cls):
    layer = getattr(nn, cls)(I, H)
    short = count_nodes(layer(Tensor(random((2, N, I), np.float32)))[0])
    long = count_nodes(layer(Tensor(random((40, N, I), np.float32)))[0])
    assert short == long <= 3


def test_backward_twice_with_retain_graph_doubles_the_gradients():
    layer = nn.LSTM(I, H)
    out, (h_n, c_n) = layer(Tensor(random((T, N, I), np.float32)))
    loss = out.sum() + h_n.sum() + (c_n * c_n).sum()
    loss.backward(retain_graph=True)
    first = {n: p.grad.data.copy() for n, p in layer.named_parameters()}
    loss.backward()
    for n, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, 2 * first[n], rtol=1e-6, atol=1e-7)


def test_only_final_state_used_gives_gradients():
    ours, theirs = pair("GRU", I, H)
    x = random((T, N, I), np.float32)
    ours(Tensor(x))[1].sum().backward()
    theirs(torch.tensor(x))[1].sum().backward()
    np.testing.assert_allclose(
        ours.weight_hh_l0.grad.data, theirs.weight_hh_l0.grad.numpy(), rtol=1e-5, atol=1e-6
    )


# -- cells ---------------------------------------------------------------------------------------

CELLS = {
    "rnn_tanh": ("RNNCell", {}),
    "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
    "lstm": ("LSTMCell", {}),
    "gru": ("GRUCell", {}),
}


class _Single:
    """Present a cell's result as (output, states) to `check_run`."""

    def __init__(self, cell):
        self.cell = cell

    def __call__(self, x, hx=None):
        result = self.cell(x, hx)
        return (result[0], result[1:]) if isinstance(result, tuple) else (result, ())

    def named_parameters(self):
        return self.cell.named_parameters()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(N, I), (I,)], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["zeros", "hx"])
@pytest.mark.parametrize("kind", CELLS)
def test_cell_matches_torch(kind, with_hx, shape, bias, dtype):
    cls, extra = CELLS[kind]
    ours, theirs = pair(cls, I, H, bias=bias, dtype=dtype, **extra)
    hx = initial_states(kind, shape[:-1] + (H,), dtype) if with_hx else None
    check_run(_Single(ours), _Single(theirs), random(shape, dtype), hx, dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())


# -- parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [{}, {"num_layers": 3, "bidirectional": True}, {"num_layers": 2, "bias": False}],
    ids=["plain", "3-bidirectional", "2-no-bias"],
)
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_state_dict_moves_both_ways(cls, config):
    ours, theirs = pair(cls, I, H, **config)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shapes = [tuple(p.shape) for p in theirs.parameters()]
    assert [p.shape for p in ours.parameters()] == shapes
    manual_seed(5)
    other = getattr(nn, cls)(I, H, **config)
    back = getattr(torch.nn, cls)(I, H, **config)
    back.load_state_dict({k: torch.tensor(v.data) for k, v in other.state_dict().items()})
    x = random((T, N, I), np.float32)
    np.testing.assert_allclose(
        other(Tensor(x))[0].data, back(torch.tensor(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert [len(w) for w in other.all_weights] == [len(w) for w in back.all_weights]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_default_initialisation_follows_torch(cls):
    manual_seed(0)
    layer = getattr(nn, cls)(30, 400)
    bound = 1 / math.sqrt(400)
    for p in layer.parameters():
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound
    w = layer.weight_hh_l0 if "Cell" not in cls else layer.weight_hh
    assert abs(w.data.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_float64_parameters():
    layer = nn.LSTM(I, H, dtype=np.float64)
    assert all(p.dtype == np.float64 for p in layer.parameters())
    out, (h_n, c_n) = layer(Tensor(random((T, N, I), np.float64)))
    assert out.dtype == h_n.dtype == c_n.dtype == np.float64


def test_repr_like_torch():
    for cls, kwargs in [
        ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
        ("GRU", {"bias": False, "dropout": 0.5, "num_layers": 2}),
        ("RNN", {}),
        ("RNNCell", {"bias": False, "nonlinearity": "relu"}),
        ("LSTMCell", {}),
    ]:
        ours = getattr(nn, cls)(I, H, **kwargs)
        assert repr(ours) == repr(getattr(torch.nn, cls)(I, H, **kwargs))
    assert repr(nn.RNN(I, H, nonlinearity="relu")) == "RNN(4, 6, nonlinearity=relu)"


# -- dropout between layers ----------------------------------------------------------------------


def test_dropout_between_layers_only_in_training():
    layer = nn.LSTM(I, H, num_layers=2, dropout=0.5)
    x = Tensor(random((T, N, I), np.float32))
    manual_seed(1)
    first = layer(x)[0].data
    manual_seed(1)
    np.testing.assert_array_equal(layer(x)[0].data, first)  # seeded: repeatable
    layer.eval()
    evaluated = layer(x)[0].data
    assert not np.allclose(evaluated, first)
    plain = nn.LSTM(I, H, num_layers=2)
    plain.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(plain(x)[0].data, evaluated)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(I, H, dropout=0.2)


# -- errors --------------------------------------------------------------------------------------


def test_wrong_input_features_names_layer_and_shapes():
    with pytest.raises(
        ValueError, match=r"LSTM\(4, 6\): expected input with 4 features .*\(5, 3, 7\)"
    ):
        nn.LSTM(I, H)(Tensor(np.zeros((5, 3, 7), np.float32)))
    with pytest.raises(ValueError, match=r"GRUCell\(4, 6\): expected input with 4 features"):
        nn.GRUCell(I, H)(Tensor(np.zeros((3, 5), np.float32)))


def test_wrong_input_rank():
    with pytest.raises(ValueError, match=r"2-D \(unbatched\) or 3-D \(batched\), got 4-D"):
        nn.RNN(I, H)(Tensor(np.zeros((2, 5, 3, 4), np.float32)))
    with pytest.raises(ValueError, match=r"1-D \(unbatched\) or 2-D \(batched\), got 3-D"):
        nn.RNNCell(I, H)(Tensor(np.zeros((2, 3, 4), np.float32)))


def test_wrong_hidden_state_shape_names_expected_and_actual():
    x = Tensor(np.zeros((T, N, I), np.float32))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 3, 6\), got \(1, 3, 6\)"):
        nn.GRU(I, H, num_layers=2)(x, Tensor(np.zeros((1, N, H), np.float32)))
    h = Tensor(np.zeros((1, N, H), np.float32))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(1, 3, 6\), got \(1, 3, 5\)"):
        nn.LSTM(I, H)(x, (h, Tensor(np.zeros((1, N, 5), np.float32))))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        nn.LSTM(I, H)(x, h)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 6\), got \(1, 1, 6\)"):
        nn.RNN(I, H)(Tensor(np.zeros((T, I), np.float32)), Tensor(np.zeros((1, 1, H), np.float32)))
    with pytest.raises(ValueError, match=r"LSTMCell\(4, 6\): expected c_0 of shape \(3, 6\)"):
        nn.LSTMCell(I, H)(Tensor(np.zeros((N, I), np.float32)), (h[0], h[0, :, :5]))


def test_bad_lengths():
    x = Tensor(np.zeros((T, N, I), np.float32))
    with pytest.raises(ValueError, match=r"lengths must lie between 0 and the sequence length 5"):
        nn.LSTM(I, H)(x, lengths=[1, 6, 2])
    with pytest.raises(ValueError, match=r"one integer per sequence, shape \(3,\)"):
        nn.LSTM(I, H)(x, lengths=[1, 2])


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"LSTM: dropout must be in \[0, 1\], got 1.5"):
        nn.LSTM(I, H, dropout=1.5)
    with pytest.raises(ValueError, match="GRU: hidden_size must be a positive integer, got 0"):
        nn.GRU(I, 0)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(I, H, proj_size=2)


def test_dtype_mismatch_is_a_clear_error():
    with pytest.raises(TypeError, match="input has dtype float64 but weight_ih has dtype float32"):
        nn.GRU(I, H)(Tensor(np.zeros((T, N, I))))


# -- Embedding -----------------------------------------------------------------------------------

INDICES = np.array([[1, 2, 4, 2], [4, 0, 2, 9]])  # repeated indices and padding


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "options",
    [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True, "padding_idx": 0}],
    ids=["plain", "padding", "negative-padding", "freq"],
)
def test_embedding_matches_torch(options, dtype):
    ours, theirs = pair("Embedding", 10, 3, dtype=dtype, **options)
    rtol, atol = tolerances(dtype)
    out = ours(Tensor(INDICES))
    expected = theirs(torch.tensor(INDICES))
    assert out.dtype == dtype and out.shape == (2, 4, 3)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol, atol)
    upstream = random(out.shape, dtype)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol, atol)
    if "padding_idx" in options:
        assert not ours.weight.grad.data[options["padding_idx"]].any()
    assert ours.padding_idx == theirs.padding_idx


def test_embedding_of_no_indices_and_of_many():
    weight = random((50, 4), np.float64)
    for idx in (np.zeros((0,), np.int64), np.random.default_rng(0).integers(0, 50, (64, 33))):
        ours = Tensor(weight.copy(), requires_grad=True)
        theirs = torch.tensor(weight.copy(), requires_grad=True)
        upstream = random((*idx.shape, 4), np.float64, seed=3)
        F.embedding(Tensor(idx), ours).backward(Tensor(upstream))
        TF.embedding(torch.tensor(idx), theirs).backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_embedding_max_norm_matches_torch():
    ours, theirs = pair("Embedding", 10, 3, max_norm=1.0)
    out = ours(Tensor(INDICES))
    expected = theirs(torch.tensor(INDICES)).detach().numpy()
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-5)


def test_functional_embedding_matches_torch():
    weight = random((6, 2), np.float64)
    ours = Tensor(weight.copy(), requires_grad=True)
    theirs = torch.tensor(weight.copy(), requires_grad=True)
    idx = np.array([0, 5, 5, 1])
    F.embedding(Tensor(idx), ours, padding_idx=5).sum().backward()
    TF.embedding(torch.tensor(idx), theirs, padding_idx=5).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())


def test_embedding_initialisation_and_padding_row():
    manual_seed(0)
    layer = nn.Embedding(1000, 64, padding_idx=3)
    w = layer.weight.data
    assert w.dtype == np.float32 and not w[3].any()
    assert abs(w.std() - 1.0) < 0.02 and abs(w.mean()) < 0.02
    assert list(layer.state_dict()) == ["weight"]
    assert repr(layer) == repr(torch.nn.Embedding(1000, 64, padding_idx=3))


def test_embedding_from_pretrained():
    table = random((5, 2), np.float32)
    frozen = nn.Embedding.from_pretrained(Tensor(table))
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(Tensor(np.array([4, 0]))).data, table[[4, 0]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    np.testing.assert_array_equal(trainable.weight.data, table)  # not zeroed, as in PyTorch


def test_embedding_errors():
    layer = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"Embedding\(10, 3\): index 10 is out of range for 10 "):
        layer(Tensor(np.array([1, 10])))
    with pytest.raises(IndexError, match=r"index -1 is out of range .*valid indices are 0 to 9"):
        layer(Tensor(np.array([-1, 2])))
    with pytest.raises(TypeError, match="expected integer indices"):
        layer(Tensor(np.array([1.0, 2.0])))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=10)


def test_embedding_feeds_an_lstm():
    """The usual text model: Embedding -> LSTM -> Linear, trained one step without warnings."""
    manual_seed(0)
    emb = nn.Embedding(20, 8, padding_idx=0)
    lstm = nn.LSTM(8, 16, batch_first=True)
    head = nn.Linear(16, 20)
    tokens = Tensor(np.random.default_rng(0).integers(0, 20, (4, 7)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (h_n, _) = lstm(emb(tokens), lengths=[7, 5, 3, 7])
        F.cross_entropy(head(h_n[0]), Tensor(np.array([1, 2, 3, 4]))).backward()
    assert emb.weight.grad.dtype == np.float32 and not emb.weight.grad.data[0].any()
