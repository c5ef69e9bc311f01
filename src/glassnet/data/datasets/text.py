"""Text, one character at a time: corpora and batches for character-level language models.

A language model reads text and predicts the next character. The text becomes numbers through a
vocabulary (every distinct character, sorted, gets its index); training reads windows of T + 1
characters, the first T as inputs and the last T as targets, so every position teaches the model
one prediction. Two ways to cut the text into batches:

- random windows (`CharCorpus.batch`): N windows from anywhere in the text, drawn afresh each step;
- streams (`CharCorpus.stream`): the text cut into N long parallel streams, read window after
  window, so the hidden state at the end of one batch is the right start for the next. Carrying it
  over (detached from the graph) is truncated backpropagation through time: the model remembers
  further back than the T steps the gradient flows through.

For a training loop, `ShiftingStreams` and `RandomWindows` are whole epochs of these batches (the
streams shifted by a random offset each time, or a number of random-window batches), and
`SlidingWindows` reads a text for evaluation, every character scored once.

Two corpora: Tiny Shakespeare (about 1.1 million characters of plays, downloaded once and cached,
see `glassnet.data.download`), and the Python standard library's own source files, read from this
machine's Python installation, so that a model can learn to write Python without any download.
"""

from __future__ import annotations

import os
import sysconfig
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ... import checks
from ...random import Generator, as_rng
from ...tensor import Tensor
from ..download import data_dir, download

TINY_SHAKESPEARE_URLS = [
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
]
"""Where Tiny Shakespeare is fetched from (Andrej Karpathy's char-rnn repository)."""

TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TINY_SHAKESPEARE_FILE = "input.txt"


class Vocabulary:
    """The characters a model knows, sorted, each with its index: ``encode`` turns text into an
    int64 array of indices, ``decode`` turns indices back into text.

    Example::

        >>> vocab = Vocabulary.from_text("hello")
        >>> vocab.chars, vocab.encode("hole").tolist(), vocab.decode([3, 1])
        ('ehlo', [1, 3, 2, 0], 'oh')
    """

    def __init__(self, chars: Iterable[str]) -> None:
        chars = list(chars)
        if not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError(
                f"Vocabulary: expected a non-empty list of single characters, got {chars!r}"
            )
        if len(set(chars)) != len(chars) or chars != sorted(chars):
            raise ValueError("Vocabulary: the characters must be distinct and sorted")
        self.chars = "".join(chars)
        self._codes = np.array([ord(c) for c in chars], dtype=np.int64)

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """Every distinct character of `text`, sorted."""
        if not text:
            raise ValueError("Vocabulary: cannot build a vocabulary from empty text")
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self.chars

    def encode(self, text: str) -> np.ndarray:
        """The index of each character of `text` (int64, shape (len(text),)); a character that is
        not in the vocabulary raises a ValueError naming it."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.searchsorted(self._codes, codes)
        ids = np.minimum(ids, len(self._codes) - 1)
        unknown = self._codes[ids] != codes
        if unknown.any():
            missing = sorted({chr(c) for c in codes[unknown]})
            raise ValueError(
                f"characters {''.join(missing)!r} ({len(missing)} distinct) are not in the "
                f"vocabulary of {len(self)} characters {self.chars!r}"
            )
        return ids

    def decode(self, ids: Any) -> str:
        """The text for a sequence of indices (a list, an array or a Tensor)."""
        ids = np.asarray(ids.data if isinstance(ids, Tensor) else ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(
                f"decode: indices must lie in [0, {len(self)}), got values from {ids.min()} to "
                f"{ids.max()}"
            )
        return "".join(self.chars[i] for i in ids.tolist())

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters: {self.chars!r})"


class CharCorpus:
    """A text as a sequence of character indices, split into training and validation parts.

    Args:
        text: the whole corpus.
        name: what it is, for messages.
        val_fraction: the share at the end kept for validation (default 0.1: the last 10%). The
            split is in reading order, so the model is validated on text it never saw.
        vocab: the vocabulary to use (default: every character of `text`, sorted).

    Attributes:
        vocab: the `Vocabulary`; ``ids`` the whole text encoded (int64); ``train_ids`` and
            ``val_ids`` the two parts (views of ``ids``).
    """

    def __init__(
        self,
        text: str,
        name: str = "text",
        val_fraction: float = 0.1,
        vocab: Vocabulary | None = None,
    ) -> None:
        checks.probability(val_fraction, "val_fraction", "CharCorpus", include_one=False)
        self.name = name
        self.text = text
        self.vocab = Vocabulary.from_text(text) if vocab is None else vocab
        self.ids = self.vocab.encode(text)
        cut = len(self.ids) - int(round(len(self.ids) * val_fraction))
        self.train_ids = self.ids[:cut]
        self.val_ids = self.ids[cut:]

    def split(self, split: str) -> np.ndarray:
        """The encoded part named "train" or "val"."""
        if split not in ("train", "val"):
            raise ValueError(f"{self.name}: split must be 'train' or 'val', got {split!r}")
        return self.train_ids if split == "train" else self.val_ids

    def batch(
        self,
        batch_size: int,
        seq_len: int,
        split: str = "train",
        generator: Generator | np.random.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """`batch_size` random windows of `seq_len` + 1 characters: inputs and targets (the same
        windows one character later), int64 Tensors of shape (batch_size, seq_len). The start of
        each window is drawn from `generator` (glassnet's global one by default)."""
        return random_windows(self.split(split), batch_size, seq_len, generator, self.name)

    def stream(
        self, batch_size: int, seq_len: int, split: str = "train", offset: int = 0
    ) -> StreamBatches:
        """The part cut into `batch_size` parallel streams, read `seq_len` characters at a time
        (see `StreamBatches`), starting `offset` characters in."""
        return StreamBatches(self.split(split)[offset:], batch_size, seq_len)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (
            f"CharCorpus({self.name!r}: {len(self.ids):,} characters, {len(self.vocab)} distinct; "
            f"train {len(self.train_ids):,}, val {len(self.val_ids):,})"
        )


def random_windows(
    ids: np.ndarray,
    batch_size: int,
    seq_len: int,
    generator: Generator | np.random.Generator | None = None,
    name: str = "text",
) -> tuple[Tensor, Tensor]:
    """`batch_size` windows of `seq_len` + 1 consecutive entries of `ids` at random starts, as
    (inputs, targets) int64 Tensors of shape (batch_size, seq_len): each window's first
    `seq_len` entries and its last `seq_len` (so ``targets[:, :-1] == inputs[:, 1:]``)."""
    _check_windows(ids, batch_size, seq_len, name)
    starts = as_rng(generator).integers(0, len(ids) - seq_len, size=batch_size)
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]
    return Tensor(windows[:, :-1]), Tensor(windows[:, 1:])


def _check_windows(ids: np.ndarray, batch_size: int, seq_len: int, name: str) -> None:
    checks.positive_int(batch_size, "batch_size", name)
    checks.positive_int(seq_len, "seq_len", name)
    if len(ids) < seq_len + 1:
        raise ValueError(
            f"{name}: {len(ids):,} characters are too few for windows of seq_len + 1 = "
            f"{seq_len + 1}"
        )


class StreamBatches:
    """`ids` cut into `batch_size` parallel streams, read in consecutive windows.

    Stream k is the k-th of `batch_size` equal slices of `ids` (a remainder at the end is left
    out). Batch j holds characters ``[j * seq_len, (j + 1) * seq_len)`` of every stream as inputs
    and the same positions one character later as targets, so row k of batch j + 1 continues row
    k of batch j exactly: a model can carry its hidden state from one batch to the next. The last
    batch may be shorter than `seq_len`.

    Iterating gives (inputs, targets) pairs of int64 Tensors of shape (batch_size, T).
    """

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int) -> None:
        checks.positive_int(batch_size, "batch_size", "StreamBatches")
        checks.positive_int(seq_len, "seq_len", "StreamBatches")
        length = len(ids) // batch_size
        if length < 2:
            raise ValueError(
                f"StreamBatches: {len(ids):,} characters cannot make {batch_size} streams of at "
                "least 2 characters"
            )
        self.streams = np.ascontiguousarray(ids[: batch_size * length].reshape(batch_size, length))
        self.batch_size = batch_size
        self.seq_len = seq_len

    def __len__(self) -> int:
        return -(-(self.streams.shape[1] - 1) // self.seq_len)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        last = self.streams.shape[1] - 1  # the last character has no target
        for start in range(0, last, self.seq_len):
            stop = min(start + self.seq_len, last)
            yield (
                Tensor(self.streams[:, start:stop]),
                Tensor(self.streams[:, start + 1 : stop + 1]),
            )

    @property
    def characters(self) -> int:
        """How many targets one pass holds (each stream's characters but the first)."""
        return self.streams.shape[0] * (self.streams.shape[1] - 1)


class ShiftingStreams:
    """`StreamBatches` whose cut points move: each pass (epoch) starts the streams at a new random
    offset in ``[0, seq_len)``, so the window boundaries fall elsewhere every time.

    Every pass has the same number of batches (each stream is as long as the largest offset
    allows), so ``len()`` is known before the offset is drawn. The offset comes from
    `generator` (glassnet's global one by default); a generator given here is listed in
    ``generators``, which is where a `Trainer` looks for the random streams to checkpoint.

    Iterating gives (inputs, targets) pairs of int64 Tensors of shape (batch_size, T).
    """

    def __init__(
        self,
        ids: np.ndarray,
        batch_size: int,
        seq_len: int,
        generator: Generator | np.random.Generator | None = None,
    ) -> None:
        checks.positive_int(seq_len, "seq_len", "ShiftingStreams")
        self.ids = ids
        self.seq_len = seq_len
        self.usable = len(ids) - (seq_len - 1)  # what every offset leaves
        self.generators = [] if generator is None else [generator]
        self._first = StreamBatches(ids[: max(self.usable, 0)], batch_size, seq_len)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return len(self._first)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        rng = as_rng(self.generators[0] if self.generators else None)
        offset = int(rng.integers(self.seq_len))
        ids = self.ids[offset : offset + self.usable]
        return iter(StreamBatches(ids, self.batch_size, self.seq_len))

    @property
    def characters(self) -> int:
        """How many targets one pass holds."""
        return self._first.characters


class RandomWindows:
    """An "epoch" of `batches` batches of random windows (see `random_windows`), drawn afresh
    from `generator` each time it is iterated: training data for a model that reads windows
    rather than streams (a GPT). ``generators`` lists `generator` for a `Trainer`'s checkpoints.
    """

    def __init__(
        self,
        ids: np.ndarray,
        batch_size: int,
        seq_len: int,
        batches: int,
        generator: Generator | np.random.Generator | None = None,
    ) -> None:
        checks.positive_int(batches, "batches", "RandomWindows")
        _check_windows(ids, batch_size, seq_len, "RandomWindows")
        self.ids = ids
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.batches = batches
        self.generators = [] if generator is None else [generator]

    def __len__(self) -> int:
        return self.batches

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        generator = self.generators[0] if self.generators else None
        for _ in range(self.batches):
            yield random_windows(self.ids, self.batch_size, self.seq_len, generator)


class SlidingWindows:
    """`ids` read in overlapping windows of `length` characters for evaluation, each character
    scored exactly once.

    Each window starts `stride` characters after the one before (half the window by default)
    and scores only the positions no earlier window scored, so every character after the first
    `length` is predicted from at least ``length - stride`` characters before it, as when the
    model writes. Iterating gives (inputs, targets, scored) triples of batches of up to
    `batch_size` windows: int64 arrays of shape (B, length) and a boolean mask of the same shape.
    ``targets_total`` is how many characters are scored in all.
    """

    def __init__(
        self, ids: np.ndarray, length: int, stride: int | None = None, batch_size: int = 32
    ) -> None:
        checks.positive_int(batch_size, "batch_size", "SlidingWindows")
        self.ids = ids
        self.targets_total = len(ids) - 1
        self.length = min(length, self.targets_total)
        self.stride = self.length // 2 if stride is None else stride
        if not 1 <= self.stride <= self.length:
            raise ValueError(
                f"SlidingWindows: stride must be in [1, {self.length}], got {self.stride}"
            )
        starts = list(range(0, self.targets_total - self.length + 1, self.stride))
        if starts[-1] + self.length < self.targets_total:  # a last window that ends with the text
            starts.append(self.targets_total - self.length)
        self.starts = np.array(starts)
        # window w scores its positions from first[w] on: the targets earlier windows did not
        ends = self.starts + self.length
        self.first = np.maximum(np.concatenate([[0], ends[:-1]]) - self.starts, 0)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return -(-len(self.starts) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for b in range(0, len(self.starts), self.batch_size):
            rows = self.starts[b : b + self.batch_size, None] + np.arange(self.length + 1)
            window = self.ids[rows].astype(np.int64)
            scored = np.arange(self.length) >= self.first[b : b + self.batch_size, None]
            yield window[:, :-1], window[:, 1:], scored


# -- the corpora ----------------------------------------------------------------------------------


def load_tiny_shakespeare(root: str | os.PathLike | None = None, download: bool = True) -> str:
    """Tiny Shakespeare: 1,115,394 characters of Shakespeare's plays (65 distinct characters).

    The file ``input.txt`` is looked for in the cache folder (``root``, else ``$GLASSNET_DATA``,
    else the user cache; see `glassnet.data.download.data_dir`), in its ``tinyshakespeare``
    subfolder first, then in the folder itself; if it is in neither it is downloaded into the
    subfolder (checked against its SHA-256) unless `download` is False.
    """
    return _read_text(_locate_tiny_shakespeare(root, download))


def _locate_tiny_shakespeare(root: str | os.PathLike | None, fetch: bool) -> Path:
    base = data_dir(root)
    folder = base / "tinyshakespeare"
    for candidate in (folder / TINY_SHAKESPEARE_FILE, base / TINY_SHAKESPEARE_FILE):
        if candidate.is_file():
            return candidate
    if not fetch:
        raise FileNotFoundError(
            f"Tiny Shakespeare: {TINY_SHAKESPEARE_FILE} is not in {folder} or {base} and "
            "download=False; pass download=True, or put the file there (set GLASSNET_DATA or "
            "pass root= to use another folder)"
        )
    return download(TINY_SHAKESPEARE_URLS, TINY_SHAKESPEARE_FILE, TINY_SHAKESPEARE_SHA256, folder)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error})") from error


PYTHON_SOURCE_CHARS = 1_000_000
"""The default size of the Python corpus, in characters (about Tiny Shakespeare's)."""


def load_python_source(max_chars: int = PYTHON_SOURCE_CHARS, folder: str | None = None) -> str:
    """Python code to learn from, with no download: the standard library's own modules.

    The top-level ``*.py`` files of `folder` (default: this Python's standard library,
    ``sysconfig.get_paths()["stdlib"]``), in sorted order, joined by blank lines and cut at
    `max_chars` characters. Characters outside ASCII are reduced to their ASCII base where they
    have one (é -> e) and dropped otherwise, as are control characters other than newline and
    tab, so the vocabulary stays around 100 characters.
    """
    checks.positive_int(max_chars, "max_chars", "load_python_source")
    directory = Path(folder or sysconfig.get_paths()["stdlib"])
    files = sorted(directory.glob("*.py"))
    if not files:
        raise FileNotFoundError(f"no *.py files in {directory}")
    parts: list[str] = []
    total = 0
    for path in files:
        source = _ascii_source(path.read_text(encoding="utf-8", errors="ignore"))
        parts.append(source)
        total += len(source) + 2
        if total >= max_chars:
            break
    return "\n\n".join(parts)[:max_chars]


# ASCII's control characters but newline and tab (form feeds, carriage returns, ...) go
_CONTROLS = dict.fromkeys(c for c in [*range(32), 127] if chr(c) not in "\n\t")


def _ascii_source(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return ascii_text.translate(_CONTROLS)
