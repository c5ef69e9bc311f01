"""glassnet: a small, readable neural-network library on NumPy, with PyTorch's names.

Tensors carry numbers forward through a network; `backward()` carries the error back by the chain
rule; an optimizer nudges the weights. Everything else (layers, losses, data, training) is built on
that.
"""

# The subpackages, so `import glassnet as gn` reaches gn.nn, gn.optim, gn.data, gn.io and gn.train.
from . import data, io, nn, optim, train
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from .dtypes import float as float  # noqa: PLC0414 (glassnet.float, like torch.float)
from .io import load, save  # noqa: E402
from .meta import device, get_default_device, set_default_device
from .ops import (
    abs,
    amax,
    amin,
    argmax,
    argmin,
    cat,
    chunk,
    clamp,
    cos,
    exp,
    flatten,
    gather,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    norm,
    permute,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    unbind,
    unsqueeze,
    var,
    where,
)
from .random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .tensor import Tensor

bool = bool_  # noqa: A001 (glassnet.bool, like torch.bool)
clip = clamp
concat = cat
__version__ = "0.1.0"

from .backend import tune_malloc as _tune_malloc  # noqa: E402

_tune_malloc()
