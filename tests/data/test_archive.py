"""`fetch_archive`: a dataset's archive downloaded over a loopback server, its listed files
extracted and each checked against its SHA-256; truncated and damaged archives, files that differ
from the list, dead servers and the offline folder each fail clearly and leave nothing behind."""

import hashlib
import io
import tarfile
import zipfile

import pytest

import loopback
from glassnet.data.archive import ChecksumMismatch, fetch_archive
from glassnet.data.download import DownloadError
from loopback import serving

FILES = {"ratings.txt": b"1\t2\t5\n" * 500, "notes/readme.md": "caf\u00e9\n".encode("latin-1")}
MEMBERS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
INSIDE = "dataset-1.0/"


def write_zip(path, files, inside=INSIDE):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(inside + name, data)
        archive.writestr(inside + "unlisted.bin", b"never extracted")


def write_tar(path, files, inside=INSIDE):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(inside + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    write_zip(folder / "data.zip", FILES)
    write_tar(folder / "data.tar.gz", FILES)
    write_zip(folder / "changed.zip", {**FILES, "ratings.txt": b"1\t2\t4\n" * 500})
    data = (folder / "data.zip").read_bytes()
    (folder / "truncated.zip").write_bytes(data[: len(data) // 2])
    with serving(folder) as server:
        yield server


def files_in(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("archive", ["data.zip", "data.tar.gz"])
def test_fetch_extracts_only_the_listed_files_checked(server, tmp_path, archive):
    folder = fetch_archive(
        "demo", server.url + archive, MEMBERS, inside=INSIDE, root=tmp_path, quiet=True
    )
    assert folder == tmp_path / "demo"
    assert files_in(folder) == sorted(FILES)
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    # the second call finds the files and downloads nothing
    requests = len(server.requests)
    assert (
        fetch_archive("demo", server.url + archive, MEMBERS, inside=INSIDE, root=tmp_path) == folder
    )
    assert len(server.requests) == requests


def test_a_damaged_file_in_the_cache_is_fetched_again(server, tmp_path):
    folder = fetch_archive(
        "demo", server.url + "data.zip", MEMBERS, inside=INSIDE, root=tmp_path, quiet=True
    )
    (folder / "ratings.txt").write_bytes(b"damaged")
    with pytest.raises(ValueError, match="ratings.txt: SHA-256"):
        fetch_archive(
            "demo", server.url + "data.zip", MEMBERS, inside=INSIDE, root=tmp_path, fetch=False
        )
    fetch_archive(
        "demo", server.url + "data.zip", MEMBERS, inside=INSIDE, root=tmp_path, quiet=True
    )
    assert (folder / "ratings.txt").read_bytes() == FILES["ratings.txt"]
    assert server.requests.count("/data.zip") == 2


def test_a_file_that_differs_from_the_list_is_refused_and_the_next_mirror_used(server, tmp_path):
    urls = [server.url + "changed.zip", server.url + "data.zip"]
    folder = fetch_archive("demo", urls, MEMBERS, inside=INSIDE, root=tmp_path, quiet=True)
    assert (folder / "ratings.txt").read_bytes() == FILES["ratings.txt"]
    with pytest.raises(
        ChecksumMismatch, match=r"changed.zip: ratings.txt: SHA-256 [0-9a-f]{64}, expected"
    ):
        fetch_archive(
            "other", server.url + "changed.zip", MEMBERS, inside=INSIDE, root=tmp_path, quiet=True
        )
    # the good file of the changed archive is in place; the bad one never landed, nor any .part
    assert files_in(tmp_path / "other") == ["notes/readme.md"]


def test_truncated_archive_and_dead_server_are_reported_per_mirror(server, tmp_path):
    urls = [loopback.dead_url(), server.url + "truncated.zip", server.url + "cut/data.zip"]
    with pytest.raises(DownloadError) as caught:
        fetch_archive("demo", urls, MEMBERS, inside=INSIDE, root=tmp_path / "cache", quiet=True)
    message = str(caught.value)
    assert not isinstance(caught.value, ValueError)
    assert "tried 3 mirror(s)" in message and "cannot connect" in message
    assert "truncated.zip: not a readable archive" in message
    assert "closed after 100 of" in message
    assert "put the files in" in message
    assert not (tmp_path / "cache").exists()  # the folders this call created are gone again


def test_a_listed_file_missing_from_the_archive_is_named(server, tmp_path):
    members = {**MEMBERS, "extra.txt": "0" * 64}
    with pytest.raises(DownloadError, match="extra.txt: not in the archive"):
        fetch_archive(
            "demo", server.url + "data.zip", members, inside=INSIDE, root=tmp_path, quiet=True
        )


def test_offline_folder_is_used_without_a_server(tmp_path, monkeypatch):
    folder = tmp_path / "cache" / "demo"
    for name, data in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))
    assert fetch_archive("demo", loopback.dead_url(), MEMBERS, inside=INSIDE) == folder


def test_missing_files_without_fetch_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"2 file\(s\) not in .*demo.*put them there"):
        fetch_archive("demo", "http://unused/", MEMBERS, root=tmp_path, fetch=False)


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", ""])
def test_member_names_must_stay_inside_the_folder(tmp_path, name):
    with pytest.raises(ValueError, match="not a relative path"):
        fetch_archive("demo", "http://unused/", {name: "0" * 64}, root=tmp_path)
