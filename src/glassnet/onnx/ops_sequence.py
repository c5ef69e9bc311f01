"""ONNX nodes for glassnet's sequence ops: recurrent layers and attention.

Each recurrent op of glassnet (one layer, one direction) becomes one ONNX ``RNN``, ``LSTM`` or
``GRU`` node with direction "forward" or "reverse"; a bidirectional or stacked layer is the same
nodes glassnet runs, concatenated and stacked as glassnet does. The gates sit in another order in
ONNX (LSTM: i, o, f, c against PyTorch's i, f, g, o; GRU: z, r, h against r, z, n), so the weight
blocks are reordered in the graph (``Split`` and ``Concat`` on the weights, which ONNX Runtime
folds once at load time); PyTorch's GRU applies the reset gate after the hidden product, ONNX's
``linear_before_reset=1``.

Attention is written out: MatMul of the scaled queries and the keys, the mask (added, or -inf
where a boolean mask says no), Softmax, MatMul with the values. A causal mask is built in the
graph from the sequence lengths, so the exported model takes any length.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from onnx import numpy_helper

from ..tensor import Tensor
from .graph import Graph, Step
from .registry import converts

# glassnet's (PyTorch's) gate blocks, in the order ONNX wants them
GATE_ORDER = {"lstm_layer": [0, 3, 1, 2], "gru_layer": [1, 0, 2], "rnn_layer": [0]}
OP_TYPE = {"lstm_layer": "LSTM", "gru_layer": "GRU", "rnn_layer": "RNN"}


def _gate_rows(order: list[int], hidden: int, halves: int = 1) -> list[int]:
    """Row indices that put the gate blocks (each `hidden` rows) in `order`, for each of
    `halves` stacked copies (the bias is b_ih and b_hh end to end)."""
    gates = len(order)
    return [
        half * gates * hidden + k * hidden + i
        for half in range(halves)
        for k in order
        for i in range(hidden)
    ]


def _reordered(g: Graph, weight: str, order: list[int], hidden: int, halves: int = 1) -> str:
    """`weight` with its gate blocks in ONNX's order and a leading direction axis of 1."""
    if order != list(range(len(order))):
        weight = g.node("Gather", [weight, g.ints(_gate_rows(order, hidden, halves))], axis=0)
    return g.node("Unsqueeze", [weight, g.ints([0])])


def _state(g: Graph, state: Tensor | None) -> str | None:
    return None if state is None else g.node("Unsqueeze", [g.value(state), g.ints([0])])


@converts("rnn_layer", "lstm_layer", "gru_layer")
def recurrent(g: Graph, s: Step) -> list[str]:
    if s.a["mask"] is not None:
        raise s.fail("sequences of different lengths (lengths=) do not export; pad them instead")
    x, w_ih, w_hh = s.a["x"], s.a["w_ih"], s.a["w_hh"]
    order = GATE_ORDER[s.name]
    hidden = w_hh.shape[1]
    biases = [s.a["b_ih"], s.a["b_hh"]]
    inputs = [g.value(x), *(_reordered(g, g.value(w), order, hidden) for w in (w_ih, w_hh))]
    if any(b is not None for b in biases):
        parts = [
            g.value(b) if b is not None else g.const(np.zeros(len(order) * hidden, x.dtype))
            for b in biases
        ]
        inputs.append(_reordered(g, g.node("Concat", parts, axis=0), order, hidden, halves=2))
    else:
        inputs.append(None)
    inputs.append(None)  # sequence_lens: every sequence is whole
    states = [s.a["h0"]] + ([s.a["c0"]] if s.name == "lstm_layer" else [])
    inputs += [_state(g, state) for state in states]
    attrs: dict[str, Any] = {
        "hidden_size": hidden,
        "direction": "reverse" if s.a["reverse"] else "forward",
    }
    if s.name == "gru_layer":
        attrs["linear_before_reset"] = 1
    if s.name == "rnn_layer":
        attrs["activations"] = ["Relu" if s.a["nonlinearity"] == "relu" else "Tanh"]
    count = 3 if s.name == "lstm_layer" else 2
    outs = g.node(OP_TYPE[s.name], inputs, outputs=count, **attrs)
    y = g.node("Squeeze", [outs[0], g.ints([1])])
    return [y, *(g.node("Squeeze", [o, g.ints([0])]) for o in outs[1:])]


# -- attention -------------------------------------------------------------------------------------


def _mask(g: Graph, scores: str, mask: Any, dtype: np.dtype) -> str:
    """Scores with `mask` applied: boolean (True = take part) puts -inf where False; float is
    added."""
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    name = g.value(mask)
    if data.dtype == np.bool_:
        return g.node("Where", [name, scores, g.scalar(-np.inf, dtype)])
    return g.node("Add", [scores, name if data.dtype == dtype else g.cast(name, dtype)])


def _causal(g: Graph, scores: str, dtype: np.dtype) -> str:
    """Scores with -inf above the diagonal, for the scores' own (L, S), whatever they are."""
    size = g.node("Shape", [scores], start=-2)
    hidden = g.node("ConstantOfShape", [size], value=_tensor_attr(np.array([-np.inf], dtype=dtype)))
    return g.node("Add", [scores, g.node("Trilu", [hidden, g.ints([1])], upper=1)])


def _tensor_attr(array: np.ndarray) -> Any:
    return numpy_helper.from_array(array)


def attend(
    g: Graph,
    q: str,
    k: str,
    k_rank: int,
    v: str,
    masks: list,
    causal: bool,
    scale: float,
    dtype: np.dtype,
) -> tuple[str, str]:
    """softmax(q k^T * scale + masks) v over the last two axes; returns (output, weights)."""
    qs = g.node("Mul", [q, g.scalar(scale, dtype)]) if scale != 1.0 else q
    perm = list(range(k_rank))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    scores = g.node("MatMul", [qs, g.node("Transpose", [k], perm=perm)])
    for mask in masks:
        scores = _mask(g, scores, mask, dtype)
    if causal:
        scores = _causal(g, scores, dtype)
    weights = g.node("Softmax", [scores], axis=-1)
    return g.node("MatMul", [weights, v]), weights


@converts("attention", "scaled_dot_product_attention")
def attention(g: Graph, s: Step) -> Any:
    q, k, v, mask = s.a["query"], s.a["key"], s.a["value"], s.a["attn_mask"]
    if s.a["dropout_p"]:
        raise s.fail("attention dropout (dropout_p > 0) does not export; export in eval mode")
    scale = s.a["scale"]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    out, weights = attend(
        g,
        g.value(q),
        g.value(k),
        k.ndim,
        g.value(v),
        [] if mask is None else [mask],
        bool(s.a["is_causal"]),
        scale,
        q.dtype,
    )
    if s.name == "scaled_dot_product_attention":
        return out
    return [out, weights if s.a["need_weights"] else None]


@converts("multi_head_attention")
def multi_head_attention(g: Graph, s: Step) -> list:
    """The heads of nn.MultiheadAttention: slice q, k, v out of the projections, split the
    heads, attend, and put the heads side by side again."""
    if s.a["dropout_p"]:
        raise s.fail("attention dropout (dropout_p > 0) does not export; export in eval mode")
    inputs, sources = s.a["inputs"], s.a["sources"]
    embed, heads, batch_first = s.a["embed_dim"], s.a["num_heads"], s.a["batch_first"]
    head_dim = embed // heads
    dtype = inputs[0].dtype
    to_heads = [0, 2, 1, 3] if batch_first else [1, 2, 0, 3]  # -> (N, heads, L, head_dim)
    parts = []
    for i, offset in sources:
        name = g.value(inputs[i])
        if inputs[i].shape[-1] != embed:
            starts, ends = g.ints([offset]), g.ints([offset + embed])
            name = g.node("Slice", [name, starts, ends, g.ints([2])])
        split = g.node("Reshape", [name, g.ints([0, 0, heads, head_dim])])
        parts.append(g.node("Transpose", [split], perm=to_heads))
    q, k, v = parts
    scale = 1.0 / math.sqrt(head_dim)
    out, weights = attend(g, q, k, 4, v, list(s.a["masks"]), False, scale, dtype)
    back = [0, 2, 1, 3] if batch_first else [2, 0, 1, 3]
    merged = g.node("Transpose", [out], perm=back)
    out = g.node("Reshape", [merged, g.ints([0, 0, embed])])
    return [out, weights if s.a["need_weights"] else None]
