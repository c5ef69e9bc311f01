"""Neural-network building blocks: modules that hold parameters, layers, activations and losses.

A Module is a piece of a network: it owns its parameters (weights and biases) and sub-modules, and
its `forward` says how numbers flow through it. Layers, whole networks and losses are all Modules.
"""

from . import functional, init, parallel, utils
from .container import ModuleDict, ModuleList, Sequential
from .layers import *  # noqa: F403
from .layers import __all__ as _layers_all
from .modes import inference
from .module import Module
from .parameter import Parameter

__all__ = [
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "Sequential",
    "functional",
    "inference",
    "init",
    "utils",
    *_layers_all,
]
