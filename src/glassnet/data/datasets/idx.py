"""The IDX file format of MNIST and Fashion-MNIST: a tiny header, then raw bytes.

An IDX file starts with a magic number: two zero bytes, a byte for the element type (0x08:
unsigned bytes) and a byte for the number of dimensions (3 for a stack of images, 1 for labels).
Then come the dimensions as big-endian 32-bit integers, then the values, row by row. The files are
usually gzip-compressed; `read_idx` notices that by itself.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_UBYTE = 0x08
_KIND = {3: "images", 1: "labels"}


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(
            f"{path}: the gzip stream is damaged or cut short ({error}); delete the file to "
            "download it again"
        ) from None


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed or not) into a uint8 array.

    Args:
        path: the file.
        ndim: the number of dimensions it must have (3: images, magic 0x00000803; 1: labels,
            magic 0x00000801); None accepts any.

    Returns:
        a read-only uint8 array of the shape the header gives, e.g. (10000, 28, 28).

    Raises:
        ValueError: naming the file and what is wrong with it: not an IDX file, another element
            type, the wrong number of dimensions, or a length that differs from the header's.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: not an IDX file (it starts with bytes {data[:4].hex(' ') or 'nothing'}, "
            "an IDX file with two zero bytes)"
        )
    magic = int.from_bytes(data[:4], "big")
    if data[2] != _UBYTE:
        raise ValueError(
            f"{path}: IDX element type 0x{data[2]:02x} (magic 0x{magic:08x}); only unsigned bytes "
            f"(type 0x{_UBYTE:02x}) are read here"
        )
    if ndim is not None and data[3] != ndim:
        expected = (_UBYTE << 8) | ndim
        raise ValueError(
            f"{path}: magic number 0x{magic:08x} ({data[3]} dimensions), expected 0x"
            f"{expected:08x} ({ndim} dimension{'s' if ndim != 1 else ''}"
            f"{', ' + _KIND[ndim] if ndim in _KIND else ''})"
        )
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise ValueError(
            f"{path}: the file ends inside its header ({len(data)} bytes, the header alone needs "
            f"{header})"
        )
    shape = tuple(int.from_bytes(data[i : i + 4], "big") for i in range(4, header, 4))
    expected_length = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected_length:
        raise ValueError(
            f"{path}: the header promises {' x '.join(map(str, shape))} values ({expected_length:,}"
            f" bytes with the header) but the data holds {len(data):,} bytes; the file is "
            f"{'truncated' if len(data) < expected_length else 'longer than its header says'}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)
