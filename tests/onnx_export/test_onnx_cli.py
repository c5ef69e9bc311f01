"""`glassnet export RUN --onnx FILE`: every kind of saved model becomes an ONNX file whose answers
on new inputs (another batch size, another length) are glassnet's."""

import numpy as np
import pytest
from onnx_check import glassnet_outputs, onnx_outputs, session

import glassnet as gn
from glassnet import cli
from glassnet.io import save_model
from glassnet.models import GAN, GPT, MLP, VAE, CharRNN, LeNet5, ViT, resnet18
from glassnet.recipes.common import image_extras


def _saved(tmp_path, model, extras=None):
    (tmp_path / "run").mkdir()
    save_model(model, tmp_path / "run" / "model.safetensors", extras=extras)
    return str(tmp_path / "run")


def _export(tmp_path, run, *more):
    out = str(tmp_path / "model.onnx")
    assert cli.main(["export", run, "--onnx", out, *more]) == 0
    return out


CASES = {
    "lenet5_digits": (lambda: LeNet5(), image_extras((1, 28, 28)), lambda n: gn.rand(n, 1, 28, 28)),
    "mlp": (lambda: MLP([64, 32, 10]), None, lambda n: gn.rand(n, 64)),
    "vit": (
        lambda: ViT(8, 2, 1, 10, d_model=16, depth=1, heads=2, mlp_dim=32),
        None,
        lambda n: gn.rand(n, 1, 8, 8),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_classifiers_export_with_a_dynamic_batch(name, tmp_path, capsys):
    gn.manual_seed(0)
    build, extras, inputs = CASES[name]
    model = build().eval()
    out = _export(tmp_path, _saved(tmp_path, model, extras))
    assert "wrote" in capsys.readouterr().out
    x = inputs(5)
    np.testing.assert_allclose(
        onnx_outputs(out, (x,))[0], glassnet_outputs(model, (x,))[0], atol=1e-5
    )


@pytest.mark.parametrize("kind", ["gpt", "lstm", "gru"])
def test_character_models_export_with_dynamic_batch_and_length(kind, tmp_path):
    gn.manual_seed(0)
    if kind == "gpt":
        model = GPT(vocab_size=12, context=24, d_model=16, n_layers=1, n_heads=2)
    else:
        model = CharRNN(12, embed=8, hidden=16, layers=2, cell=kind)
    model.eval()
    out = _export(tmp_path, _saved(tmp_path, model, {"vocab": "abcdefghijkl"}))
    names = [o.name for o in session(out).get_outputs()]
    assert names == (
        ["logits"] if kind == "gpt" else ["logits", "h_n", "c_n"][: 3 if kind == "lstm" else 2]
    )
    x = gn.randint(0, 12, (3, 20))
    for got, expected in zip(onnx_outputs(out, (x,)), glassnet_outputs(model, (x,))):
        np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["vae", "gan"])
def test_generative_models_export_the_part_that_makes_images(kind, tmp_path):
    gn.manual_seed(0)
    model = (
        VAE((1, 8, 8), latent_dim=3, hidden=(16,))
        if kind == "vae"
        else GAN((1, 8, 8), latent_dim=3, hidden=(16,))
    ).eval()
    out = _export(tmp_path, _saved(tmp_path, model))
    assert [i.name for i in session(out).get_inputs()] == ["z"]
    z = gn.randn(4, 3)
    part = model.decoder if kind == "vae" else model.generator
    np.testing.assert_allclose(
        onnx_outputs(out, (z,))[0], glassnet_outputs(part, (z,))[0], atol=1e-5
    )


def test_a_model_whose_document_has_no_input_shape_needs_one(tmp_path, capsys):
    gn.manual_seed(0)
    model = resnet18(num_classes=3).eval()
    run = _saved(tmp_path, model)
    assert cli.main(["export", run, "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "--input-shape" in capsys.readouterr().err
    out = _export(tmp_path, run, "--input-shape", "3,16,16", "--opset", "18")
    x = gn.randn(2, 3, 16, 16)
    np.testing.assert_allclose(
        onnx_outputs(out, (x,))[0], glassnet_outputs(model, (x,))[0], atol=2e-5
    )


def test_a_missing_run_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "nothing"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "glassnet export:" in capsys.readouterr().err
