"""Differentiable operations on tensors, each with its forward and backward pass side by side."""

from .elementwise import (
    abs,
    add,
    as_tensor,
    astype,
    clamp,
    clone,
    cos,
    div,
    exp,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    operands,
    pow,
    raw,
    sin,
    sqrt,
    sub,
    where,
)
from .linalg import matmul
from .reduction import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    std,
    sum,
    var,
)
from .shape import (
    cat,
    chunk,
    expand,
    flatten,
    flip,
    gather,
    getitem,
    pad,
    permute,
    repeat,
    reshape,
    setitem,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view,
)

try:  # written alongside by the nn work; imported here so Tensor methods can reach them
    from .activation import relu, sigmoid, softmax, log_softmax, tanh  # noqa: F401
except ImportError:  # pragma: no cover
    pass
