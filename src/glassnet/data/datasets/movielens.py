"""MovieLens 100K: 100,000 ratings (1 to 5 stars) that 943 people gave 1,682 movies.

A recommender learns from such a table what each person might like next. GroupLens publishes the
data for research (its licence forbids passing it on), so glassnet never ships it: the archive is
downloaded from GroupLens once, every file taken out of it is checked against the SHA-256 listed
here, and the checked files are cached (see `glassnet.data.archive`). To work offline, put the
seven files in the cache folder's ``ml-100k`` subfolder yourself.

Users and movies are numbered from 1 in the files; the arrays here hold 0-based indices
(``user = user id - 1``), ready to look rows of an embedding table up. The dataset's five official
folds (``u1.base/u1.test`` ... ``u5``) are made from ``u.data`` by its script ``mku.sh``;
`official_folds` makes them the same way, line for line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..archive import fetch_archive

URLS = ["https://files.grouplens.org/datasets/movielens/ml-100k.zip"]
"""Where the archive is fetched from (GroupLens)."""
INSIDE = "ml-100k/"
"""The folder inside the archive that holds the files."""
FOLDER = "ml-100k"
"""The dataset's folder in glassnet's cache."""

SHA256: dict[str, str] = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "6dd287831559152bea892eb27694a492ff14926ac5f7a16e5f8c4968e6fe13c3",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
    "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
    "README": "b2f69dd0cab50c2b976da7c6113f267169cf0b35ade48de35fe75ed1b81c0f28",
}
"""The SHA-256 of each file glassnet reads from the archive."""

FOLD_SIZE = 20_000
"""Ratings in each official test fold (u1.test ... u5.test)."""
FOLDS = 5


@dataclass(frozen=True)
class MovieLens100K:
    """The ratings as parallel arrays, and what the movies are.

    Attributes:
        user, item: int64 (n,), 0-based indices (the files' ids minus 1), in u.data's order.
        rating: float32 (n,), 1 to 5 stars.
        timestamp: int64 (n,), seconds since 1970-01-01 UTC.
        titles: one per movie, ``titles[item]`` (read as latin-1, as the file is written).
        genres: the 19 genre names, in u.genre's order.
        item_genres: bool (num_items, 19), which genres each movie has.
        folder: where the files were read from.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray
    titles: list[str]
    genres: list[str]
    item_genres: np.ndarray
    folder: Path = field(default=Path("."))

    @property
    def num_users(self) -> int:
        return int(self.user.max()) + 1 if len(self.user) else 0

    @property
    def num_items(self) -> int:
        return len(self.titles)

    def __len__(self) -> int:
        return len(self.rating)

    def user_index(self, user_id: int) -> int:
        """The row of user `user_id` (as the files number users: 1 to 943); a clear ValueError
        for an id not in the data."""
        return _index_of("user", user_id, self.num_users)

    def item_index(self, movie_id: int) -> int:
        """The row of movie `movie_id` (1 to 1,682); a clear ValueError for an id not in the
        data."""
        return _index_of("movie", movie_id, self.num_items)

    def describe(self, item: int) -> str:
        """``"Toy Story (1995) [Animation, Children's, Comedy]"`` for a 0-based item index."""
        names = [g for g, has in zip(self.genres, self.item_genres[item]) if has]
        return f"{self.titles[item]} [{', '.join(names)}]"

    def __repr__(self) -> str:
        return (
            f"MovieLens100K(ratings={len(self):,}, users={self.num_users}, "
            f"movies={self.num_items}, folder={self.folder})"
        )


def _index_of(kind: str, number: int, count: int) -> int:
    if isinstance(number, bool) or not isinstance(number, int | np.integer):
        raise TypeError(f"MovieLens100K: a {kind} id must be an integer, got {number!r}")
    if not 1 <= number <= count:
        raise ValueError(
            f"MovieLens100K: {kind} id {number} is not in the data (its {kind} ids run from 1 "
            f"to {count})"
        )
    return int(number) - 1


def movielens_folder(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The cache folder holding the seven checked files, fetching the archive if needed (see
    `glassnet.data.archive.fetch_archive`: DownloadError, ValueError for a damaged file,
    FileNotFoundError with ``download=False`` and files missing)."""
    return fetch_archive(FOLDER, URLS, SHA256, inside=INSIDE, root=root, fetch=download)


def load_movielens(root: str | os.PathLike | None = None, download: bool = True) -> MovieLens100K:
    """MovieLens 100K from the cache (downloading it from GroupLens once; see
    `movielens_folder`)."""
    return read_movielens(movielens_folder(root, download))


def read_movielens(folder: str | os.PathLike) -> MovieLens100K:
    """Parse the files in `folder` (u.data, u.item, u.genre), checking their structure."""
    folder = Path(folder)
    table = _read_ratings(folder / "u.data")
    genres = _read_genres(folder / "u.genre")
    titles, item_genres = _read_items(folder / "u.item", len(genres))
    users, items = table[:, 0] - 1, table[:, 1] - 1
    if len(table) and (users.min() < 0 or items.min() < 0 or items.max() >= len(titles)):
        raise ValueError(
            f"{folder / 'u.data'}: movie ids must run from 1 to {len(titles)} (u.item's), got "
            f"{items.min() + 1} to {items.max() + 1} (users from {users.min() + 1})"
        )
    return MovieLens100K(
        user=users,
        item=items,
        rating=table[:, 2].astype(np.float32),
        timestamp=table[:, 3],
        titles=titles,
        genres=genres,
        item_genres=item_genres,
        folder=folder,
    )


def _read_ratings(path: Path) -> np.ndarray:
    """u.data as an int64 array (n, 4): user id, movie id, rating, timestamp."""
    text = path.read_text(encoding="ascii")
    lines = text.splitlines()
    table = np.array([line.split("\t") for line in lines], dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 4:
        raise ValueError(f"{path}: expected 4 tab-separated numbers per line")
    if len(table) and not ((table[:, 2] >= 1) & (table[:, 2] <= 5)).all():
        raise ValueError(f"{path}: ratings must be 1 to 5 stars")
    return table


def _read_genres(path: Path) -> list[str]:
    """u.genre: ``name|number`` lines, numbered 0, 1, ... in order."""
    names = []
    for line in path.read_text(encoding="latin-1").splitlines():
        if not line.strip():
            continue
        name, number = line.rsplit("|", 1)
        if int(number) != len(names):
            raise ValueError(f"{path}: genre {name!r} is numbered {number}, expected {len(names)}")
        names.append(name)
    return names


def _read_items(path: Path, num_genres: int) -> tuple[list[str], np.ndarray]:
    """u.item: id|title|release date|video release date|IMDb URL|one 0/1 flag per genre."""
    titles, flags = [], []
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        fields = line.split("|")
        if len(fields) != 5 + num_genres or int(fields[0]) != number:
            raise ValueError(
                f"{path}, line {number}: expected movie id {number} and {5 + num_genres} "
                f"|-separated fields, got {fields[0]!r} and {len(fields)}"
            )
        titles.append(fields[1])
        flags.append([field == "1" for field in fields[5:]])
    return titles, np.array(flags, dtype=bool).reshape(len(titles), num_genres)
