"""Character-level text: the vocabulary, the split, random and stream batches, Tiny Shakespeare
through the real download path (../shared/data/tinyshakespeare/input.txt served by a loopback
HTTP server, a corrupted copy rejected), offline folders, and the standard-library Python corpus."""

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.data.datasets import text as text_module
from glassnet.data.datasets.text import (
    CharCorpus,
    RandomWindows,
    ShiftingStreams,
    SlidingWindows,
    StreamBatches,
    Vocabulary,
    load_python_source,
    load_tiny_shakespeare,
)
from glassnet.data.download import DownloadError
from glassnet.random import Generator

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tinyshakespeare"
SHAKESPEARE = SHARED / "input.txt"
needs_shakespeare = pytest.mark.skipif(
    not SHAKESPEARE.is_file(), reason=f"Tiny Shakespeare is not in {SHARED}"
)


# -- vocabulary and corpus ------------------------------------------------------------------------


def test_vocabulary_is_sorted_and_round_trips():
    vocab = Vocabulary.from_text("hello, world\n")
    assert vocab.chars == "\n ,dehlorw" and len(vocab) == 10
    ids = vocab.encode("hello, world\n")
    assert ids.dtype == np.int64 and ids.tolist()[:5] == [5, 4, 6, 6, 7]
    assert vocab.decode(ids) == "hello, world\n"
    assert vocab.decode(gn.tensor(ids[:2])) == "he"
    assert vocab.encode("").shape == (0,)
    assert Vocabulary(vocab.chars).chars == vocab.chars


def test_vocabulary_errors_name_the_problem():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(ValueError, match=r"characters 'xz' \(2 distinct\) are not in"):
        vocab.encode("abxzx")
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="distinct and sorted"):
        Vocabulary("ba")
    with pytest.raises(ValueError, match="empty text"):
        Vocabulary.from_text("")


def test_unicode_text_round_trips():
    text = "naïve café, 日本 🐍\n"
    vocab = Vocabulary.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text


def test_split_keeps_the_last_tenth_for_validation():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    corpus = CharCorpus(text, name="letters")
    assert len(corpus.train_ids) == 900 and len(corpus.val_ids) == 100
    np.testing.assert_array_equal(np.concatenate([corpus.train_ids, corpus.val_ids]), corpus.ids)
    assert corpus.vocab.decode(corpus.val_ids) == text[900:]
    assert "train 900, val 100" in repr(corpus)
    assert len(CharCorpus(text, val_fraction=0.25).val_ids) == 250
    with pytest.raises(ValueError, match="split must be 'train' or 'val'"):
        corpus.split("test")


# -- batches --------------------------------------------------------------------------------------


@pytest.fixture
def corpus():
    rng = np.random.default_rng(0)
    return CharCorpus("".join(rng.choice(list("abcdefgh \n"), 5000)), name="random")


def test_random_windows_shapes_targets_and_seeding(corpus):
    x, y = corpus.batch(8, 16, generator=Generator(3))
    assert x.shape == y.shape == (8, 16) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x.data[:, 1:], y.data[:, :-1])  # targets: one step later
    ids = corpus.train_ids
    for row_x, row_y in zip(x.data, y.data):  # every window is a real run of the text
        start = next(s for s in range(len(ids) - 16) if np.array_equal(ids[s : s + 16], row_x))
        np.testing.assert_array_equal(ids[start + 1 : start + 17], row_y)
    again = corpus.batch(8, 16, generator=Generator(3))
    np.testing.assert_array_equal(again[0].data, x.data)
    gn.manual_seed(5)
    first = corpus.batch(4, 10, "val")[0].data
    gn.manual_seed(5)
    np.testing.assert_array_equal(corpus.batch(4, 10, "val")[0].data, first)
    assert not np.array_equal(corpus.batch(4, 10, "val")[0].data, first)


def test_random_windows_reach_both_ends():
    corpus = CharCorpus("abcdefghij", val_fraction=0.0)
    x, y = corpus.batch(400, 9, generator=Generator(0))
    assert {corpus.vocab.decode(r) for r in x.data} == {"abcdefghi"}
    assert {corpus.vocab.decode(r) for r in y.data} == {"bcdefghij"}
    with pytest.raises(ValueError, match="too few for windows"):
        corpus.batch(1, 10)
    with pytest.raises(ValueError, match="seq_len must be a positive integer"):
        corpus.batch(1, 0)


def test_stream_batches_are_contiguous(corpus):
    batches = corpus.stream(4, 30)
    ids = corpus.train_ids
    length = len(ids) // 4
    pairs = list(batches)
    assert len(pairs) == len(batches) == -(-(length - 1) // 30)
    assert pairs[0][0].shape == (4, 30)
    assert pairs[-1][0].shape == (4, (length - 1) % 30 or 30)  # the last one may be shorter
    for (x0, y0), (x1, _) in zip(pairs, pairs[1:]):
        np.testing.assert_array_equal(x1.data[:, 0], y0.data[:, -1])  # row k continues row k
        np.testing.assert_array_equal(x0.data[:, 1:], y0.data[:, :-1])
    inputs = np.concatenate([x.data for x, _ in pairs], axis=1)
    targets = np.concatenate([y.data for _, y in pairs], axis=1)
    for k in range(4):  # stream k is the k-th quarter of the text, read in order
        np.testing.assert_array_equal(inputs[k], ids[k * length : (k + 1) * length - 1])
        np.testing.assert_array_equal(targets[k], ids[k * length + 1 : (k + 1) * length])
    assert batches.characters == targets.size


def test_stream_offset_and_limits(corpus):
    shifted = next(iter(corpus.stream(2, 5, offset=3)))[0].data
    np.testing.assert_array_equal(shifted[0], corpus.train_ids[3:8])
    with pytest.raises(ValueError, match="cannot make 3 streams"):
        StreamBatches(np.arange(5), 3, 4)


def test_shifting_streams_move_their_cut_points_each_epoch(corpus):
    ids = corpus.train_ids
    data = ShiftingStreams(ids, 4, 8, generator=Generator(3))
    assert len(data.generators) == 1 and data.characters > 0
    firsts = set()
    for _ in range(12):
        pairs = list(data)
        assert len(pairs) == len(data)  # every epoch the same length, whatever its offset
        first = pairs[0][0].data[0]
        offset = next(o for o in range(8) if (ids[o : o + 8] == first).all())
        firsts.add(offset)
        np.testing.assert_array_equal(pairs[1][0].data[0], ids[offset + 8 : offset + 16])
    assert len(firsts) > 3  # the offset is drawn afresh
    assert ShiftingStreams(ids, 4, 8).generators == []  # the global generator by default


def test_random_windows_are_an_epoch_of_draws(corpus):
    data = RandomWindows(corpus.train_ids, 3, 10, batches=5, generator=Generator(0))
    first, again = list(data), list(data)
    assert len(first) == len(data) == 5 and first[0][0].shape == (3, 10)
    assert not np.array_equal(first[0][0].data, again[0][0].data)  # fresh windows each epoch
    with pytest.raises(ValueError, match="too few"):
        RandomWindows(corpus.train_ids[:5], 3, 10, batches=5)


def test_sliding_windows_score_every_character_once():
    ids = np.arange(50)
    windows = SlidingWindows(ids, 16, stride=6, batch_size=2)
    batches = list(windows)
    assert len(batches) == len(windows)
    scored_targets = np.concatenate([t[m] for _, t, m in batches])
    np.testing.assert_array_equal(np.sort(scored_targets), np.arange(1, 50))
    assert windows.targets_total == 49
    with pytest.raises(ValueError, match="stride must be in"):
        SlidingWindows(ids, 16, stride=0)


# -- Tiny Shakespeare: download, cache, offline ---------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server over a folder holding a copy of Tiny Shakespeare."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "input.txt").write_bytes(SHAKESPEARE.read_bytes())
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder))
    )
    server.requests = []
    server.folder = folder
    server.url = f"http://127.0.0.1:{server.server_address[1]}/input.txt"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GLASSNET_DATA", str(folder))
    return folder


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@needs_shakespeare
def test_download_checks_caches_and_reuses(served, cache, monkeypatch):
    monkeypatch.setattr(text_module, "TINY_SHAKESPEARE_URLS", [served.url])
    text = load_tiny_shakespeare()
    assert len(text) == 1_115_394 and text.startswith("First Citizen:\n")
    assert files_in(cache) == ["tinyshakespeare/input.txt"]
    assert load_tiny_shakespeare() == text and served.requests == ["/input.txt"]
    corpus = CharCorpus(text)
    assert len(corpus.vocab) == 65 and len(corpus.val_ids) == 111_539


@needs_shakespeare
def test_corrupted_download_is_rejected_and_removed(served, cache, monkeypatch):
    data = bytearray((served.folder / "input.txt").read_bytes())
    data[5000] ^= 0x20
    (served.folder / "input.txt").write_bytes(bytes(data))
    monkeypatch.setattr(text_module, "TINY_SHAKESPEARE_URLS", [served.url])
    with pytest.raises(DownloadError, match="input.txt: checksum mismatch: got SHA-256"):
        load_tiny_shakespeare()
    assert files_in(cache) == []


def test_unreachable_and_offline(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(text_module, "TINY_SHAKESPEARE_URLS", ["http://127.0.0.1:9/input.txt"])
    with pytest.raises(DownloadError, match="GLASSNET_DATA"):
        load_tiny_shakespeare()
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_tiny_shakespeare(download=False)
    from glassnet.recipes.char_rnn import load_corpus

    with pytest.raises(SystemExit, match="set GLASSNET_DATA=/that/folder"):
        load_corpus()
    from glassnet.recipes.shakespeare_gpt import load_corpus as load_gpt_corpus

    with pytest.raises(SystemExit, match="^shakespeare-gpt needs Tiny Shakespeare"):
        load_gpt_corpus("shakespeare")
    said = []
    fallback = load_gpt_corpus("auto", say=said.append)  # offline: the stdlib's source instead
    assert fallback.name == "Python standard library source" and "could not be had" in said[0]
    # a folder holding input.txt itself (or a tinyshakespeare/ subfolder) works offline
    offline = tmp_path / "offline"
    offline.mkdir()
    (offline / "input.txt").write_text("To be, or not to be\n" * 10, encoding="utf-8")
    monkeypatch.setenv("GLASSNET_DATA", str(offline))
    assert load_tiny_shakespeare().startswith("To be, or not")
    assert load_corpus().name == "Tiny Shakespeare"


# -- Python source ---------------------------------------------------------------------------------


def test_python_corpus_from_the_standard_library():
    text = load_python_source(300_000)
    assert len(text) == 300_000
    assert text.isascii()
    assert all(c.isprintable() or c in "\n\t" for c in set(text))
    for token in ("def ", "class ", "import ", "return ", '"""', "    "):
        assert token in text
    corpus = CharCorpus(text, name="python")
    assert 70 <= len(corpus.vocab) <= 100


def test_python_corpus_order_ascii_and_cap(tmp_path):
    (tmp_path / "b.py").write_text("s = 'café \u2603'\n\x0cx = 1\n", encoding="utf-8")
    (tmp_path / "a.py").write_text("def f():\n\treturn 1\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not python", encoding="utf-8")
    text = load_python_source(1000, folder=str(tmp_path))
    assert text == "def f():\n\treturn 1\n\n\ns = 'cafe '\nx = 1\n"
    assert load_python_source(12, folder=str(tmp_path)) == "def f():\n\tre"
    with pytest.raises(FileNotFoundError, match="no \\*.py files"):
        load_python_source(folder=str(tmp_path / "notes.txt"))
