"""CharRNN: shapes, carrying the state across calls, generation (greedy decoding, sampling,
top-k), saving with its vocabulary, and `glassnet sample` on a model a recipe trained."""

from __future__ import annotations

import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.cli import main
from glassnet.data.datasets.text import Vocabulary
from glassnet.io import load_model, load_model_and_document, save_model
from glassnet.models import CharRNN
from glassnet.models.sampling import sample_next
from glassnet.random import Generator


def model_for(cell: str, **kwargs) -> CharRNN:
    gn.manual_seed(0)
    return CharRNN(11, embed=8, hidden=16, layers=2, cell=cell, **kwargs)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_shapes_and_state(cell):
    model = model_for(cell)
    x = gn.randint(0, 11, (3, 7))
    logits, state = model(x)
    assert logits.shape == (3, 7, 11) and logits.dtype == np.float32
    states = state if cell == "lstm" else (state,)
    assert len(states) == (2 if cell == "lstm" else 1)
    assert all(s.shape == (2, 3, 16) for s in states)
    single, _ = model(x[0])  # unbatched (T,)
    np.testing.assert_allclose(single.data, logits.data[0], atol=1e-5)
    assert set(model.state_dict()) >= {"embedding.weight", "rnn.weight_hh_l1", "head.bias"}
    assert CharRNN(**model.config()).config() == model.config()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_carried_state_equals_one_pass(cell):
    """Reading a sequence in three chunks, each starting from the state the last one left,
    gives the logits of reading it at once: what truncated BPTT and generation rely on."""
    model = model_for(cell)
    x = gn.randint(0, 11, (4, 20))
    whole, final = model(x)
    chunks, state = [], None
    for start, stop in ((0, 5), (5, 6), (6, 20)):
        logits, state = model(x[:, start:stop], state)
        chunks.append(logits.data)
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), whole.data, atol=1e-5)
    finals = final if cell == "lstm" else (final,)
    carried = state if cell == "lstm" else (state,)
    for a, b in zip(finals, carried):
        np.testing.assert_allclose(a.data, b.data, atol=1e-6)


def greedy_by_recomputing(model: CharRNN, prompt: list[int], n: int) -> list[int]:
    """Greedy decoding the slow way: rerun the whole sequence for every new character."""
    ids = list(prompt)
    with gn.no_grad():
        for _ in range(n):
            logits, _ = model(gn.tensor(np.array([ids])))
            ids.append(int(logits.data[0, -1].argmax()))
    return ids[len(prompt) :]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_greedy_generation(cell):
    model = model_for(cell)
    prompt = [3, 1, 4, 1, 5]
    expected = greedy_by_recomputing(model, prompt, 25)
    cold = model.generate(prompt, 25, temperature=0.0)
    assert cold.dtype == np.int64 and cold.tolist() == expected
    assert model.generate(prompt, 25, top_k=1).tolist() == expected
    assert model.generate(np.array(prompt), 25, temperature=0.0).tolist() == expected
    assert model.training  # generate switches to eval and back


def test_sampling_is_seeded_and_top_k_restricts():
    model = model_for("lstm")
    a = model.generate([1, 2], 40, temperature=1.0, generator=Generator(7))
    b = model.generate([1, 2], 40, temperature=1.0, generator=Generator(7))
    assert a.tolist() == b.tolist() and ((a >= 0) & (a < 11)).all()
    logits = np.array([0.0, 2.0, 1.0, 3.0, -1.0], dtype=np.float32)
    rng = np.random.default_rng(0)
    drawn = [sample_next(logits, 1.0, 2, rng) for _ in range(400)]
    assert set(drawn) == {1, 3}
    assert abs(drawn.count(3) / 400 - 1 / (1 + np.exp(-1.0))) < 0.06  # softmax of [3, 2]
    assert {sample_next(logits, 100.0, None, rng) for _ in range(400)} == set(range(5))
    assert sample_next(logits, 0.0, None, rng) == 3


def test_generate_checks_its_arguments():
    model = model_for("gru")
    with pytest.raises(ValueError, match="non-empty 1-D sequence"):
        model.generate([], 5)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        model.generate([1], 5, temperature=-1.0)
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        model.generate([1], 5, top_k=0)
    with pytest.raises(ValueError, match="cell must be one of"):
        CharRNN(5, cell="transformer")
    assert model.generate([1], 0).shape == (0,)


def test_save_and_load_with_vocabulary(tmp_path):
    model = model_for("gru")
    vocab = Vocabulary("abcdefghijk")
    extras = {"vocab": vocab.chars, "val_loss": 1.5}
    weights, config = save_model(model, tmp_path / "m.safetensors", extras=extras)
    document = json.loads((tmp_path / "m.json").read_text())
    assert document["extras"]["vocab"] == "abcdefghijk" and document["config"]["cell"] == "gru"
    assert document["weights"] == "m.safetensors" and document["extras"]["val_loss"] == 1.5
    for path in (config, weights):
        loaded, document = load_model_and_document(path)
        x = gn.randint(0, 11, (2, 6))
        model.eval()
        np.testing.assert_array_equal(loaded(x)[0].data, model(x)[0].data)
        assert Vocabulary(document["extras"]["vocab"]).chars == vocab.chars
    with pytest.raises(FileNotFoundError, match="elsewhere: no such file or folder"):
        load_model(tmp_path / "elsewhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="model.json not found"):
        load_model(tmp_path / "empty")
    with pytest.raises(ValueError, match="vocabulary has 3 characters"):
        save_model(model, tmp_path / "x.safetensors", extras={"vocab": "abc"})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The python-gru recipe, tiny: 20,000 characters of the standard library, 8 steps."""
    from glassnet.recipes import get_recipe

    out = tmp_path_factory.mktemp("python-gru")
    result = get_recipe("python-gru").run(
        out_dir=str(out),
        max_chars=20_000,
        max_steps=8,
        embed=8,
        hidden=32,
        layers=1,
        dropout=0.0,
        batch_size=8,
        seq_len=32,
        eval_every=1e9,
        verbose=False,
        progress=False,
    )
    return out, result


def test_recipe_trains_saves_and_plots(trained):
    out, result = trained
    assert result["steps"] == 8 and result["stopped"] == "budget"
    assert result["val_loss"] < np.log(100)  # better than uniform over the vocabulary
    assert (out / "loss.png").stat().st_size > 5000
    document = json.loads((out / "model.json").read_text())
    extras = document["extras"]
    assert extras["recipe"] == "python-gru" and extras["prompt"] == "def "
    assert document["config"]["cell"] == "gru" and len(extras["vocab"]) > 70


def test_glassnet_sample_end_to_end(trained, capsys):
    out, _ = trained
    args = ["sample", str(out), "--prompt", "import ", "--length", "60", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("import ") and len(first) == len("import ") + 60 + 1
    assert main(args) == 0 and capsys.readouterr().out == first  # the seed repeats it
    cold = ["sample", str(out / "model.safetensors"), "--length", "30"]
    assert main([*cold, "--temperature", "0"]) == 0
    greedy = capsys.readouterr().out
    assert greedy.startswith("def ")  # the recipe's prompt by default
    assert main([*cold, "--top-k", "1", "--seed", "9"]) == 0
    assert capsys.readouterr().out == greedy


def test_glassnet_sample_errors(trained, tmp_path, capsys):
    out, _ = trained
    assert main(["sample", str(out), "--prompt", "\u00e9t\u00e9"]) == 2
    assert "not in the vocabulary" in capsys.readouterr().err
    assert main(["sample", str(tmp_path)]) == 2
    assert "model.json not found" in capsys.readouterr().err


def test_help_explains_sample(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "sample" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    out = capsys.readouterr().out
    for option in ("--prompt", "--temperature", "--top-k", "--length", "--seed"):
        assert option in out


@pytest.mark.slow
def test_python_gru_recipe_from_the_cli(tmp_path, capsys):
    """`glassnet train python-gru --minutes 0.25`: the budget reaches the recipe, which stops
    within its first epoch (440 batches), has learned something (uniform guessing costs
    ln 96 = 4.56 nats per character) and writes what `sample` reads."""
    out = tmp_path / "gru"
    assert (
        main(["train", "python-gru", "--minutes", "0.25", "--out", str(out), "--no-progress"]) == 0
    )
    document = json.loads((out / "model.json").read_text())
    extras = document["extras"]
    assert 0 < extras["steps"] < 440 and extras["val_loss"] < 4.0, document
    assert "validation loss:" in capsys.readouterr().out
    assert main(["sample", str(out), "--length", "40"]) == 0
    assert capsys.readouterr().out.startswith("def ")
