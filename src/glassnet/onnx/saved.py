"""Exporting a saved model (a recipe's run): what to export and on which example input.

A saved model's document says which network it holds and, for the image recipes, the shape of
its input (``extras["input_shape"]``); the network's config says the rest (a GPT's context, a
VAE's latent size). From those this module builds the example input that `export` traces, names
the graph's inputs and outputs, and leaves the batch (and a text model's length) dynamic. A VAE
exports its decoder (a code in, an image out) and a GAN its generator: the parts that make new
images.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..io.saved_model import load_model_and_document
from ..nn.module import Module
from ..tensor import Tensor
from .export import export

TEXT_LENGTH = 16  # the example length of a character model's input (the length stays dynamic)


@dataclass
class ExportPlan:
    """What to export (`module`), on which example, under which names."""

    module: Module
    example: tuple[Tensor, ...]
    input_names: list[str]
    output_names: list[str]
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)

    def describe(self) -> str:
        def shape(name: str, t: Tensor) -> str:
            axes = self.dynamic_axes.get(name, {})
            dims = [axes.get(k, str(n)) for k, n in enumerate(t.shape)]
            return f"{name} ({', '.join(dims)}) {t.dtype}"

        ins = ", ".join(shape(n, t) for n, t in zip(self.input_names, self.example))
        return f"{type(self.module).__name__}: inputs {ins}; outputs {', '.join(self.output_names)}"


def _batched(names_in: Sequence[str], names_out: Sequence[str]) -> dict[str, dict[int, str]]:
    return {name: {0: "batch"} for name in (*names_in, *names_out)}


def plan_for(
    model: Module, document: dict[str, Any], input_shape: Sequence[int] | None = None
) -> ExportPlan:
    """The export plan of a loaded saved model; `input_shape` (without the batch) overrides
    what the document says, and is needed where it says nothing (a ResNet saved by hand)."""
    kind = document["class"]
    config, extras = document["config"], document.get("extras") or {}
    if kind in ("GPT", "CharRNN"):
        length = min(TEXT_LENGTH, config["context"]) if kind == "GPT" else TEXT_LENGTH
        tokens = Tensor(np.zeros((1, length), dtype=np.int64) + np.arange(length) % 2)
        outputs = ["logits"] if kind == "GPT" else ["logits", "h_n"]
        if kind == "CharRNN" and config.get("cell", "lstm") == "lstm":
            outputs.append("c_n")
        axes = {"tokens": {0: "batch", 1: "length"}, "logits": {0: "batch", 1: "length"}}
        return ExportPlan(model, (tokens,), ["tokens"], outputs, axes)
    if kind in ("VAE", "GAN"):
        part = model.decoder if kind == "VAE" else model.generator
        z = Tensor(np.zeros((1, config["latent_dim"]), dtype=np.float32))
        out = "decoded" if kind == "VAE" else "images"
        return ExportPlan(part, (z,), ["z"], [out], _batched(["z"], [out]))
    shape = input_shape or extras.get("input_shape") or _shape_from_config(kind, config, extras)
    if shape is None:
        raise ValueError(
            f"the saved {kind}'s document does not say the shape of its input; give it "
            "(without the batch), e.g. --input-shape 3,32,32"
        )
    x = Tensor(np.zeros((1, *[int(n) for n in shape]), dtype=np.float32))
    name_in = "images" if len(shape) == 3 else "input"
    name_out = "reconstruction" if kind == "Autoencoder" else "output"
    return ExportPlan(model, (x,), [name_in], [name_out], _batched([name_in], [name_out]))


def _shape_from_config(kind: str, config: dict, extras: dict) -> list[int] | None:
    if kind == "MLP":
        return [config["sizes"][0]]
    if kind in ("ViT",):
        return [config["in_channels"], *config["image_size"]]
    if kind == "Autoencoder":
        return list(config["image_shape"])
    if kind == "Forecaster":
        return [extras["window"], config["features"]] if "window" in extras else None
    return None


def export_saved(
    path: str | os.PathLike,
    onnx_path: str | os.PathLike,
    opset_version: int | None = None,
    input_shape: Sequence[int] | None = None,
) -> tuple[str, ExportPlan]:
    """Load the saved model at `path` (its run folder, document or weights) and export it to
    `onnx_path`; returns the path written and the plan it followed."""
    model, document = load_model_and_document(path)
    plan = plan_for(model, document, input_shape)
    written = export(
        plan.module,
        plan.example,
        onnx_path,
        input_names=plan.input_names,
        output_names=plan.output_names,
        dynamic_axes=plan.dynamic_axes,
        opset_version=opset_version,
    )
    return written, plan
