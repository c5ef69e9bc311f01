"""The meta device: layers and tensors with shapes but no values, and the guide's scale figures
counted without allocating them."""

import tracemalloc

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import nn
from glassnet.explain import count_parameters, summary
from glassnet.meta import MetaArray, MetaTensorError
from glassnet.models import SmallCNN


def peak_bytes(fn):
    """Run `fn` and return (its result, the peak of memory allocated meanwhile, in bytes)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_meta_linear_knows_its_shapes_without_memory():
    def build():
        layer = nn.Linear(3 * 224 * 224, 10**6, device="meta")
        return layer, summary(layer, input_shape=(3 * 224 * 224,))

    (layer, table), peak = peak_bytes(build)
    assert peak < 4 * 2**20  # the weight alone would be 602 GB
    w = layer.weight
    assert w.device == "meta" and w.device.type == "meta" and w.is_meta
    assert w.shape == (10**6, 150528) and w.numel() == 150_528_000_000
    assert w.dtype == np.float32 and w.requires_grad and isinstance(w, nn.Parameter)
    assert table.total_params == 150_529_000_000
    assert table.rows[0].output_shape == [1, 10**6]
    assert "device='meta', size=(1000000, 150528), requires_grad=True" in repr(w)


def test_reading_values_of_a_meta_tensor_is_a_clear_error():
    t = gn.zeros(3, 4, device="meta")
    one = gn.zeros(1, device="meta")
    for read in (
        one.item,
        t.numpy,
        t.tolist,
        lambda: float(one),
        lambda: bool(one),
        lambda: np.asarray(t),
        lambda: np.array(t),
        lambda: t.to("cpu"),
    ):
        with pytest.raises(MetaTensorError, match=r"'meta' device \(shape \((3, 4|1,)\)"):
            read()
    with pytest.raises(MetaTensorError, match="boolean mask"):
        t[t > 0]


def test_ops_on_meta_tensors_give_the_shapes_of_the_real_ops():
    """The same computation on real and on meta tensors: equal shapes and dtypes."""
    rng = np.random.default_rng(0)
    real = {
        "x": gn.tensor(rng.standard_normal((2, 3, 9, 9)).astype(np.float32)),
        "w": gn.tensor(rng.standard_normal((5, 3, 3, 3)).astype(np.float32)),
        "m": gn.tensor(rng.standard_normal((4, 6)).astype(np.float32)),
        "n": gn.tensor(rng.standard_normal((6,)).astype(np.float32)),
    }
    meta = {k: v.to("meta") for k, v in real.items()}
    computations = [
        lambda t: F.conv2d(t["x"], t["w"], stride=2, padding=1),
        lambda t: F.max_pool2d(t["x"], 2, ceil_mode=True),
        lambda t: F.avg_pool2d(t["x"], 3, stride=2, padding=1),
        lambda t: F.adaptive_avg_pool2d(t["x"], (2, 3)),
        lambda t: F.interpolate(t["x"], scale_factor=2),
        lambda t: F.relu(t["x"] + 1.0) * t["x"],
        lambda t: (t["m"] @ t["n"], t["m"].T @ t["m"]),
        lambda t: F.linear(t["m"], t["m"], t["m"][:, 0]),
        lambda t: (t["x"].sum((0, 2)), t["x"].mean(1, keepdim=True), t["x"].max(-1)),
        lambda t: (t["x"].flatten(1), t["x"][0, :, None, 1:5:2], t["x"].permute(0, 2, 3, 1)),
        lambda t: (gn.cat([t["m"], t["m"]], 1), gn.stack([t["n"], t["n"]]), t["m"].argmax(1)),
        lambda t: (t["m"] > 0, t["m"].to(gn.float64), t["m"].exp(), t["m"].softmax(-1)),
    ]

    def flat(out):
        return [x for o in out for x in flat(o)] if isinstance(out, tuple) else [out]

    for i, fn in enumerate(computations):
        expected, got = flat(fn(real)), flat(fn(meta))
        assert [(e.shape, e.dtype) for e in expected] == [(g.shape, g.dtype) for g in got], i
        assert all(g.device == "meta" for g in got), i


def test_meta_layers_validate_shapes_like_real_ones():
    layer = nn.Conv2d(3, 8, 3, device="meta")
    with pytest.raises(ValueError, match="expected input with 3 channels, got 4"):
        layer(gn.zeros(1, 4, 8, 8, device="meta"))
    with pytest.raises(ValueError, match="expected input with last dimension 5"):
        nn.Linear(5, 2, device="meta")(gn.zeros(2, 4, device="meta"))
    with pytest.raises(RuntimeError, match=r"shape .\[4, 2\]. is invalid for input of size 6"):
        gn.zeros(2, 3, device="meta").reshape(4, 2)


def test_default_device_context_and_bad_devices():
    with gn.device("meta") as dev:
        assert dev == "meta" and gn.get_default_device() == "meta"
        conv, bn = nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)
        with gn.device("cpu"):
            real = nn.Linear(2, 2)
        lstm = nn.LSTM(4, 8, num_layers=2)
        attention = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32)
    assert gn.get_default_device() == "cpu"
    assert real.weight.device == "cpu" and nn.Linear(2, 2).weight.device == "cpu"
    for module in (conv, bn, lstm, attention):
        assert all(t.device == "meta" for t in (*module.parameters(), *module.buffers()))
    assert count_parameters(lstm) == count_parameters(nn.LSTM(4, 8, num_layers=2))
    assert repr(gn.device("meta")) == "device(type='meta')"
    for bad in ("cuda", "mps", 0):
        with pytest.raises(TypeError, match="'cpu' or 'meta'"):
            nn.Linear(2, 2, device=bad)
    with pytest.raises(TypeError, match="CPU only"):
        gn.device("cuda:0")


def test_initialising_a_meta_layer_draws_no_random_numbers():
    gn.manual_seed(3)
    expected = gn.randn(5).numpy()
    gn.manual_seed(3)
    for init in (nn.init.orthogonal_, nn.init.trunc_normal_, nn.init.xavier_uniform_):
        init(gn.empty(1000, 1000, device="meta"))
    nn.Embedding(10, 4, padding_idx=0, device="meta")
    nn.GRUCell(3, 5, device="meta")
    np.testing.assert_array_equal(gn.randn(5).numpy(), expected)


def test_module_to_meta_and_back_through_to_empty():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with gn.no_grad():
        before = model.eval()(gn.ones(2, 4)).numpy()
    first = model[0].weight
    assert model.to("meta") is model
    assert model[0].weight is first and first.device == "meta" and first.shape == (8, 4)
    assert model[1].num_batches_tracked.dtype == np.int64
    with pytest.raises(RuntimeError, match="'meta' device.*to_empty"):
        model.load_state_dict(state)
    with pytest.raises(RuntimeError, match="to_empty"):
        model.to("cpu")
    model.to_empty(device="cpu")
    assert model[0].weight is first and first.device == "cpu"
    model.load_state_dict(state)
    with gn.no_grad():
        np.testing.assert_array_equal(model(gn.ones(2, 4)).numpy(), before)


def test_summary_of_a_meta_cnn_matches_the_real_one():
    gn.manual_seed(0)
    real = SmallCNN(in_channels=1, num_classes=10, widths=(8, 16))
    with gn.device("meta"):
        meta = SmallCNN(in_channels=1, num_classes=10, widths=(8, 16))
    a, b = summary(real, input_shape=(1, 8, 8)), summary(meta, input_shape=(1, 8, 8))
    assert str(a) == str(b)


def test_a_meta_tensor_is_an_array_without_values():
    a = MetaArray((3, 4), np.float32)
    assert (a.shape, a.ndim, a.size, a.nbytes, len(a)) == ((3, 4), 2, 12, 48, 3)
    assert (a @ a.T).shape == (3, 3) and np.exp(a).shape == (3, 4)
    assert (a + np.ones(4, np.float64)).dtype == np.float64 and (a + 1).dtype == np.float32
    assert np.add.reduce(a, axis=None).shape == () and np.cumsum(a, 1).shape == (3, 4)
    assert np.pad(a, ((1, 1), (0, 2))).shape == (5, 6)
    with pytest.raises(ValueError, match="mismatch in its core dimension"):
        a @ a
    with pytest.raises(MetaTensorError, match="into an array with values"):
        np.add(a, 1, out=np.empty((3, 4), np.float32))
    with pytest.raises(NotImplementedError, match="numpy.einsum has no shape rule"):
        np.einsum("ij->i", a)
    with pytest.raises(ValueError, match="non-negative"):
        MetaArray((2, -1), np.float32)
