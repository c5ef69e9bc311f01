"""Weight files: round trips, PyTorch interchange, atomic writes and clear errors on bad files."""

import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import glassnet.io.weights as weights
from glassnet.io import load, load_into, load_metadata, save, save_json
from glassnet.tensor import Tensor

FORMATS = [".safetensors", ".npz"]


def state(seed=0):
    rng = np.random.default_rng(seed)
    # Keys deliberately out of alphabetical order: "10." after "2.", "weight" before "bias".
    return OrderedDict(
        [
            ("2.weight", Tensor(rng.standard_normal((3, 4)).astype(np.float32))),
            ("2.bias", Tensor(rng.standard_normal(3).astype(np.float32))),
            ("10.weight", Tensor(rng.standard_normal((2, 3)))),  # float64
            ("steps", Tensor(np.array(7, dtype=np.int64))),  # 0-d, like num_batches_tracked
            ("ids", Tensor(np.arange(5, dtype=np.int64))),
            ("mask", Tensor(np.array([True, False]))),
        ]
    )


def files_in(directory):
    return sorted(os.listdir(directory))


@pytest.mark.parametrize("ext", FORMATS)
def test_round_trip_keeps_values_dtypes_shapes_and_order(tmp_path, ext):
    original = state()
    path = tmp_path / f"w{ext}"
    save(original, path)
    loaded = load(path)
    assert isinstance(loaded, OrderedDict)
    assert list(loaded) == list(original)
    for name, tensor in original.items():
        assert isinstance(loaded[name], Tensor)
        assert loaded[name].dtype == tensor.dtype, name
        assert loaded[name].shape == tensor.shape, name
        np.testing.assert_array_equal(loaded[name].data, tensor.data)
    assert files_in(tmp_path) == [f"w{ext}"]


@pytest.mark.parametrize("ext", FORMATS)
def test_arrays_views_and_metadata_round_trip(tmp_path, ext):
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    arrays = {"t": base.T, "s": base[::2, 1:5], "be": np.arange(3, dtype=">f8")}
    path = tmp_path / f"w{ext}"
    save(arrays, str(path), metadata={"epochs": "30", "note": "ünïcode"})
    loaded = load(path)
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name].data, array)
    assert loaded["be"].dtype == np.float64
    assert load_metadata(path) == {"epochs": "30", "note": "ünïcode"}
    save(arrays, path)
    assert load_metadata(path) == {}


def test_safetensors_file_loads_in_plain_safetensors(tmp_path):
    from safetensors.numpy import load_file

    path = tmp_path / "w.safetensors"
    save(state(), path)
    plain = load_file(str(path))
    for name, tensor in state().items():
        np.testing.assert_array_equal(plain[name], tensor.data)


def test_overwrite_replaces_file(tmp_path):
    path = tmp_path / "w.npz"
    save(state(0), path)
    save(state(1), path)
    np.testing.assert_array_equal(load(path)["2.weight"].data, state(1)["2.weight"].data)
    assert files_in(tmp_path) == ["w.npz"]


def test_torch_state_dict_via_safetensors_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.numpy import save_file

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    path = tmp_path / "torch.safetensors"
    save_file({k: v.detach().numpy() for k, v in net.state_dict().items()}, str(path))
    loaded = load(path)
    assert sorted(loaded) == sorted(net.state_dict())
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded[name].data, value.numpy())

    from glassnet.models import MLP

    model = MLP([5, 7, 3], activation="tanh")
    load_into(model, path)
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    expected = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ext", FORMATS)
def test_glassnet_file_loads_into_torch(tmp_path, ext):
    torch = pytest.importorskip("torch")
    from glassnet.models import MLP

    model = MLP([4, 6, 2])
    path = tmp_path / f"m{ext}"
    save(model, path)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    net.load_state_dict({k: torch.from_numpy(v.data) for k, v in load(path).items()})
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    expected = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


# -- atomic writes ---------------------------------------------------------------------------------


def disk_full(*args, **kwargs):
    raise OSError(28, "No space left on device")


def failing_midway(real_bytes):
    """A writer that gets part of the data onto disk, then fails (disk full, killed, ...)."""

    def write(file, *args, **kwargs):
        file.write(real_bytes[: len(real_bytes) // 2])
        file.flush()
        disk_full()

    return write


@pytest.mark.parametrize("ext", FORMATS)
def test_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch, ext):
    path = tmp_path / f"w{ext}"
    save(state(0), path)
    before = path.read_bytes()
    if ext == ".npz":
        monkeypatch.setattr(np.lib.format, "write_array", failing_midway(before))
    else:
        monkeypatch.setattr(weights.os, "fsync", disk_full)  # the new bytes are written, then...
    with pytest.raises(OSError, match="No space left"):
        save(state(1), path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == [f"w{ext}"]


def test_json_documents_are_written_atomically(tmp_path, monkeypatch):
    import json

    path = tmp_path / "model.json"
    assert save_json({"vocab": "ab", "model": {"n": 2}}, path) == str(path)
    before = path.read_bytes()
    assert json.loads(before) == {"vocab": "ab", "model": {"n": 2}}
    monkeypatch.setattr(weights.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_json({"vocab": "abc"}, path)
    assert path.read_bytes() == before and files_in(tmp_path) == ["model.json"]


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np.lib.format, "write_array", failing_midway(b"x" * 100))
    with pytest.raises(OSError):
        save(state(), tmp_path / "new.npz")
    assert files_in(tmp_path) == []


def test_bad_state_is_rejected_before_touching_the_file(tmp_path):
    path = tmp_path / "w.npz"
    save(state(), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="'bad'.*object"):
        save({"ok": np.zeros(2), "bad": np.array([None, 1], dtype=object)}, path)
    with pytest.raises(TypeError, match="'bad' must be a Tensor or a NumPy array, got list"):
        save({"bad": [1.0, 2.0]}, path)
    with pytest.raises(TypeError, match="Module or a dict"):
        save([np.zeros(2)], path)
    with pytest.raises(TypeError, match="metadata keys and values must be str"):
        save(state(), path, metadata={"epochs": 3})
    with pytest.raises(ValueError, match="reserved"):
        save({"__metadata__": np.zeros(1)}, path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["w.npz"]


# -- bad files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", FORMATS)
def test_missing_file(tmp_path, ext):
    path = tmp_path / f"nothing{ext}"
    with pytest.raises(FileNotFoundError, match="nothing"):
        load(path)


@pytest.mark.parametrize("ext", FORMATS)
def test_unknown_extension(tmp_path, ext):
    with pytest.raises(ValueError, match=r"\.safetensors, \.npz"):
        save(state(), tmp_path / "w.pt")
    with pytest.raises(ValueError, match="'.*w.pkl'.*extension"):
        load(tmp_path / "w.pkl")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("ext", FORMATS)
def test_keys_that_look_like_arguments(tmp_path, ext):
    arrays = {"file": np.ones(2), "allow_pickle": np.zeros(1), "a/b.c": np.arange(3)}
    save(arrays, tmp_path / f"w{ext}")
    assert list(load(tmp_path / f"w{ext}")) == list(arrays)


def corruptions(good):
    return {
        "truncated": good[: len(good) - 7],
        "header only": good[:40],
        "empty": b"",
        "garbage": bytes(range(256)) * 4,
    }


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("kind", ["truncated", "header only", "empty", "garbage"])
def test_corrupted_file_gives_clear_error_and_leaves_model_unchanged(tmp_path, ext, kind):
    from glassnet.models import MLP

    model = MLP([4, 3, 2])
    path = tmp_path / f"w{ext}"
    save(MLP([4, 3, 2]), path)
    path.write_bytes(corruptions(path.read_bytes())[kind])
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    fmt = ext[1:]
    with pytest.raises(ValueError, match=f"w{ext}' is not a valid {fmt} weights file"):
        load(path)
    with pytest.raises(ValueError, match=f"not a valid {fmt} weights file"):
        load_into(model, path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[name])


def test_npz_with_object_array_is_rejected_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, w=np.zeros(3), payload=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="evil.npz' is not a valid npz weights file.*pickle"):
        load(path)


def test_npz_with_string_array_is_rejected(tmp_path):
    path = tmp_path / "text.npz"
    np.savez(path, w=np.zeros(3), names=np.array(["a", "b"]))
    with pytest.raises(ValueError, match="'names' has non-numeric dtype"):
        load(path)


def test_npy_file_named_npz_is_rejected(tmp_path):
    path = tmp_path / "single.npz"
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        load(path)


def test_compressed_npz_from_numpy_loads(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, a=np.arange(4.0), b=np.ones((2, 2), dtype=np.float32))
    loaded = load(path)
    assert list(loaded) == ["a", "b"]
    assert loaded["b"].dtype == np.float32
    assert zipfile.is_zipfile(path)


def test_load_into_wrong_shapes_leaves_model_unchanged(tmp_path):
    from glassnet.models import MLP

    path = tmp_path / "other.safetensors"
    save(MLP([4, 5, 2]), path)
    model = MLP([4, 3, 2])
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    with pytest.raises((RuntimeError, ValueError), match="0.weight"):
        load_into(model, path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[name])


def test_load_into_copies_values(tmp_path):
    from glassnet.models import MLP

    source, target = MLP([3, 4, 2]), MLP([3, 4, 2])
    path = tmp_path / "m.npz"
    save(source, path)
    load_into(target, path)
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name].data, value.data)


def test_missing_safetensors_package_explains_how_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_safetensors(name, *args, **kwargs):
        if name.startswith("safetensors"):
            raise ImportError("No module named 'safetensors'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_safetensors)
    with pytest.raises(ImportError, match=r"pip install glassnet\[extras\]"):
        save(state(), tmp_path / "w.safetensors")
    assert files_in(tmp_path) == []
