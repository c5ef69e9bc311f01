"""Ways to split a table of ratings for testing a recommender honestly.

Rating prediction is tested on ratings the model never saw: MovieLens 100K's five official folds
cut ``u.data`` in five blocks of 20,000 lines (test fold i is block i, its training fold the other
four), and settings are chosen on a validation part carved from the training fold, never on the
test fold. Ranking (the NCF paper's test) holds out each user's latest rating and asks the model to
put that movie above 100 movies the user never rated; while training, every rating counts as a
"liked" example and unrated movies drawn at random as "not liked" ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import checks


def official_folds(
    user: np.ndarray, item: np.ndarray, folds: int = 5, fold_size: int = 20_000
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, test rows) of each fold, as MovieLens's ``mku.sh`` makes u1 ... u5.

    Test fold i holds lines ``(i-1)*fold_size + 1 .. i*fold_size`` of the ratings in file order,
    the training fold every other line; both are sorted by user, then item (``sort -k 1,1n -k
    2,2n``). Rows index the arrays `user` and `item` came from."""
    n = len(user)
    if folds * fold_size > n:
        raise ValueError(
            f"official_folds: {folds} folds of {fold_size:,} need {folds * fold_size:,} "
            f"ratings, got {n:,}"
        )
    split = []
    for k in range(folds):
        held = np.zeros(n, dtype=bool)
        held[k * fold_size : (k + 1) * fold_size] = True
        rows = [np.flatnonzero(~held), np.flatnonzero(held)]
        split.append(tuple(r[np.lexsort((item[r], user[r]))] for r in rows))
    return split


def format_ratings(
    user: np.ndarray, item: np.ndarray, rating: np.ndarray, timestamp: np.ndarray
) -> bytes:
    """Ratings written as u.data's lines (1-based ids, tab-separated): the bytes of a fold's
    ``.test``/``.base`` file, to compare with the published files."""
    lines = (
        f"{u + 1}\t{i + 1}\t{int(r)}\t{t}\n"
        for u, i, r, t in zip(user.tolist(), item.tolist(), rating.tolist(), timestamp.tolist())
    )
    return "".join(lines).encode("ascii")


def validation_split(
    rows: np.ndarray, fraction: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(fitting rows, validation rows): a random `fraction` of a training fold's `rows` held
    out (seeded), to choose settings on without looking at the test fold."""
    checks.probability(fraction, "fraction", "validation_split")
    shuffled = np.random.default_rng(seed).permutation(rows)
    held = int(round(len(rows) * fraction))
    return np.sort(shuffled[held:]), np.sort(shuffled[:held])


@dataclass(frozen=True)
class LeaveOneOut:
    """The NCF paper's ranking test.

    Attributes:
        train_rows: every rating but each user's held-out one (rows of the ratings arrays).
        test_items: (num_users,) the item each user rated last.
        negatives: (num_users, count) items the user never rated, drawn at random (seeded);
            the model must rank ``test_items[u]`` above them.
    """

    train_rows: np.ndarray
    test_items: np.ndarray
    negatives: np.ndarray

    def candidates(self) -> np.ndarray:
        """(num_users, 1 + count): each user's held-out item first, then its negatives."""
        return np.concatenate([self.test_items[:, None], self.negatives], axis=1)


def leave_one_out(
    user: np.ndarray,
    item: np.ndarray,
    timestamp: np.ndarray,
    num_items: int,
    negatives: int = 100,
    seed: int = 0,
) -> LeaveOneOut:
    """Hold out each user's latest rating (ties in time broken by the larger item index, the
    last in (timestamp, item) order) and draw `negatives` items per user among those the user
    never rated, without repeats, with a seeded generator."""
    num_users = int(user.max()) + 1
    order = np.lexsort((item, timestamp, user))  # by user, then time, then item
    last = np.flatnonzero(np.r_[user[order][1:] != user[order][:-1], True])
    held = order[last]
    if len(held) != num_users:
        raise ValueError(f"leave_one_out: users 0 to {num_users - 1} must each have a rating")
    keep = np.ones(len(user), dtype=bool)
    keep[held] = False
    rated = rated_matrix(user, item, num_users, num_items)
    rng = np.random.default_rng(seed)
    drawn = np.empty((num_users, negatives), dtype=np.int64)
    for u in range(num_users):
        unrated = np.flatnonzero(~rated[u])
        if len(unrated) < negatives:
            raise ValueError(
                f"leave_one_out: user {u} has only {len(unrated)} unrated items, fewer than "
                f"the {negatives} negatives asked for"
            )
        drawn[u] = rng.choice(unrated, size=negatives, replace=False)
    return LeaveOneOut(np.flatnonzero(keep), item[held[np.argsort(user[held])]], drawn)


def rated_matrix(user: np.ndarray, item: np.ndarray, num_users: int, num_items: int) -> np.ndarray:
    """bool (num_users, num_items): which user rated which item."""
    rated = np.zeros((num_users, num_items), dtype=bool)
    rated[user, item] = True
    return rated


def sample_negatives(
    user: np.ndarray, rated: np.ndarray, per_positive: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(users, items): `per_positive` random items for each entry of `user` that the user has
    not rated (``rated[u, i]`` false), drawn again until none is rated: implicit feedback's
    "not liked" examples, fresh every epoch."""
    users = np.repeat(user, per_positive)
    items = rng.integers(0, rated.shape[1], size=len(users))
    bad = np.flatnonzero(rated[users, items])
    while len(bad):
        items[bad] = rng.integers(0, rated.shape[1], size=len(bad))
        bad = bad[rated[users[bad], items[bad]]]
    return users, items
