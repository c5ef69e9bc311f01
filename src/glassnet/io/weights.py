"""Weight files: a trained network's numbers, written to disk and read back.

A model's `state_dict()` maps names ("0.weight") to arrays. We store it in one of two open formats
that never run code on loading (no pickle): `.safetensors`, which PyTorch and Hugging Face read too,
and NumPy's `.npz`. A file is written next to its target and renamed over it only once complete, so
a crash mid-write never leaves a half-written model behind.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

from ..tensor import Tensor

PathLike = str | os.PathLike

SUPPORTED_EXTENSIONS = (".safetensors", ".npz")
_EXTRAS_HINT = "pip install glassnet[extras]"
# safetensors stores tensors sorted by dtype and name, so the state_dict's order travels in the
# header's metadata under this key; npz keeps the order itself and holds the metadata in an entry.
_ORDER_KEY = "glassnet.keys"
_NPZ_METADATA_ENTRY = "__metadata__"
# Booleans, integers and floats: what both formats (and PyTorch) can hold without pickling.
_STORABLE_KINDS = "biuf"


def save(
    obj: Any,
    path: PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a module's weights (or a dict of Tensors/arrays) to `path`, atomically.

    The format follows the extension: ``.safetensors`` or ``.npz``. `metadata` is optional text
    (str keys and values) stored alongside; read it back with `load_metadata`. The previous file at
    `path`, if any, stays intact until the new one is completely written.

    Example::

        >>> save(model, "mlp.safetensors", metadata={"epochs": "30"})
        >>> model.load_state_dict(load("mlp.safetensors"))
    """
    path = os.fspath(path)
    fmt = _format_of(path)
    arrays = _arrays_of(obj)
    user_metadata = _check_metadata(metadata)
    if fmt == ".safetensors":
        payload = _serialize_safetensors(arrays, user_metadata)
        _atomic_write(path, lambda f: f.write(payload))
    else:
        entries: dict[str, np.ndarray] = dict(arrays)
        entries[_NPZ_METADATA_ENTRY] = np.array(json.dumps(user_metadata))
        _atomic_write(path, lambda f: _write_npz(f, entries))


def save_json(document: Any, path: PathLike) -> str:
    """Write `document` (JSON values) to `path` as indented JSON, atomically, as `save` does."""
    path = os.fspath(path)
    payload = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    _atomic_write(path, lambda f: f.write(payload))
    return path


def load(path: PathLike) -> OrderedDict[str, Tensor]:
    """Read a weights file written by `save` (or by PyTorch via safetensors) into a state_dict.

    Raises FileNotFoundError when `path` does not exist and ValueError when it is not a complete,
    valid weights file of the format its extension names.
    """
    path = os.fspath(path)
    fmt = _format_of(path)
    _check_exists(path)
    arrays, _ = _read_safetensors(path) if fmt == ".safetensors" else _read_npz(path)
    return OrderedDict((name, Tensor(array)) for name, array in arrays.items())


def load_metadata(path: PathLike) -> dict[str, str]:
    """The text metadata stored in a weights file by ``save(..., metadata=...)``."""
    path = os.fspath(path)
    fmt = _format_of(path)
    _check_exists(path)
    _, metadata = _read_safetensors(path) if fmt == ".safetensors" else _read_npz(path)
    return metadata


def load_into(module: Any, path: PathLike, strict: bool = True) -> Any:
    """Load the weights in `path` into `module`; returns what `module.load_state_dict` returns.

    The whole file is read and checked before the module is touched, and `load_state_dict`
    checks names and shapes before copying, so a bad file leaves the model as it was.
    """
    return module.load_state_dict(load(path), strict=strict)


# -- checking what goes in -------------------------------------------------------------------------


def _format_of(path: str) -> str:
    for ext in SUPPORTED_EXTENSIONS:
        if path.lower().endswith(ext):
            return ext
    raise ValueError(
        f"cannot tell the weights format of {path!r}: its extension must be one of "
        f"{', '.join(SUPPORTED_EXTENSIONS)}"
    )


def _check_exists(path: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"weights file not found: {path!r}", path)


def _arrays_of(obj: Any) -> OrderedDict[str, np.ndarray]:
    """The state_dict of a module, or a dict of tensors, as C-ordered little-endian arrays."""
    state = obj.state_dict() if callable(getattr(obj, "state_dict", None)) else obj
    if not isinstance(state, Mapping):
        raise TypeError(
            f"save() expects a Module or a dict of Tensors/arrays, got {type(obj).__name__}"
        )
    arrays: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, value in state.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save(): every key must be a non-empty str, got {name!r}")
        if name in (_NPZ_METADATA_ENTRY, _ORDER_KEY):
            raise ValueError(f"save(): the key {name!r} is reserved for the file's metadata")
        if isinstance(value, Tensor):
            array = value.data
        elif isinstance(value, np.ndarray):
            array = value
        else:
            raise TypeError(
                f"save(): {name!r} must be a Tensor or a NumPy array, got {type(value).__name__}"
            )
        if array.dtype.kind not in _STORABLE_KINDS:
            raise TypeError(
                f"save(): {name!r} has dtype {array.dtype}; only bool, integer and float arrays "
                "can be stored (object arrays would need pickle)"
            )
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        # safetensors reads raw memory, so a strided view must become one dense block first.
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
    return arrays


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save(): metadata must be a dict of str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"save(): metadata keys and values must be str, got {key!r}: {value!r}")
        if key == _ORDER_KEY:
            raise ValueError(f"save(): the metadata key {_ORDER_KEY!r} is reserved")
    return dict(metadata)


# -- writing ---------------------------------------------------------------------------------------


def _atomic_write(path: str, write: Callable[[IO[bytes]], Any]) -> None:
    """Write through `write` into a fresh file beside `path`, then rename it onto `path`.

    A rename within one directory is atomic, so readers see either the old file or the new one.
    On any failure the temporary file is removed and the old file is untouched.
    """
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    # os.open with O_EXCL never clobbers another writer's file; mode 0o666 lets the umask decide
    # the final permissions, as for any ordinary new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; not possible (nor needed) on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError(
            f".safetensors files need the 'safetensors' package: {_EXTRAS_HINT} "
            "(or save to a .npz file, which needs only NumPy)"
        ) from e
    return safetensors


def _serialize_safetensors(arrays: Mapping[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    header = {**metadata, _ORDER_KEY: json.dumps(list(arrays))}
    return _safetensors().numpy.save(dict(arrays), metadata=header)


def _write_npz(file: IO[bytes], entries: Mapping[str, np.ndarray]) -> None:
    """What `np.savez` does, minus its keyword arguments, which a key such as "file" would hit."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in entries.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


# -- reading ---------------------------------------------------------------------------------------


def _invalid(path: str, fmt: str, reason: object) -> ValueError:
    return ValueError(f"{path!r} is not a valid {fmt} weights file: {reason}")


def _read_safetensors(path: str) -> tuple[OrderedDict[str, np.ndarray], dict[str, str]]:
    safetensors = _safetensors()
    try:
        with safetensors.safe_open(path, framework="numpy") as f:
            header = dict(f.metadata() or {})
            names = list(f.keys())
            order = _saved_order(header.pop(_ORDER_KEY, None), names)
            arrays = OrderedDict((name, f.get_tensor(name)) for name in order)
    except safetensors.SafetensorError as e:
        raise _invalid(path, "safetensors", e) from e
    except (TypeError, ValueError) as e:  # e.g. a dtype NumPy lacks, such as bfloat16
        raise _invalid(path, "safetensors", e) from e
    return arrays, header


def _saved_order(order_json: str | None, names: list[str]) -> list[str]:
    """The key order `save` recorded; files from elsewhere keep the order safetensors lists."""
    if order_json is None:
        return names
    order = json.loads(order_json)
    if sorted(order) != sorted(names):
        raise ValueError(f"the recorded key order does not match the tensors stored: {order}")
    return order


def _read_npz(path: str) -> tuple[OrderedDict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as file:  # opened first: failing to open is an I/O error, not bad data
        try:
            npz = np.load(file, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single .npy array, not an .npz archive")
            arrays = OrderedDict((name, npz[name]) for name in npz.files)
            metadata = json.loads(str(arrays.pop(_NPZ_METADATA_ENTRY, "{}")))
            if not isinstance(metadata, dict):
                raise ValueError(f"its {_NPZ_METADATA_ENTRY} entry is not a JSON object")
            for name, array in arrays.items():
                if array.dtype.kind not in _STORABLE_KINDS:
                    raise ValueError(f"entry {name!r} has non-numeric dtype {array.dtype}")
        except (
            ValueError,
            EOFError,
            OSError,
            NotImplementedError,
            zipfile.BadZipFile,
            zlib.error,
        ) as e:
            raise _invalid(path, "npz", e) from e
    return arrays, metadata
