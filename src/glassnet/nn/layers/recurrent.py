"""Recurrent layers: networks that read a sequence one step at a time and remember what they saw.

At every step a recurrent layer combines the new input with its hidden state, the summary of
everything before, and passes the updated state on. RNN does this with one weighted sum and a
tanh; LSTM and GRU add gates that decide what to keep and what to forget, so that a signal can
survive many steps. Layers can be stacked (`num_layers`) and read the sequence in both directions
(`bidirectional`). The Cell classes are the same computations for a single step.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a state_dict moves
between the two libraries unchanged.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ... import checks, ops
from ...dtypes import get_default_dtype
from ...meta import empty
from ...ops.fused import dropout
from ...ops.recurrent import gru_layer, lstm_layer, rnn_layer
from ...tensor import Tensor
from ..init import uniform_
from ..module import Module
from ..parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_nonlinearity(layer: str, nonlinearity: Any) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"{layer}: unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'."
        )
    return nonlinearity


def _check_input(name: str, input: Any, ranks: tuple[int, int], input_size: int) -> None:
    """`input` is a floating point Tensor of one of the two ranks, `input_size` features last."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a glassnet Tensor as input, got {type(input).__name__}")
    if input.ndim not in ranks:
        raise ValueError(
            f"{name}: expected input to be {ranks[0]}-D (unbatched) or {ranks[1]}-D (batched), "
            f"got {input.ndim}-D input of shape {input.shape}"
        )
    if input.shape[-1] != input_size:
        raise ValueError(
            f"{name}: expected input with {input_size} features (last dimension), "
            f"got shape {input.shape}"
        )


def _check_state(name: str, label: str, state: Any, expected: tuple) -> Tensor:
    if not isinstance(state, Tensor):
        raise TypeError(f"{name}: {label} must be a glassnet Tensor, got {type(state).__name__}")
    if state.shape != expected:
        raise ValueError(f"{name}: expected {label} of shape {expected}, got {state.shape}")
    return state


def _uniform_reset(module: Module, hidden_size: int) -> None:
    """PyTorch's initialisation of every recurrent weight and bias: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        uniform_(p, -bound, bound)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks, and
    the loop over layers. `mode` is PyTorch's: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode!r}; expected one of {list(_GATES)}")
        layer = "LSTM" if mode == "LSTM" else "GRU" if mode == "GRU" else "RNN"
        self.mode = mode
        self.input_size = checks.positive_int(input_size, "input_size", layer, type_error=TypeError)
        self.hidden_size = checks.positive_int(
            hidden_size, "hidden_size", layer, type_error=TypeError
        )
        self.num_layers = checks.positive_int(num_layers, "num_layers", layer, type_error=TypeError)
        for name, flag in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(flag, bool):
                raise TypeError(f"{layer}: {name} should be of type bool, got {flag!r}")
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = checks.probability(dropout, "dropout", layer)
        if self.dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        self.bidirectional = bool(bidirectional)
        if proj_size != 0:
            raise NotImplementedError(f"{layer}: proj_size is not supported, got {proj_size!r}")
        self.proj_size = 0
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        gates = _GATES[mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._all_weights: list[list[str]] = []
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {
                    f"weight_ih_l{k}{suffix}": (gates, layer_input),
                    f"weight_hh_l{k}{suffix}": (gates, self.hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_l{k}{suffix}"] = (gates,)
                    shapes[f"bias_hh_l{k}{suffix}"] = (gates,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(empty(shape, dtype, device)))
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Nothing to do: accepted so that PyTorch code (which packs weights for cuDNN) runs."""

    @property
    def _flat_weights_names(self) -> list[str]:
        return [name for names in self._all_weights for name in names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of every layer and direction, [weight_ih, weight_hh, bias_ih, bias_hh]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _state_labels(self) -> tuple[str, ...]:
        return ("h_0",)

    def _run(
        self, x: Tensor, states: tuple, weights: list, mask: np.ndarray | None, reverse: bool
    ) -> tuple:
        raise NotImplementedError

    def forward(self, input: Tensor, hx: Any = None, *, lengths: Any = None) -> tuple:
        """Run all layers over the sequence. Returns ``(output, h_n)``; LSTM: ``(output, (h_n,
        c_n))``.

        ``lengths`` (glassnet's extension, one integer per sequence) marks where each sequence of
        a padded batch ends: outputs after that are zero and h_n (c_n) hold the state at each
        sequence's last real step, as PyTorch gives for a ``pack_padded_sequence`` input.
        """
        name = f"{type(self).__name__}({self.extra_repr()})"
        _check_input(name, input, (2, 3), self.input_size)
        batched = input.ndim == 3
        x = (
            input.unsqueeze(1)
            if not batched
            else input.transpose(0, 1)
            if self.batch_first
            else input
        )
        T, N = x.shape[:2]
        states = self._initial_states(name, hx, N, batched)
        mask = _lengths_mask(name, lengths, T, N)
        directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in self._state_labels()]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [getattr(self, n) for n in self._all_weights[k]]
                if not self.bias:
                    weights += [None, None]
                initial = tuple(None if s is None else s[k] for s in states)
                output, *last = self._run(x, initial, weights, mask, direction == 1)
                outputs.append(output)
                for kept, state in zip(finals, last):
                    kept.append(state)
            x = outputs[0] if directions == 1 else ops.cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, True)
        h = [ops.stack(kept, 0) for kept in finals]
        if not batched:
            x = x.squeeze(1)
            h = [s.squeeze(1) for s in h]
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, (h[0] if len(h) == 1 else tuple(h))

    def _initial_states(self, name: str, hx: Any, N: int, batched: bool) -> tuple:
        """hx as a tuple of (layers * directions, N, H) tensors, or of Nones for zeros."""
        labels = self._state_labels()
        if hx is None:
            return (None,) * len(labels)
        if len(labels) > 1:
            if not isinstance(hx, tuple | list) or len(hx) != len(labels):
                raise TypeError(
                    f"{name}: hx must be a tuple ({', '.join(labels)}), got {type(hx).__name__}"
                )
        else:
            hx = (hx,)
        stacked = self.num_layers * (2 if self.bidirectional else 1)
        expected = (stacked, N, self.hidden_size) if batched else (stacked, self.hidden_size)
        checked = tuple(_check_state(name, label, s, expected) for label, s in zip(labels, hx))
        return checked if batched else tuple(s.unsqueeze(1) for s in checked)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _lengths_mask(name: str, lengths: Any, T: int, N: int) -> np.ndarray | None:
    """(T, N) True on each sequence's real steps, or None when there are no lengths."""
    if lengths is None:
        return None
    values = np.atleast_1d(lengths.data if isinstance(lengths, Tensor) else np.asarray(lengths))
    if values.dtype.kind not in "iu" or values.shape != (N,):
        raise ValueError(
            f"{name}: lengths must hold one integer per sequence, shape ({N},), got "
            f"{values.dtype} values of shape {values.shape}"
        )
    if values.size and (values.min() < 0 or values.max() > T):
        raise ValueError(
            f"{name}: lengths must lie between 0 and the sequence length {T}, got {values.tolist()}"
        )
    return np.arange(T)[:, None] < values[None, :]


class RNN(RNNBase):
    """A stack of Elman RNN layers: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh).

    Args:
        input_size: features of each step's input.
        hidden_size: features of the hidden state h.
        num_layers: recurrent layers stacked, each reading the outputs of the one below.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: if False, no biases b_ih, b_hh.
        batch_first: if True, input and output are (N, T, features); states are not affected.
        dropout: if non-zero, dropout on the outputs of every layer but the last, in training.
        bidirectional: if True, every layer also reads the sequence backwards; the outputs of
            the two directions are concatenated.
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the parameters' dtype (default: ``glassnet.get_default_dtype()``, float32).

    Shape (D = 2 if bidirectional else 1):
        input ``(T, N, input_size)``, ``(N, T, input_size)`` with batch_first, or unbatched
        ``(T, input_size)``; hx ``(D * num_layers, N, hidden_size)`` (unbatched without N),
        zeros if not given. Output ``(T, N, D * hidden_size)`` and h_n like hx.
        ``lengths=`` (optional, N integers): see ``RNNBase.forward``.

    Attributes:
        weight_ih_l{k}: ``(hidden_size, input_size)`` for k = 0, else
            ``(hidden_size, D * hidden_size)``; weight_hh_l{k} ``(hidden_size, hidden_size)``;
            bias_ih_l{k}, bias_hh_l{k} ``(hidden_size,)``; the reverse direction's end in
            ``_reverse``. All start from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Example::

        >>> rnn = RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(glassnet.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        mode = "RNN_TANH" if _check_nonlinearity("RNN", nonlinearity) == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )
        self.nonlinearity = nonlinearity

    def _run(self, x, states, weights, mask, reverse):
        return rnn_layer(x, *states, *weights, self.nonlinearity, mask=mask, reverse=reverse)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else f"{s}, nonlinearity={self.nonlinearity}"


class LSTM(RNNBase):
    """A stack of long short-term memory layers (gate order i, f, g, o, as in PyTorch):

        i = sigmoid(x W_ii^T + b_ii + h W_hi^T + b_hi)    f, o likewise
        g = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)
        c_t = f * c_(t-1) + i * g,    h_t = o * tanh(c_t)

    The cell state c is a memory that the forget gate f keeps or erases and the input gate i
    writes to; the output gate o decides how much of it each step shows.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype:
            as for ``RNN``.
        proj_size: only 0 (no projection) is supported.

    Shape (D = 2 if bidirectional else 1):
        input as for ``RNN``; hx a tuple (h_0, c_0), each ``(D * num_layers, N, hidden_size)``
        (unbatched without N), zeros if not given. Returns ``(output, (h_n, c_n))`` with output
        ``(T, N, D * hidden_size)``.

    Attributes:
        weight_ih_l{k} ``(4 * hidden_size, ...)``, weight_hh_l{k} ``(4 * hidden_size,
        hidden_size)``, bias_ih_l{k}, bias_hh_l{k} ``(4 * hidden_size,)``: the four gates'
        rows stacked in the order i, f, g, o (``_reverse`` for the second direction).

    Example::

        >>> lstm = LSTM(10, 20, batch_first=True)
        >>> output, (h_n, c_n) = lstm(glassnet.randn(3, 5, 10))
        >>> output.shape, c_n.shape
        ((3, 5, 20), (1, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
        )

    def _state_labels(self) -> tuple[str, ...]:
        return ("h_0", "c_0")

    def _run(self, x, states, weights, mask, reverse):
        return lstm_layer(x, *states, *weights, mask=mask, reverse=reverse)


class GRU(RNNBase):
    """A stack of gated recurrent unit layers (gate order r, z, n, as in PyTorch):

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr),  z likewise
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_(t-1)

    The update gate z chooses between keeping the old state and taking the new candidate n;
    the reset gate r decides how much of the old state the candidate may look at.

    Args:
        as for ``RNN`` (without nonlinearity).

    Shape:
        as for ``RNN``.

    Attributes:
        weight_ih_l{k} ``(3 * hidden_size, ...)``, weight_hh_l{k} ``(3 * hidden_size,
        hidden_size)``, bias_ih_l{k}, bias_hh_l{k} ``(3 * hidden_size,)``: the rows of r, z, n
        stacked (``_reverse`` for the second direction).

    Example::

        >>> gru = GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(glassnet.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 40), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )

    def _run(self, x, states, weights, mask, reverse):
        return gru_layer(x, *states, *weights, mask=mask, reverse=reverse)


# -- one step -------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """What the cells share: weight_ih (gates * H, input_size), weight_hh (gates * H, H),
    bias_ih and bias_hh (gates * H,), and the checks of input and state. A step is the
    sequence op of the matching layer run over a sequence of one."""

    _state_labels: tuple[str, ...] = ("hx",)
    _step: Callable[..., tuple]

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = checks.positive_int(input_size, "input_size", name, type_error=TypeError)
        self.hidden_size = checks.positive_int(
            hidden_size, "hidden_size", name, type_error=TypeError
        )
        self.bias = bias
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        gates = num_chunks * self.hidden_size
        self.weight_ih = Parameter(empty((gates, self.input_size), dtype, device))
        self.weight_hh = Parameter(empty((gates, self.hidden_size), dtype, device))
        for b in ("bias_ih", "bias_hh"):
            value = Parameter(empty((gates,), dtype, device)) if bias else None
            self.register_parameter(b, value)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_reset(self, self.hidden_size)

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        name = f"{type(self).__name__}({self.extra_repr()})"
        _check_input(name, input, (1, 2), self.input_size)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        labels = self._state_labels
        if hx is None:
            states: Sequence[Tensor | None] = (None,) * len(labels)
        else:
            if len(labels) > 1 and (not isinstance(hx, tuple | list) or len(hx) != len(labels)):
                raise TypeError(
                    f"{name}: hx must be a tuple ({', '.join(labels)}), got {type(hx).__name__}"
                )
            given = hx if len(labels) > 1 else (hx,)
            expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
            states = [_check_state(name, lb, s, expected) for lb, s in zip(labels, given)]
            if not batched:
                states = [s.unsqueeze(0) for s in states]
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, *new = self._step(x.unsqueeze(0), *states, *weights)
        if not batched:
            new = [s.squeeze(0) for s in new]
        return new[0] if len(new) == 1 else tuple(new)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args:
        input_size, hidden_size: features of the input and of the hidden state.
        bias: if False, no biases.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        device: "cpu" or "meta" (shapes without memory; see glassnet.meta).
        dtype: the parameters' dtype (default float32).

    Shape:
        input ``(N, input_size)`` or ``(input_size,)``; hx ``(N, hidden_size)`` or
        ``(hidden_size,)``, zeros if not given; output like hx.

    Attributes:
        weight_ih ``(hidden_size, input_size)``, weight_hh ``(hidden_size, hidden_size)``,
        bias_ih, bias_hh ``(hidden_size,)``, all from U(-1/sqrt(hidden_size), 1/sqrt(...)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = _check_nonlinearity("RNNCell", nonlinearity)

    def _step(self, x, h, *weights):
        return rnn_layer(x, h, *weights, self.nonlinearity)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else f"{s}, nonlinearity={self.nonlinearity}"


class LSTMCell(RNNCellBase):
    """One step of an LSTM (gate order i, f, g, o): returns (h', c').

    Args:
        input_size, hidden_size, bias, device, dtype: as for ``RNNCell``.

    Shape:
        input ``(N, input_size)`` or ``(input_size,)``; hx a tuple (h, c), each
        ``(N, hidden_size)`` or ``(hidden_size,)``, zeros if not given; h' and c' like h.

    Attributes:
        weight_ih ``(4 * hidden_size, input_size)``, weight_hh ``(4 * hidden_size,
        hidden_size)``, bias_ih, bias_hh ``(4 * hidden_size,)``.
    """

    _state_labels = ("h_0", "c_0")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def _step(self, x, h, c, *weights):
        return lstm_layer(x, h, c, *weights)


class GRUCell(RNNCellBase):
    """One step of a GRU (gate order r, z, n): h' = (1 - z) * n + z * h.

    Args:
        input_size, hidden_size, bias, device, dtype: as for ``RNNCell``.

    Shape:
        as for ``RNNCell``.

    Attributes:
        weight_ih ``(3 * hidden_size, input_size)``, weight_hh ``(3 * hidden_size,
        hidden_size)``, bias_ih, bias_hh ``(3 * hidden_size,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def _step(self, x, h, *weights):
        return gru_layer(x, h, *weights)
