"""Saving and loading: moving a network's weights between memory and disk.

`save(model, "model.safetensors")` writes the model's state_dict; `load(path)` reads it back as a
state_dict, and `load_into(model, path)` puts it straight into a model. Both `.safetensors`
(readable by PyTorch) and NumPy's `.npz` are supported; neither format can run code when loaded.
"""

from .weights import SUPPORTED_EXTENSIONS, load, load_into, load_metadata, save, save_json

__all__ = ["SUPPORTED_EXTENSIONS", "load", "load_into", "load_metadata", "save", "save_json"]
