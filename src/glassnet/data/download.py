"""Downloading data files once, safely, into a cache folder.

A dataset file is fetched from the first mirror that answers, streamed into a temporary file next
to its final place, checked against its published SHA-256, and only then renamed into place in one
step. Whatever goes wrong on the way (a dead server, an HTTP error, a file that does not match its
checksum, Ctrl-C), the temporary file is removed, so the cache never holds half a file and the next
attempt starts clean.

The cache folder is ``platformdirs.user_cache_dir("glassnet")`` (``~/.cache/glassnet`` on Linux),
or the folder named by the environment variable ``GLASSNET_DATA``, or a ``root`` given explicitly.
To work offline, put the files there yourself.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

TIMEOUT = 30.0
"""Seconds to wait for a server to connect or to send the next block, before trying the next."""

_BLOCK = 1 << 20


class DownloadError(OSError):
    """Every mirror of a file failed; the message lists each one and why."""


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The folder datasets are cached in: `root` if given, else ``$GLASSNET_DATA``, else the
    user's cache folder for glassnet (``platformdirs.user_cache_dir("glassnet")``)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("GLASSNET_DATA")
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # platformdirs is an optional extra; this is its answer on Linux
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glassnet"
    return Path(user_cache_dir("glassnet"))


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class _Mismatch(Exception):
    """The bytes received are not the file that was asked for."""


def _fetch(url: str, destination: Path, sha256: str | None, timeout: float) -> None:
    """Stream `url` into `destination` (an open temporary file's path), checking its length and,
    unless `sha256` is None (an archive whose files are checked one by one), its SHA-256."""
    request = urllib.request.Request(url, headers={"User-Agent": "glassnet"})
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(request, timeout=timeout) as response, open(destination, "wb") as f:
        expected_size = response.headers.get("Content-Length")
        while block := response.read(_BLOCK):
            f.write(block)
            digest.update(block)
            received += len(block)
    if expected_size is not None and expected_size.isdigit() and received != int(expected_size):
        raise _Mismatch(f"the connection closed after {received:,} of {int(expected_size):,} bytes")
    if sha256 is not None and digest.hexdigest() != sha256.lower():
        raise _Mismatch(
            f"checksum mismatch: got SHA-256 {digest.hexdigest()}, expected {sha256.lower()} "
            f"({received:,} bytes received)"
        )


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP error {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect: {error.reason}"
    if isinstance(error, TimeoutError):
        return f"timed out ({error})"
    return str(error) or type(error).__name__


def download(
    urls: str | Sequence[str],
    filename: str,
    sha256: str,
    root: str | os.PathLike | None = None,
    *,
    timeout: float | None = None,
    quiet: bool = False,
) -> Path:
    """Fetch one file into the cache and return its path; a file already there with the right
    checksum is returned without downloading.

    Args:
        urls: where the file can be fetched, tried in order until one delivers it intact (a
            single URL or a list of mirrors' URLs for the same file).
        filename: the file's name in the cache folder.
        sha256: the published SHA-256 of the file; anything else received is rejected.
        root: the cache folder (default: see `data_dir`); created if missing.
        timeout: seconds to wait on a silent server before moving on (default `TIMEOUT`).
        quiet: do not announce the download on stderr.

    Raises:
        DownloadError: no mirror delivered the file; the message says what each one answered and
            where to put the file by hand. Nothing is left behind in the cache.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    folder = data_dir(root)
    target = folder / filename
    if target.is_file() and sha256_of(target) == sha256.lower():
        return target
    # the folders this call creates, deepest first: a failed download removes them again
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _download_into(urls, filename, sha256, folder, target, timeout, quiet)
    except BaseException:
        for path in created:
            try:
                path.rmdir()  # only if still empty: another process may have put files there
            except OSError:
                break
        raise


def _download_into(
    urls: list[str],
    filename: str,
    sha256: str,
    folder: Path,
    target: Path,
    timeout: float | None,
    quiet: bool,
) -> Path:
    """Try each mirror in turn; the file lands in `target` only whole and checked."""
    failures = []
    for url in urls:
        if not quiet:
            print(f"Downloading {url} to {target}", file=sys.stderr)
        fd, partial = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
        os.close(fd)
        try:
            _fetch(url, Path(partial), sha256, TIMEOUT if timeout is None else timeout)
            os.chmod(partial, 0o644)  # mkstemp's private 0600 would hide a shared cache's files
            os.replace(partial, target)
            return target
        except (OSError, http.client.HTTPException, _Mismatch, ValueError) as error:
            failures.append(f"  {url}: {_reason(error)}")
        finally:
            # after success the name is gone already; after anything else (Ctrl-C included) the
            # partial file goes, so that no half-written file is ever mistaken for the data
            Path(partial).unlink(missing_ok=True)
    raise DownloadError(
        f"could not download {filename}; tried {len(urls)} mirror(s):\n"
        + "\n".join(failures)
        + f"\nTo work offline, fetch {filename} by other means and put it in {folder} (set the "
        "environment variable GLASSNET_DATA or pass root= to use another folder)."
    )
