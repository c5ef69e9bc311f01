"""The recommenders against PyTorch twins (same weights: same outputs, same gradients, the
embedding tables' sparse gradients compared densified), saved and loaded by name, a user id not in
the data refused by the recipe, and a short real run on fold u1 (slow)."""

import numpy as np
import pytest
import torch
from torch import nn as tnn

import glassnet
from glassnet.models import AutoRec, MatrixFactorization, NeuralCF, load, save

USERS, ITEMS = 7, 11


class TorchMF(tnn.Module):
    def __init__(self, dim, mean):
        super().__init__()
        self.user_embedding = tnn.Embedding(USERS, dim, sparse=True)
        self.item_embedding = tnn.Embedding(ITEMS, dim, sparse=True)
        self.user_bias = tnn.Embedding(USERS, 1, sparse=True)
        self.item_bias = tnn.Embedding(ITEMS, 1, sparse=True)
        self.mean = mean

    def forward(self, users, items):
        p, q = self.user_embedding(users), self.item_embedding(items)
        biases = (self.user_bias(users) + self.item_bias(items)).squeeze(-1)
        return (p * q).sum(-1) + biases + self.mean


class TorchNeuMF(tnn.Module):
    def __init__(self, factors, layers):
        super().__init__()
        self.user_gmf = tnn.Embedding(USERS, factors, sparse=True)
        self.item_gmf = tnn.Embedding(ITEMS, factors, sparse=True)
        self.user_mlp = tnn.Embedding(USERS, layers[0] // 2, sparse=True)
        self.item_mlp = tnn.Embedding(ITEMS, layers[0] // 2, sparse=True)
        tower = []
        for a, b in zip(layers, layers[1:]):
            tower += [tnn.Linear(a, b), tnn.ReLU()]
        self.mlp = tnn.Sequential(*tower)
        self.predict = tnn.Linear(factors + layers[-1], 1)

    def forward(self, users, items):
        gmf = self.user_gmf(users) * self.item_gmf(items)
        mlp = self.mlp(torch.cat([self.user_mlp(users), self.item_mlp(items)], -1))
        return self.predict(torch.cat([gmf, mlp], -1)).squeeze(-1)


def copy_weights(ours, theirs):
    state = {k: torch.tensor(v.data) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def compare_pair_model(ours, theirs, loss):
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, USERS, 16), rng.integers(0, ITEMS, 16)
    targets = rng.uniform(1, 5, 16).astype(np.float32)
    out = ours(glassnet.tensor(users), glassnet.tensor(items))
    ref = theirs(torch.tensor(users), torch.tensor(items))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    loss(out, glassnet.tensor(targets)).backward()
    getattr(torch.nn.functional, loss.__name__)(ref, torch.tensor(targets)).backward()
    reference = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        grad = reference[name].grad
        assert p.grad.is_sparse == grad.is_sparse, name
        np.testing.assert_allclose(
            p.grad.to_dense().data, grad.to_dense().numpy(), rtol=1e-4, atol=1e-6, err_msg=name
        )


def test_matrix_factorisation_matches_torch():
    glassnet.manual_seed(0)
    ours = MatrixFactorization(USERS, ITEMS, dim=5, global_mean=3.5)
    ours.user_bias.weight.data[:] = np.random.default_rng(1).normal(size=(USERS, 1))
    theirs = TorchMF(5, 3.5)
    copy_weights(ours, theirs)
    compare_pair_model(ours, theirs, glassnet.nn.functional.mse_loss)


def test_neural_cf_matches_torch():
    glassnet.manual_seed(0)
    ours = NeuralCF(USERS, ITEMS, factors=4, layers=(8, 6, 4))
    theirs = TorchNeuMF(4, (8, 6, 4))
    copy_weights(ours, theirs)
    compare_pair_model(ours, theirs, glassnet.nn.functional.binary_cross_entropy_with_logits)


def test_autorec_matches_torch():
    glassnet.manual_seed(0)
    ours = AutoRec(USERS, hidden=5)
    theirs = tnn.Sequential(tnn.Linear(USERS, 5), tnn.Sigmoid(), tnn.Linear(5, USERS))
    layers = {"0": ours.encoder, "2": ours.decoder}
    theirs.load_state_dict(
        {
            f"{k}.{n}": torch.tensor(getattr(m, n).data)
            for k, m in layers.items()
            for n in ("weight", "bias")
        }
    )
    x = np.random.default_rng(2).integers(0, 6, (4, USERS)).astype(np.float32)
    out, ref = ours(glassnet.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    np.testing.assert_allclose(ours.encoder.weight.grad.data, theirs[0].weight.grad.numpy(),
                               rtol=1e-4, atol=1e-5)  # fmt: skip


@pytest.mark.parametrize(
    "model",
    [
        lambda: MatrixFactorization(USERS, ITEMS, dim=3, global_mean=3.2),
        lambda: NeuralCF(USERS, ITEMS, factors=2, layers=(4, 2)),
        lambda: AutoRec(USERS, hidden=3),
    ],
)
def test_saved_and_loaded_by_name(model, tmp_path):
    original = model()
    save(original, tmp_path / "model.safetensors")
    loaded = load(tmp_path)
    assert type(loaded) is type(original) and loaded.config() == original.config()
    for (name, a), (_, b) in zip(original.state_dict().items(), loaded.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_bad_arguments_and_ids_are_named():
    with pytest.raises(ValueError, match="NeuralCF: layers must start with an even width"):
        NeuralCF(USERS, ITEMS, layers=(7, 4))
    model = MatrixFactorization(USERS, ITEMS, dim=2)
    with pytest.raises(IndexError, match="index 7 is out of range for 7 embeddings"):
        model(glassnet.tensor([7]), glassnet.tensor([0]))


def test_recipe_refuses_a_user_not_in_the_data(tmp_path, monkeypatch):
    from glassnet.data.datasets import movielens as data_module
    from glassnet.recipes import movielens

    shared = data_module_shared()
    monkeypatch.setattr(data_module, "URLS", [])
    (tmp_path / "ml-100k").symlink_to(shared, target_is_directory=True)
    with pytest.raises(ValueError, match="user id 944 is not in the data"):
        movielens.run(out_dir=str(tmp_path / "run"), user=944, root=str(tmp_path), verbose=False)


def data_module_shared():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ml-100k"
    if not shared.is_dir():
        pytest.skip(f"the shared MovieLens copy is not at {shared}")
    return shared


@pytest.mark.slow
def test_one_fold_end_to_end(tmp_path, monkeypatch, capsys):
    """`glassnet train movielens` on fold u1 with small budgets: matrix factorisation below 0.95
    RMSE (biases only: 0.96), the table, ranking, top-10 and the files written."""
    import json

    from glassnet.cli import main

    (tmp_path / "ml-100k").symlink_to(data_module_shared(), target_is_directory=True)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path))
    out = tmp_path / "run"
    argv = ["--folds", "1", "--epochs", "8", "--autorec-epochs", "3", "--ranking-epochs", "1"]
    assert main(["train", "movielens", *argv, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    extras = json.loads((out / "model.json").read_text())["extras"]
    assert extras["test_rmse"] < 0.95, printed
    for expected in ("biases only", "blend", "HR@10", "popularity", "top 10 recommendations"):
        assert expected in printed
    assert (out / "rmse_per_epoch.png").is_file() and (out / "item_embeddings.png").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--user", "944"], "--user must be 1 to 943 (MovieLens 100K's user ids), got 944"),
        (["--folds", "6"], "--folds must be 1 to 5"),
    ],
)
def test_command_line_refuses_ids_and_folds_out_of_range(argv, message, capsys):
    from glassnet.cli import main

    assert main(["train", "movielens", *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_penalised_training_step_matches_torch():
    """PairTrainer's step on matrix factorisation (squared error + l2 times the mean squared
    norm of the rows read, SparseAdam) moves the weights as the same step written in torch."""
    from glassnet.optim import SparseAdam
    from glassnet.recipes.recommend import PairTrainer

    glassnet.manual_seed(0)
    ours = MatrixFactorization(USERS, ITEMS, dim=3, global_mean=3.0)
    theirs = TorchMF(3, 3.0)
    copy_weights(ours, theirs)
    trainer = PairTrainer(ours, {"tables": SparseAdam(ours.parameters(), lr=0.05)}, l2=0.1)
    reference = torch.optim.SparseAdam(theirs.parameters(), lr=0.05)
    rng = np.random.default_rng(3)
    for _ in range(3):
        users, items = rng.integers(0, USERS, 16), rng.integers(0, ITEMS, 16)
        stars = rng.integers(1, 6, 16).astype(np.float32)
        trainer.step((glassnet.tensor(users), glassnet.tensor(items), glassnet.tensor(stars)))
        u, i = torch.tensor(users), torch.tensor(items)
        p, q = theirs.user_embedding(u), theirs.item_embedding(i)
        bu, bi = theirs.user_bias(u).squeeze(-1), theirs.item_bias(i).squeeze(-1)
        squares = (p * p).sum(-1) + (q * q).sum(-1) + bu * bu + bi * bi
        loss = torch.nn.functional.mse_loss(theirs(u, i), torch.tensor(stars))
        (loss + 0.1 * squares.mean()).backward()
        reference.step()
        reference.zero_grad()
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(
            ours.state_dict()[name].data, p.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name
        )


def test_implicit_feedback_batches_positives_and_fresh_negatives():
    from glassnet.recipes.recommend import ImplicitFeedback

    users, items = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 3])
    rated = np.zeros((3, 6), dtype=bool)
    rated[users, items] = True
    stream = ImplicitFeedback(users, items, rated, 2, 5, np.random.default_rng(0))
    assert len(stream) == 3  # 4 positives + 8 negatives in batches of 5
    epochs = []
    for _ in range(2):
        batches = [tuple(t.data for t in batch) for batch in stream]
        u, i, label = (np.concatenate(part) for part in zip(*batches))
        assert len(u) == 12 and label.sum() == 4
        assert rated[u[label == 1], i[label == 1]].all()
        assert not rated[u[label == 0], i[label == 0]].any()
        np.testing.assert_array_equal(np.bincount(u[label == 0]), [4, 2, 2])
        epochs.append(i[label == 0])
    assert not np.array_equal(epochs[0], epochs[1])  # drawn afresh each epoch
