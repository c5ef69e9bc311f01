"""Training: the loop that turns a network and data into a trained network, and what it reports."""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint, TimeLimit
from .loop import History, Trainer, TrainingDiverged, evaluate, fit, predict
from .metrics import accuracy, confusion_matrix, format_confusion_matrix, predicted_classes

__all__ = [
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
