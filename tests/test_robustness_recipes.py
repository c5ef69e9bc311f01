"""The recipes of the "limits" issue: `glassnet train scale` (the guide's scale figures, counted
on the meta device) and a quick `glassnet train digits-robustness`."""

import pytest

from glassnet.cli import main
from glassnet.recipes import RECIPES


def test_scale_recipe_prints_the_guides_comparison_with_real_counts(tmp_path, capsys):
    assert main(["train", "scale", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "total: 25,557,032 parameters" in out
    assert "Linear(150,528 -> 1,000,000): 150,529,000,000 parameters (602.1 GB" in out
    assert "5,890 times all of ResNet-50" in out
    peak = float(out.split("peak memory ")[1].split(" MB")[0])
    assert peak < 4.0
    summary = (tmp_path / "resnet50_summary.txt").read_text()
    assert "layer1.0.downsample.0 (Conv2d)" in summary and "Total params: 25,557,032" in summary


@pytest.mark.slow
def test_digits_robustness_recipe_smoke(tmp_path):
    """Every step of the recipe, with tiny settings: tables, pictures, weights."""
    result = RECIPES["digits-robustness"].run(
        out_dir=str(tmp_path),
        epochs=1,
        train_steps=1,
        attack_steps=2,
        eps_list=(0.1, 0.2),
        widths=(8, 16),
        progress=False,
        verbose=False,
    )
    assert result["eps"] == [0.0, 0.1, 0.2]
    for name, curves in result["curves"].items():
        assert set(curves) == {"fgsm", "pgd"} and len(curves["pgd"]) == 3, name
    assert set(result["shift"]["plain CNN"]) == {"rotation", "noise", "contrast"}
    names = ("saliency.png", "adversarial.png", "adversarial_robust.png", "robustness.png")
    for name in names:
        assert (tmp_path / name).stat().st_size > 3_000, name
    assert (tmp_path / "robust.safetensors").exists()
