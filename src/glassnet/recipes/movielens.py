"""Recipe: recommending movies from MovieLens 100K's 100,000 ratings.

Two questions a recommender answers. How many stars would this person give this movie? (rating
prediction, scored by RMSE on the dataset's five official folds). Which ten movies should we show
this person? (ranking, scored as in the NCF paper: each user's latest rating is held out and must
rank above 100 movies the user never rated; hit rate and NDCG at 10).

Rating prediction: matrix factorisation (biases and 64-number vectors, the Netflix Prize's
"SVD"), an item AutoRec, and their blend, each with its settings (penalty, epochs, blend weight)
chosen on 5% of the training fold held out for validation, never on the test fold; beside them
the global mean, user and item biases only, and Surprise's SVD when scikit-surprise is installed.
Ranking: matrix factorisation and NeuralCF trained on implicit feedback (every rating a "liked",
four random unrated movies per rating as "not liked", fresh each epoch), against recommending the
most popular movies. The embedding tables have sparse gradients (``Embedding(sparse=True)`` with
``SparseAdam``): a step costs what the batch touched.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import manual_seed
from ..data import DataLoader, TensorDataset
from ..data.datasets.movielens import MovieLens100K, load_movielens
from ..data.datasets.rating_splits import (
    leave_one_out,
    official_folds,
    rated_matrix,
    validation_split,
)
from ..io import save_model
from ..models import AutoRec, MatrixFactorization, NeuralCF
from ..nn.layers import Embedding
from ..nn.modes import inference
from ..optim import Adam, SparseAdam
from ..plot import _pyplot, _save, plot_series
from ..tensor import Tensor
from ..train.ranking import hit_rate, ndcg
from .recommend import (
    AutoRecTrainer,
    EpochTimer,
    ImplicitFeedback,
    KeepBest,
    PairTrainer,
    fit_biases,
    predict_autorec,
    predict_pairs,
    rating_matrix,
    rmse,
    surprise_svd_rmse,
)

VALIDATION = 0.05
"""The share of each training fold held out to choose settings on."""


def _rows(data: MovieLens100K, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return data.user[rows], data.item[rows], data.rating[rows]


def train_mf(
    data: MovieLens100K,
    fit_rows: np.ndarray,
    val_rows: np.ndarray,
    l2: float,
    epochs: int,
    dim: int = 64,
    lr: float = 0.01,
    batch_size: int = 1024,
) -> tuple[MatrixFactorization, KeepBest]:
    """Matrix factorisation trained on `fit_rows` with SparseAdam, the rows' L2 penalty `l2`,
    keeping the weights of its best epoch on `val_rows`."""
    users, items, stars = _rows(data, fit_rows)
    model = MatrixFactorization(data.num_users, data.num_items, dim, float(stars.mean()))
    loader = DataLoader(TensorDataset(users, items, stars), batch_size=batch_size, shuffle=True)
    val_users, val_items, val_stars = _rows(data, val_rows)
    best = KeepBest(lambda m: rmse(predict_pairs(m, val_users, val_items), val_stars))
    trainer = PairTrainer(model, {"tables": SparseAdam(model.parameters(), lr=lr)}, l2=l2)
    trainer.callbacks.append(best)
    trainer.fit(loader, epochs)
    return model, best


def train_autorec(
    data: MovieLens100K,
    fit_rows: np.ndarray,
    val_rows: np.ndarray,
    l2: float,
    epochs: int,
    hidden: int = 500,
    lr: float = 1e-3,
    batch_size: int = 64,
) -> tuple[AutoRec, KeepBest, np.ndarray]:
    """An item AutoRec trained on the rating matrix of `fit_rows`, keeping its best epoch on
    `val_rows`; also returns that matrix (its input when predicting)."""
    matrix = rating_matrix(_rows(data, fit_rows), data.num_users, data.num_items)
    mean = float(data.rating[fit_rows].mean())
    model = AutoRec(data.num_users, hidden)
    val_users, val_items, val_stars = _rows(data, val_rows)
    best = KeepBest(
        lambda m: rmse(predict_autorec(m, matrix, val_users, val_items, mean), val_stars)
    )
    trainer = AutoRecTrainer(model, Adam(model.parameters(), lr=lr), l2)
    trainer.callbacks.append(best)
    loader = DataLoader(TensorDataset(matrix), batch_size=batch_size, shuffle=True)
    trainer.fit(loader, epochs)
    return model, best, matrix


def choose(
    train: Callable[..., tuple],
    data: MovieLens100K,
    fit_rows: np.ndarray,
    val_rows: np.ndarray,
    penalties: Sequence[float],
    epochs: int,
    say: Callable[..., None],
) -> tuple:
    """``train(data, fit_rows, val_rows, l2, epochs)`` once per penalty `l2`; the penalty and
    the run whose best validation RMSE is lowest."""
    runs = []
    for l2 in penalties:
        run = train(data, fit_rows, val_rows, l2, epochs)
        best = run[1]
        say(f"    l2={l2:g}: validation RMSE {best.best_rmse:.4f} at epoch {best.best_epoch}")
        runs.append((best.best_rmse, l2, run))
    _, l2, run = min(runs, key=lambda r: r[0])
    return l2, run


def blend_weight(a: np.ndarray, b: np.ndarray, truth: np.ndarray) -> float:
    """The weight w in 0, 0.05, ..., 1 whose blend ``w * a + (1 - w) * b`` has the lowest RMSE
    against `truth` (the validation ratings)."""
    weights = np.linspace(0.0, 1.0, 21)
    return float(min(weights, key=lambda w: rmse(w * a + (1 - w) * b, truth)))


def rating_folds(
    data: MovieLens100K,
    folds: Sequence[int],
    mf_penalties: Sequence[float],
    autorec_penalties: Sequence[float],
    epochs: int,
    autorec_epochs: int,
    say: Callable[..., None],
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """The RMSE of every model and baseline on each of `folds` (1-based), and what the first
    fold's training left (curves, the MF model and the epoch times) for pictures and top-10."""
    table: dict[str, list[float]] = {}
    first: dict[str, Any] = {}
    all_folds = official_folds(data.user, data.item)
    for number in folds:
        train_rows, test_rows = all_folds[number - 1]
        fit_rows, val_rows = validation_split(train_rows, VALIDATION, seed=number)
        test_users, test_items, test_stars = _rows(data, test_rows)
        say(f"fold u{number}: {len(fit_rows):,} ratings to fit, {len(val_rows):,} to validate, "
            f"{len(test_rows):,} to test")  # fmt: skip
        scores = table.setdefault
        train_part = _rows(data, train_rows)
        scores("global mean", []).append(
            rmse(np.full(len(test_rows), train_part[2].mean()), test_stars)
        )
        biases = fit_biases(train_part, data.num_users, data.num_items)
        scores("biases only", []).append(rmse(biases(test_users, test_items), test_stars))
        svd = surprise_svd_rmse(
            (*train_part, data.timestamp[train_rows]),
            (test_users, test_items, test_stars, data.timestamp[test_rows]),
        )
        if svd is not None:
            scores("Surprise SVD (defaults)", []).append(svd)
        manual_seed(number)
        say("  matrix factorisation (dim 64, SparseAdam):")
        mf_l2, (mf, mf_best) = choose(train_mf, data, fit_rows, val_rows, mf_penalties, epochs, say)
        mf_test = predict_pairs(mf, test_users, test_items)
        scores("matrix factorisation", []).append(rmse(mf_test, test_stars))
        say("  item AutoRec (500 hidden):")
        ar_l2, (autorec, ar_best, matrix) = choose(
            train_autorec, data, fit_rows, val_rows, autorec_penalties, autorec_epochs, say
        )
        mean = float(data.rating[fit_rows].mean())
        ar_test = predict_autorec(autorec, matrix, test_users, test_items, mean)
        scores("item AutoRec", []).append(rmse(ar_test, test_stars))
        val_users, val_items, val_stars = _rows(data, val_rows)
        weight = blend_weight(
            predict_pairs(mf, val_users, val_items),
            predict_autorec(autorec, matrix, val_users, val_items, mean),
            val_stars,
        )
        scores("blend: w MF + (1-w) AutoRec", []).append(
            rmse(weight * mf_test + (1 - weight) * ar_test, test_stars)
        )
        say(f"  chosen on validation: MF l2={mf_l2:g} ({mf_best.best_epoch} epochs), AutoRec "
            f"l2={ar_l2:g} ({ar_best.best_epoch} epochs), blend w={weight:.2f}; test RMSE "
            + ", ".join(f"{name} {values[-1]:.4f}" for name, values in table.items()))  # fmt: skip
        if not first:
            first = {"mf": mf, "mf_curve": mf_best, "autorec_curve": ar_best, "fold": number}
    return table, first


def time_epoch(data: MovieLens100K, rows: np.ndarray, repeats: int = 3) -> list[float]:
    """Seconds per epoch of matrix factorisation over `rows` (a whole training fold, 80,000
    ratings), batch 1024, SparseAdam: `repeats` epochs, each timed."""
    manual_seed(0)
    users, items, stars = _rows(data, rows)
    model = MatrixFactorization(data.num_users, data.num_items, 64, float(stars.mean()))
    loader = DataLoader(TensorDataset(users, items, stars), batch_size=1024, shuffle=True)
    timer = EpochTimer()
    trainer = PairTrainer(model, {"tables": SparseAdam(model.parameters(), lr=0.01)}, l2=0.05)
    trainer.callbacks.append(timer)
    trainer.fit(loader, repeats)
    return timer.seconds


def ranking(
    data: MovieLens100K,
    epochs: int,
    seed: int,
    say: Callable[..., None],
    progress: bool | None = False,
) -> dict[str, tuple[float, float]]:
    """HR@10 and NDCG@10 on the leave-one-out split (100 sampled negatives per user) of
    popularity, matrix factorisation and NeuralCF trained on implicit feedback."""
    split = leave_one_out(data.user, data.item, data.timestamp, data.num_items, seed=seed)
    users, items = data.user[split.train_rows], data.item[split.train_rows]
    candidates = split.candidates()
    rows = np.repeat(np.arange(data.num_users), candidates.shape[1])
    popularity = np.bincount(items, minlength=data.num_items).astype(np.float64)
    results = {"popularity": _ranked(popularity[candidates])}
    say(f"ranking: {len(users):,} training pairs; each user's latest rating held out against "
        f"{split.negatives.shape[1]} unrated movies")  # fmt: skip
    rated = rated_matrix(users, items, data.num_users, data.num_items)
    for name in ("matrix factorisation", "NeuralCF"):
        manual_seed(seed)
        if name == "NeuralCF":
            model: Any = NeuralCF(data.num_users, data.num_items)
            tables = [m.weight for m in model.modules() if isinstance(m, Embedding)]
            layers = [p for p in model.parameters() if all(p is not t for t in tables)]
            optimizers = {"tables": SparseAdam(tables, lr=1e-3), "layers": Adam(layers, lr=1e-3)}
        else:
            model = MatrixFactorization(data.num_users, data.num_items, 32, init_std=0.01)
            optimizers = {"tables": SparseAdam(model.parameters(), lr=1e-3)}
        stream = ImplicitFeedback(users, items, rated, 4, 256, np.random.default_rng(seed))
        trainer = PairTrainer(model, optimizers, implicit=True, progress=progress)
        started = time.perf_counter()
        trainer.fit(stream, epochs)
        with inference(model):
            scores = model(Tensor(rows), Tensor(candidates.reshape(-1))).data
        results[name] = _ranked(scores.reshape(candidates.shape))
        say(f"  {name}: {epochs} epochs in {time.perf_counter() - started:.1f} s")
    return results


def _ranked(scores: np.ndarray) -> tuple[float, float]:
    return hit_rate(scores, 10), ndcg(scores, 10)


def top10(
    model: MatrixFactorization,
    data: MovieLens100K,
    rows: np.ndarray,
    user_id: int,
    least_ratings: int = 20,
) -> str:
    """The ten movies `model` rates highest for user `user_id` (as the files number users)
    among those with at least `least_ratings` ratings in `rows` that the user did not rate
    there, with titles and genres, after the user's own five favourites."""
    user = data.user_index(user_id)
    mine = rows[data.user[rows] == user]
    liked = mine[np.lexsort((data.item[mine], -data.rating[mine]))][:5]
    known = np.flatnonzero(np.bincount(data.item[rows], minlength=data.num_items) >= least_ratings)
    unseen = np.setdiff1d(known, data.item[mine])
    predicted = predict_pairs(model, np.full(len(unseen), user), unseen)
    best = unseen[np.argsort(-predicted, kind="stable")[:10]]
    lines = [f"user {user_id} rated {len(mine)} movies; their favourites:"]
    lines += [f"    {data.rating[r]:.0f} stars  {data.describe(data.item[r])}" for r in liked]
    lines.append(
        f"top 10 recommendations among movies with {least_ratings}+ ratings (predicted stars):"
    )
    by_item = dict(zip(unseen.tolist(), predicted.tolist()))
    lines += [f"  {k:2d}. {by_item[i]:.2f}  {data.describe(i)}" for k, i in enumerate(best, 1)]
    return "\n".join(lines)


def plot_item_map(
    model: MatrixFactorization,
    data: MovieLens100K,
    rows: np.ndarray,
    path: str,
    labelled: int = 25,
    least_ratings: int = 20,
) -> str:
    """The vectors of the movies with at least `least_ratings` ratings in `rows`, projected on
    their two main directions (PCA), coloured by the movies' mean rating; the `labelled` most
    rated movies named."""
    plt = _pyplot()
    counts = np.bincount(data.item[rows], minlength=data.num_items)
    stars = np.bincount(data.item[rows], data.rating[rows], minlength=data.num_items)
    shown = np.flatnonzero(counts >= least_ratings)  # rarely rated: their vectors barely moved
    vectors = model.item_embedding.weight.data[shown].astype(np.float64)
    centred = vectors - vectors.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    points = centred @ directions[:2].T
    fig, ax = plt.subplots(figsize=(10, 8))
    dots = ax.scatter(*points.T, c=stars[shown] / counts[shown], cmap="viridis", s=10, alpha=0.8)
    fig.colorbar(dots, ax=ax, label="mean rating")
    for k in np.argsort(-counts[shown])[:labelled]:
        ax.annotate(data.titles[shown[k]], points[k], fontsize=7)
    ax.set_title(
        f"movie vectors of matrix factorisation (movies with {least_ratings}+ ratings), main two "
        "directions (PCA)"
    )
    return _save(fig, path)


def _format_table(table: dict[str, list[float]], folds: Sequence[int]) -> str:
    head = "model".ljust(30) + "".join(f"{'u' + str(k):>8}" for k in folds) + "    mean"
    rows = [head]
    for name, values in table.items():
        cells = "".join(f"{v:8.4f}" for v in values)
        rows.append(f"{name:30}{cells}{np.mean(values):8.4f}")
    return "\n".join(rows)


def run(
    out_dir: str = "runs/movielens",
    folds: int = 5,
    epochs: int = 25,
    autorec_epochs: int = 40,
    ranking_epochs: int = 20,
    user: int = 1,
    seed: int = 0,
    root: str | None = None,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Rating prediction on the first `folds` official folds, ranking on leave-one-out, the
    epoch time, top-10 recommendations for `user`; pictures and the first fold's matrix
    factorisation saved to `out_dir`. `progress` shows the ranking models' progress bars."""
    say = print if verbose else (lambda *a, **k: None)
    data = load_movielens(root)
    data.user_index(user)  # a user id not in the data fails now, not after training
    say(f"{data}")
    fold_numbers = list(range(1, folds + 1))
    started = time.perf_counter()
    table, first = rating_folds(
        data, fold_numbers, (0.05, 0.1), (0.002, 0.003), epochs, autorec_epochs, say
    )
    say(f"\nrating prediction, test RMSE on the official folds ({time.perf_counter() - started:.0f}"
        " s; settings chosen on validation):")  # fmt: skip
    say(_format_table(table, fold_numbers))
    train_rows = official_folds(data.user, data.item)[first["fold"] - 1][0]
    seconds = time_epoch(data, train_rows)
    say(f"\none epoch of matrix factorisation over {len(train_rows):,} ratings (batch 1024, "
        f"SparseAdam): median {np.median(seconds):.2f} s of {len(seconds)}")  # fmt: skip
    ranks = ranking(data, ranking_epochs, seed, say, progress)
    say("\nranking (leave-one-out, 100 sampled negatives per user):      HR@10   NDCG@10")
    for name, (hr, nd) in ranks.items():
        say(f"  {name:58}{hr:7.4f}  {nd:7.4f}")
    say("\n" + top10(first["mf"], data, train_rows, user))

    os.makedirs(out_dir, exist_ok=True)
    mf_curve, ar_curve = first["mf_curve"], first["autorec_curve"]
    longest = max(len(mf_curve.rmse), len(ar_curve.rmse))
    files = [
        plot_series(
            list(range(1, longest + 1)),
            {
                "matrix factorisation": mf_curve.rmse + [math.nan] * (longest - len(mf_curve.rmse)),
                "item AutoRec": ar_curve.rmse + [math.nan] * (longest - len(ar_curve.rmse)),
            },
            os.path.join(out_dir, "rmse_per_epoch.png"),
            xlabel="epoch",
            ylabel="validation RMSE",
            title=f"fold u{first['fold']}: validation RMSE per epoch (chosen settings)",
        ),
        plot_item_map(first["mf"], data, train_rows, os.path.join(out_dir, "item_embeddings.png")),
    ]
    files += save_model(
        first["mf"],
        os.path.join(out_dir, "model.safetensors"),
        extras={
            "recipe": "movielens",
            "fold": first["fold"],
            "test_rmse": table["matrix factorisation"][0],
        },  # fmt: skip
    )
    say(f"wrote {', '.join(files)}")
    return {
        "rmse": {name: values for name, values in table.items()},
        "mean_rmse": {name: float(np.mean(values)) for name, values in table.items()},
        "ranking": ranks,
        "epoch_seconds": seconds,
        "files": files,
    }
