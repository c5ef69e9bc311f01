"""The playground's settings: URL query strings read and written, and wrong values refused."""

import pytest

from glassnet.playground.settings import (
    Settings,
    SettingsError,
    format_query,
    parse_query,
    settings_from_params,
    to_params,
)

UNUSUAL = Settings(
    dataset="spiral",
    noise=35,
    train_percent=70,
    seed=12345,
    features=("x", "xSquared", "sinY"),
    hidden=(8, 1, 3, 8, 2, 5),
    activation="leaky_relu",
    learning_rate=1e-5,
    regularization="L1",
    regularization_rate=0.003,
    batch_size=30,
    optimizer="adam",
    classes=5,
    dropout=0.3,
    show_test=True,
    discretize=True,
)


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        UNUSUAL,
        Settings(dataset="multi_gaussian", hidden=(), learning_rate=10.0, features=("xTimesY",)),
        Settings(learning_rate=0.05, regularization="L2", regularization_rate=10.0),
    ],
)
def test_query_round_trip(settings):
    query = format_query(settings)
    assert parse_query(query) == settings
    assert parse_query("?" + query) == settings
    assert format_query(parse_query(query)) == query


def test_every_field_has_a_url_parameter():
    params = to_params(UNUSUAL)
    assert params["networkShape"] == "8,1,3,8,2,5"
    assert params["learningRate"] == "1e-05"
    assert params["xSquared"] == "true" and params["y"] == "false"
    changed = [
        f for f in Settings.__dataclass_fields__ if getattr(UNUSUAL, f) != getattr(Settings(), f)
    ]
    assert len(changed) == len(Settings.__dataclass_fields__)  # UNUSUAL really differs everywhere


def test_a_partial_query_keeps_the_other_settings():
    s = parse_query("dataset=xor&networkShape=4,4&learningRate=0.1")
    assert (s.dataset, s.hidden, s.learning_rate) == ("xor", (4, 4), 0.1)
    assert s.activation == Settings().activation and s.features == ("x", "y")
    assert parse_query("") == Settings()
    assert parse_query("networkShape=").hidden == ()
    assert parse_query("dataset=multi-gaussian").dataset == "multi_gaussian"
    # features switched on or off one by one, on top of the base settings
    assert parse_query("sinX=true&y=false").features == ("x", "sinX")
    base = Settings(features=("xTimesY",))
    assert settings_from_params({"x": "true"}, base).features == ("x", "xTimesY")


@pytest.mark.parametrize(
    "query, named",
    [
        ("networkShape=-1", "networkShape"),
        ("networkShape=0", "networkShape"),
        ("networkShape=9", "networkShape"),
        ("networkShape=1,2,3,4,5,6,7", "at most 6 hidden layers"),
        ("networkShape=" + ",".join(["1"] * 100), "at most 6 hidden layers"),
        ("networkShape=4,two", "networkShape"),
        ("learningRate=1e9", "learningRate"),
        ("learningRate=0", "learningRate"),
        ("learningRate=abc", "learningRate"),
        ("learningRate=nan", "learningRate"),
        ("learningRate=inf", "learningRate"),
        ("noise=51", "noise"),
        ("noise=2.5", "noise"),
        ("percTrainData=5", "percTrainData"),
        ("percTrainData=95", "percTrainData"),
        ("batchSize=0", "batchSize"),
        ("batchSize=31", "batchSize"),
        ("regularizationRate=-1", "regularizationRate"),
        ("regularization=L3", "regularization"),
        ("activation=swish", "activation"),
        ("optimizer=lbfgs", "optimizer"),
        ("dataset=mnist", "dataset"),
        ("classes=3", "classes"),  # circle has two classes
        ("dataset=spiral&classes=6", "classes"),
        ("dropout=1", "dropout"),
        ("seed=-1", "seed"),
        ("x=false&y=false", "at least one input feature"),
        ("showTestData=maybe", "showTestData"),
        ("colour=red", "unknown setting 'colour'"),
        ("noise=1&noise=2", "more than once"),
        ("noise", "malformed"),
    ],
)
def test_wrong_settings_are_refused_with_a_clear_message(query, named):
    with pytest.raises(SettingsError, match=named):
        parse_query(query)


def test_the_dataclass_validates_too():
    with pytest.raises(SettingsError, match="noise must be an integer from 0 to 50, got 99"):
        Settings(noise=99)
    with pytest.raises(SettingsError, match="networkShape"):
        Settings().replace(hidden=(4, 100))
    assert issubclass(SettingsError, ValueError)
    assert Settings(hidden=[3, 3], features=["y"]) == Settings(hidden=(3, 3), features=("y",))
    with pytest.raises(SettingsError, match="networkShape: should be a tuple"):
        Settings(hidden=4)
