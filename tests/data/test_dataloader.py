"""DataLoader, collate and datasets, checked against torch.utils.data where the two should agree."""

from collections import namedtuple

import numpy as np
import pytest

import glassnet
from glassnet.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)
from glassnet.tensor import Tensor


def make_dataset(n=10, features=3):
    x = np.arange(n * features, dtype=np.float32).reshape(n, features)
    return TensorDataset(Tensor(x), Tensor(np.arange(n, dtype=np.int64)))


class Squares(Dataset):
    """A dataset that is not a TensorDataset: samples are built one by one."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float32), "i": i, "w": float(i)}


def epoch_labels(loader):
    return np.concatenate([y.numpy() for _, y in loader])


# -- TensorDataset, Subset, ConcatDataset ---------------------------------------------------------


def test_tensor_dataset_indexing_and_length():
    ds = make_dataset(7)
    x, y = ds[3]
    assert len(ds) == 7
    np.testing.assert_array_equal(x.numpy(), [9.0, 10.0, 11.0])
    assert y.item() == 3 and y.dtype == np.int64


def test_tensor_dataset_rejects_mismatched_first_dims():
    with pytest.raises(ValueError, match=r"same size in the first dimension.*\[5, 4\]"):
        TensorDataset(Tensor(np.zeros((5, 2))), Tensor(np.zeros(4)))
    with pytest.raises(TypeError, match="got list at position 1"):
        TensorDataset(Tensor(np.zeros(3)), [1, 2, 3])
    with pytest.raises(ValueError, match="0-dimensional"):
        TensorDataset(Tensor(np.float32(1.0)))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_and_concat_and_add():
    a, b = make_dataset(4), make_dataset(3)
    sub = Subset(a, [3, 1])
    assert len(sub) == 2 and sub[0][1].item() == 3 and sub[1][1].item() == 1
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert both.cumulative_sizes == [4, 7]
    assert [both[i][1].item() for i in range(7)] == [0, 1, 2, 3, 0, 1, 2]
    assert both[-1][1].item() == 2 and both[-7][1].item() == 0
    with pytest.raises(IndexError, match="out of range for 7 samples"):
        both[7]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_base_dataset_needs_getitem():
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        Dataset()[0]


# -- random_split ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, lengths",
    [
        (10, [0.8, 0.2]),
        (11, [0.5, 0.5]),
        (10, [0.3, 0.3, 0.4]),
        (7, [0.33, 0.33, 0.34]),
        (9, [4, 5]),
    ],
)
def test_random_split_sizes_match_torch(n, lengths):
    import torch

    ours = random_split(make_dataset(n), lengths, generator=glassnet.Generator(0))
    theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]


def test_random_split_is_disjoint_complete_and_reproducible():
    ds = make_dataset(50)
    splits = random_split(ds, [30, 15, 5], generator=glassnet.Generator(7))
    seen = np.concatenate([np.asarray(s.indices) for s in splits])
    assert sorted(seen.tolist()) == list(range(50))
    again = random_split(ds, [30, 15, 5], generator=glassnet.Generator(7))
    assert [s.indices for s in splits] == [s.indices for s in again]
    other = random_split(ds, [30, 15, 5], generator=glassnet.Generator(8))
    assert splits[0].indices != other[0].indices
    glassnet.manual_seed(3)
    first = random_split(ds, [0.5, 0.5])[0].indices
    glassnet.manual_seed(3)
    assert random_split(ds, [0.5, 0.5])[0].indices == first


def test_random_split_errors():
    ds = make_dataset(10)
    with pytest.raises(ValueError, match=r"sum to 9 but the dataset has 10"):
        random_split(ds, [4, 5])
    with pytest.raises(ValueError, match="neither fractions"):
        random_split(ds, [0.5, 0.2])
    with pytest.raises(ValueError, match="neither fractions"):
        random_split(ds, [12, -2])
    with pytest.raises(TypeError, match="integers or fractions"):
        random_split(ds, ["5", 5])
    with pytest.warns(UserWarning, match="empty"):
        random_split(make_dataset(1), [0.5, 0.5])


# -- DataLoader: batching -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 9, 10, 11, 32])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 64])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_matches_torch(n, batch_size, drop_last):
    import torch

    theirs = torch.utils.data.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
    ours = DataLoader(make_dataset(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert len(list(ours)) == len(ours)


def test_batches_in_order_with_partial_last_batch():
    batches = list(DataLoader(make_dataset(10), batch_size=4))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    assert isinstance(batches[0], tuple) and all(isinstance(t, Tensor) for t in batches[0])
    np.testing.assert_array_equal(epoch_labels(batches), np.arange(10))
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last_skips_the_short_batch():
    batches = list(DataLoader(make_dataset(10), batch_size=4, drop_last=True))
    assert [len(y) for _, y in batches] == [4, 4]


def test_shuffle_covers_every_sample_once_and_changes_each_epoch():
    loader = DataLoader(
        make_dataset(23), batch_size=5, shuffle=True, generator=glassnet.Generator(1)
    )
    first, second = epoch_labels(loader), epoch_labels(loader)
    assert sorted(first.tolist()) == list(range(23)) == sorted(second.tolist())
    assert not np.array_equal(first, second)
    x, y = next(iter(loader))
    np.testing.assert_array_equal(x.numpy()[:, 0], 3 * y.numpy())  # rows stay paired


def test_shuffle_is_reproducible_from_a_seed():
    def two_epochs(generator):
        loader = DataLoader(make_dataset(30), batch_size=8, shuffle=True, generator=generator)
        return [epoch_labels(loader) for _ in range(2)]

    np.testing.assert_array_equal(
        two_epochs(glassnet.Generator(5)), two_epochs(glassnet.Generator(5))
    )
    assert not np.array_equal(two_epochs(glassnet.Generator(5)), two_epochs(glassnet.Generator(6)))
    np.testing.assert_array_equal(
        two_epochs(np.random.default_rng(5)), two_epochs(glassnet.Generator(5))
    )
    glassnet.manual_seed(0)
    global_seeded = two_epochs(None)
    glassnet.manual_seed(0)
    np.testing.assert_array_equal(two_epochs(None), global_seeded)


def test_subset_of_tensor_dataset_uses_the_subset_rows():
    ds = make_dataset(20)
    inner = Subset(ds, list(range(10, 20)))
    nested = Subset(inner, [9, 0, 4])
    x, y = next(iter(DataLoader(nested, batch_size=3)))
    np.testing.assert_array_equal(y.numpy(), [19, 10, 14])
    np.testing.assert_array_equal(x.numpy(), ds.tensors[0].numpy()[[19, 10, 14]])
    train, _ = random_split(ds, [15, 5], generator=glassnet.Generator(0))
    labels = epoch_labels(DataLoader(train, batch_size=4, shuffle=True))
    assert sorted(labels.tolist()) == sorted(train.indices)


def test_sampler_gives_the_order():
    loader = DataLoader(make_dataset(10), batch_size=2, sampler=[9, 8, 1, 0, 5])
    assert len(loader) == 3
    np.testing.assert_array_equal(epoch_labels(loader), [9, 8, 1, 0, 5])


def test_tensor_dataset_subclass_with_its_own_getitem_is_read_sample_by_sample():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2.0, y

    x, _ = next(iter(DataLoader(Doubled(*make_dataset(4).tensors), batch_size=4)))
    np.testing.assert_array_equal(x.numpy(), 2.0 * make_dataset(4).tensors[0].numpy())


def test_batches_match_torch_for_a_tensor_dataset():
    import torch

    x = np.random.default_rng(0).standard_normal((13, 2, 3)).astype(np.float32)
    y = np.arange(13)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=5
    )
    ours = DataLoader(TensorDataset(Tensor(x), Tensor(y)), batch_size=5)
    for (tx, ty), (gx, gy) in zip(theirs, ours, strict=True):
        np.testing.assert_array_equal(gx.numpy(), tx.numpy())
        np.testing.assert_array_equal(gy.numpy(), ty.numpy())
        assert gy.dtype == np.int64


def test_batch_size_none_yields_single_samples():
    ds = make_dataset(3)
    samples = list(DataLoader(ds, batch_size=None))
    assert len(DataLoader(ds, batch_size=None)) == 3 and len(samples) == 3
    assert samples[1][0].shape == (3,) and samples[1][1].item() == 1
    converted = list(DataLoader(Squares(2), batch_size=None))
    assert isinstance(converted[1]["x"], Tensor) and converted[1]["i"] == 1


# -- DataLoader: other datasets and collate -------------------------------------------------------


def test_generic_dataset_is_collated_like_torch():
    import torch

    theirs = next(iter(torch.utils.data.DataLoader(Squares(5), batch_size=4)))
    ours = next(iter(DataLoader(Squares(5), batch_size=4)))
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
        assert ours[key].shape == tuple(theirs[key].shape)
    assert ours["x"].dtype == np.float32 and ours["i"].dtype == np.int64
    # Python floats: torch makes float64, glassnet keeps the default float32.
    assert theirs["w"].dtype == torch.float64 and ours["w"].dtype == np.float32


def test_default_collate_structure_matches_torch():
    import torch
    from torch.utils.data import default_collate as torch_collate

    rng = np.random.default_rng(1)
    samples = [
        {"image": rng.standard_normal((2, 2)).astype(np.float32), "meta": (i, [i + 1, "a"])}
        for i in range(3)
    ]

    def structure(batch):
        if isinstance(batch, dict):
            return {k: structure(v) for k, v in batch.items()}
        if isinstance(batch, list | tuple):
            return (type(batch).__name__, [structure(v) for v in batch])
        if isinstance(batch, Tensor | torch.Tensor):
            return ("tensor", tuple(batch.shape), str(batch.dtype).replace("torch.", ""))
        return batch

    assert structure(default_collate(samples)) == structure(torch_collate(samples))


def test_default_collate_tuples_namedtuples_and_numbers():
    Pair = namedtuple("Pair", "a b")
    batch = default_collate([Pair(Tensor(np.ones(2)), True), Pair(Tensor(np.zeros(2)), False)])
    assert isinstance(batch, Pair) and batch.a.shape == (2, 2) and batch.b.dtype == np.bool_
    x, y = default_collate([(np.float64(1.5), 1), (np.float64(2.5), 2)])
    assert x.dtype == np.float64 and y.dtype == np.int64
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_default_collate_errors():
    with pytest.raises(ValueError, match=r"equal shapes.*\(2,\) at entry 0 and \(3,\) at entry 1"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_default_convert_turns_arrays_into_tensors():
    out = default_convert((np.arange(3), {"k": np.float32(2.0)}, 5))
    assert isinstance(out, list) and isinstance(out[0], Tensor) and out[2] == 5
    assert isinstance(out[1]["k"], Tensor)


def test_custom_collate_fn_receives_the_list_of_samples():
    loader = DataLoader(make_dataset(5), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


# -- DataLoader: argument errors ------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, "4"])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(make_dataset(), batch_size=batch_size)


def test_bad_arguments():
    ds = make_dataset()
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(42)
    with pytest.raises(TypeError, match="shuffle should be True or False"):
        DataLoader(ds, shuffle="yes")
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(TypeError, match="collate_fn should be callable"):
        DataLoader(ds, collate_fn=3)
    with pytest.raises(TypeError, match="glassnet.Generator or a NumPy Generator, got int"):
        DataLoader(ds, shuffle=True, generator=0)


def test_in_order_batches_are_views_and_shuffled_ones_copies():
    ds = make_dataset(8)
    x, _ = next(iter(DataLoader(ds, batch_size=4)))
    assert np.shares_memory(x.data, ds.tensors[0].data)
    x, _ = next(iter(DataLoader(ds, batch_size=4, shuffle=True)))
    assert not np.shares_memory(x.data, ds.tensors[0].data)
