"""The playground's "Export network" also gives an ONNX file: run by ONNX Runtime on new points,
its scores (after the softmax or sigmoid the page applies) are the tab's predictions."""

import numpy as np
import pytest
from onnx_check import onnx_outputs

from glassnet.playground.session import TrainingSession, make_features
from glassnet.playground.settings import Settings


@pytest.mark.parametrize(
    "settings",
    [
        dict(dataset="circle", features=("x", "y", "xSquared", "sinY"), hidden=(5, 3), dropout=0.2),
        dict(dataset="spiral", classes=4, hidden=(6,), activation="elu"),
        dict(dataset="multi_gaussian", hidden=(4,), activation="silu"),
    ],
    ids=["binary", "multiclass", "regression"],
)
def test_the_exported_onnx_file_predicts_what_the_tab_predicts(settings, tmp_path):
    session = TrainingSession(Settings(**settings))
    for _ in range(3):
        assert session.train_epoch(), session.diverged
    session.model.train()
    path = session.export_onnx(tmp_path)
    assert session.model.training  # the export leaves the tab's mode as it was
    points = np.random.default_rng(0).uniform(-6, 6, (40, 2))
    (scores,) = onnx_outputs(path, (make_features(points, session.settings.features),))
    if session.outputs > 1:
        exps = np.exp(scores - scores.max(axis=1, keepdims=True))
        shown = exps / exps.sum(axis=1, keepdims=True)
    elif session.regression:
        shown = scores[:, 0]
    else:
        shown = 1.0 / (1.0 + np.exp(-scores[:, 0]))
    np.testing.assert_allclose(shown, session.predict(points), atol=1e-5)
