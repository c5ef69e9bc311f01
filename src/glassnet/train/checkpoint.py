"""Checkpoints: the whole training state on disk, so a run that is killed can carry on.

A checkpoint is one `.safetensors` file: every array of the state (weights, optimizer moments,
carried recurrent states) as a tensor, and the rest (step counters, learning rates, generator
states, history) as a JSON document in the file's header, together with a SHA-256 of all the
arrays. It is written beside its final name and renamed into place only when complete, so a crash
or a full disk mid-write leaves the previous checkpoint as it was. Reading checks the digest: a
file that was cut short or damaged is reported and the one before it is used instead.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..io.weights import _atomic_write, _safetensors
from .state import pack, unpack

_DOCUMENT_KEY = "glassnet.checkpoint"
_DIGEST_KEY = "glassnet.sha256"
_NAME = re.compile(r"^step-(\d+)\.safetensors$")


class CheckpointError(OSError):
    """A checkpoint could not be written or read back intact."""


def digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.asarray(arrays[name], order="C")
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class CheckpointManager:
    """Writes `step-<N>.safetensors` files into `directory` and keeps the newest `keep`.

    Args:
        directory: the folder (created on the first save).
        keep: how many checkpoints to keep; older ones are deleted after each successful save.
        say: where messages go (a checkpoint that had to be skipped while resuming).
    """

    def __init__(
        self, directory: str | os.PathLike, keep: int = 3, say: Callable[[str], Any] = print
    ) -> None:
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
            raise ValueError(f"CheckpointManager: keep must be a positive integer, got {keep!r}")
        self.directory = os.fspath(directory)
        self.keep = keep
        self.say = say

    def paths(self) -> list[str]:
        """The checkpoint files present, oldest first."""
        if not os.path.isdir(self.directory):
            return []
        found = []
        for name in os.listdir(self.directory):
            match = _NAME.match(name)
            if match:
                found.append((int(match.group(1)), os.path.join(self.directory, name)))
        return [path for _, path in sorted(found)]

    def save(self, step: int, state: dict[str, Any]) -> str:
        """Write `state` as the checkpoint of `step`; returns its path. On failure (a full disk,
        say) raises CheckpointError and every earlier checkpoint is intact."""
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"step-{step:09d}.safetensors")
        document, arrays = pack(state, prefix="a")
        metadata = {_DOCUMENT_KEY: json.dumps(document), _DIGEST_KEY: digest(arrays)}
        try:
            payload = _safetensors().numpy.save(arrays, metadata=metadata)
            _atomic_write(path, lambda f: f.write(payload))
        except OSError as error:
            previous = self.paths()
            kept = f"the previous one, {previous[-1]}, is intact" if previous else "none before"
            reason = "the disk is full" if error.errno == errno.ENOSPC else str(error)
            raise CheckpointError(
                error.errno, f"could not write checkpoint {path}: {reason}; {kept}"
            ) from error
        for old in self.paths()[: -self.keep]:
            os.remove(old)
        return path

    def read(self, path: str) -> dict[str, Any]:
        """The state saved in `path`; CheckpointError if the file is cut short or damaged."""
        safetensors = _safetensors()
        try:
            with safetensors.safe_open(path, framework="numpy") as f:
                metadata = dict(f.metadata() or {})
                arrays = {name: f.get_tensor(name) for name in f.keys()}
        except (safetensors.SafetensorError, OSError, ValueError, TypeError) as error:
            raise CheckpointError(f"{path} cannot be read: {error}") from error
        if _DOCUMENT_KEY not in metadata:
            raise CheckpointError(f"{path} is not a glassnet checkpoint (no training state)")
        if digest(arrays) != metadata.get(_DIGEST_KEY):
            raise CheckpointError(f"{path} is damaged: its arrays do not match their SHA-256")
        try:
            return unpack(json.loads(metadata[_DOCUMENT_KEY]), arrays)
        except (ValueError, KeyError) as error:
            raise CheckpointError(f"{path} is damaged: {error}") from error

    def latest(self) -> tuple[dict[str, Any], str] | None:
        """(state, path) of the newest checkpoint that reads back intact, or None if there is
        none; each damaged newer one is reported through `say` and skipped."""
        for path in reversed(self.paths()):
            try:
                return self.read(path), path
            except CheckpointError as error:
                self.say(f"{error}; falling back to the checkpoint before it")
        return None

    def clear(self) -> int:
        """Delete every checkpoint (and unfinished write) here; returns how many checkpoints.
        A fresh run does this first: a later resume would otherwise carry on from the newest
        checkpoint of the run before, which is not this run's."""
        stale = self.paths()
        for path in stale:
            os.remove(path)
        self.remove_leftovers()
        return len(stale)

    def remove_leftovers(self) -> None:
        """Delete temporary files of writes that never finished (a run killed mid-write)."""
        for tmp in glob.glob(os.path.join(self.directory, ".step-*.safetensors.*.tmp")):
            os.remove(tmp)
