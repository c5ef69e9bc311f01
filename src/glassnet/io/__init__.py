"""Saving and loading: moving a network between memory and disk.

`save(model, "model.safetensors")` writes the model's state_dict; `load(path)` reads it back as a
state_dict, and `load_into(model, path)` puts it straight into a model. Both `.safetensors`
(readable by PyTorch) and NumPy's `.npz` are supported; neither format can run code when loaded.
`save_model` adds a JSON document naming the model's class and arguments, so that `load_model`
rebuilds the whole model from the files alone.
"""

from .saved_model import FORMAT as MODEL_FORMAT
from .saved_model import load_model, load_model_and_document, save_model
from .weights import SUPPORTED_EXTENSIONS, load, load_into, load_metadata, save, save_json

__all__ = [
    "MODEL_FORMAT",
    "SUPPORTED_EXTENSIONS",
    "load",
    "load_into",
    "load_metadata",
    "load_model",
    "load_model_and_document",
    "save",
    "save_json",
    "save_model",
]
