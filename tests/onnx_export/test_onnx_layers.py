"""Every layer glassnet has, exported to ONNX, checked by onnx.checker and run by ONNX Runtime
on new inputs (another batch size, another length where the axis is dynamic): the outputs equal
glassnet's within 1e-5."""

import numpy as np
import pytest
from onnx_check import check_export

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn

BATCH = {"input": {0: "batch"}}


class Lambda(nn.Module):
    """A module around a function of its inputs: for ops that no layer wraps."""

    def __init__(self, fn, *modules):
        super().__init__()
        self.fn = fn
        self.parts = nn.ModuleList(list(modules))

    def forward(self, *xs):
        return self.fn(*xs)


def _trained_batch_norm(layer, shape):
    """A batch norm with running statistics that are not 0 and 1, and a weight and bias."""
    layer.train()
    for _ in range(3):
        layer(gn.randn(*shape) * 3 + 1)
    with gn.no_grad():
        layer.weight.copy_(gn.rand(layer.weight.shape[0]) + 0.5)
        layer.bias.copy_(gn.randn(layer.bias.shape[0]))
    return layer


ACTIVATIONS = [
    nn.ReLU(),
    nn.Sigmoid(),
    nn.Tanh(),
    nn.GELU(),
    nn.GELU(approximate="tanh"),
    nn.LeakyReLU(0.2),
    nn.ELU(0.5),
    nn.Softplus(beta=2.0, threshold=3.0),
    nn.SiLU(),
    nn.Mish(),
    nn.Hardtanh(-0.5, 0.7),
    nn.ReLU6(),
    nn.Softmax(dim=1),
    nn.LogSoftmax(dim=-1),
]


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=lambda m: type(m).__name__)
def test_activations(layer, tmp_path):
    model = nn.Sequential(nn.Linear(6, 5), layer)
    x, new = gn.randn(4, 6) * 4, gn.randn(9, 6) * 4
    check_export(model, (x,), (new,), tmp_path / "m.onnx", dynamic_axes=BATCH)


@pytest.mark.parametrize("opset", [17, 20])
def test_gelu_written_out_before_opset_20_and_as_gelu_after(opset, tmp_path):
    model = nn.Sequential(nn.GELU(), nn.GELU(approximate="tanh"))
    path = check_export(model, (gn.randn(3, 7) * 3,), None, tmp_path / "m.onnx", opset=opset)
    import onnx

    kinds = {n.op_type for n in onnx.load(path).graph.node}
    assert ("Gelu" in kinds) == (opset >= 20)


CONVOLUTIONS = {
    "conv1d_groups_dilation": (
        nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
        (2, 4, 17),
    ),
    "conv1d_same": (nn.Conv1d(3, 5, 4, padding="same"), (2, 3, 11)),
    "conv2d_groups_dilation": (
        nn.Conv2d(4, 8, 3, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=4),
        (2, 4, 11, 9),
    ),
    "conv2d_same": (nn.Conv2d(2, 3, (3, 4), padding="same", bias=False), (2, 2, 7, 8)),
    "conv_transpose2d": (
        nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        (2, 4, 5, 6),
    ),
    "conv_transpose2d_dilation": (nn.ConvTranspose2d(3, 2, 2, stride=3, dilation=2), (2, 3, 4, 4)),
    "max_pool2d": (nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 8)),
    "max_pool2d_ceil": (nn.MaxPool2d(2, ceil_mode=True), (2, 3, 7, 7)),
    "max_pool1d": (nn.MaxPool1d(3, stride=2), (2, 3, 12)),
    "avg_pool2d": (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 8)),
    "avg_pool2d_include_pad": (nn.AvgPool2d(2, padding=1), (2, 3, 6, 7)),
    "avg_pool1d": (nn.AvgPool1d(2), (2, 3, 10)),
    "adaptive_avg_pool_1x1": (nn.AdaptiveAvgPool2d(1), (2, 3, 7, 5)),
    "adaptive_avg_pool_2x2": (nn.AdaptiveAvgPool2d((2, 2)), (2, 3, 8, 6)),
    "upsample_nearest": (nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    "upsample_size": (nn.Upsample(size=(7, 9)), (2, 3, 4, 5)),
}


@pytest.mark.parametrize("name", CONVOLUTIONS)
def test_convolution_and_pooling(name, tmp_path):
    layer, shape = CONVOLUTIONS[name]
    x, new = gn.randn(*shape), gn.randn(5, *shape[1:])
    check_export(layer, (x,), (new,), tmp_path / "m.onnx", dynamic_axes=BATCH)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.BatchNorm1d(5), (6, 5)),
        (nn.BatchNorm1d(4), (6, 4, 7)),
        (nn.BatchNorm2d(3), (4, 3, 5, 6)),
        (nn.LayerNorm(6), (3, 4, 6)),
        (nn.LayerNorm((4, 6), elementwise_affine=False), (3, 4, 6)),
        (nn.RMSNorm(6), (3, 4, 6)),
        (nn.RMSNorm((4, 6), eps=1e-3), (3, 4, 6)),
        (nn.Dropout(0.5), (3, 4)),
        (nn.Dropout2d(0.3), (2, 3, 4, 4)),
        (nn.Flatten(), (3, 2, 4, 5)),
        (nn.Unflatten(1, (2, 3)), (4, 6)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else str(v),
)
def test_normalization_dropout_and_reshaping_layers(layer, shape, tmp_path):
    if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
        layer = _trained_batch_norm(layer, (8, *shape[1:]))
    x, new = gn.randn(*shape), gn.randn(7, *shape[1:])
    check_export(layer, (x,), (new,), tmp_path / "m.onnx", dynamic_axes=BATCH)


def test_embedding_with_dynamic_batch_and_length(tmp_path):
    layer = nn.Embedding(11, 4, padding_idx=0)
    x, new = gn.randint(0, 11, (2, 5)), gn.randint(0, 11, (3, 8))
    axes = {"input": {0: "batch", 1: "length"}}
    check_export(layer, (x,), (new,), tmp_path / "m.onnx", dynamic_axes=axes)


RECURRENT = {
    "rnn_tanh": lambda: nn.RNN(3, 5),
    "rnn_relu_2_layers_bidirectional": lambda: nn.RNN(
        3, 5, 2, nonlinearity="relu", bidirectional=True
    ),
    "lstm_2_layers": lambda: nn.LSTM(3, 5, 2),
    "lstm_bidirectional_batch_first": lambda: nn.LSTM(
        3, 4, 2, batch_first=True, bidirectional=True
    ),
    "lstm_no_bias": lambda: nn.LSTM(3, 4, bias=False),
    "gru_2_layers_bidirectional": lambda: nn.GRU(3, 5, 2, bidirectional=True),
    "gru_batch_first": lambda: nn.GRU(3, 4, batch_first=True),
}


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_layers_with_dynamic_length_and_batch(name, tmp_path):
    layer = RECURRENT[name]()
    time_axis, batch_axis = (1, 0) if layer.batch_first else (0, 1)
    shape = [0, 0, 3]
    shape[time_axis], shape[batch_axis] = 6, 2
    new_shape = list(shape)
    new_shape[time_axis], new_shape[batch_axis] = 9, 4
    axes = {"input": {batch_axis: "batch", time_axis: "time"}}
    check_export(
        layer, (gn.randn(*shape),), (gn.randn(*new_shape),), tmp_path / "m.onnx", dynamic_axes=axes
    )


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_layers_with_initial_states(cell, tmp_path):
    layer = (
        nn.LSTM(3, 4, 2, bidirectional=True)
        if cell == "lstm"
        else nn.GRU(3, 4, 2, bidirectional=True)
    )
    states = (gn.randn(4, 2, 4), gn.randn(4, 2, 4)) if cell == "lstm" else (gn.randn(4, 2, 4),)
    model = Lambda(lambda x, *s: layer(x, s if len(s) > 1 else s[0]), layer)
    new_states = tuple(gn.randn(4, 2, 4) for _ in states)
    check_export(
        model,
        (gn.randn(5, 2, 3), *states),
        (gn.randn(7, 2, 3), *new_states),
        tmp_path / "m.onnx",
        dynamic_axes={"input_0": {0: "time"}},
    )


def test_scaled_dot_product_attention_causal_masked_and_scaled(tmp_path):
    def attend(q, k, v, mask):
        causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        masked = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.3)
        return causal, masked

    shapes = [(2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6)]
    example = (*(gn.randn(*s) for s in shapes), gn.randn(5, 5))
    new = (*(gn.randn(*s) for s in shapes), gn.randn(5, 5))
    check_export(Lambda(attend), example, new, tmp_path / "m.onnx")


def test_causal_attention_takes_any_length(tmp_path):
    model = Lambda(lambda q: F.scaled_dot_product_attention(q, q, q, is_causal=True))
    axes = {"input": {0: "batch", 2: "length"}}
    check_export(
        model,
        (gn.randn(2, 2, 6, 4),),
        (gn.randn(3, 2, 9, 4),),
        tmp_path / "m.onnx",
        dynamic_axes=axes,
    )


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_self_and_cross(batch_first, tmp_path):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    cross = nn.MultiheadAttention(8, 4, kdim=6, vdim=5, batch_first=batch_first)

    def attend(x, memory_k, memory_v):
        own, weights = mha(x, x, x)
        other, _ = cross(own, memory_k, memory_v, need_weights=False)
        return other, weights

    def inputs(n, length, source):
        shape = (n, length) if batch_first else (length, n)
        memory = (n, source) if batch_first else (source, n)
        return gn.randn(*shape, 8), gn.randn(*memory, 6), gn.randn(*memory, 5)

    check_export(Lambda(attend, mha, cross), inputs(2, 5, 4), inputs(2, 5, 4), tmp_path / "m.onnx")


def test_transformer_encoder_layer_post_norm_relu(tmp_path):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    axes = {"input": {0: "batch", 1: "length"}}
    check_export(
        layer, (gn.randn(2, 5, 8),), (gn.randn(3, 7, 8),), tmp_path / "m.onnx", dynamic_axes=axes
    )


def test_reshape_transpose_cat_slicing_and_indexing(tmp_path):
    def shapes(x, y):
        n = x.shape[0]
        a = x.reshape(n, 3, 4).transpose(1, 2)  # (N, 4, 3)
        b = gn.cat([a, y.unsqueeze(2)], dim=2)  # (N, 4, 4)
        c = b[:, 1:3, ::2] * 2.0 - b[:, :2, 1::2]  # slices with steps
        d = b[..., -1] + b[:, 0, None, :].squeeze(1)  # an int, None and Ellipsis
        e = gn.stack([d, d.flip(1)], dim=1).permute(0, 2, 1).flatten(1)
        f = b[:, [3, 0, 2]].sum(dim=(1, 2), keepdim=True) + b.mean(dim=-1).amax(dim=1, keepdim=True)
        pieces = x.split([5, 7], dim=1)
        g = pieces[1][:, :5] - pieces[0] + x.chunk(3, dim=1)[2][:, :1]
        return c, e, f, g, gn.where(g > 0, g, g.exp() - 1).clamp(-0.5, 0.5), x.max(dim=1)[0]

    x, y = gn.randn(2, 12), gn.randn(2, 4)
    new = (gn.randn(5, 12), gn.randn(5, 4))
    axes = {"input_0": {0: "batch"}, "input_1": {0: "batch"}}
    check_export(Lambda(shapes), (x, y), new, tmp_path / "m.onnx", dynamic_axes=axes)


def test_elementwise_math(tmp_path):
    def math(x):
        positive = x.abs() + 0.1
        return (
            positive.log() + positive.sqrt() - x.exp() / (1.0 + positive),
            x.sin() * x.cos() + x.sign() + x.floor() - x.ceil() + x.round(),
            x.pow(2) + F.relu(x).log1p() + gn.maximum(x, x * 0.5) + gn.minimum(x, 0.3),
            x.softmax(-1).sum(dim=1) + x.var(dim=1) + x.std(dim=0).sum() + x.logsumexp(dim=1),
            (x > 0.2).float() + (x <= -0.1).float() + (x != 0.5).float(),
            x.argmax(dim=1),
            x.argmin(dim=0, keepdim=True),
        )

    check_export(Lambda(math), (gn.randn(3, 5) * 2,), (gn.randn(3, 5) * 2,), tmp_path / "m.onnx")


def test_float64_models_export_in_float64(tmp_path):
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.LayerNorm(6), nn.Linear(6, 2)).double()
    x = gn.randn(3, 4).double()
    check_export(
        model, (x,), (gn.randn(5, 4).double(),), tmp_path / "m.onnx", dynamic_axes=BATCH, atol=1e-10
    )


def test_a_parameter_used_twice_is_stored_once(tmp_path):
    import onnx

    gpt_like = nn.Module()
    gpt_like.emb = nn.Embedding(7, 4)
    gpt_like.head = nn.Linear(4, 7, bias=False)
    gpt_like.head.weight = gpt_like.emb.weight
    model = Lambda(lambda i: gpt_like.head(gpt_like.emb(i)), gpt_like)
    path = check_export(model, (gn.randint(0, 7, (2, 3)),), None, tmp_path / "m.onnx")
    names = [t.name for t in onnx.load(path).graph.initializer]
    assert sum("weight" in n for n in names) == 1
    np.testing.assert_array_equal(
        onnx.numpy_helper.to_array(
            next(t for t in onnx.load(path).graph.initializer if "weight" in t.name)
        ),
        gpt_like.emb.weight.data,
    )


def test_norms_and_truth_reductions(tmp_path):
    def reductions(x):
        return (
            x.norm(),
            x.norm(p=1, dim=1),
            x.norm(p=3, dim=0, keepdim=True),
            x.norm(p=float("inf"), dim=1),
            x.norm(p=0, dim=1),
            (x > 0).all(dim=1),
            (x > 1).any(dim=0, keepdim=True),
            x.all(),
        )

    x = gn.randn(4, 5)
    x[0, 0] = 0.0
    check_export(Lambda(reductions), (x,), None, tmp_path / "m.onnx")


def test_every_op_exports_but_losses_and_in_place_writes():
    """Losses are for training, setitem writes in place; max_pool and avg_pool are the inner
    ops of the pooling ops (never outermost when called through them)."""
    from glassnet.dispatch import OPS
    from glassnet.onnx.registry import CONVERTERS

    missing = {name for name in OPS if name not in CONVERTERS and not name.endswith("_loss")}
    losses = {"binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy"}
    assert missing == losses | {"kl_div", "setitem", "max_pool", "avg_pool"}
