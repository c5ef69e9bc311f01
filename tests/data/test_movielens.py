"""MovieLens 100K through its real loading path: an ml-100k.zip built in the test from the shared
copy of the files, served over a loopback server (good, with one damaged file, cut short, a dead
server), and the offline folder; the official folds re-derived from u.data against the published
u1-u5.test SHA-256; the validation carve, leave-one-out and negative sampling on small cases."""

import hashlib
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from glassnet.data.archive import ChecksumMismatch
from glassnet.data.datasets import movielens
from glassnet.data.datasets.rating_splits import (
    format_ratings,
    leave_one_out,
    official_folds,
    rated_matrix,
    sample_negatives,
    validation_split,
)
from glassnet.data.download import DownloadError
from loopback import dead_url, serving

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ml-100k"
# The published folds' SHA-256 (shared/data/README.md: made by the dataset's mku.sh).
TEST_FOLD_SHA256 = [
    "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
    "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
    "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
    "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
    "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
]
# The shared README's prefixes of each file's SHA-256: the sums glassnet lists must extend them.
README_PREFIXES = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "6dd287831559152bea892eb27694a492ff14926ac5f7a16e5f8c4968e6fe13c3",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.genre": "9757e0d3",
    "u.occupation": "cd5fbec9",
    "u.info": "5b0a40b2",
    "README": "b2f69dd0",
}

needs_data = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared MovieLens copy is not at {SHARED}"
)


def write_zip(path, replace=None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in movielens.SHA256:
            data = (SHARED / name).read_bytes()
            if replace and name in replace:
                data = replace[name]
            archive.writestr("ml-100k/" + name, data)


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    write_zip(folder / "ml-100k.zip")
    item = (SHARED / "u.item").read_bytes()
    write_zip(folder / "damaged.zip", {"u.item": item.replace(b"Toy Story", b"Toy Storm")})
    whole = (folder / "ml-100k.zip").read_bytes()
    (folder / "truncated.zip").write_bytes(whole[: len(whole) // 3])
    with serving(folder) as server:
        yield server


@pytest.fixture(scope="module")
def data():
    if not SHARED.is_dir():
        pytest.skip(f"the shared MovieLens copy is not at {SHARED}")
    return movielens.read_movielens(SHARED)


@needs_data
def test_listed_checksums_are_the_shared_files_and_extend_the_readme():
    for name, digest in movielens.SHA256.items():
        assert hashlib.sha256((SHARED / name).read_bytes()).hexdigest() == digest
        assert digest.startswith(README_PREFIXES[name])


@needs_data
def test_download_over_loopback_then_cached_and_offline(server, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setattr(movielens, "URLS", [server.url + "ml-100k.zip"])
    data = movielens.load_movielens(root)
    assert server.requests == ["/ml-100k.zip"]
    assert sorted(p.name for p in (root / "ml-100k").iterdir()) == sorted(movielens.SHA256)
    # what u.data says, read independently
    table = np.loadtxt(SHARED / "u.data", dtype=np.int64)
    np.testing.assert_array_equal(data.user, table[:, 0] - 1)
    np.testing.assert_array_equal(data.item, table[:, 1] - 1)
    np.testing.assert_array_equal(data.rating, table[:, 2])
    np.testing.assert_array_equal(data.timestamp, table[:, 3])
    assert (len(data), data.num_users, data.num_items) == (100_000, 943, 1682)
    assert data.describe(0) == "Toy Story (1995) [Animation, Children's, Comedy]"
    lines = (SHARED / "u.item").read_bytes().decode("latin-1").splitlines()
    assert data.titles == [line.split("|")[1] for line in lines]
    assert data.genres[0] == "unknown" and len(data.genres) == 19
    assert data.item_genres.sum() == sum(
        sum(f == "1" for f in line.split("|")[5:]) for line in lines
    )
    # cached: a second load asks nobody, even with download=False
    monkeypatch.setattr(movielens, "URLS", [dead_url()])
    again = movielens.load_movielens(root, download=False)
    np.testing.assert_array_equal(again.rating, data.rating)
    assert server.requests == ["/ml-100k.zip"]


@needs_data
def test_a_damaged_file_in_the_archive_is_named_and_not_kept(server, tmp_path, monkeypatch):
    monkeypatch.setattr(movielens, "URLS", [server.url + "damaged.zip"])
    with pytest.raises(ChecksumMismatch, match="u.item") as caught:
        movielens.load_movielens(tmp_path / "cache")
    assert isinstance(caught.value, ValueError)
    assert not (tmp_path / "cache" / "ml-100k" / "u.item").exists()


@needs_data
@pytest.mark.parametrize("where", ["truncated.zip", "cut/ml-100k.zip", "dead"])
def test_truncated_archives_and_dead_servers_fail_clearly(server, tmp_path, monkeypatch, where):
    url = dead_url() + "ml-100k.zip" if where == "dead" else server.url + where
    monkeypatch.setattr(movielens, "URLS", [url])
    with pytest.raises(DownloadError, match="could not fetch ml-100k") as caught:
        movielens.load_movielens(tmp_path / "cache")
    assert url in str(caught.value)
    assert not (tmp_path / "cache").exists()


@needs_data
def test_offline_folder_is_used_and_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="ml-100k"):
        movielens.load_movielens(tmp_path, download=False)
    shutil.copytree(SHARED, tmp_path / "ml-100k")
    assert len(movielens.load_movielens(tmp_path, download=False)) == 100_000


def test_folds_equal_the_published_u1_to_u5(data):
    folds = official_folds(data.user, data.item)
    everything = np.arange(len(data))
    for (train, test), expected in zip(folds, TEST_FOLD_SHA256):
        fold_bytes = format_ratings(
            data.user[test], data.item[test], data.rating[test], data.timestamp[test]
        )
        assert hashlib.sha256(fold_bytes).hexdigest() == expected
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), everything)
        key = data.user[train] * 10_000 + data.item[train]
        assert (np.diff(key) > 0).all()  # sorted by user, then item, as mku.sh's sort
    # the written lines are u.data's own lines
    lines = (SHARED / "u.data").read_bytes().splitlines(keepends=True)
    test = folds[0][1]
    assert format_ratings(
        data.user[test[:3]], data.item[test[:3]], data.rating[test[:3]], data.timestamp[test[:3]]
    ) == b"".join(lines[i] for i in test[:3])


def test_validation_split_is_a_seeded_partition_of_the_training_fold():
    rows = np.arange(100, 1100)
    fit, val = validation_split(rows, 0.05, seed=3)
    assert len(val) == 50 and len(fit) == 950
    np.testing.assert_array_equal(np.sort(np.concatenate([fit, val])), rows)
    np.testing.assert_array_equal(validation_split(rows, 0.05, seed=3)[1], val)
    assert not np.array_equal(validation_split(rows, 0.05, seed=4)[1], val)
    with pytest.raises(ValueError, match="fraction"):
        validation_split(rows, 1.5)


def test_leave_one_out_holds_the_latest_rating_ties_broken_by_item():
    # user 0: latest at t=9 for items 2 and 5 (tie: the larger item, 5); user 1: item 1 at t=7
    user = np.array([0, 0, 0, 1, 1, 0])
    item = np.array([2, 3, 5, 0, 1, 1])
    stamp = np.array([9, 1, 9, 3, 7, 2])
    split = leave_one_out(user, item, stamp, num_items=8, negatives=3, seed=0)
    np.testing.assert_array_equal(split.test_items, [5, 1])
    np.testing.assert_array_equal(np.sort(split.train_rows), [0, 1, 3, 5])
    rated = rated_matrix(user, item, 2, 8)
    for u, drawn in enumerate(split.negatives):
        assert len(set(drawn.tolist())) == 3 and not rated[u, drawn].any()
    again = leave_one_out(user, item, stamp, num_items=8, negatives=3, seed=0)
    np.testing.assert_array_equal(again.negatives, split.negatives)
    np.testing.assert_array_equal(split.candidates()[:, 0], [5, 1])
    with pytest.raises(ValueError, match="fewer than"):
        leave_one_out(user, item, stamp, num_items=8, negatives=6)


def test_leave_one_out_on_movielens_holds_one_per_user(data):
    split = leave_one_out(data.user, data.item, data.timestamp, data.num_items, seed=0)
    assert len(split.train_rows) == len(data) - 943 and split.negatives.shape == (943, 100)
    for u in (0, 500, 942):
        mine = np.flatnonzero(data.user == u)
        latest = mine[data.timestamp[mine] == data.timestamp[mine].max()]
        assert split.test_items[u] == data.item[latest].max()


def test_sampled_negatives_are_never_rated():
    rng = np.random.default_rng(0)
    rated = rng.random((20, 30)) < 0.7
    users = np.repeat(np.arange(20), 3)
    neg_users, neg_items = sample_negatives(users, rated, 4, rng)
    np.testing.assert_array_equal(neg_users, np.repeat(users, 4))
    assert not rated[neg_users, neg_items].any()


def test_ids_not_in_the_data_are_named(data):
    assert data.user_index(1) == 0 and data.item_index(1682) == 1681
    with pytest.raises(ValueError, match="user id 944 is not in the data.*1 to 943"):
        data.user_index(944)
    with pytest.raises(ValueError, match="movie id 0 is not in the data.*1 to 1682"):
        data.item_index(0)
    with pytest.raises(TypeError, match="must be an integer, got '5'"):
        data.user_index("5")
