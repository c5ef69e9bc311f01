"""The `glassnet` command: help, list, a recipe, its options and their checks, runs, and the demo
end to end."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys

import pytest

from glassnet.cli import main
from glassnet.recipes import RECIPES, Recipe


def test_help_explains_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "train", "list"):
        assert command in out


def test_list_names_recipes(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "digits-mlp" in out and "spiral-mlp" in out


def test_unknown_recipe_is_a_clear_error(capsys) -> None:
    assert main(["train", "no-such-recipe"]) == 2
    err = capsys.readouterr().err
    assert "unknown recipe 'no-such-recipe'" in err and "digits-mlp" in err


def test_spiral_recipe_learns(tmp_path, capsys) -> None:
    assert main(["train", "spiral-mlp", "--out", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 1000
    said = capsys.readouterr().out
    accuracy = float(said.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 95.0, said


@pytest.mark.slow
def test_demo_end_to_end(tmp_path) -> None:
    """`glassnet demo` as a user runs it: at least 97% test accuracy, curves PNG and weights."""
    result = subprocess.run(
        [sys.executable, "-m", "glassnet.cli", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    line = next(line for line in out.splitlines() if line.startswith("test accuracy:"))
    accuracy = float(line.split()[2].rstrip("%")) / 100
    assert accuracy >= 0.97, out
    assert "true \\ predicted" in out and "parameters:" in out
    assert (tmp_path / "demo" / "curves.png").stat().st_size > 10_000
    assert (tmp_path / "demo" / "model.safetensors").exists()


def _accuracy(out: str) -> float:
    line = next(line for line in out.splitlines() if line.startswith("test accuracy:"))
    return float(line.split()[2].rstrip("%")) / 100


@pytest.mark.slow
def test_digits_cnn_recipe_end_to_end(tmp_path) -> None:
    """`glassnet train digits-cnn`: at least 99% of the held-out digits, and every picture."""
    out_dir = tmp_path / "cnn"
    result = subprocess.run(
        [sys.executable, "-m", "glassnet.cli", "train", "digits-cnn", "--out", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _accuracy(result.stdout) >= 0.99, result.stdout
    assert "x as many)" in result.stdout  # the weight-sharing comparison with a dense layer
    for name in ("curves.png", "predictions.png", "confusion_matrix.png", "filters.png"):
        assert (out_dir / name).stat().st_size > 3_000, name
    assert (out_dir / "model.safetensors").exists()


def test_mnist_cnn_without_data_says_where_to_put_the_files(tmp_path, monkeypatch) -> None:
    from glassnet.data.datasets import mnist

    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(mnist, "MIRRORS", {"MNIST": ["http://127.0.0.1:9/"]})
    with pytest.raises(SystemExit, match="GLASSNET_DATA"):
        main(["train", "mnist-cnn", "--out", str(tmp_path / "out"), "--no-progress"])


def test_digits_vae_recipe_smoke(tmp_path, capsys) -> None:
    """`glassnet train digits-vae --epochs 1 --latent 2`: the test ELBO, the judge's verdict and
    every picture, including the map of the 2-D latent space."""
    out_dir = tmp_path / "vae"
    args = ["train", "digits-vae", "--epochs", "1", "--latent", "2", "--no-progress"]
    assert main([*args, "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "test ELBO" in out and "sample quality:" in out and "judge:" in out
    for name in ("samples.png", "curves.png", "reconstructions.png", "latent_walk.png"):
        assert (out_dir / name).stat().st_size > 3_000, name
    assert (out_dir / "latent_space.png").is_file() and (out_dir / "manifold.png").is_file()
    assert (out_dir / "progress" / "samples_epoch_001.png").is_file()


def _record_calls(monkeypatch, name: str) -> list[dict]:
    """Replace recipe `name`'s run() by one with the same signature that only records its
    keyword arguments: the command line is read as for the real recipe, and nothing trains."""
    calls: list[dict] = []
    recipe = RECIPES[name]

    def run(**kwargs):
        calls.append(kwargs)
        return {}

    run.__signature__ = inspect.signature(recipe.run)
    monkeypatch.setitem(RECIPES, name, dataclasses.replace(recipe, run=run))
    return calls


def _resumable(
    out_dir: str = "runs/resumable",
    epochs: int = 3,
    seed: int = 0,
    progress: bool | None = None,
    resume: bool = False,
    device: str = "cpu",
) -> dict:
    raise AssertionError("replaced by _record_calls")


@pytest.fixture
def resumable(monkeypatch) -> list[dict]:
    """A recipe whose run() takes resume and device, as Trainer-based recipes will."""
    monkeypatch.setitem(RECIPES, "resumable", Recipe("resumable", "a test recipe", _resumable))
    return _record_calls(monkeypatch, "resumable")


@pytest.fixture(autouse=True)
def wide_help(monkeypatch) -> None:
    """argparse wraps help to the terminal's width, breaking words such as runs/forecast-lstm."""
    monkeypatch.setenv("COLUMNS", "200")


def _help(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_train_help_lists_every_recipe(capsys) -> None:
    out = _help(capsys, "train", "--help")
    for name in RECIPES:
        assert name in out
    assert "--epochs" in out and "--resume" in out


def test_recipe_help_shows_its_own_options_with_defaults_from_run(capsys) -> None:
    out = _help(capsys, "train", "forecast-lstm", "--help")
    assert "an LSTM forecasts" in out  # the summary
    assert "--csv FILE" in out and "--column NAME" in out and "--window N" in out
    assert "passes over the training data (default: 20)" in out
    assert "(default: no time limit)" in out  # minutes=None in run()
    assert "runs/forecast-lstm" in out
    assert "--latent" not in out and "--device" not in out and "--resume" in out
    out = _help(capsys, "train", "digits-vae", "--help")
    assert "--latent N" in out and "(default: 8)" in out and "--csv" not in out
    out = _help(capsys, "train", "shakespeare-lstm", "--help")
    assert "--prompt TEXT" in out and "--max-steps" in out and "--checkpoint-every N" in out


def test_common_options_are_offered_only_where_run_takes_them(capsys) -> None:
    out = _help(capsys, "train", "scale", "--help")
    assert "--seed" in out and "--out" in out and "--image-size" in out
    for hidden in ("--epochs", "--minutes", "--max-steps", "--resume", "--device"):
        assert hidden not in out, hidden


def test_resume_and_device_are_offered_where_run_takes_them(capsys, resumable) -> None:
    out = _help(capsys, "train", "resumable", "--help")
    assert "--resume" in out and "--device DEVICE" in out and "(default: 'cpu')" in out


def test_demo_help_defaults_to_runs_demo(capsys) -> None:
    assert "(default: runs/demo)" in _help(capsys, "demo", "--help")


def test_every_declared_option_is_a_parameter_of_run() -> None:
    for recipe in RECIPES.values():
        taken = inspect.signature(recipe.run).parameters
        for option in recipe.options:
            assert option.name in taken, (recipe.name, option.name)


def test_options_reach_run_as_keyword_arguments(monkeypatch, tmp_path) -> None:
    calls = _record_calls(monkeypatch, "digits-vae")
    argv = ["--epochs", "3", "--latent", "2", "--seed", "5", "--no-progress", "--device", "cpu"]
    assert main(["train", "digits-vae", *argv, "--out", str(tmp_path)]) == 0
    # --device cpu is accepted and not passed: the VAE's run() has no device parameter
    assert calls == [
        {"epochs": 3, "latent": 2, "seed": 5, "progress": False, "out_dir": str(tmp_path)}
    ]
    calls = _record_calls(monkeypatch, "shakespeare-gpt")
    assert main(["train", "shakespeare-gpt", "--epochs", "0.5", "--corpus", "python"]) == 0
    assert calls == [{"epochs": 0.5, "corpus": "python", "out_dir": "runs/shakespeare-gpt"}]


@pytest.mark.parametrize(
    "recipe, argv, message",
    [
        ("digits-cnn", ["--epochs", "-1"], "--epochs must be a positive integer, got -1"),
        ("digits-cnn", ["--epochs", "0"], "--epochs must be a positive integer, got 0"),
        ("digits-cnn", ["--epochs", "2.5"], "--epochs must be a positive integer, got '2.5'"),
        ("digits-cnn", ["--seed", "-3"], "--seed must be a non-negative integer, got -3"),
        ("shakespeare-lstm", ["--minutes", "0"], "--minutes must be a positive finite number"),
        ("shakespeare-lstm", ["--minutes", "nan"], "positive finite number, got nan"),
        ("shakespeare-lstm", ["--minutes", "inf"], "positive finite number, got inf"),
        ("shakespeare-lstm", ["--max-steps", "-5"], "--max-steps must be a positive integer"),
        ("shakespeare-lstm", ["--prompt", ""], "--prompt must be non-empty text, got ''"),
        ("forecast-lstm", ["--csv", "no/such.csv", "--column", "y"], "--csv must be an existing"),
        ("forecast-lstm", ["--column", "y"], "--column needs --csv too"),
        ("digits-cnn", ["--device", "cuda"], "cuda is not available: glassnet has no GPU backend"),
        ("scale", ["--resume"], "recipe 'scale' cannot resume"),
        ("scale", ["--epochs", "3"], "recipe 'scale' does not take --epochs"),
        ("spiral-mlp", ["--latent", "2"], "recipe 'spiral-mlp' does not take --latent"),
        ("spiral-mlp", ["--dataset", "blobs"], "--dataset must be one of circle, xor"),
        ("spiral-mlp", ["--noise", "60"], "--noise must be a number from 0 to 50"),
        ("digits-cnn", ["--epochs"], "argument --epochs: expected one argument"),
        ("digits-cnn", ["stray"], "unexpected argument stray"),
    ],
)
def test_bad_values_are_one_line_before_anything_runs(
    monkeypatch, capsys, recipe, argv, message
) -> None:
    calls = _record_calls(monkeypatch, recipe)
    assert main(["train", recipe, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"glassnet train {recipe}: ") and message in err, err
    assert err.count("\n") == 1, err
    assert calls == []


def test_out_must_not_be_a_file(monkeypatch, capsys, tmp_path) -> None:
    calls = _record_calls(monkeypatch, "digits-cnn")
    file = tmp_path / "notes.txt"
    file.write_text("x")
    assert main(["train", "digits-cnn", "--out", str(file)]) == 2
    assert f"--out must be a folder, got {str(file)!r} (that is a file)" in capsys.readouterr().err
    assert calls == []


def test_every_bad_value_gets_its_line(monkeypatch, capsys) -> None:
    _record_calls(monkeypatch, "digits-cnn")
    assert main(["train", "digits-cnn", "--epochs", "x", "--seed", "-1"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_train_without_a_recipe_says_how(capsys) -> None:
    assert main(["train"]) == 2
    assert "glassnet train RECIPE" in capsys.readouterr().err


def test_resume_without_a_checkpoint_is_an_error(resumable, capsys, tmp_path) -> None:
    assert main(["train", "resumable", "--resume", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    checkpoints = tmp_path / "checkpoints"
    assert f"glassnet train resumable --resume: no checkpoint in {checkpoints}" in err
    assert "run without --resume to start fresh" in err and resumable == []


def test_resume_with_a_checkpoint_reaches_run(resumable, tmp_path) -> None:
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "step-000000120.safetensors").write_bytes(b"")
    argv = ["train", "resumable", "--resume", "--device", "cpu", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert resumable == [{"resume": True, "device": "cpu", "out_dir": str(tmp_path)}]


def _metrics(folder, lines: list[str]) -> None:
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text("\n".join(lines))


def _entry(**values) -> str:
    return json.dumps(values)


@pytest.fixture
def run_folders(tmp_path):
    """Three runs: one with epochs (its last line cut short by a crash), one that died in its
    first epoch, one from before metrics.jsonl (model.json only), and an empty folder."""
    _metrics(
        tmp_path / "cnn",
        [
            _entry(event="step", step=5, epoch=1, time=0.5, loss=2.0),
            _entry(
                event="epoch",
                step=10,
                epoch=1,
                time=1.0,
                loss=0.5,
                accuracy=0.8,
                val_loss=0.3,
                val_accuracy=0.9,
                lr=0.01,
            ),
            _entry(
                event="epoch",
                step=20,
                epoch=2,
                time=2.0,
                loss=0.4,
                accuracy=0.85,
                val_loss=0.35,
                val_accuracy=0.88,
                lr=0.005,
            ),
            '{"event": "step", "step": 25, "ep',
        ],
    )
    _metrics(tmp_path / "early", [_entry(event="step", step=3, epoch=1, time=0.1, loss=1.5)])
    (tmp_path / "lstm").mkdir()
    (tmp_path / "lstm" / "model.json").write_text(
        json.dumps({"format": "x", "val_loss": 1.41, "steps": 300, "seconds": 12.5})
    )
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not a run")
    return tmp_path


def test_runs_lists_each_folder_with_its_best_metrics(run_folders, capsys) -> None:
    assert main(["runs", str(run_folders)]) == 0
    lines = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
    assert list(lines) == ["cnn", "early", "empty", "lstm"]
    # best over epochs: min of the losses, max of the accuracies, validation first, no lr
    assert "epoch 2 step 20" in lines["cnn"]
    assert lines["cnn"].endswith("val_loss 0.3  val_accuracy 0.9  loss 0.4  accuracy 0.85")
    assert "step 3" in lines["early"] and "loss 1.5" in lines["early"]
    assert lines["empty"].endswith("no metrics.jsonl")
    assert "step 300" in lines["lstm"] and "val_loss 1.41  (from model.json)" in lines["lstm"]


def test_runs_json_is_for_scripts(run_folders, capsys) -> None:
    assert main(["runs", str(run_folders), "--json"]) == 0
    runs = {run["name"]: run for run in json.loads(capsys.readouterr().out)}
    assert runs["cnn"]["best"] == {
        "val_loss": 0.3,
        "val_accuracy": 0.9,
        "loss": 0.4,
        "accuracy": 0.85,
    }
    assert runs["cnn"]["epoch"] == 2 and runs["cnn"]["step"] == 20
    assert runs["cnn"]["source"] == "metrics.jsonl" and runs["empty"]["source"] is None


def test_runs_without_the_folder_is_a_clear_error(tmp_path, capsys) -> None:
    assert main(["runs", str(tmp_path / "none")]) == 2
    assert "no folder" in capsys.readouterr().err


# -- glassnet predict ------------------------------------------------------------------------------


@pytest.fixture
def echo_predictor(tmp_path, monkeypatch):
    """A predictor module of the test's own, registered under "echo": it prints the model's
    class, the input and an extra the recipe saved."""
    (tmp_path / "echo_predictor.py").write_text(
        "def predict_one(model, document, given, out):\n"
        "    print(type(model).__name__, given, document['extras']['unit'], file=out)\n"
        "    return {'given': given}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from glassnet.recipes import predict as predict_module

    monkeypatch.setitem(predict_module.PREDICTORS, "echo", "echo_predictor:predict_one")


def test_predict_calls_the_predictor_the_model_names(tmp_path, echo_predictor, capsys):
    from glassnet.io import save_model
    from glassnet.models import MLP

    (tmp_path / "run").mkdir()
    save_model(
        MLP([2, 3, 1]),
        tmp_path / "run" / "model.safetensors",
        extras={"predictor": "echo", "unit": "Hz"},
    )
    assert main(["predict", str(tmp_path / "run"), "hello there"]) == 0
    assert capsys.readouterr().out == "MLP hello there Hz\n"


def test_predict_refuses_models_without_a_known_predictor(tmp_path, capsys):
    from glassnet.io import save_model
    from glassnet.models import MLP

    for name in ("plain", "odd"):
        (tmp_path / name).mkdir()
    save_model(MLP([2, 3, 1]), tmp_path / "plain" / "model.safetensors")
    save_model(MLP([2, 3, 1]), tmp_path / "odd" / "model.safetensors", extras={"predictor": "x"})
    assert main(["predict", str(tmp_path / "plain"), "1"]) == 2
    assert "holds a MLP saved without a predictor" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "odd"), "1"]) == 2
    assert "names the predictor 'x', which this glassnet does not have" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "nothing"), "1"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
