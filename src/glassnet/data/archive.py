"""Datasets that come as one archive (a .zip or .tar.gz holding many files), fetched once, safely.

Publishers re-pack their archives (a new zip of the same files has new bytes), so the archive itself
is not checked against a checksum: every file taken out of it is, against the SHA-256 that glassnet
lists for it. Only the listed files are extracted, and each one's place is built from glassnet's own
list, so a name inside a downloaded archive never chooses where a file is written. A file lands in
the cache folder only whole and checked (a temporary file, then one rename); the downloaded archive
is deleted afterwards.

The files live in ``data_dir(root) / name`` (see `glassnet.data.download`). To work offline, put
them there yourself: they are checked the same way.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from .download import TIMEOUT, DownloadError, _fetch, _Mismatch, _reason, data_dir, sha256_of

_BLOCK = 1 << 20
_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error)


class ChecksumMismatch(DownloadError, ValueError):
    """A file from the archive is not the file glassnet lists: its SHA-256 differs."""


def fetch_archive(
    name: str,
    urls: str | Sequence[str],
    members: Mapping[str, str],
    *,
    inside: str = "",
    root: str | os.PathLike | None = None,
    fetch: bool = True,
    timeout: float | None = None,
    quiet: bool = False,
) -> Path:
    """The folder ``data_dir(root) / name`` holding every file in `members`, each checked.

    Args:
        name: the dataset's folder in the cache.
        urls: where the archive can be fetched (a .zip, or a tar, plain or compressed), tried in
            order until one delivers every missing file intact.
        members: each file's path relative to the folder (POSIX, no ``..``) -> its SHA-256.
        inside: the folder inside the archive that holds the files (e.g. ``"ml-100k/"``).
        root: the cache folder (default: see `glassnet.data.download.data_dir`).
        fetch: download what is missing or damaged; if false, raise instead.
        timeout: seconds to wait on a silent server (default `glassnet.data.download.TIMEOUT`).
        quiet: do not announce the download on stderr.

    Raises:
        FileNotFoundError: files are missing and `fetch` is false (says where to put them).
        ValueError: a file in the folder is damaged and `fetch` is false (names it).
        DownloadError: no mirror delivered the files (lists each mirror and what went wrong); a
            `ChecksumMismatch` (also a ValueError) when a mirror's archive held a file whose
            SHA-256 differs from the listed one.
    """
    for member in members:
        _check_member_name(member)
    folder = data_dir(root) / name
    pending = _damaged(folder, members)
    if not pending:
        return folder
    if not fetch:
        _refuse(folder, pending)
    urls = [urls] if isinstance(urls, str) else list(urls)
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    failures, mismatched = [], False
    for url in urls:
        if not quiet:
            print(f"Downloading {url} to {folder}", file=sys.stderr)
        try:
            with _temporary_file(folder, f".{name}.", ".archive.part") as archive:
                _fetch(url, archive, None, TIMEOUT if timeout is None else timeout)
                pending = _extract(archive, folder, {m: members[m] for m in pending}, inside)
            if not pending:
                return folder
            failures.append(f"  {url}: " + "; ".join(pending.values()))
            mismatched = mismatched or any("SHA-256" in reason for reason in pending.values())
        except _ARCHIVE_ERRORS as error:
            failures.append(f"  {url}: not a readable archive ({type(error).__name__}: {error})")
        except (OSError, http.client.HTTPException, _Mismatch, ValueError) as error:
            failures.append(f"  {url}: {_reason(error)}")
    for path in created:
        if path.exists() and not any(path.iterdir()):
            path.rmdir()
    error_class = ChecksumMismatch if mismatched else DownloadError
    raise error_class(
        f"could not fetch {name}; tried {len(urls)} mirror(s):\n"
        + "\n".join(failures)
        + f"\nTo work offline, put the files in {folder} (set the environment variable "
        "GLASSNET_DATA or pass root= to use another folder)."
    )


def _check_member_name(member: str) -> None:
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"fetch_archive: {member!r} is not a relative path inside the folder")


def _damaged(folder: Path, members: Mapping[str, str]) -> dict[str, str]:
    """Each listed file that is not in `folder` as listed -> what is wrong with it."""
    damaged = {}
    for member, sha256 in members.items():
        path = folder / member
        if not path.is_file():
            damaged[member] = f"{member}: missing"
        elif (found := sha256_of(path)) != sha256.lower():
            damaged[member] = f"{member}: SHA-256 {found}, expected {sha256.lower()}"
    return damaged


def _refuse(folder: Path, damaged: dict[str, str]) -> None:
    shown = list(damaged.values())[:5]
    more = f" (and {len(damaged) - 5} more)" if len(damaged) > 5 else ""
    listing = "; ".join(shown) + more
    if all(reason.endswith(": missing") for reason in damaged.values()):
        raise FileNotFoundError(
            f"{len(damaged)} file(s) not in {folder}: {listing}. Download them (fetch=True), or "
            "put them there yourself (set GLASSNET_DATA or pass root= to use another folder)"
        )
    raise ValueError(f"damaged file(s) in {folder}: {listing}")


@contextmanager
def _temporary_file(folder: Path, prefix: str, suffix: str) -> Iterator[Path]:
    """A fresh file's path in `folder`, removed on the way out unless it was renamed away."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _extract(
    archive: Path, folder: Path, members: Mapping[str, str], inside: str
) -> dict[str, str]:
    """Put each of `members` from `archive` into `folder`, checked; return the ones that could not
    be (-> why). Raises one of `_ARCHIVE_ERRORS` when the archive itself is unreadable."""
    failed = {}
    with _open_archive(archive) as open_member:
        for member, sha256 in members.items():
            source = open_member(inside + member)
            if source is None:
                failed[member] = f"{member}: not in the archive (under {inside or '/'!r})"
                continue
            target = folder / member
            target.parent.mkdir(parents=True, exist_ok=True)
            with source, _temporary_file(target.parent, f".{target.name}.", ".part") as partial:
                found = _copy_hashing(source, partial)
                if found != sha256.lower():
                    failed[member] = f"{member}: SHA-256 {found}, expected {sha256.lower()}"
                    continue
                os.chmod(partial, 0o644)
                os.replace(partial, target)
    return failed


def _copy_hashing(source: IO[bytes], destination: Path) -> str:
    digest = hashlib.sha256()
    with open(destination, "wb") as f:
        while block := source.read(_BLOCK):
            f.write(block)
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _open_archive(path: Path) -> Iterator:
    """A function opening one member of the zip or tar at `path` by name (None if absent)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            yield lambda member: archive.open(member) if member in names else None
        return
    with tarfile.open(path, "r:*") as archive:

        def open_member(member: str) -> IO[bytes] | None:
            try:
                info = archive.getmember(member)
            except KeyError:
                return None
            return archive.extractfile(info) if info.isfile() else None

        yield open_member
