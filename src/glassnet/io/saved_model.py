"""Saved models: a network's weights plus a short JSON document that says how to rebuild it.

`save_model(model, "runs/x/model.safetensors", extras={...})` writes the weights and, beside them,
model.json: the model's class (by its registered name), the arguments that build it, glassnet's
version, the weights' SHA-256 and whatever the caller needs to use the model (a vocabulary, how
the inputs were scaled). `load_model(path)` rebuilds the model from these alone. Neither file can
run code: the class is looked up in a fixed table (`glassnet.models.REGISTRY`), never imported
from a name the file gives.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

from .weights import load_into, save, save_json

PathLike = str | os.PathLike

FORMAT_NAME = "glassnet.model"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
# What the character-model recipes wrote before this format, and the class each one holds: the
# document's "model" was the config, "vocab" the vocabulary, every other key information.
LEGACY_FORMATS = {"glassnet.charrnn/1": "CharRNN", "glassnet.gpt/1": "GPT"}
_REQUIRED = {"class": str, "config": dict, "weights": str, "sha256": str, "extras": dict}


def save_model(
    model: Any, path: PathLike, *, extras: dict[str, Any] | None = None
) -> tuple[str, str]:
    """Write `model`'s weights to `path` (``.safetensors`` or ``.npz``) and its JSON document
    beside them (same name, ``.json``); returns both paths.

    The document holds ``"format"``, ``"class"`` (the registered name), ``"config"`` (from
    ``model.config()``), ``"glassnet_version"``, ``"weights"`` (the weights' file name),
    ``"sha256"`` (of the weights file) and ``"extras"``: `extras`, JSON values (NumPy numbers
    and arrays become numbers and lists) that a user of the model needs, such as a vocabulary.

    Everything is checked before the first byte is written, and each file is written atomically
    (see `glassnet.io.save`): a failed save leaves the previous files whole. Should the document
    fail after the new weights are in place, the old document's SHA-256 no longer matches them,
    and `load_model` says so instead of loading a mismatched pair.

    Example::

        >>> save_model(model, "runs/gpt/model.safetensors", extras={"vocab": vocab.chars})
        ('runs/gpt/model.safetensors', 'runs/gpt/model.json')
        >>> model = load_model("runs/gpt")
    """
    path = os.fspath(path)
    document_path = os.path.splitext(path)[0] + ".json"
    if document_path == path:
        raise ValueError(f"save_model: {path!r} is the document's name; give the weights' name")
    name = _registry().registered_name(model)
    config = _as_json(model.config(), f"{name}.config()")
    extras = _as_json({} if extras is None else extras, "extras")
    if not isinstance(extras, dict):
        raise TypeError(f"save_model: extras must be a dict, got {type(extras).__name__}")
    vocab_size = getattr(model, "vocab_size", None)
    if "vocab" in extras and vocab_size is not None and len(extras["vocab"]) != vocab_size:
        raise ValueError(
            f"save_model: the vocabulary has {len(extras['vocab'])} characters but the "
            f"{name} {vocab_size}"
        )
    save(model, path)
    document = {
        "format": FORMAT,
        "class": name,
        "config": config,
        "glassnet_version": _glassnet_version(),
        "weights": os.path.basename(path),
        "sha256": _sha256(path),
        "extras": extras,
    }
    return path, save_json(document, document_path)


def load_model(path: PathLike) -> Any:
    """The model saved by `save_model`, rebuilt, with its weights, in eval mode. `path` is the
    JSON document, the weights file beside it, or a folder holding ``model.json``."""
    return load_model_and_document(path)[0]


def load_model_and_document(path: PathLike) -> tuple[Any, dict[str, Any]]:
    """`load_model`'s model and the JSON document it came from (its ``"extras"`` hold what the
    saver added). Documents in the older character-model formats come back in today's layout,
    their ``"format"`` unchanged and ``"sha256"`` None.

    Raises FileNotFoundError when the document or the weights are missing, and ValueError when
    the document is not a saved model, comes from a newer format, names an unknown class or a
    config the class rejects, or when the weights' SHA-256 differs from the recorded one.
    """
    document_path = _document_path(path)
    document = _read_document(document_path)
    cls = _registry().model_class(document["class"])
    weights = os.path.join(os.path.dirname(document_path), document["weights"])
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"{weights} not found: the weights that {document_path} names")
    if document["sha256"] is not None and _sha256(weights) != document["sha256"]:
        raise ValueError(
            f"{weights}: its SHA-256 ({_sha256(weights)}) differs from the one {document_path} "
            f"recorded ({document['sha256']}): the weights were changed or damaged after saving, "
            "or belong to another save"
        )
    try:
        model = cls(**document["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{document_path}: its config does not build a {document['class']}: {error}"
            f"{_version_note(document)}"
        ) from error
    load_into(model, weights)
    model.eval()
    return model, document


# -- the document ----------------------------------------------------------------------------------


def _document_path(path: PathLike) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or folder")
    if os.path.isdir(path):
        document = os.path.join(path, "model.json")
    else:
        document = os.path.splitext(path)[0] + ".json"
    if not os.path.isfile(document):
        raise FileNotFoundError(
            f"{document} not found: a saved model is its weights plus a .json document beside "
            "them under the same name, as glassnet.models.save and the recipes write"
        )
    return document


def _read_document(path: str) -> dict[str, Any]:
    """The document at `path`, checked, in today's layout."""
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"{path}: not a saved model's document (not valid JSON: {error})"
        ) from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a saved model's document (not a JSON object)")
    fmt = document.get("format")
    if fmt in LEGACY_FORMATS:
        return _upgrade(document, path)
    _check_format(fmt, document, path)
    for key, kind in _REQUIRED.items():
        if not isinstance(document.get(key), kind):
            raise ValueError(
                f"{path}: its {key!r} should be a JSON {'string' if kind is str else 'object'}, "
                f"got {document.get(key)!r}"
            )
    _check_weights_name(document["weights"], path)
    return document


def _check_format(fmt: Any, document: dict[str, Any], path: str) -> None:
    name, _, version = fmt.rpartition("/") if isinstance(fmt, str) else ("", "", "")
    if name != FORMAT_NAME or not version.isdigit():
        raise ValueError(
            f"{path}: not a saved glassnet model (format {fmt!r}, expected {FORMAT!r})"
        )
    if int(version) > FORMAT_VERSION:
        raise ValueError(
            f"{path}: written in format {fmt} by glassnet "
            f"{document.get('glassnet_version', '?')}, newer than this glassnet "
            f"({_glassnet_version()}) reads ({FORMAT}); upgrade glassnet to load it"
        )


def _upgrade(document: dict[str, Any], path: str) -> dict[str, Any]:
    """A document written by the old save_char_rnn/save_gpt, in today's layout."""
    rest = {k: v for k, v in document.items() if k not in ("format", "weights", "vocab", "model")}
    if not isinstance(document.get("model"), dict) or not isinstance(document.get("weights"), str):
        raise ValueError(f"{path}: a {document['format']} document needs 'model' and 'weights'")
    _check_weights_name(document["weights"], path)
    return {
        "format": document["format"],
        "class": LEGACY_FORMATS[document["format"]],
        "config": document["model"],
        "glassnet_version": None,
        "weights": document["weights"],
        "sha256": None,
        "extras": {"vocab": document.get("vocab"), **rest},
    }


def _check_weights_name(name: str, path: str) -> None:
    """The weights must lie beside the document: a file name, no folders, so a document cannot
    send the loader anywhere else on the disk."""
    if not name or os.path.basename(name) != name or name in (".", ".."):
        raise ValueError(
            f"{path}: its weights must be a file name beside it, without folders, got {name!r}"
        )


def _version_note(document: dict[str, Any]) -> str:
    written_by = document.get("glassnet_version")
    if written_by is None or written_by == _glassnet_version():
        return ""
    return f" (the file was written by glassnet {written_by}, this is {_glassnet_version()})"


# -- helpers ---------------------------------------------------------------------------------------


def _as_json(value: Any, what: str) -> Any:
    """`value` as plain JSON values (NumPy numbers and arrays become Python ones), or a
    TypeError naming `what`."""

    def plain(obj: Any) -> Any:
        if isinstance(obj, np.generic | np.ndarray):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not a JSON value")

    try:
        return json.loads(json.dumps(value, default=plain))
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_model: {what} must hold JSON values: {error}") from None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _registry() -> Any:
    # glassnet.models imports glassnet.io, so the registry is reached at call time
    from ..models import registry

    return registry


def _glassnet_version() -> str:
    # glassnet/__init__ sets __version__ after importing glassnet.io
    from .. import __version__

    return __version__
