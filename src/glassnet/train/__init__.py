"""Training: the loop that turns a network and data into a trained network, and what it reports."""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint, TimeLimit
from .checkpoint import CheckpointError, CheckpointManager
from .loop import History, Trainer, TrainingDiverged, evaluate, fit, predict
from .metrics import (
    Accuracy,
    MeanAbsoluteError,
    Metric,
    Perplexity,
    RootMeanSquaredError,
    TopKAccuracy,
    accuracy,
    confusion_matrix,
    format_confusion_matrix,
    predicted_classes,
)
from .run_log import RunLog, TensorBoard, read_metrics

__all__ = [
    "Accuracy",
    "CheckpointError",
    "CheckpointManager",
    "MeanAbsoluteError",
    "Metric",
    "Perplexity",
    "RootMeanSquaredError",
    "RunLog",
    "TensorBoard",
    "TopKAccuracy",
    "read_metrics",
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "TimeLimit",
    "Trainer",
    "TrainingDiverged",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fit",
    "format_confusion_matrix",
    "predict",
    "predicted_classes",
]
