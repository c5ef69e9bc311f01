"""Ranking metrics: is the item a user really chose near the top of the model's list?

For each user the model scores one held-out item the user chose and some items the user never
rated. The held-out item's rank is how many of the others score at least as high (0 = first; a
tie counts against the model, so a model that scores everything alike ranks it last). Hit rate at
k (HR@k) is the share of users whose item is in the top k; NDCG at k also rewards being higher up
the list: 1 / log2(rank + 2) when the item is in the top k, else 0, averaged over users (with one
relevant item, the ideal DCG is 1).
"""

from __future__ import annotations

import numpy as np

from .. import checks


def rank_of_first(scores: np.ndarray) -> np.ndarray:
    """(users,) the rank of column 0 of `scores` (users, candidates) among its row: how many
    other candidates score at least as high."""
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] < 1:
        raise ValueError(
            f"rank_of_first: scores must be (users, candidates) with the held-out item in "
            f"column 0, got shape {scores.shape}"
        )
    return (scores[:, 1:] >= scores[:, :1]).sum(axis=1)


def hit_rate(scores: np.ndarray, k: int = 10) -> float:
    """HR@k: the share of rows whose column 0 ranks among the top `k` (see `rank_of_first`)."""
    checks.positive_int(k, "k", "hit_rate")
    return float((rank_of_first(scores) < k).mean())


def ndcg(scores: np.ndarray, k: int = 10) -> float:
    """NDCG@k with one relevant item per row (column 0): ``1 / log2(rank + 2)`` if its rank is
    below `k`, else 0, averaged over rows."""
    checks.positive_int(k, "k", "ndcg")
    ranks = rank_of_first(scores)
    return float(np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0).mean())
