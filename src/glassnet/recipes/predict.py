"""`glassnet predict MODEL INPUT`: a trained model answers for one input you give it.

A recipe whose model can answer for a single input (a recording, a sentence) saves it with the
name of its predictor in the saved model's document (``extras["predictor"]``): the function that
turns the input you type into the model's answer, printed, using what the recipe saved beside the
weights (feature settings, a vocabulary). The name is looked up in `PREDICTORS`, a table written
in code, so a downloaded model file can only choose among glassnet's own predictors.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, TextIO

from ..io import load_model_and_document

PREDICTORS: dict[str, str] = {}
"""A predictor's name -> ``"module:function"``; the function is called as
``function(model, document, given, out)``, prints the answer to `out` and returns it as a dict."""


def predict(model_path: str | os.PathLike, given: str, out: TextIO | None = None) -> dict[str, Any]:
    """Load the model saved at `model_path` (a run folder, its model.json or its weights) and
    print its answer for `given` (what the input is depends on the model: a file, a text)."""
    model, document = load_model_and_document(model_path)
    name = document["extras"].get("predictor")
    if name is None:
        known = ", ".join(sorted(PREDICTORS)) or "none"
        raise ValueError(
            f"{os.fspath(model_path)} holds a {document['class']} saved without a predictor: "
            f"`glassnet predict` answers with models whose recipe saved one (predictors: {known})"
        )
    if name not in PREDICTORS:
        raise ValueError(
            f"{os.fspath(model_path)} names the predictor {name!r}, which this glassnet does not "
            f"have (it has: {', '.join(sorted(PREDICTORS)) or 'none'}); was it saved by a newer "
            "glassnet?"
        )
    module_name, function_name = PREDICTORS[name].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(model, document, given, sys.stdout if out is None else out)
