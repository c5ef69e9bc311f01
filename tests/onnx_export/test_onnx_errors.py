"""What the exporter refuses or warns about, and how it says so: a model in training mode (warned,
exported in eval mode, its mode restored), an op without an ONNX equivalent (named, with its
layer), control flow on values (two runs record different ops), tensors made outside the traced
ops that depend on the input, in-place changes, bad arguments; tracing belongs to its thread, and
a failed export leaves the previous file whole."""

import threading

import numpy as np
import onnx
import pytest
from onnx_check import check_export, glassnet_outputs, onnx_outputs

import glassnet as gn
import glassnet.onnx
from glassnet import nn
from glassnet.onnx import OnnxExportError
from glassnet.onnx.export import _varied_inputs


class Branchy(nn.Module):
    """Takes a different path depending on the input's values."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        y = self.fc(x)
        if float(x[0, 0]) > float(x[0, 1]):
            return y.relu()
        return y.tanh()


class Sorter(nn.Module):
    """Uses an op ONNX export does not cover (setitem writes into a tensor in place)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 3), Inner())

    def forward(self, x):
        return self.body(x)


class Inner(nn.Module):
    def forward(self, x):
        x = x * 1.0
        x[:, 0] = 0.0
        return x


class Leaky(nn.Module):
    """Builds a tensor from the input's numbers behind the tracer's back (through .numpy())."""

    def forward(self, x):
        return x + gn.Tensor(x.numpy() * 2)


def test_a_model_in_training_mode_is_warned_about_and_exported_in_eval_mode(tmp_path):
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    model(gn.randn(16, 4))
    x = gn.randn(5, 4)
    with pytest.warns(UserWarning, match="training mode.*eval mode"):
        path = glassnet.onnx.export(model, x, tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())  # restored
    model.eval()
    np.testing.assert_allclose(
        onnx_outputs(path, (x,))[0], glassnet_outputs(model, (x,))[0], atol=1e-5
    )


def test_an_unsupported_op_names_the_op_and_the_layer(tmp_path):
    with pytest.raises(
        OnnxExportError, match=r"op 'setitem' in layer 'body\.1' \(Inner\).*no ONNX conversion"
    ):
        glassnet.onnx.export(Sorter().eval(), gn.randn(2, 3), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_control_flow_on_values_is_detected_by_a_second_run(tmp_path):
    gn.manual_seed(0)
    x = gn.randn(4, 3).numpy()
    (second,) = _varied_inputs((gn.Tensor(x),), ["input"], {})  # what the second run reads
    if (x[0, 0] > x[0, 1]) == (second.data[0, 0] > second.data[0, 1]):
        x[0, :2] = x[0, 1::-1]  # the example takes the other branch (same values, so same draw)
    with pytest.raises(OnnxExportError, match="different ops.*depends on the values"):
        glassnet.onnx.export(Branchy().eval(), gn.Tensor(x), tmp_path / "m.onnx")


def test_a_tensor_made_outside_the_ops_from_the_input_is_refused(tmp_path):
    with pytest.raises(OnnxExportError, match="made outside the traced ops.*depends on the input"):
        glassnet.onnx.export(Leaky().eval(), gn.randn(2, 3), tmp_path / "m.onnx")


def test_without_the_second_run_tracing_bakes_in_the_examples_path(tmp_path):
    """check_trace=False skips the check: the documented limit of tracing."""
    gn.manual_seed(0)
    model = Branchy().eval()
    path = glassnet.onnx.export(model, gn.randn(2, 3), tmp_path / "m.onnx", check_trace=False)
    kinds = {n.op_type for n in onnx.load(path).graph.node}
    assert kinds & {"Relu", "Tanh"} and not {"Relu", "Tanh"} <= kinds


def test_a_model_that_fails_on_other_sizes_says_which_shapes(tmp_path):
    model = nn.Sequential(
        nn.Flatten(0), nn.Linear(6, 2)
    ).eval()  # the batch is folded into features
    with pytest.raises(OnnxExportError, match=r"fails on a second input of shapes \[\(1, 3\)\]"):
        glassnet.onnx.export(
            model, gn.randn(2, 3), tmp_path / "m.onnx", dynamic_axes={"input": [0]}
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"opset_version": 13}, "opset_version must be an int from 17"),
        ({"opset_version": 99}, "opset_version must be an int from 17"),
        ({"input_names": ["a", "b"]}, "input_names needs 1 distinct names"),
        ({"output_names": ["a", "b"]}, "output_names needs 1 distinct names"),
        ({"dynamic_axes": {"input": {3: "n"}}}, r"names axes \[3\], but that input has 2"),
    ],
)
def test_bad_arguments_are_refused_with_what_was_received(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        glassnet.onnx.export(nn.Linear(3, 2).eval(), gn.randn(2, 3), tmp_path / "m.onnx", **kwargs)


def test_inputs_must_be_tensors(tmp_path):
    with pytest.raises(TypeError, match="must be Tensors.*got list at position 0"):
        glassnet.onnx.export(nn.Linear(3, 2).eval(), ([1.0, 2.0, 3.0],), tmp_path / "m.onnx")


def test_dropout_in_training_mode_called_explicitly_is_refused(tmp_path):
    class Explicit(nn.Module):
        def forward(self, x):
            return gn.nn.functional.dropout(x, 0.5, training=True)

    with pytest.raises(OnnxExportError, match="dropout in training mode"):
        glassnet.onnx.export(Explicit().eval(), gn.randn(2, 3), tmp_path / "m.onnx")


def test_tracing_belongs_to_its_thread(tmp_path):
    """Another thread runs ops while one thread exports: its ops stay out of the graph, and it
    never sees tracing switched on."""
    seen, stop = [], threading.Event()

    def other():
        while not stop.is_set():
            seen.append(glassnet.onnx.is_tracing())
            gn.ones(3).exp().sum()

    class Slow(nn.Module):
        def forward(self, x):
            assert glassnet.onnx.is_tracing()
            for _ in range(200):
                x = x * 1.0
            return x.relu()

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    try:
        path = glassnet.onnx.export(Slow().eval(), gn.randn(2, 3), tmp_path / "m.onnx")
    finally:
        stop.set()
        thread.join(30)
    kinds = [n.op_type for n in onnx.load(path).graph.node]
    assert "Exp" not in kinds and "ReduceSum" not in kinds and kinds.count("Mul") == 200
    assert seen and not any(seen)
    assert not glassnet.onnx.is_tracing()


def test_a_failed_export_leaves_the_previous_file_whole(tmp_path):
    path = check_export(nn.Linear(3, 2).eval(), (gn.randn(2, 3),), None, tmp_path / "m.onnx")
    before = open(path, "rb").read()
    with pytest.raises(OnnxExportError):
        glassnet.onnx.export(Sorter().eval(), gn.randn(2, 3), path)
    assert open(path, "rb").read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
