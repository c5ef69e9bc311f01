"""The dispatch point: every op passes through it, observers see the outermost ops (also under
no_grad, per thread), and kernels registered for a kind of input replace an op's own code."""

import threading

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F
from glassnet import dispatch, nn, ops
from glassnet.dispatch import op, recording, register_kernel


def test_every_public_op_goes_through_the_dispatch_point():
    helpers = {"raw", "operands", "as_tensor", "result_dtype"}  # not ops: argument plumbing
    seen = 0
    for namespace in (F, ops):
        for name in dir(namespace):
            fn = getattr(namespace, name)
            module = getattr(fn, "__module__", "") or ""
            if name.startswith("_") or not callable(fn) or isinstance(fn, type):
                continue
            if not module.startswith("glassnet.ops.") or name in helpers:
                continue
            seen += 1
            assert hasattr(fn, "op_name"), f"{module}.{name} bypasses the dispatch point"
    assert seen > 60


def test_recording_sees_the_outermost_ops_of_a_forward_pass_with_and_without_grad():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = gn.randn(5, 4)
    with recording() as calls:
        model(x)
    assert [c.name for c in calls] == ["linear", "relu", "linear"]
    with gn.no_grad(), recording() as calls:
        out = model(x)
    assert [c.name for c in calls] == ["linear", "relu", "linear"]
    assert calls[-1].result is out and calls[0].args[0] is x
    with recording() as calls:
        (x > 0).float().sum(dim=1)
    assert [c.name for c in calls] == ["gt", "astype", "sum"]
    assert calls[-1].args[1] == 1  # the attributes are there for an exporter


def test_observers_belong_to_their_thread():
    seen = []
    done = threading.Event()

    def other():
        gn.ones(3) * 2
        done.set()

    with recording() as calls:
        thread = threading.Thread(target=other, daemon=True)
        thread.start()
        assert done.wait(30), "the other thread did not finish in 30 s"
        thread.join(30)
        gn.ones(2) + 1
    seen = [c.name for c in calls]
    assert seen == ["add"]


def test_a_kernel_for_one_kind_of_input_replaces_the_ops_own_code():
    @op("test_twice")
    def twice(x):
        return gn.Tensor(x.data * 2)

    @register_kernel("test_twice", "meta")
    def twice_meta(x):
        return "meta kernel"

    assert np.array_equal(twice(gn.ones(2)).data, [2.0, 2.0])
    with gn.device("meta"):
        assert twice(gn.ones(2)) == "meta kernel"
    assert set(dispatch.kernels_of("test_twice")) == {"meta"}
    with pytest.raises(ValueError, match="already has a 'meta' kernel"):
        register_kernel("test_twice", "meta")(twice_meta)
    with pytest.raises(ValueError, match="defined twice"):
        op("test_twice")(twice)


def test_convolution_and_pooling_shapes_on_meta_come_from_their_meta_kernels():
    for name in ("convolution", "conv_transpose2d", "max_pool", "avg_pool", "interpolate"):
        assert "meta" in dispatch.kernels_of(name), name
    with gn.device("meta"):
        conv = nn.Conv2d(3, 8, 3, padding=1)
        x = gn.ones(2, 3, 16, 16)
        y = F.max_pool2d(conv(x), 2)
        up = F.interpolate(y, scale_factor=2)
    assert y.shape == (2, 8, 8, 8) and y.device == "meta"
    assert up.shape == (2, 8, 16, 16)
    real = gn.ones(2, 3, 16, 16)
    with pytest.raises(RuntimeError, match="meta and cpu"):
        conv(real)  # a meta weight with a real input: two devices
