"""MNIST and Fashion-MNIST through the real loading path: the test files of ../shared/data/mnist
are served by a loopback HTTP server, downloaded into a temporary cache, checked and parsed. Dead
servers, HTTP errors, corrupted and cut-off downloads, Ctrl-C, damaged IDX files and the offline
path (GLASSNET_DATA) are each checked to fail clearly and leave nothing half-written behind."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

import loopback
from glassnet.data import DataLoader, data_dir
from glassnet.data import download as download_module
from glassnet.data.datasets import MNIST, FashionMNIST, load_fashion_mnist, load_mnist, read_idx
from glassnet.data.datasets import mnist as mnist_module
from glassnet.data.download import DownloadError, download, sha256_of
from loopback import serving

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
IMAGES, LABELS = mnist_module.FILES["test"]
LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

pytestmark = pytest.mark.skipif(
    not (SHARED / IMAGES).is_file(), reason=f"the MNIST test files are not in {SHARED}"
)


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server over a copy of the shared MNIST test files."""
    folder = tmp_path / "served"
    folder.mkdir()
    for name in (IMAGES, LABELS):
        shutil.copy(SHARED / name, folder / name)
    with serving(folder) as server:
        yield server


@pytest.fixture
def dead_url():
    return loopback.dead_url()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache folder, and the shared files' checksums: their gzip
    wrappers differ from the canonical archives' (see shared/data/README.md)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("GLASSNET_DATA", str(folder))
    for name in ("MNIST", "FashionMNIST"):
        for file in (IMAGES, LABELS):
            monkeypatch.setitem(mnist_module.SHA256[name], file, sha256_of(SHARED / file))
    return folder


def use_mirrors(monkeypatch, *urls, name="MNIST"):
    monkeypatch.setitem(mnist_module.MIRRORS, name, list(urls))


def files_in(folder: Path) -> list[str]:
    """Every file under `folder`, hidden ones (partial downloads) included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- the whole path -------------------------------------------------------------------------------


def test_download_parse_and_reuse_the_cache(served, cache, monkeypatch):
    use_mirrors(monkeypatch, served.url)
    images, labels = load_mnist("test")
    assert images.shape == (10000, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert images.data.min() == 0.0 and images.data.max() == 1.0
    assert np.bincount(labels.data).tolist() == LABEL_COUNTS
    assert sorted(served.requests) == sorted(["/" + IMAGES, "/" + LABELS])
    assert files_in(cache) == [f"MNIST/{IMAGES}", f"MNIST/{LABELS}"]

    flat, again = load_mnist("test", flatten=True)
    assert len(served.requests) == 2  # the second call reads the cache
    assert flat.shape == (10000, 784)
    np.testing.assert_array_equal(flat.data, images.data.reshape(10000, 784))
    np.testing.assert_array_equal(again.data, labels.data)


def test_dataset_items_loader_and_transform(served, monkeypatch):
    use_mirrors(monkeypatch, served.url)
    test = MNIST(train=False)
    assert len(test) == 10000 and test.classes[7] == "7 - seven"
    image, label = test[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert label == 7 and isinstance(label, int)
    images, labels = next(iter(DataLoader(test, batch_size=32)))
    assert images.shape == (32, 1, 28, 28) and labels.dtype == np.int64
    assert labels.data[0] == 7

    flipped = MNIST(train=False, transform=lambda x: 1.0 - x)
    np.testing.assert_array_equal(flipped[0][0].data, 1.0 - image.data)
    batch = next(iter(DataLoader(flipped, batch_size=4)))
    np.testing.assert_array_equal(batch[0].data[0], 1.0 - image.data)
    assert batch[1].data.tolist() == labels.data[:4].tolist()
    assert len(served.requests) == 2
    assert "split='test', samples=10000" in repr(test)


def test_fashion_mnist_uses_its_own_mirrors_and_folder(served, cache, monkeypatch):
    use_mirrors(monkeypatch, served.url, name="FashionMNIST")
    test = FashionMNIST(train=False)
    assert test.classes[9] == "Ankle boot" and len(test) == 10000
    assert files_in(cache) == [f"FashionMNIST/{IMAGES}", f"FashionMNIST/{LABELS}"]
    assert load_fashion_mnist("test")[0].shape == (10000, 1, 28, 28)
    with pytest.raises(ValueError, match="split should be 'train' or 'test'"):
        load_fashion_mnist("validation")


def test_first_mirror_dead_second_alive(served, dead_url, cache, monkeypatch):
    use_mirrors(monkeypatch, dead_url, served.url)
    _, labels = load_mnist("test")
    assert len(labels) == 10000
    assert len(served.requests) == 2
    assert files_in(cache) == [f"MNIST/{IMAGES}", f"MNIST/{LABELS}"]


# -- failures leave nothing behind ----------------------------------------------------------------


def test_dead_server_is_a_clear_error(dead_url, cache, monkeypatch):
    use_mirrors(monkeypatch, dead_url, dead_url + "other/")
    with pytest.raises(DownloadError) as info:
        load_mnist("test")
    message = str(info.value)
    assert f"could not download {IMAGES}; tried 2 mirror(s)" in message
    assert f"{dead_url}{IMAGES}: cannot connect" in message
    assert f"{dead_url}other/{IMAGES}: cannot connect" in message
    assert "GLASSNET_DATA" in message and str(cache / "MNIST") in message
    assert not cache.exists()  # nor the folders it made for the files


def test_a_failed_download_keeps_folders_that_were_there(dead_url, cache, monkeypatch):
    (cache / "MNIST").mkdir(parents=True)
    use_mirrors(monkeypatch, dead_url)
    with pytest.raises(DownloadError):
        load_mnist("test")
    assert (cache / "MNIST").is_dir() and files_in(cache) == []


def test_corrupted_download_is_rejected_and_removed(served, cache, monkeypatch):
    data = bytearray((served.folder / LABELS).read_bytes())
    data[2000] ^= 0xFF
    (served.folder / LABELS).write_bytes(bytes(data))
    use_mirrors(monkeypatch, served.url)
    with pytest.raises(DownloadError, match=rf"{LABELS}: checksum mismatch: got SHA-256 [0-9a-f]+"):
        load_mnist("test")
    assert files_in(cache) == [f"MNIST/{IMAGES}"]  # the good file stays, the bad one is gone


def test_missing_file_and_cut_connection_are_reported_per_mirror(served, cache):
    urls = [served.url + "nothing/" + LABELS, served.url + "cut/" + LABELS]
    with pytest.raises(DownloadError) as info:
        download(urls, LABELS, sha256_of(SHARED / LABELS), cache, quiet=True)
    message = str(info.value)
    assert "HTTP error 404" in message
    assert "the connection closed after 100 of 4,542 bytes" in message
    assert files_in(cache) == []


def test_interrupted_download_leaves_nothing(served, cache, monkeypatch):
    def interrupted(url, destination, sha256, timeout):
        destination.write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(download_module, "_fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download([served.url + LABELS], LABELS, "0" * 64, cache, quiet=True)
    assert files_in(cache) == []


def test_download_reuses_a_good_file_and_replaces_a_bad_one(served, cache):
    sha = sha256_of(SHARED / LABELS)
    path = download([served.url + LABELS], LABELS, sha, cache, quiet=True)
    assert path == cache / LABELS and sha256_of(path) == sha
    assert download([served.url + LABELS], LABELS, sha, cache, quiet=True) == path
    assert len(served.requests) == 1
    path.write_bytes(b"stale")
    download([served.url + LABELS], LABELS, sha, cache, quiet=True)
    assert sha256_of(path) == sha and len(served.requests) == 2
    assert files_in(cache) == [LABELS]


# -- offline --------------------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [True, False])
def test_offline_files_in_glassnet_data(tmp_path, monkeypatch, dead_url, compressed):
    folder = tmp_path / "offline"
    (folder / "MNIST").mkdir(parents=True)
    for name in (IMAGES, LABELS):
        if compressed:
            shutil.copy(SHARED / name, folder / "MNIST" / name)
        else:
            (folder / "MNIST" / name.removesuffix(".gz")).write_bytes(
                gzip.decompress((SHARED / name).read_bytes())
            )
    monkeypatch.setenv("GLASSNET_DATA", str(folder))
    use_mirrors(monkeypatch, dead_url)  # any attempt to download would fail
    images, labels = load_mnist("test", download=False)
    assert images.shape == (10000, 1, 28, 28)
    assert np.bincount(labels.data).tolist() == LABEL_COUNTS
    assert len(MNIST(train=False)) == 10000


def test_missing_files_without_download(cache):
    with pytest.raises(FileNotFoundError, match=rf"{IMAGES} is not in .*MNIST and download=False"):
        MNIST(train=False, download=False)


def test_data_dir_order(tmp_path, monkeypatch):
    platformdirs = pytest.importorskip("platformdirs")
    assert data_dir(tmp_path / "given") == tmp_path / "given"
    assert data_dir() == tmp_path / "cache"  # GLASSNET_DATA, set by the fixture
    monkeypatch.delenv("GLASSNET_DATA")
    assert data_dir() == Path(platformdirs.user_cache_dir("glassnet"))


def test_canonical_checksums_are_complete():
    assert set(mnist_module.MIRRORS) == set(mnist_module.SHA256) == {"MNIST", "FashionMNIST"}
    assert mnist_module.MIRRORS["MNIST"][0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    names = {name for pair in mnist_module.FILES.values() for name in pair}
    for table in mnist_module.SHA256.values():
        assert set(table) == names
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())


# -- the IDX parser -------------------------------------------------------------------------------


def idx_bytes(magic: int, dims: tuple, body: bytes) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + body


def test_idx_reads_compressed_and_plain(tmp_path):
    plain = tmp_path / "labels"
    plain.write_bytes(idx_bytes(0x801, (5,), bytes([3, 1, 4, 1, 5])))
    packed = tmp_path / "labels.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        labels = read_idx(path, ndim=1)
        assert labels.dtype == np.uint8 and labels.tolist() == [3, 1, 4, 1, 5]
    images = read_idx(SHARED / IMAGES, ndim=3)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8


@pytest.mark.parametrize(
    "content, match",
    [
        (idx_bytes(0x801, (10,), bytes(7)), r"promises 10 values .* holds 15 bytes.*truncated"),
        (idx_bytes(0x801, (3,), bytes(4)), r"promises 3 values.*longer than its header says"),
        (idx_bytes(0x800, (), b""), r"0x00000800 \(0 dimensions\), expected 0x00000801"),
        (idx_bytes(0x803, (1, 1, 1), b"\0"), r"magic number 0x00000803.*expected 0x00000801"),
        (idx_bytes(0x0D01, (1,), bytes(4)), r"element type 0x0d"),
        (b"\x12\x34\x08\x01" + bytes(8), "not an IDX file"),
        (idx_bytes(0x801, (), b"\0\0"), "ends inside its header"),
        (b"", r"not an IDX file \(it starts with bytes nothing"),
    ],
    ids=["truncated", "too long", "no dimensions", "images for labels", "float type", "magic",
         "short header", "empty"],
)  # fmt: skip
def test_idx_rejects_damaged_files(tmp_path, content, match):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path, ndim=1)
    assert str(path) in str(info.value)


def test_idx_rejects_a_cut_gzip_stream(tmp_path):
    path = tmp_path / IMAGES
    path.write_bytes((SHARED / IMAGES).read_bytes()[:50_000])
    with pytest.raises(ValueError, match=rf"{IMAGES}: the gzip stream is damaged or cut short"):
        read_idx(path, ndim=3)


def test_damaged_cached_file_names_the_file(cache, dead_url, monkeypatch):
    (cache / "MNIST").mkdir(parents=True)
    shutil.copy(SHARED / IMAGES, cache / "MNIST" / IMAGES)
    full = gzip.decompress((SHARED / LABELS).read_bytes())
    (cache / "MNIST" / LABELS).write_bytes(gzip.compress(full[:-10]))
    use_mirrors(monkeypatch, dead_url)
    with pytest.raises(ValueError, match=rf"MNIST/{LABELS}: the header promises 10000 values"):
        load_mnist("test")
