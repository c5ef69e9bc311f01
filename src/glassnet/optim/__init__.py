"""Optimizers: the algorithms that turn gradients into weight updates, and their schedules.

`SGD` steps against the gradient (with optional momentum); `Adam`, `AdamW`, `RMSprop` and `Adagrad`
scale each weight's step by statistics of its past gradients; `SparseAdam` steps only the
embedding rows a batch used. `lr_scheduler` changes the learning
rate as training goes on. Names, arguments, defaults and state_dicts follow `torch.optim`.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SparseAdam", "lr_scheduler"]
