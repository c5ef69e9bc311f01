"""ViT: shapes and bad input, agreement with the same network in PyTorch, attention maps (shapes,
rows that sum to 1, hooks that go away), and a tiny ViT learning four of the digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.data.datasets.digits import load_digits
from glassnet.models import ViT
from glassnet.plot import plot_patch_attention
from torch_twins import TorchViT

MNIST = Path(__file__).resolve().parents[1].parent / "shared/data/mnist"


def small_vit(**kwargs) -> ViT:
    gn.manual_seed(0)
    options = dict(
        image_size=8, patch_size=2, in_channels=1, num_classes=10, d_model=32, depth=2,
        heads=4, mlp_dim=64, dropout=0.0,
    )  # fmt: skip
    return ViT(**{**options, **kwargs})


def test_shapes_and_bad_input():
    model = small_vit()
    assert model(gn.randn(5, 1, 8, 8)).shape == (5, 10)
    assert model.pos_embed.shape == (1, 17, 32) and model.grid == (4, 4)
    wide = small_vit(image_size=(8, 12), patch_size=4, in_channels=3)
    assert wide(gn.randn(2, 3, 8, 12)).shape == (2, 10)
    with pytest.raises(ValueError, match="patch_size"):
        small_vit(patch_size=3)
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        model(gn.randn(5, 1, 7, 7))
    with pytest.raises(ValueError, match="divisible"):
        small_vit(d_model=30)
    # layers are initialised one by one, not copies of one another
    first, second = (layer.linear1.weight.data for layer in model.layers)
    assert not np.array_equal(first, second)


def test_matches_torch():
    model = small_vit().eval()
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    twin = TorchViT.copy_of(model).eval()
    with torch.no_grad():
        expected = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(gn.tensor(x)).data, expected, rtol=1e-4, atol=1e-5)


def test_attention_maps(tmp_path):
    model = small_vit().eval()
    x = gn.randn(3, 1, 8, 8)
    logits, maps = model(x, return_attention=True)
    np.testing.assert_allclose(logits.data, model(x).data, rtol=1e-6)
    assert len(maps) == 2 and all(m.shape == (3, 4, 17, 17) for m in maps)
    for m in maps:
        np.testing.assert_allclose(m.data.sum(-1), 1.0, rtol=1e-5)
    assert not model.layers[0].self_attn._forward_hooks  # the hooks are gone
    assert not model.layers[0].self_attn._forward_pre_hooks
    path = plot_patch_attention(x.numpy(), maps[-1], tmp_path / "attention.png")
    assert (tmp_path / "attention.png").stat().st_size > 1000 and path.endswith(".png")


def test_tiny_vit_learns_four_digits():
    x, y = load_digits("train", flatten=False)
    xt, yt = load_digits("test", flatten=False)
    keep, keep_test = y.numpy() < 4, yt.numpy() < 4
    images = gn.tensor(x.numpy()[keep].reshape(-1, 1, 8, 8))
    labels = gn.tensor(y.numpy()[keep])
    model = small_vit(num_classes=4, patch_size=4, d_model=32, depth=1)
    optimizer = gn.optim.AdamW(model.parameters(), lr=3e-3)
    gn.train.fit(
        model, (images, labels), epochs=8, optimizer=optimizer, batch_size=32, progress=False
    )
    test_images = gn.tensor(xt.numpy()[keep_test].reshape(-1, 1, 8, 8))
    predictions = gn.train.predicted_classes(gn.train.predict(model, test_images))
    assert (predictions == yt.numpy()[keep_test]).mean() > 0.9


def test_digits_vit_recipe(tmp_path):
    from glassnet.recipes.vit import run

    result = run(
        "digits", out_dir=str(tmp_path), epochs=3, warmup_epochs=0, d_model=32, depth=1, heads=2,
        mlp_dim=32, augment=False, progress=False, verbose=False,
    )  # fmt: skip
    assert result["test_accuracy"] > 0.3  # chance is 0.1
    names = {"curves.png", "predictions.png", "confusion_matrix.png", "attention.png"}
    names |= {"model.safetensors", "model.json", "metrics.jsonl", "epochs.csv", "steps.csv"}
    assert names | {"checkpoints"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.slow
@pytest.mark.skipif(not MNIST.is_dir(), reason=f"the MNIST test files are not in {MNIST}")
def test_mnist_vit_recipe(tmp_path, monkeypatch):
    from glassnet.recipes.vit import run

    monkeypatch.setenv("GLASSNET_DATA", str(MNIST))
    result = run(
        "mnist", out_dir=str(tmp_path), epochs=1, warmup_epochs=0, d_model=32, depth=1, heads=2,
        mlp_dim=32, split="t10k", progress=False, verbose=False,
    )  # fmt: skip
    assert result["test_accuracy"] > 0.3 and "t10k" in result["data"]
    assert (tmp_path / "attention.png").is_file()
