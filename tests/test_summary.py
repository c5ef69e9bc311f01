"""summary(): output shapes and parameter counts per layer, totals as torch counts them."""

import io

import numpy as np
import pytest
import torch

import glassnet.dtypes as dtypes
from glassnet.explain import count_parameters, print_summary, summary
from glassnet.models import MLP
from glassnet.nn.container import Sequential
from glassnet.nn.layers import Dropout, Flatten, Linear, ReLU, Sigmoid, Tanh
from glassnet.nn.module import Module
from glassnet.nn.parameter import Parameter
from glassnet.tensor import Tensor

EXPECTED_TABLE = """\
Layer (type)         Output Shape       Param #
==================================================
0 (Linear)           [1, 128]           8,320
1 (ReLU)             [1, 128]           0
2 (Linear)           [1, 10]            1,290
==================================================
Total params: 9,610
Trainable params: 9,610
Non-trainable params: 0"""


def torch_count(net):
    return sum(p.numel() for p in net.parameters())


def test_mlp_table_matches_keras_layout():
    result = summary(MLP([64, 128, 10]), input_shape=(64,))
    assert str(result) == EXPECTED_TABLE
    assert [(r.name, r.type, r.output_shape, r.params) for r in result.rows] == [
        ("0", "Linear", [1, 128], 8320),
        ("1", "ReLU", [1, 128], 0),
        ("2", "Linear", [1, 10], 1290),
    ]
    assert (result.total_params, result.trainable_params, result.non_trainable_params) == (
        9610,
        9610,
        0,
    )
    assert result.total_params == torch_count(
        torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    )


def test_batch_size_int_shape_and_given_input():
    model = MLP([3, 5, 2], dropout=0.1)
    by_shape = summary(model, input_shape=3, batch_size=8)
    assert [r.output_shape for r in by_shape.rows] == [[8, 5], [8, 5], [8, 5], [8, 2]]
    by_input = summary(model, input=Tensor(np.ones((4, 6, 3), dtype=np.float32)))
    assert by_input.rows[-1].output_shape == [4, 6, 2]


def nested_pair():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.Tanh()),
        torch.nn.Sequential(
            torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU()), torch.nn.Dropout(0.2)
        ),
        torch.nn.Linear(8, 1),
        torch.nn.Sigmoid(),
    )
    model = Sequential(
        Flatten(),
        Sequential(Linear(12, 16), Tanh()),
        Sequential(Sequential(Linear(16, 8), ReLU()), Dropout(0.2)),
        Linear(8, 1),
        Sigmoid(),
    )
    return net, model


def test_nested_sequential_names_shapes_and_total_match_torch():
    net, model = nested_pair()
    result = summary(model, input_shape=(3, 4), batch_size=2)
    assert [(r.name, r.type, r.output_shape) for r in result.rows] == [
        ("0", "Flatten", [2, 12]),
        ("1.0", "Linear", [2, 16]),
        ("1.1", "Tanh", [2, 16]),
        ("2.0.0", "Linear", [2, 8]),
        ("2.0.1", "ReLU", [2, 8]),
        ("2.1", "Dropout", [2, 8]),
        ("3", "Linear", [2, 1]),
        ("4", "Sigmoid", [2, 1]),
    ]
    assert [r.params for r in result.rows] == [0, 208, 0, 136, 0, 0, 9, 0]
    assert result.total_params == torch_count(net) == 353
    assert count_parameters(model) == torch_count(net)
    # torch gives the same shapes for every leaf
    shapes = {}
    hooks = [
        m.register_forward_hook(lambda m, i, o, n=n: shapes.setdefault(n, list(o.shape)) and None)
        for n, m in net.named_modules()
        if not list(m.children())
    ]
    net(torch.zeros(2, 3, 4))
    for h in hooks:
        h.remove()
    assert {r.name: r.output_shape for r in result.rows} == shapes


def test_long_names_widen_columns():
    model = Sequential(Sequential(Sequential(Linear(2, 1000), ReLU())))
    model.add_module("a_rather_long_layer_name", Linear(1000, 3))
    table = str(summary(model, input_shape=(2,), batch_size=123456))
    header, rule, *body = table.splitlines()
    label = "a_rather_long_layer_name (Linear)"
    assert any(line.startswith(label + " ") for line in body)
    assert header.index("Output Shape") == len(label) + 1
    assert len(rule) == header.index("Param #") + 10
    assert "[123456, 1000]" in table and "3,003" in table


class Scaled(Module):
    """A container that owns a parameter itself and shares a Linear layer between two calls."""

    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.ones(4, dtype=np.float32))
        self.shared = Linear(4, 4)
        self.unused = Linear(4, 2)

    def forward(self, x):
        return self.shared(self.shared(x)) * self.scale


def test_containers_with_own_parameters_repeated_calls_and_unused_layers():
    model = Scaled()
    result = summary(model, input_shape=(4,))
    assert [(r.name, r.type, r.output_shape, r.params) for r in result.rows] == [
        ("shared", "Linear", [1, 4], 20),
        ("shared", "Linear", [1, 4], 20),
        ("Scaled", "Scaled", [1, 4], 4),
        ("unused", "Linear", "--", 10),
    ]
    assert result.total_params == 34 == count_parameters(model)


def test_shared_parameters_counted_once_in_totals():
    first = Linear(5, 5)
    second = Linear(5, 5)
    second.weight = first.weight  # tied weights, as in a language model's embedding and output
    model = Sequential(first, ReLU(), second)
    result = summary(model, input_shape=(5,))
    assert [r.params for r in result.rows] == [30, 0, 30]
    assert result.total_params == 35 == count_parameters(model)

    t_first, t_second = torch.nn.Linear(5, 5), torch.nn.Linear(5, 5)
    t_second.weight = t_first.weight
    assert torch_count(torch.nn.Sequential(t_first, torch.nn.ReLU(), t_second)) == 35


def test_frozen_parameters_are_non_trainable():
    model = MLP([4, 3, 2])
    model[0].weight.requires_grad_(False)
    result = summary(model, input_shape=(4,))
    assert result.total_params == 23
    assert result.trainable_params == 11 == count_parameters(model, trainable_only=True)
    assert result.non_trainable_params == 12
    assert "Non-trainable params: 12" in str(result)


def test_model_left_unchanged():
    model = MLP([4, 3, 2], dropout=0.5)
    model[2].eval()  # a mixed state must survive
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    summary(model, input_shape=(4,))
    assert model.training and model[0].training and not model[2].training
    assert calls == [1]
    summary(model, input_shape=(4,))
    assert calls == [1, 1]  # our hooks were removed; the user's stays
    assert all(p.grad is None for p in model.parameters())


def test_integer_input_dtype_and_print_summary():
    class Embed(Module):
        def __init__(self):
            super().__init__()
            self.table = Parameter(np.ones((10, 3), dtype=np.float32))

        def forward(self, ids):
            assert ids.dtype == np.int64
            return Tensor(self.table.data[ids.data])

    out = io.StringIO()
    result = print_summary(Embed(), input_shape=(7,), dtype=dtypes.int64, file=out)
    assert out.getvalue() == str(result) + "\n"
    assert result.rows[0].output_shape == [1, 7, 3]


def test_errors():
    model = MLP([4, 2])
    with pytest.raises(ValueError, match="exactly one of input_shape"):
        summary(model)
    with pytest.raises(ValueError, match="exactly one of input_shape"):
        summary(model, input_shape=(4,), input=Tensor(np.zeros((1, 4))))
    with pytest.raises(ValueError, match=r"input_shape must be positive ints.*\(0, 4\)"):
        summary(model, input_shape=(0, 4))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        summary(model, input_shape=(4,), batch_size=0)
    with pytest.raises(TypeError, match="input.0. must be a Tensor, got ndarray"):
        summary(model, input=np.zeros((1, 4)))
    with pytest.raises(RuntimeError, match=r"forward pass of MLP on an input of shape \(1, 5\)"):
        summary(model, input_shape=(5,))
    assert model.training


def test_count_parameters():
    model = MLP([10, 20, 5])
    assert count_parameters(model) == 10 * 20 + 20 + 20 * 5 + 5
    model[2].bias.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == count_parameters(model) - 5
