"""glassnet's reference networks exported to ONNX and run by ONNX Runtime on new inputs: the
outputs equal glassnet's within 1e-5 (1e-4 relative to the output's scale for ResNet-50), with
the batch (and the GPT's and CharRNN's sequence length) left dynamic. ResNet-18 and the GPT also
at the newest opset both the installed onnx and onnxruntime support."""

import numpy as np
import onnx
import pytest
from onnx_check import check_export, glassnet_outputs, newest_opset, onnx_outputs

import glassnet as gn
import glassnet.onnx
from glassnet.models import GAN, GPT, MLP, VAE, CharRNN, LeNet5, SmallCNN, ViT, resnet18, resnet50

BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}
TOKENS = {"input": {0: "batch", 1: "length"}}


@pytest.fixture(autouse=True)
def seeded():
    gn.manual_seed(0)


def test_mlp(tmp_path):
    model = MLP([8, 16, 16, 3], activation="tanh", dropout=0.2)
    check_export(
        model, (gn.randn(4, 8),), (gn.randn(11, 8),), tmp_path / "m.onnx", dynamic_axes=BATCH
    )


def test_lenet5(tmp_path):
    check_export(
        LeNet5(),
        (gn.randn(2, 1, 28, 28),),
        (gn.randn(5, 1, 28, 28),),
        tmp_path / "m.onnx",
        dynamic_axes=BATCH,
    )


def test_small_cnn_with_trained_batch_norm(tmp_path):
    model = SmallCNN(in_channels=1, num_classes=10)
    model.train()
    for _ in range(2):
        model(gn.rand(16, 1, 8, 8))
    check_export(
        model,
        (gn.rand(2, 1, 8, 8),),
        (gn.rand(6, 1, 8, 8),),
        tmp_path / "m.onnx",
        dynamic_axes=BATCH,
    )


@pytest.mark.parametrize("opset", ["17", "newest"])
def test_resnet18(opset, tmp_path):
    version = 17 if opset == "17" else newest_opset()
    model = resnet18(num_classes=10)
    path = check_export(
        model,
        (gn.randn(1, 3, 32, 32),),
        (gn.randn(3, 3, 32, 32),),
        tmp_path / "m.onnx",
        dynamic_axes=BATCH,
        opset=version,
        atol=2e-5,
    )
    assert onnx.load(path).opset_import[0].version == version


def test_resnet50_within_1e4_of_the_output_scale(tmp_path):
    model = resnet50(num_classes=10)
    x = gn.randn(2, 3, 32, 32)
    path = glassnet.onnx.export(model.eval(), x, tmp_path / "m.onnx", dynamic_axes=BATCH)
    onnx.checker.check_model(onnx.load(path))
    new = gn.randn(3, 3, 32, 32)
    (got,), (expected,) = onnx_outputs(path, (new,)), glassnet_outputs(model, (new,))
    assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_char_rnn_with_dynamic_batch_and_length(cell, tmp_path):
    model = CharRNN(30, embed=8, hidden=16, layers=2, cell=cell)
    x, new = gn.randint(0, 30, (2, 7)), gn.randint(0, 30, (3, 12))
    check_export(model, (x,), (new,), tmp_path / "m.onnx", dynamic_axes=TOKENS)


@pytest.mark.parametrize("opset", ["17", "newest"])
def test_gpt_with_dynamic_sequence_length(opset, tmp_path):
    version = 17 if opset == "17" else newest_opset()
    model = GPT(vocab_size=40, context=16, d_model=32, n_layers=2, n_heads=4, dropout=0.1)
    path = tmp_path / "gpt.onnx"
    check_export(
        model, (gn.randint(0, 40, (2, 16)),), None, path, dynamic_axes=TOKENS, opset=version
    )
    for shape in [(1, 1), (3, 5), (2, 16)]:  # any batch, any length up to the context
        x = gn.randint(0, 40, shape)
        (got,), (expected,) = onnx_outputs(path, (x,)), glassnet_outputs(model, (x,))
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_vit(tmp_path):
    model = ViT(
        image_size=8,
        patch_size=2,
        in_channels=1,
        num_classes=10,
        d_model=32,
        depth=2,
        heads=4,
        mlp_dim=64,
    )
    check_export(
        model,
        (gn.rand(2, 1, 8, 8),),
        (gn.rand(5, 1, 8, 8),),
        tmp_path / "m.onnx",
        dynamic_axes=BATCH,
    )


@pytest.mark.parametrize("conv", [False, True])
def test_vae_decoder(conv, tmp_path):
    vae = VAE((1, 8, 8), latent_dim=4, hidden=(32,), conv=conv, widths=(8, 16))
    vae.train()
    vae(gn.rand(8, 1, 8, 8))  # batch norm statistics that are not 0 and 1
    check_export(
        vae.decoder, (gn.randn(2, 4),), (gn.randn(7, 4),), tmp_path / "m.onnx", dynamic_axes=BATCH
    )


@pytest.mark.parametrize("conv", [False, True])
def test_gan_generator(conv, tmp_path):
    gan = GAN((1, 8, 8), latent_dim=6, hidden=(16, 32), conv=conv, widths=(8, 16))
    gan.train()
    gan.generator(gn.randn(8, 6))
    check_export(
        gan.generator, (gn.randn(2, 6),), (gn.randn(5, 6),), tmp_path / "m.onnx", dynamic_axes=BATCH
    )
