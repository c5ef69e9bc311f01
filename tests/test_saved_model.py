"""Saved models: every model family saved and rebuilt from its files alone, the JSON document,
clear errors on damaged or foreign files, the older character-model formats, atomic writes, and no
pickle anywhere in glassnet."""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest

import glassnet as gn
import glassnet.io.weights as weights_module
from glassnet.cli import main
from glassnet.io import MODEL_FORMAT, load_model, load_model_and_document, save, save_model
from glassnet.io.weights import save_json
from glassnet.models import (
    GAN,
    GPT,
    MLP,
    REGISTRY,
    VAE,
    Autoencoder,
    CharRNN,
    LeNet5,
    ResNet,
    SmallCNN,
    ViT,
    register,
    resnet18,
    resnet50,
)
from glassnet.nn.layers import Linear, ReLU
from glassnet.nn.module import Module
from glassnet.recipes.forecast_lstm import Forecaster
from glassnet.tensor import Tensor


def floats(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).random(shape, dtype=np.float32))


def tokens(vocab, *shape):
    return Tensor(np.random.default_rng(0).integers(0, vocab, shape))


# name -> (a small model, a function of the model giving the arrays to compare)
CASES = {
    "MLP": (
        lambda: MLP([5, 7, 3], activation="tanh", dropout=0.1, output_activation="sigmoid"),
        lambda m: [m(floats(4, 5))],
    ),
    "MLP-class-activation": (lambda: MLP([3, 4, 2], activation=ReLU), lambda m: [m(floats(2, 3))]),
    "SmallCNN": (lambda: SmallCNN(1, 3, widths=(4, 8)), lambda m: [m(floats(2, 1, 8, 8))]),
    "LeNet5": (lambda: LeNet5(4, activation="tanh"), lambda m: [m(floats(2, 1, 28, 28))]),
    "ResNet": (
        lambda: ResNet("BasicBlock", [1, 1, 1, 1], num_classes=3),
        lambda m: [m(floats(1, 3, 32, 32))],
    ),
    "ViT": (
        lambda: ViT(8, 4, 1, 3, d_model=8, depth=1, heads=2, mlp_dim=16),
        lambda m: [m(floats(2, 1, 8, 8))],
    ),
    "GPT": (lambda: GPT(13, 8, 8, 1, 2), lambda m: [m(tokens(13, 2, 5))]),
    "GPT-untied": (
        lambda: GPT(13, 8, 8, 2, 2, dropout=0.1, tie_weights=False),
        lambda m: [m(tokens(13, 2, 5))],
    ),
    "CharRNN": (
        lambda: CharRNN(11, embed=4, hidden=8, layers=2, cell="gru", dropout=0.2),
        lambda m: [m(tokens(11, 2, 6))[0]],
    ),
    "Autoencoder": (
        lambda: Autoencoder((1, 8, 8), latent_dim=3, hidden=(16,)),
        lambda m: [m(floats(2, 1, 8, 8))],
    ),
    "Autoencoder-conv": (
        lambda: Autoencoder((1, 8, 8), latent_dim=3, conv=True, widths=(4, 8)),
        lambda m: [m(floats(2, 1, 8, 8))],
    ),
    "VAE": (
        lambda: VAE((1, 8, 8), latent_dim=2, hidden=(16,), likelihood="gaussian", beta=0.5),
        lambda m: [*m(floats(2, 1, 8, 8), eps=floats(2, 2, seed=1)), m.log_sigma],
    ),
    "GAN": (
        lambda: GAN((1, 8, 8), latent_dim=4, hidden=(8, 16), label_smoothing=0.1),
        lambda m: [m(floats(2, 4)), m.discriminator(floats(2, 1, 8, 8))],
    ),
    "GAN-conv": (
        lambda: GAN((1, 8, 8), latent_dim=4, conv=True, widths=(4, 8)),
        lambda m: [m(floats(2, 4)), m.discriminator(floats(2, 1, 8, 8))],
    ),
    "Forecaster": (lambda: Forecaster(1, 8, 2), lambda m: [m(floats(2, 5, 1))]),
}


def trained_a_little(model):
    """Weights and buffers (batch-norm statistics) unlike a freshly built model's."""
    rng = np.random.default_rng(1)
    for param in model.parameters():
        param.data[...] = rng.standard_normal(param.shape).astype(param.dtype) * 0.3
    for name, buffer in model.named_buffers():
        if buffer.dtype.kind == "f":
            buffer.data[...] = rng.random(buffer.shape).astype(buffer.dtype) + 0.5
    return model.eval()


@pytest.mark.parametrize("case", list(CASES))
def test_save_load_gives_identical_outputs(tmp_path, case):
    build, outputs = CASES[case]
    model = trained_a_little(build())
    weights, document = save_model(model, tmp_path / "model.safetensors", extras={"case": case})
    assert (weights, document) == (
        str(tmp_path / "model.safetensors"),
        str(tmp_path / "model.json"),
    )
    for path in (tmp_path, document, weights):
        loaded = load_model(path)
        assert type(loaded) is type(model) and not loaded.training
        assert loaded.config() == json.loads(json.dumps(model.config()))
        for expected, got in zip(outputs(model), outputs(loaded)):
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got.data, expected.data)


@pytest.mark.parametrize("case", list(CASES))
def test_config_rebuilds_the_same_architecture(case):
    model = CASES[case][0]()
    config = model.config()
    assert json.loads(json.dumps(config)) == config  # JSON values only, lists not tuples
    rebuilt = type(model)(**config)
    assert rebuilt.config() == config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }
    assert repr(rebuilt) == repr(model)


@pytest.mark.parametrize("builder", [resnet18, resnet50])
def test_resnet_builders_describe_themselves(builder):
    with gn.device("meta"):  # shapes only: no memory for 25 million parameters
        model = builder(num_classes=7)
        rebuilt = ResNet(**json.loads(json.dumps(model.config())))
    assert model.config()["block"] in ("BasicBlock", "Bottleneck")
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }


def test_every_model_class_is_registered():
    import glassnet.models as models

    classes = {obj for obj in vars(models).values() if isinstance(obj, type)}
    assert {cls for cls in classes if issubclass(cls, Module)} <= set(REGISTRY.values())
    assert all(callable(getattr(cls, "config", None)) for cls in REGISTRY.values())


def test_the_document(tmp_path):
    model = GPT(13, 8, 8, 1, 2)
    extras = {"vocab": "abcdefghijklm", "val_loss": np.float32(1.5), "sizes": np.arange(3)}
    save_model(model, tmp_path / "gpt.npz", extras=extras)
    document = json.loads((tmp_path / "gpt.json").read_text())
    assert document["format"] == MODEL_FORMAT == "glassnet.model/1"
    assert document["class"] == "GPT"
    assert document["config"] == model.config()
    assert document["glassnet_version"] == gn.__version__
    assert document["weights"] == "gpt.npz"
    assert len(document["sha256"]) == 64
    assert document["extras"] == {"vocab": "abcdefghijklm", "val_loss": 1.5, "sizes": [0, 1, 2]}
    loaded, read = load_model_and_document(tmp_path / "gpt.json")
    assert read == document and isinstance(loaded, GPT)
    assert gn.models.load(tmp_path / "gpt.npz").config() == model.config()


def test_models_save_is_save_model(tmp_path):
    assert gn.models.save(MLP([2, 2]), tmp_path / "m.safetensors")[1].endswith("m.json")


def saved(tmp_path, model=None):
    model = model or MLP([3, 4, 2])
    save_model(model, tmp_path / "model.safetensors")
    return tmp_path / "model.safetensors", tmp_path / "model.json"


def edit(path, **changes):
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def test_tampered_weights_fail_the_checksum(tmp_path):
    weights, _ = saved(tmp_path)
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"model\.safetensors: its SHA-256 .* differs from"):
        load_model(tmp_path)


def test_unknown_class_names_the_known_ones(tmp_path):
    _, document = saved(tmp_path)
    edit(document, **{"class": "os.system"})
    with pytest.raises(ValueError, match=r"unknown model class 'os.system'.*GPT.*MLP"):
        load_model(document)


def test_missing_weights_are_named(tmp_path):
    weights, _ = saved(tmp_path)
    weights.unlink()
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors not found"):
        load_model(tmp_path)


def test_missing_document_and_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere: no such file or folder"):
        load_model(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"model\.json not found"):
        load_model(tmp_path)


def test_newer_and_foreign_formats(tmp_path):
    _, document = saved(tmp_path)
    edit(document, format="glassnet.model/2", glassnet_version="9.0")
    with pytest.raises(ValueError, match=r"format glassnet.model/2 by glassnet 9.0, newer"):
        load_model(document)
    edit(document, format="keras.model/1")
    with pytest.raises(ValueError, match="not a saved glassnet model"):
        load_model(document)
    document.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_model(document)


def test_bad_documents_say_what_is_wrong(tmp_path):
    _, document = saved(tmp_path)
    edit(document, weights="../elsewhere.safetensors")
    with pytest.raises(ValueError, match="without folders"):
        load_model(document)
    edit(document, weights="model.safetensors", config={"sizes": [3, 4, 2], "colour": "red"})
    with pytest.raises(ValueError, match=r"config does not build a MLP.*colour"):
        load_model(document)
    edit(document, config=None)
    with pytest.raises(ValueError, match="'config' should be a JSON object"):
        load_model(document)


def write_legacy(tmp_path, model, fmt, **info):
    save(model, tmp_path / "model.safetensors")
    document = {
        "format": fmt,
        "weights": "model.safetensors",
        "vocab": "abcdefghijklm",
        "model": model.config(),
        **info,
    }
    save_json(document, tmp_path / "model.json")


@pytest.mark.parametrize(
    "fmt, model",
    [
        ("glassnet.gpt/1", lambda: GPT(13, 8, 8, 1, 2)),
        ("glassnet.charrnn/1", lambda: CharRNN(13, embed=4, hidden=8, layers=1)),
    ],
)
def test_the_older_character_model_formats_still_load(tmp_path, capsys, fmt, model):
    model = trained_a_little(model())
    write_legacy(tmp_path, model, fmt, prompt="abc", val_loss=1.25)
    loaded, document = load_model_and_document(tmp_path / "model.safetensors")
    assert type(loaded) is type(model) and document["format"] == fmt
    assert document["extras"] == {"vocab": "abcdefghijklm", "prompt": "abc", "val_loss": 1.25}
    assert document["sha256"] is None
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    assert main(["sample", str(tmp_path), "--length", "5", "--temperature", "0"]) == 0
    assert capsys.readouterr().out.startswith("abc")


def test_sample_refuses_a_model_without_vocabulary(tmp_path, capsys):
    saved(tmp_path)
    assert main(["sample", str(tmp_path)]) == 2
    assert "holds a MLP, not a character-level model" in capsys.readouterr().err


def failing_writes(monkeypatch, suffix):
    """Writes of files ending in `suffix` stop half-way with a full disk."""
    real = weights_module._atomic_write

    def atomic_write(path, write):
        if not path.endswith(suffix):
            return real(path, write)

        def half(f):
            f.write(b"half a file")
            raise OSError(28, "No space left on device")

        return real(path, half)

    monkeypatch.setattr(weights_module, "_atomic_write", atomic_write)


def test_a_failed_save_leaves_the_previous_files_whole(tmp_path, monkeypatch):
    first = trained_a_little(MLP([3, 4, 2]))
    weights, document = saved(tmp_path, first)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    failing_writes(monkeypatch, "")
    with pytest.raises(OSError, match="No space left"):
        save_model(MLP([3, 4, 2]), weights, extras={"second": True})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary files
    np.testing.assert_array_equal(load_model(tmp_path)(floats(2, 3)).data, first(floats(2, 3)).data)


def test_a_failed_document_is_caught_by_the_checksum(tmp_path, monkeypatch):
    weights, document = saved(tmp_path)
    old_document = document.read_bytes()
    failing_writes(monkeypatch, ".json")
    with pytest.raises(OSError, match="No space left"):
        save_model(trained_a_little(MLP([3, 4, 2])), weights)
    assert document.read_bytes() == old_document
    with pytest.raises(ValueError, match="SHA-256"):  # new weights, old document: said, not used
        load_model(tmp_path)


def test_nothing_is_written_when_the_model_cannot_be_described(tmp_path):
    class Unregistered(Module):
        def __init__(self):
            super().__init__()
            self.fc = Linear(2, 2)

    with pytest.raises(ValueError, match=r"register it first with glassnet.models.register"):
        save_model(Unregistered(), tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="extras must hold JSON values"):
        save_model(MLP([2, 2]), tmp_path / "m.safetensors", extras={"fn": print})
    with pytest.raises(ValueError, match="has no name in ACTIVATIONS"):
        save_model(MLP([2, 2, 2], activation=Unregistered), tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_register_makes_your_own_class_loadable(tmp_path, monkeypatch):
    monkeypatch.setattr("glassnet.models.registry.REGISTRY", dict(REGISTRY))

    @register
    class Twice(Module):
        def __init__(self, width: int = 3):
            super().__init__()
            self.fc = Linear(width, width)

        def config(self):
            return {"width": self.fc.in_features}

        def forward(self, x):
            return self.fc(x) * 2.0

    model = Twice(4)
    save_model(model, tmp_path / "twice.safetensors")
    np.testing.assert_array_equal(
        load_model(tmp_path / "twice.json")(floats(1, 4)).data, model(floats(1, 4)).data
    )
    with pytest.raises(ValueError, match="already belongs to"):
        register(MLP, name="Twice")


def test_forecast_recipe_saves_its_scaling(tmp_path):
    from glassnet.recipes.forecast_lstm import run

    run(out_dir=str(tmp_path), length=200, window=8, hidden=4, epochs=1, verbose=False)
    model, document = load_model_and_document(tmp_path)
    assert isinstance(model, Forecaster) and document["extras"]["window"] == 8
    assert set(document["extras"]["scaling"]) == {"mean", "std"}


SOURCE = pathlib.Path(gn.__file__).parent
FORBIDDEN = ("import pickle", "from pickle", "allow_pickle=True", "torch.load", "cPickle")


def test_no_pickle_anywhere_in_glassnet():
    found = [
        f"{path.relative_to(SOURCE)}: {word}"
        for path in sorted(SOURCE.rglob("*.py"))
        for word in FORBIDDEN
        if word in path.read_text(encoding="utf-8")
    ]
    assert not found, "pickle can run code when loading; found " + ", ".join(found)
