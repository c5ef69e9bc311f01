"""One's own 2-D data for the playground: a CSV file of points and their labels or targets.

`parse_csv` reads ``x1,x2,label`` rows (a header line is optional; commas, semicolons or tabs
separate the columns) and returns an `Upload`: the points, and either classes 0..k-1 (2 to 5 of
them) or regression targets. Points outside the playground's square [-6, 6]^2 are moved and
scaled (the same factor on both axes, so shapes keep their proportions) to fill it; regression
targets outside [-1, 1] are divided by their largest size, since the page draws -1 to 1. Every
such change is listed in `Upload.notes`. A file that cannot be used raises `UploadError` saying
why: the row (the line of the file, the header included) and the column of a value that is not a
number, too few or too many rows, too many classes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

MAX_UPLOAD_BYTES = 1024 * 1024
"""The largest CSV file the playground takes (1 MB)."""
MAX_UPLOAD_ROWS = 5000
MIN_UPLOAD_ROWS = 10
MAX_UPLOAD_CLASSES = 5
UPLOAD_KINDS = ("auto", "classification", "regression")
DOMAIN = 6.0
_SEPARATOR = re.compile(r"[,;\t]")
_DEFAULT_COLUMNS = ("x1", "x2", "label")


class UploadError(ValueError):
    """A CSV file the playground cannot use; the message says what is wrong and where."""


@dataclass(frozen=True)
class Upload:
    """Points read from a CSV file, ready for a playground session.

    Attributes:
        points: float32 (n, 2), inside [-6, 6]^2.
        labels: int64 classes 0..classes-1, or float32 targets in [-1, 1] (n,).
        regression: whether `labels` are targets rather than classes.
        classes: the number of classes (2 for regression, where it has no meaning).
        name: the file's name, as the page shows it.
        notes: what was changed on the way in (rescaled points, classes renumbered...).
    """

    points: np.ndarray
    labels: np.ndarray
    regression: bool
    classes: int
    name: str = "data.csv"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> int:
        return len(self.points)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def parse_csv(data: bytes | str, kind: str = "auto", name: str = "data.csv") -> Upload:
    """Read a playground data file: rows ``x1,x2,label``, an optional header line first.

    Args:
        data: the file's contents (UTF-8), at most `MAX_UPLOAD_BYTES`.
        kind: "classification" (labels are classes: two distinct values, mapped to 0 and 1 in
            increasing order, or whole numbers, 2 to 5 distinct ones, numbered 0..k-1 in
            increasing order), "regression" (labels are numbers to predict) or "auto":
            classification when the labels are whole numbers or take only two values.
        name: the file's name, kept for the page.

    Raises:
        UploadError: the file is too large, not text, has a value that is not a finite number
            (the message names its row and column), rows without three columns, fewer than
            `MIN_UPLOAD_ROWS` or more than `MAX_UPLOAD_ROWS` points, or more than 5 classes.
    """
    if kind not in UPLOAD_KINDS:
        raise UploadError(f"kind: should be one of {', '.join(UPLOAD_KINDS)}; got {kind!r}")
    if isinstance(data, bytes):
        if len(data) > MAX_UPLOAD_BYTES:
            raise UploadError(too_large(len(data)))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UploadError(
                f"the file is not UTF-8 text (byte {error.start} cannot be read): save it as CSV"
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    columns = _DEFAULT_COLUMNS
    values: list[tuple[float, float, float]] = []
    header_seen = False
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [part.strip().strip("\"'").strip() for part in _SEPARATOR.split(line)]
        numbers = [_number(part) for part in fields]
        if not values and not header_seen and all(n is None for n in numbers):
            header_seen = True  # a header line: names, no numbers
            if len(fields) == 3:
                columns = tuple(part or default for part, default in zip(fields, columns))
            else:
                raise UploadError(
                    f"row {row}: the header should name 3 columns (x1, x2, label); "
                    f"got {len(fields)}: {line[:80]!r}"
                )
            continue
        if len(fields) != 3:
            raise UploadError(
                f"row {row}: expected 3 columns (x1, x2, label), got {len(fields)}: {line[:80]!r}"
            )
        for column, (part, number) in enumerate(zip(fields, numbers)):
            if number is None:
                raise UploadError(
                    f"row {row}, column {column + 1} ({columns[column]}): {part[:40]!r} is not "
                    "a finite number"
                )
        if len(values) == MAX_UPLOAD_ROWS:
            raise UploadError(
                f"more than {MAX_UPLOAD_ROWS:,} rows: the playground takes at most "
                f"{MAX_UPLOAD_ROWS:,} points"
            )
        values.append(tuple(numbers))  # type: ignore[arg-type]
    if len(values) < MIN_UPLOAD_ROWS:
        raise UploadError(
            f"only {len(values)} row{'s' if len(values) != 1 else ''} of data: the playground "
            f"needs at least {MIN_UPLOAD_ROWS} points"
        )
    table = np.array(values, dtype=np.float64)
    notes: list[str] = []
    points = _fit_points(table[:, :2], notes)
    labels, regression, classes = _labels(table[:, 2], kind, notes)
    return Upload(points, labels, regression, classes, name, tuple(notes))


def too_large(size: int | None) -> str:
    """What to say about a file of `size` bytes (None: more than the limit, size unknown)."""
    limit = f"the playground takes CSV files up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB"
    if size is None:
        return f"the file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB: {limit}"
    return f"the file is {size / 1024 / 1024:.1f} MB: {limit}"


def _fit_points(points: np.ndarray, notes: list[str]) -> np.ndarray:
    """The points, moved and scaled into [-6, 6]^2 when some fall outside."""
    if np.abs(points).max() > DOMAIN:
        low, high = points.min(axis=0), points.max(axis=0)
        centre = (low + high) / 2
        half = float((high - low).max()) / 2
        scale = DOMAIN / half if half > 0 else 1.0
        points = np.clip((points - centre) * scale, -DOMAIN, DOMAIN)
        notes.append(
            f"points rescaled from x1 in [{_fmt(low[0])}, {_fmt(high[0])}], x2 in "
            f"[{_fmt(low[1])}, {_fmt(high[1])}] to fit [-6, 6]"
        )
    return points.astype(np.float32)


def _labels(raw: np.ndarray, kind: str, notes: list[str]) -> tuple[np.ndarray, bool, int]:
    distinct = np.unique(raw)
    whole = bool(np.all(distinct == np.round(distinct)))
    if kind == "regression" or (kind == "auto" and not whole and len(distinct) != 2):
        size = float(np.abs(raw).max())
        targets = raw
        if size > 1:
            targets = raw / size
            notes.append(f"targets divided by {_fmt(size)} to fit [-1, 1]")
        return targets.astype(np.float32), True, 2
    shown = ", ".join(_fmt(v) for v in distinct[:8]) + (", ..." if len(distinct) > 8 else "")
    if len(distinct) > MAX_UPLOAD_CLASSES:
        raise UploadError(
            f"more than {MAX_UPLOAD_CLASSES} classes: the labels take {len(distinct)} different "
            f"values ({shown}); the playground handles 2 to {MAX_UPLOAD_CLASSES} classes "
            "(for numbers to predict, choose regression)"
        )
    if len(distinct) < 2:
        raise UploadError(
            f"only one class (every label is {shown}): classification needs at least 2 classes"
        )
    if len(distinct) > 2 and not whole:
        raise UploadError(
            f"classification labels should be whole numbers (0 to {MAX_UPLOAD_CLASSES - 1}) or "
            f"take just two values; got {shown} (for numbers to predict, choose regression)"
        )
    classes = np.searchsorted(distinct, raw).astype(np.int64)
    if not np.array_equal(distinct, np.arange(len(distinct))):
        mapped = ", ".join(f"{_fmt(v)} -> {k}" for k, v in enumerate(distinct))
        notes.append(f"labels numbered as classes: {mapped}")
    return classes, False, len(distinct)
