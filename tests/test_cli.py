"""The `glassnet` command: help, list, a recipe, and the demo end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest

from glassnet.cli import main


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


def test_spiral_recipe_learns(tmp_path) -> None:
    assert main(["train", "spiral-mlp", "--out", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 1000


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
