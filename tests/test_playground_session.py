"""The playground's training session: glassnet learning the 2-D datasets, what the page draws,
divergence caught, and the exported script predicting what the session predicts."""

import subprocess
import sys

import numpy as np
import pytest

from glassnet.playground import session as session_module
from glassnet.playground.session import TrainingSession, grid_points, make_features
from glassnet.playground.settings import Settings


def trained(epochs: int, **settings) -> TrainingSession:
    session = TrainingSession(Settings(**settings))
    for _ in range(epochs):
        assert session.train_epoch(), session.diverged
    return session


@pytest.mark.parametrize(
    "settings",
    [
        dict(dataset="circle", hidden=(4, 2), learning_rate=0.03),
        dict(dataset="xor", hidden=(4,), learning_rate=0.1),
        dict(dataset="plane", hidden=(), learning_rate=0.01),
    ],
)
def test_training_reduces_the_loss(settings):
    session = TrainingSession(Settings(**settings))
    before = session.train_loss
    for _ in range(30):
        assert session.train_epoch()
    assert session.epoch == 30 and len(session.history) == 31
    assert session.train_loss < 0.5 * before
    assert session.test_loss < 0.6 * before
    assert session.history[-1] == (30, session.train_loss, session.test_loss)


def test_data_follows_the_settings():
    session = TrainingSession(Settings(dataset="xor", train_percent=30, noise=20))
    assert len(session.train_points) == 150 and len(session.test_points) == 350
    regression = TrainingSession(Settings(dataset="multi_gaussian"))
    assert len(regression.train_points) + len(regression.test_points) == 1200
    assert np.abs(regression.train_points).max() <= 6


def test_heatmaps_have_the_right_shapes_and_ranges():
    session = trained(3, dataset="circle", hidden=(4, 2), activation="tanh")
    snap = session.snapshot()
    assert snap["output"].shape == (100, 100) and snap["output"].dtype == np.float32
    assert -1 <= snap["output"].min() <= snap["output"].max() <= 1
    assert [m.shape for m in snap["neurons"]] == [
        (2, 25, 25),
        (4, 25, 25),
        (2, 25, 25),
        (1, 25, 25),
    ]
    for layer in snap["neurons"]:
        assert layer.dtype == np.float32 and np.abs(layer).max() <= 1  # tanh, inputs scaled
    # the input x1 grows to the right, x2 upwards: row 0 is the top of the plane
    x1, x2 = snap["neurons"][0]
    assert x1[0, 0] < 0 < x1[0, -1] and x2[0, 0] > 0 > x2[-1, 0]
    assert [w.shape for w in snap["weights"]] == [(4, 2), (2, 4), (1, 2)]
    assert [b.shape for b in snap["biases"]] == [(4,), (2,), (1,)]
    # the output map is the network's prediction on the grid
    probability = session.predict(grid_points(100)).reshape(100, 100)
    np.testing.assert_allclose(snap["output"], 2 * probability - 1, atol=1e-6)


def test_the_output_map_is_oriented_like_the_plane():
    # gauss: class 1 around (2, 2), top right; class 0 around (-2, -2), bottom left
    output = trained(10, dataset="gauss", hidden=()).output_map()
    assert output[10, 90] > 0.5 and output[90, 10] < -0.5


def test_relu_neurons_are_sent_unclipped_and_regression_outputs_are_values():
    session = trained(2, dataset="plane", hidden=(3,), activation="relu")
    hidden = session.neuron_maps()[1]
    assert hidden.min() >= 0
    output = session.output_map()
    assert output.shape == (100, 100)
    np.testing.assert_allclose(output.ravel(), session.predict(grid_points(100)), atol=1e-6)


def test_multiclass_softmax_and_cross_entropy():
    session = TrainingSession(
        Settings(dataset="blobs", classes=4, hidden=(6,), optimizer="adam", learning_rate=0.03)
    )
    assert sorted(np.unique(session.train_labels)) == [0, 1, 2, 3]
    before = session.train_loss
    assert before == pytest.approx(np.log(4), rel=0.3)  # cross-entropy of a guess
    for _ in range(10):
        assert session.train_epoch()
    assert session.train_loss < 0.5 * before
    output = session.output_map()
    assert output.shape == (4, 100, 100)
    np.testing.assert_allclose(output.sum(axis=0), 1, atol=1e-5)
    assert session.neuron_maps()[-1].shape == (4, 25, 25)
    np.testing.assert_allclose(
        output.reshape(4, -1).T, session.predict(grid_points(100)), atol=1e-6
    )
    spiral = TrainingSession(Settings(dataset="spiral", classes=5, hidden=(4,)))
    assert sorted(np.unique(spiral.train_labels)) == [0, 1, 2, 3, 4]
    assert spiral.predict(np.zeros((7, 2))).shape == (7, 5)


def test_divergence_pauses_on_the_last_good_weights_with_a_message():
    session = TrainingSession(Settings(dataset="plane", activation="sigmoid", learning_rate=10.0))
    weights = [w.copy() for w in session.snapshot()["weights"]]
    assert session.train_epoch() is False
    assert "NaN or infinite" in session.diverged and "learning rate (10)" in session.diverged
    assert session.epoch == 0 and len(session.history) == 1
    snap = session.snapshot()
    for before, after in zip(weights, snap["weights"]):
        np.testing.assert_array_equal(before, after)
    assert np.isfinite(snap["output"]).all() and np.isfinite(snap["train_loss"])
    assert all(np.isfinite(m).all() for m in snap["neurons"])
    # a smaller learning rate trains on from there, and clears the message
    session.apply(session.settings.replace(learning_rate=0.01))
    assert session.train_epoch() and session.diverged is None and session.epoch == 1


def test_an_exploding_loss_counts_as_divergence(monkeypatch):
    session = TrainingSession(Settings())
    monkeypatch.setattr(session_module, "EXPLOSION_FACTOR", 1e-3)  # any loss is "exploded"
    assert session.train_epoch() is False
    assert "exploded from" in session.diverged


def test_the_same_link_starts_the_same_network():
    a = trained(3, dataset="xor", seed=7, hidden=(5, 3))
    b = trained(3, dataset="xor", seed=7, hidden=(5, 3))
    c = trained(3, dataset="xor", seed=8, hidden=(5, 3))
    for wa, wb, wc in zip(
        a.snapshot()["weights"], b.snapshot()["weights"], c.snapshot()["weights"]
    ):
        np.testing.assert_array_equal(wa, wb)
        assert not np.array_equal(wa, wc)
    assert a.train_loss == b.train_loss


def test_settings_changes_rebuild_only_what_they_must():
    session = trained(2, dataset="circle")
    weights = session.snapshot()["weights"][0].copy()
    assert session.apply(session.settings.replace(learning_rate=0.3)) == "training"
    assert session.optimizer.param_groups[0]["lr"] == 0.3 and session.epoch == 2
    assert session.apply(session.settings.replace(optimizer="adam")) == "training"
    np.testing.assert_array_equal(session.snapshot()["weights"][0], weights)
    assert session.apply(session.settings.replace(discretize=True)) == "view"
    assert session.apply(session.settings.replace(hidden=(3,))) == "network"
    assert session.epoch == 0 and session.snapshot()["weights"][0].shape == (3, 2)
    labels = session.train_labels.copy()
    assert session.apply(session.settings.replace(noise=30)) == "data"
    assert not np.array_equal(labels, session.train_labels)  # noise flips some labels
    seed = session.settings.seed
    session.regenerate()
    assert session.settings.seed == seed + 1


def test_regularization_shrinks_the_weights():
    def weight_size(**settings):
        session = trained(10, dataset="circle", hidden=(6,), learning_rate=0.1, **settings)
        return sum(np.abs(w).sum() for w in session.snapshot()["weights"])

    plain = weight_size()
    assert weight_size(regularization="L2", regularization_rate=0.3) < 0.8 * plain
    assert weight_size(regularization="L1", regularization_rate=0.03) < 0.8 * plain


def test_features_are_computed_as_named():
    points = np.array([[1.0, 2.0], [-0.5, 3.0]], dtype=np.float32)
    names = ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
    x1, x2 = points.T
    expected = np.stack([x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)], axis=1)
    np.testing.assert_allclose(make_features(points, names), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "settings",
    [
        dict(
            dataset="circle",
            features=("x", "y", "xSquared", "sinY", "xTimesY"),
            hidden=(5, 3),
            activation="gelu",
            dropout=0.2,
        ),
        dict(dataset="spiral", classes=4, hidden=(6,), activation="elu", optimizer="adam"),
        dict(dataset="multi_gaussian", hidden=(4,), activation="silu", features=("ySquared",)),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_the_exported_script_predicts_what_the_session_predicts(tmp_path, settings):
    session = trained(3, **settings)
    script, weights = session.export(tmp_path / "export")
    assert script.name == "playground_model.py" and weights.name == "playground_model.safetensors"
    points = np.random.default_rng(0).uniform(-6, 6, (40, 2)).astype(np.float32)
    np.savetxt(tmp_path / "points.csv", points, fmt="%.9g", delimiter=",")
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "points.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    exported = np.loadtxt(result.stdout.splitlines(), delimiter=",", ndmin=2)
    expected = session.predict(points).reshape(len(points), -1)
    assert exported.shape == expected.shape
    np.testing.assert_allclose(exported, expected, rtol=1e-6, atol=1e-7)


def test_the_export_zip_holds_script_and_weights():
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(TrainingSession().export_zip()))
    assert sorted(archive.namelist()) == [
        "playground_model/playground_model.py",
        "playground_model/playground_model.safetensors",
    ]
