"""The playground's training session: glassnet learning the 2-D datasets, what the page draws,
divergence caught, the exported script predicting what the session predicts, the backprop view's
numbers (against the chain rule by hand and torch), weights edited by hand, updates partway
through an epoch, and uploaded data."""

import re
import subprocess
import sys

import numpy as np
import pytest

from glassnet.playground import session as session_module
from glassnet.playground.session import (
    STEPS_PER_UPDATE,
    SessionError,
    TrainingSession,
    grid_points,
    make_features,
)
from glassnet.playground.settings import Settings, SettingsError
from glassnet.playground.upload import parse_csv


def trained(epochs: int, **settings) -> TrainingSession:
    session = TrainingSession(Settings(**settings))
    for _ in range(epochs):
        assert session.train_epoch(), session.diverged
    return session


@pytest.mark.parametrize(
    "settings, epochs",
    [
        # the circle at TensorFlow Playground's default rate: 30 epochs leave 0.45-0.9 of the
        # first loss depending on the seed, 60 epochs 0.1-0.6 (seeds 0-5)
        (dict(dataset="circle", hidden=(4, 2), learning_rate=0.03), 60),
        (dict(dataset="xor", hidden=(4,), learning_rate=0.1), 30),
        (dict(dataset="plane", hidden=(), learning_rate=0.01), 30),
    ],
)
def test_training_reduces_the_loss(settings, epochs):
    session = TrainingSession(Settings(**settings))
    before = session.train_loss
    for _ in range(epochs):
        assert session.train_epoch()
    assert session.epoch == epochs and len(session.history) == epochs + 1
    assert session.train_loss < 0.5 * before
    assert session.test_loss < 0.6 * before
    assert session.history[-1] == (epochs, session.train_loss, session.test_loss)


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


def test_a_session_draws_only_from_its_own_generator():
    """Initial weights, the order of the points and dropout's masks come from the session's own
    generator, seeded by the link: the same link replays the same run (dropout included) while
    other sessions train in between, and the global generator is never touched."""
    import glassnet

    def run(interleaved: bool) -> TrainingSession:
        glassnet.manual_seed(7)
        session = TrainingSession(Settings(dataset="spiral", hidden=(6, 6), dropout=0.3, seed=4))
        other = TrainingSession(Settings(dataset="spiral", hidden=(6, 6), dropout=0.3, seed=5))
        for _ in range(3):
            assert session.train_update(), session.diverged
            if interleaved:
                other.train_update()
        drawn = glassnet.rand(4).numpy()
        glassnet.manual_seed(7)
        np.testing.assert_array_equal(drawn, glassnet.rand(4).numpy())  # the global stream
        return session

    alone, interleaved = run(False), run(True)
    assert alone.history == interleaved.history
    for a, b in zip(alone.snapshot()["weights"], interleaved.snapshot()["weights"]):
        np.testing.assert_array_equal(a, b)


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
    check_exported_script(script, session, tmp_path)


def check_exported_script(script, session: TrainingSession, workdir) -> None:
    """Run an exported script (in a subprocess, with this Python) on 40 random points written to
    `workdir`, and check that it prints what `session` predicts for them. The browser test's
    export, downloaded through the page, is checked with this too."""
    points = np.random.default_rng(0).uniform(-6, 6, (40, 2)).astype(np.float32)
    np.savetxt(workdir / "points.csv", points, fmt="%.9g", delimiter=",")
    result = subprocess.run(
        [sys.executable, str(script), str(workdir / "points.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    exported = np.loadtxt(result.stdout.splitlines(), delimiter=",", ndmin=2)
    expected = session.predict(points).reshape(len(points), -1)
    assert exported.shape == expected.shape
    np.testing.assert_allclose(exported, expected, rtol=1e-6, atol=1e-7)


def test_the_export_zip_holds_script_weights_and_onnx_file():
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(TrainingSession().export_zip()))
    assert sorted(archive.namelist()) == [
        "playground_model/playground_model.onnx",
        "playground_model/playground_model.py",
        "playground_model/playground_model.safetensors",
    ]


# -- the backprop view, weight editing, updates within an epoch ---------------------------------


def small_session(**settings) -> TrainingSession:
    """A 2-2-1 network with weights set by hand (the same numbers as the test's own)."""
    session = TrainingSession(Settings(hidden=(2,), **settings))
    w1, b1 = np.array([[0.5, -1.0], [1.5, 0.25]]), np.array([0.1, -0.2])
    w2, b2 = np.array([[2.0, -1.0]]), np.array([0.3])
    for layer, (w, b) in enumerate([(w1, b1), (w2, b2)]):
        for i, j in np.ndindex(w.shape):
            session.set_parameter(layer, i, j, float(w[i, j]))
        for i in range(len(b)):
            session.set_parameter(layer, i, None, str(b[i]))  # text is welcome too
    return session


def chain_rule(x, w1, b1, w2, b2, activation, d_activation, output_delta):
    """The backward pass of a one-hidden-layer network, written out: what the page teaches."""
    z1 = w1 @ x + b1
    a1 = activation(z1)
    z2 = w2 @ a1 + b2
    delta2 = output_delta(z2)  # dL/dz2
    delta1 = (w2.T @ delta2) * d_activation(z1)  # the error signal, one layer back
    return {
        "pre": [z1, z2],
        "pre_grads": [delta1, delta2],
        "post_grads": [w2.T @ delta2],
        "weight_grads": [np.outer(delta1, x), np.outer(delta2, a1)],
        "bias_grads": [delta1, delta2],
    }


W1 = np.array([[0.5, -1.0], [1.5, 0.25]])
B1 = np.array([0.1, -0.2])
W2 = np.array([[2.0, -1.0]])
B2 = np.array([0.3])


def test_backprop_gradients_are_the_chain_rule_by_hand_for_two_classes():
    session = small_session(dataset="xor", activation="tanh")
    index = 7
    x = session.train_points[index].astype(np.float64)
    y = float(session.train_labels[index])

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    expected = chain_rule(
        x, W1, B1, W2, B2, np.tanh, lambda z: 1 - np.tanh(z) ** 2, lambda z: sigmoid(z) - y
    )
    result = session.backprop(index)
    assert result["index"] == index and result["target"] == y
    np.testing.assert_allclose(result["point"], x)
    np.testing.assert_allclose(result["inputs"], x, rtol=1e-6)
    for key in ("pre", "pre_grads", "post_grads", "weight_grads", "bias_grads"):
        assert len(result[key]) == len(expected[key]), key
        for got, want in zip(result[key], expected[key]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=key)
    z2 = expected["pre"][1][0]
    np.testing.assert_allclose(result["post"][0], np.tanh(expected["pre"][0]), rtol=1e-5)
    np.testing.assert_allclose(result["post"][1], [sigmoid(z2)], rtol=1e-5)  # the probability
    p = sigmoid(z2)
    assert result["loss"] == pytest.approx(-(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-5)
    assert result["loss_name"] == "binary cross-entropy"


def test_backprop_gradients_are_the_chain_rule_by_hand_for_regression():
    session = small_session(dataset="plane", activation="relu")
    index = 3
    x = session.train_points[index].astype(np.float64)
    t = float(session.train_labels[index])
    expected = chain_rule(
        x,
        W1,
        B1,
        W2,
        B2,
        lambda z: np.maximum(z, 0),
        lambda z: (z > 0).astype(float),
        lambda z: 2 * (z - t),  # d/dz of the squared error (z - t)^2
    )
    result = session.backprop(index)
    for key in ("pre", "pre_grads", "weight_grads", "bias_grads"):
        for got, want in zip(result[key], expected[key]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=key)
    assert result["loss"] == pytest.approx((expected["pre"][1][0] - t) ** 2, rel=1e-5)
    assert result["target"] == pytest.approx(t) and result["loss_name"] == "squared error"


def test_backprop_gradients_match_torch_for_a_deeper_multiclass_network():
    torch = pytest.importorskip("torch")
    session = trained(
        2,
        dataset="spiral",
        classes=3,
        hidden=(5, 4),
        activation="elu",
        features=("x", "y", "xSquared", "sinY"),
    )
    index = 11
    result = session.backprop(index)
    layers = []
    for layer in session.linears:
        linear = torch.nn.Linear(layer.in_features, layer.out_features).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.weight.data, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(layer.bias.data, dtype=torch.float64))
        layers.append(linear)
    x = torch.tensor(result["inputs"][None], dtype=torch.float64)
    pre = []
    for k, linear in enumerate(layers):
        z = linear(x)
        z.retain_grad()
        pre.append(z)
        x = torch.nn.functional.elu(z) if k < len(layers) - 1 else z
    target = torch.tensor([int(session.train_labels[index])])
    loss = torch.nn.functional.cross_entropy(x, target)
    loss.backward()
    assert result["loss"] == pytest.approx(loss.item(), rel=1e-5)
    for k, linear in enumerate(layers):
        np.testing.assert_allclose(
            result["weight_grads"][k], linear.weight.grad.numpy(), rtol=1e-4, atol=1e-6
        )
        np.testing.assert_allclose(
            result["bias_grads"][k], linear.bias.grad.numpy(), rtol=1e-4, atol=1e-6
        )
        np.testing.assert_allclose(
            result["pre_grads"][k], pre[k].grad.numpy()[0], rtol=1e-4, atol=1e-6
        )
    np.testing.assert_allclose(result["post"][-1], torch.softmax(x, 1).detach()[0], rtol=1e-5)
    assert result["post"][-1].sum() == pytest.approx(1.0, rel=1e-5)


def test_backprop_leaves_the_trained_network_alone():
    session = trained(1, dataset="circle", dropout=0.3)
    before = {name: p.data.copy() for name, p in session.model.named_parameters()}
    grads = {name: p.grad for name, p in session.model.named_parameters()}
    first = session.backprop(0)
    second = session.backprop(0)  # eval mode: no dropout, the same numbers every time
    for a, b in zip(first["weight_grads"], second["weight_grads"]):
        np.testing.assert_array_equal(a, b)
    for name, p in session.model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])
        assert p.grad is grads[name]
    with pytest.raises(SessionError, match=r"example \(a training point\) must be an integer"):
        session.backprop(len(session.train_points))
    with pytest.raises(SessionError, match="example"):
        session.backprop(True)


def test_nearest_example():
    session = TrainingSession()
    for index in (0, 17, 101):
        x1, x2 = session.train_points[index]
        assert session.nearest_example(float(x1) + 1e-4, float(x2)) == index


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_applying_an_example_is_a_step_of_the_chosen_optimizer(optimizer):
    """Two "Apply this update" in a row take the same steps as torch's optimizer (its state
    kept between them: momentum's velocity, Adam's averages) given the gradients the backprop
    view shows; with plain SGD that is -learning rate x the gradient, and the loss goes down."""
    import torch

    session = TrainingSession(Settings(dataset="circle", learning_rate=0.1, optimizer=optimizer))
    index = 5

    def parameters() -> list[np.ndarray]:
        return [p.data.copy() for layer in session.linears for p in (layer.weight, layer.bias)]

    def gradients(result: dict) -> list[np.ndarray]:
        return [g for pair in zip(result["weight_grads"], result["bias_grads"]) for g in pair]

    reference = [torch.tensor(p, requires_grad=True) for p in parameters()]
    if optimizer == "adam":
        torch_optimizer = torch.optim.Adam(reference, lr=0.1)
    else:
        torch_optimizer = torch.optim.SGD(
            reference, lr=0.1, momentum=0.9 if optimizer == "momentum" else 0
        )
    result = session.backprop(index)
    first_loss = result["loss"]
    for _ in range(2):
        for tensor, gradient in zip(reference, gradients(result)):
            tensor.grad = torch.tensor(gradient, dtype=torch.float32)
        torch_optimizer.step()
        result = session.apply_example(index)
        for got, want in zip(parameters(), reference):
            np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-5, atol=1e-6)
    if optimizer == "sgd":
        assert result["loss"] < first_loss
    assert session.epoch == 0 and session.train_loss == session._losses()[0]


def test_editing_a_weight_or_bias_changes_what_the_network_computes():
    session = TrainingSession(Settings(dataset="circle", hidden=(3,)))
    output = session.output_map().copy()
    assert session.set_parameter(1, 0, 2, "2.5") == 2.5
    assert session.linears[1].weight.data[0, 2] == np.float32(2.5)
    assert session.set_parameter(0, 1, None, -0.75) == -0.75
    assert session.linears[0].bias.data[1] == np.float32(-0.75)
    assert not np.array_equal(session.output_map(), output)
    assert session.train_loss == session._losses()[0]  # the losses follow the edit
    assert session.snapshot()["weights"][1][0, 2] == np.float32(2.5)


@pytest.mark.parametrize(
    "args, named",
    [
        ((0, 0, 0, "abc"), "weight: should be a finite number from -100 to 100; got 'abc'"),
        ((0, 0, 0, "nan"), "finite number"),
        ((0, 0, 0, float("inf")), "finite number"),
        ((0, 0, 0, "1e9"), "from -100 to 100"),
        ((0, 0, 0, True), "finite number"),
        ((0, 0, 0, None), "finite number"),
        ((0, 0, None, [1]), "bias: should be a finite number"),
        ((2, 0, 0, 1.0), "weight: layer must be an integer from 0 to 1, got 2"),
        ((0, 4, 0, 1.0), "weight: neuron must be an integer from 0 to 2, got 4"),
        ((0, 0, 2, 1.0), "weight: input must be an integer from 0 to 1, got 2"),
        ((-1, 0, None, 1.0), "bias: layer"),
        (("0", 0, 0, 1.0), "weight: layer"),
    ],
)
def test_bad_edits_are_refused_with_a_clear_message(args, named):
    session = TrainingSession(Settings(hidden=(3,)))
    weights = [w.copy() for w in session.snapshot()["weights"]]
    with pytest.raises(SessionError, match=re.escape(named)):
        session.set_parameter(*args)
    for before, after in zip(weights, session.snapshot()["weights"]):
        np.testing.assert_array_equal(before, after)


def test_small_batches_train_in_several_updates_per_epoch():
    session = TrainingSession(Settings(dataset="circle", batch_size=1))
    steps = session.steps_per_epoch
    assert steps == 250 and STEPS_PER_UPDATE < steps
    updates = 0
    progress = []
    while session.epoch == 0:
        assert session.train_update()
        updates += 1
        progress.append(session.progress)
    assert updates == -(-steps // STEPS_PER_UPDATE)
    assert progress[:-1] == [k * STEPS_PER_UPDATE / steps for k in range(1, updates)]
    assert progress[-1] == 0 and len(session.history) == 2  # one entry per completed epoch
    # step (train_epoch) finishes the epoch under way
    session.train_update()
    assert session.epoch == 1 and session.progress > 0
    assert session.train_epoch() and session.epoch == 2 and session.progress == 0
    # larger batches: a whole epoch per update, as before
    whole = TrainingSession(Settings(dataset="circle", batch_size=10))
    assert whole.train_update() and whole.epoch == 1 and whole.progress == 0


def test_divergence_partway_through_an_epoch_goes_back_to_its_start():
    session = TrainingSession(Settings(dataset="plane", activation="sigmoid", batch_size=1))
    weights = [w.copy() for w in session.snapshot()["weights"]]
    session.apply(session.settings.replace(learning_rate=10.0))
    results = [session.train_update() for _ in range(3)]
    assert False in results and session.diverged is not None
    assert session.epoch == 0 and session.progress == 0
    for before, after in zip(weights, session.snapshot()["weights"]):
        np.testing.assert_array_equal(before, after)
    assert np.isfinite(session.train_loss)


# -- one's own data -----------------------------------------------------------------------------


def blob_csv(n=60, classes=3, header=True, seed=0) -> str:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    centres = np.array([[-3.0, -3.0], [3.0, 3.0], [-3.0, 3.0], [3.0, -3.0], [0.0, 0.0]])
    points = centres[labels] + rng.normal(0, 0.5, (n, 2))
    rows = [f"{x:.4f},{y:.4f},{k}" for (x, y), k in zip(points, labels)]
    return "\n".join((["x1,x2,label"] if header else []) + rows) + "\n"


def test_uploaded_data_replaces_the_dataset():
    session = TrainingSession(Settings(train_percent=80))
    session.load_upload(parse_csv(blob_csv(60, classes=3), name="blobs.csv"))
    assert session.settings.dataset == "csv" and session.settings.classes == 3
    assert session.outputs == 3 and not session.regression
    assert len(session.train_points) == 48 and len(session.test_points) == 12
    assert sorted(np.unique(np.concatenate([session.train_labels, session.test_labels]))) == [
        0,
        1,
        2,
    ]
    before = session.train_loss
    for _ in range(20):
        assert session.train_epoch()
    assert session.train_loss < 0.5 * before
    assert session.output_map().shape == (3, 100, 100)
    # regenerate: a new split of the same points; a built-in dataset and back again
    points = np.sort(np.concatenate([session.train_points, session.test_points]), axis=0)
    session.regenerate()
    assert session.settings.dataset == "csv"
    again = np.sort(np.concatenate([session.train_points, session.test_points]), axis=0)
    np.testing.assert_array_equal(points, again)
    assert session.apply(session.settings.replace(dataset="circle", classes=2)) == "data"
    assert len(session.train_points) == 400
    assert session.apply(session.settings.replace(dataset="csv")) == "data"
    assert session.settings.classes == 3 and len(session.train_points) == 48


def test_uploaded_regression_data_trains_with_squared_error():
    rng = np.random.default_rng(1)
    points = rng.uniform(-5, 5, (200, 2))
    rows = [f"{x},{y},{(x + y) / 10}" for x, y in points]
    session = TrainingSession()
    session.load_upload(parse_csv("\n".join(rows)))
    assert session.regression and session.outputs == 1
    assert session.loss_fn.__class__.__name__ == "MSELoss"
    assert session.backprop(0)["loss_name"] == "squared error"
    script = session.script()
    assert "regression" in script


def test_a_csv_dataset_without_an_upload_is_refused():
    session = TrainingSession()
    with pytest.raises(SettingsError, match="upload the file again"):
        session.apply(session.settings.replace(dataset="csv"))
    assert session.settings.dataset == "circle"
