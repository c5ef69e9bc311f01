"""Every recipe's trained model, exported with `glassnet export`, answers as glassnet does in
ONNX Runtime: the same test accuracy (every prediction the same) for digits-cnn and digits-vit,
the same greedy text for shakespeare-lstm and shakespeare-gpt, the same samples (within 1e-5)
from the digits-vae decoder. Each recipe trains briefly: the point is the equality of the two
runtimes' answers on a real trained model, not its quality."""

from pathlib import Path

import numpy as np
import pytest
from onnx_check import glassnet_outputs, session

import glassnet as gn
from glassnet import cli
from glassnet.data.datasets.text import Vocabulary
from glassnet.io import load_model_and_document
from glassnet.recipes.images import load_images

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared/data"
SHAKESPEARE = SHARED_DATA / "tinyshakespeare/input.txt"
needs_shakespeare = pytest.mark.skipif(
    not SHAKESPEARE.is_file(), reason=f"Tiny Shakespeare is not at {SHAKESPEARE}"
)
QUIET = {"progress": False, "verbose": False}


def _exported(run_dir: Path) -> tuple[str, object, dict]:
    out = str(run_dir / "model.onnx")
    assert cli.main(["export", str(run_dir), "--onnx", out]) == 0
    model, document = load_model_and_document(run_dir)
    return out, model, document


def _same_test_accuracy(run_dir: Path, result: dict) -> None:
    path, model, document = _exported(run_dir)
    _, (images, labels) = load_images("digits")[:2]
    sess = session(path)
    scores = sess.run(None, {"images": images.numpy()})[0]
    (expected,) = glassnet_outputs(model, (images,))
    np.testing.assert_array_equal(scores.argmax(1), expected.argmax(1))
    accuracy = float((scores.argmax(1) == labels.numpy()).mean())
    assert accuracy == pytest.approx(result["test_accuracy"]) == document["extras"]["test_accuracy"]


@pytest.mark.slow
def test_digits_cnn_test_accuracy_in_onnx_runtime(tmp_path):
    from glassnet.recipes.cnn import run

    result = run("digits", str(tmp_path), epochs=2, augment=False, **QUIET)
    _same_test_accuracy(tmp_path, result)


@pytest.mark.slow
def test_digits_vit_test_accuracy_in_onnx_runtime(tmp_path):
    from glassnet.recipes.vit import run

    result = run(
        "digits", out_dir=str(tmp_path), epochs=2, warmup_epochs=0, d_model=32, depth=1,
        heads=2, mlp_dim=32, augment=False, **QUIET,
    )  # fmt: skip
    _same_test_accuracy(tmp_path, result)


def _greedy_in_onnx_runtime(path: str, prompt: np.ndarray, count: int, context: int) -> list:
    """Greedy decoding with the exported model: the whole text so far (its last `context`
    characters) in, the likeliest next character out."""
    sess = session(path)
    tokens = list(prompt)
    for _ in range(count):
        window = np.array([tokens[-context:]], dtype=np.int64)
        logits = sess.run(["logits"], {"tokens": window})[0]
        tokens.append(int(logits[0, -1].argmax()))
    return tokens[len(prompt) :]


def _same_greedy_text(run_dir: Path, context: int) -> None:
    path, model, document = _exported(run_dir)
    vocab = Vocabulary(document["extras"]["vocab"])
    prompt = vocab.encode("ROMEO:\n")
    ours = vocab.decode(model.generate(prompt, 60, temperature=0.0))
    theirs = vocab.decode(_greedy_in_onnx_runtime(path, prompt, 60, context))
    assert ours == theirs and len(set(ours)) > 1


@pytest.mark.slow
@needs_shakespeare
def test_shakespeare_lstm_greedy_text_in_onnx_runtime(tmp_path):
    from glassnet.recipes.char_rnn import run

    run(
        out_dir=str(tmp_path), corpus="shakespeare", root=SHARED_DATA, max_steps=400, minutes=None,
        max_chars=50_000, embed=16, hidden=64, layers=2, batch_size=16, seq_len=32, lr=1e-2,
        eval_every=1e9, **QUIET,
    )  # fmt: skip
    _same_greedy_text(tmp_path, context=10_000)  # the LSTM reads all of it


@pytest.mark.slow
@needs_shakespeare
def test_shakespeare_gpt_greedy_text_in_onnx_runtime(tmp_path):
    from glassnet.recipes.shakespeare_gpt import run

    run(
        out_dir=str(tmp_path), corpus="shakespeare", root=SHARED_DATA, max_steps=200,
        minutes=None, context=32, d_model=32, n_layers=2, n_heads=2, batch_size=8,
        warmup_steps=10, eval_every=1e9, **QUIET,
    )  # fmt: skip
    _same_greedy_text(tmp_path, context=32)  # past the context the window slides


@pytest.mark.slow
def test_digits_vae_decoder_samples_in_onnx_runtime(tmp_path):
    from glassnet.recipes.vae import run

    run("digits", str(tmp_path), epochs=3, samples=100, **QUIET)
    path, model, _ = _exported(tmp_path)
    gn.manual_seed(1)
    z = gn.randn(64, model.latent_dim)
    decoded = session(path).run(None, {"z": z.numpy()})[0]
    (expected,) = glassnet_outputs(model.decoder, (z,))
    np.testing.assert_allclose(decoded, expected, atol=1e-5)
    samples = 1.0 / (1.0 + np.exp(-decoded))  # the pixels' means, as VAE.sample gives them
    model_samples = model.sample(64, z=z).numpy()
    np.testing.assert_allclose(samples, model_samples, atol=1e-5)
