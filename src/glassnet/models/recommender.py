"""Recommenders: networks that guess how much a person will like a movie they have not seen.

`MatrixFactorization` gives every user and every movie a short vector (an embedding) and a bias;
a rating is predicted as the global mean plus both biases plus the dot product of the two vectors
(the "SVD" of the Netflix Prize, trained by gradient descent). `NeuralCF` (He et al., 2017) feeds
the pair of embeddings to two towers, an element-wise product (GMF) and an MLP on their
concatenation, and mixes them into one score. `AutoRec` (Sedhain et al., 2015) reads each movie
as the vector of all users' ratings of it and rebuilds it through a narrow hidden layer; the
rebuilt vector holds its guesses for the users who did not rate the movie.

The embedding tables are ``Embedding(sparse=True)`` by default: a batch's gradient holds only the
rows it read, and `optim.SparseAdam` steps only those (dense layers still need a dense optimizer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import cat, checks
from ..nn import functional as F
from ..nn.container import Sequential
from ..nn.init import normal_, zeros_
from ..nn.layers import Embedding, Linear, ReLU
from ..nn.module import Module
from ..tensor import Tensor


def _table(rows: int, dim: int, sparse: bool, std: float) -> Embedding:
    table = Embedding(rows, dim, sparse=sparse)
    if std:
        normal_(table.weight, 0.0, std)
    else:
        zeros_(table.weight)
    return table


class MatrixFactorization(Module):
    """Biased matrix factorisation: ``r(u, i) = mean + b_u + b_i + p_u . q_i``.

    Args:
        num_users, num_items: the table sizes (users and items are 0-based indices).
        dim: the length of each user's and item's vector.
        global_mean: the constant every prediction starts from (the training ratings' mean).
        sparse: sparse embedding gradients (step them with `optim.SparseAdam`).
        init_std: the standard deviation of the vectors' initial values (biases start at 0).

    Shape:
        forward(users, items): two integer tensors (N,) -> predicted ratings (N,).
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        dim: int = 64,
        global_mean: float = 0.0,
        sparse: bool = True,
        init_std: float = 0.1,
    ) -> None:
        super().__init__()
        self.num_users = checks.positive_int(num_users, "num_users", "MatrixFactorization")
        self.num_items = checks.positive_int(num_items, "num_items", "MatrixFactorization")
        self.dim = checks.positive_int(dim, "dim", "MatrixFactorization")
        self.global_mean = float(global_mean)
        self.sparse = bool(sparse)
        self.init_std = float(init_std)
        self.user_embedding = _table(num_users, dim, sparse, init_std)
        self.item_embedding = _table(num_items, dim, sparse, init_std)
        self.user_bias = _table(num_users, 1, sparse, 0.0)
        self.item_bias = _table(num_items, 1, sparse, 0.0)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``MatrixFactorization(**model.config())``."""
        return {
            "num_users": self.num_users,
            "num_items": self.num_items,
            "dim": self.dim,
            "global_mean": self.global_mean,
            "sparse": self.sparse,
            "init_std": self.init_std,
        }

    def forward(self, users: Tensor, items: Tensor) -> Tensor:
        p, q = self.user_embedding(users), self.item_embedding(items)
        biases = (self.user_bias(users) + self.item_bias(items)).squeeze(-1)
        return (p * q).sum(-1) + biases + self.global_mean

    def forward_with_penalty(self, users: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
        """(predictions (N,), squared norms (N,) of the rows each prediction read): the L2
        penalty of classic matrix factorisation, which touches only the rows a batch uses (so
        it keeps gradients sparse, unlike weight decay on whole tables)."""
        p, q = self.user_embedding(users), self.item_embedding(items)
        b_user, b_item = self.user_bias(users).squeeze(-1), self.item_bias(items).squeeze(-1)
        prediction = (p * q).sum(-1) + b_user + b_item + self.global_mean
        squares = (p * p).sum(-1) + (q * q).sum(-1) + b_user * b_user + b_item * b_item
        return prediction, squares

    def extra_repr(self) -> str:
        return f"users={self.num_users}, items={self.num_items}, dim={self.dim}"


class NeuralCF(Module):
    """Neural collaborative filtering, NeuMF (He et al., 2017): a GMF tower (the element-wise
    product of a user's and an item's vectors) and an MLP tower (a second pair of vectors,
    concatenated, through ReLU layers), joined by one linear layer into a score.

    Args:
        num_users, num_items: the table sizes.
        factors: the GMF vectors' length.
        layers: the MLP tower's widths; its input is the two MLP vectors side by side, so each
            has ``layers[0] // 2`` numbers.
        sparse: sparse embedding gradients (`optim.SparseAdam` for the tables, a dense optimizer
            for the layers).

    Shape:
        forward(users, items): two integer tensors (N,) -> scores (N,): logits of "liked" for
        implicit feedback, or ratings when trained on them.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        factors: int = 8,
        layers: Sequence[int] = (64, 32, 16, 8),
        sparse: bool = True,
    ) -> None:
        super().__init__()
        where = "NeuralCF"
        self.num_users = checks.positive_int(num_users, "num_users", where)
        self.num_items = checks.positive_int(num_items, "num_items", where)
        self.factors = checks.positive_int(factors, "factors", where)
        self.layers = [checks.positive_int(n, "layers", where) for n in layers]
        if len(self.layers) < 1 or self.layers[0] % 2:
            raise ValueError(f"{where}: layers must start with an even width, got {list(layers)}")
        self.sparse = bool(sparse)
        half = self.layers[0] // 2
        self.user_gmf = _table(num_users, factors, sparse, 0.01)
        self.item_gmf = _table(num_items, factors, sparse, 0.01)
        self.user_mlp = _table(num_users, half, sparse, 0.01)
        self.item_mlp = _table(num_items, half, sparse, 0.01)
        tower: list[Module] = []
        for width_in, width_out in zip(self.layers, self.layers[1:]):
            tower += [Linear(width_in, width_out), ReLU()]
        self.mlp = Sequential(*tower)
        self.predict = Linear(factors + self.layers[-1], 1)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``NeuralCF(**model.config())``."""
        return {
            "num_users": self.num_users,
            "num_items": self.num_items,
            "factors": self.factors,
            "layers": list(self.layers),
            "sparse": self.sparse,
        }

    def forward(self, users: Tensor, items: Tensor) -> Tensor:
        gmf = self.user_gmf(users) * self.item_gmf(items)
        mlp = self.mlp(cat([self.user_mlp(users), self.item_mlp(items)], dim=-1))
        return self.predict(cat([gmf, mlp], dim=-1)).squeeze(-1)

    def extra_repr(self) -> str:
        return f"users={self.num_users}, items={self.num_items}, factors={self.factors}"


class AutoRec(Module):
    """Item-based AutoRec (Sedhain et al., 2015): ``h = sigmoid(W r + b)``, ``r' = V h + c``,
    where ``r`` is one item's column of the rating matrix (0 where a user did not rate it) and
    ``r'`` its reconstruction; the loss counts only the ratings that exist.

    Args:
        num_users: the length of each item's rating vector.
        hidden: the width of the hidden layer.

    Shape:
        forward(ratings): (N, num_users) -> (N, num_users) reconstructed ratings.
    """

    def __init__(self, num_users: int, hidden: int = 500) -> None:
        super().__init__()
        self.num_users = checks.positive_int(num_users, "num_users", "AutoRec")
        self.hidden = checks.positive_int(hidden, "hidden", "AutoRec")
        self.encoder = Linear(num_users, hidden)
        self.decoder = Linear(hidden, num_users)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``AutoRec(**model.config())``."""
        return {"num_users": self.num_users, "hidden": self.hidden}

    def forward(self, ratings: Tensor) -> Tensor:
        return self.decoder(F.sigmoid(self.encoder(ratings)))
