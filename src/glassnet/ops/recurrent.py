"""Recurrent layers over a whole sequence, each one graph node with backpropagation through time.

A recurrent layer reads a sequence one step at a time and carries a hidden state h from each step
to the next: h_t = f(x_t, h_(t-1)). An LSTM also carries a cell state c, a memory that its gates
(input i, forget f, cell g, output o) write to and read from; a GRU mixes old and new state with
a reset gate r and an update gate z. The same weights serve every step.

Each function here runs one layer in one direction over all T steps and records ONE node: the
input's part of every gate, x_t W_ih^T, is one matrix product over all steps before the loop, so
that the loop over time does only h W_hh^T and a few elementwise operations into buffers made
once. The backward pass walks the steps in reverse, carrying the gradient of the state back
through time, and leaves the products that do not depend on the order (the weight gradients and
the input's gradient) to one matrix product each, over all steps at once. The factors of each
step's chain rule that do not depend on the incoming gradient (the gates' derivatives) are also
computed for all steps at once, before that loop.

Gate order and formulas are PyTorch's, so weights move between the two libraries unchanged.
Inputs are time-major, (T, N, features). `mask` (T, N), where given, marks the real steps of
sequences of different lengths: on a padded step the state is carried over unchanged and the
output is zero. `reverse=True` runs the steps from last to first (the second direction of a
bidirectional layer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..autograd import record
from ..dispatch import op
from ..tensor import Tensor

_NONLINEARITIES = ("tanh", "relu")


@op("rnn_layer")
def rnn_layer(
    x: Tensor,
    h0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
    *,
    mask: np.ndarray | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """Elman RNN, h_t = act(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) with act tanh or relu.

    x (T, N, I), h0 (N, H) or None for zeros, w_ih (H, I), w_hh (H, H), biases (H,). Returns the
    outputs (T, N, H) and the final state h_n (N, H)."""
    if nonlinearity not in _NONLINEARITIES:
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    seq = _Sequence("rnn_layer", 1, x, (h0,), w_ih, w_hh, b_ih, b_hh, mask, reverse)
    T, N, H, r = seq.T, seq.N, seq.H, seq.r
    pre = seq.project(_fold_biases(b_ih, b_hh, H))
    S = seq.state_buffer(h0)
    whh = w_hh.data
    whh_t = whh.T
    relu = nonlinearity == "relu"
    for t in seq.order:
        h, h_new = S[t + r], S[t + 1 - r]
        np.matmul(h, whh_t, out=h_new)
        h_new += pre[t]
        if relu:
            np.maximum(h_new, 0.0, out=h_new)
        else:
            np.tanh(h_new, out=h_new)
        seq.freeze(t, h_new, h)

    def backward(gy: np.ndarray | None, gh: np.ndarray | None) -> tuple:
        out = seq.new_states(S)
        E = np.empty((T, N, H), seq.dtype)  # d loss / d pre-activation, step by step
        if relu:
            np.greater(out, 0.0, out=E, casting="unsafe")
        else:
            _dtanh(out, E)
        seq.mask_rows(E)
        gy = seq.incoming(gy)
        dh = np.empty((N, H), seq.dtype)
        dh_next = seq.initial_grad(gh)
        for t in reversed(seq.order):
            np.add(gy[t], dh_next, out=dh)
            E[t] *= dh
            np.matmul(E[t], whh, out=dh_next)
            seq.pass_through(t, dh_next, dh)
        return seq.gradients(E, E, S, (dh_next,))

    return seq.outputs((S,), backward, "RNN")


@op("lstm_layer")
def lstm_layer(
    x: Tensor,
    h0: Tensor | None,
    c0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    mask: np.ndarray | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """LSTM with PyTorch's gate order (i, f, g, o):

        i, f, o = sigmoid(x W_i*^T + h W_h*^T + b), g = tanh(x W_ig^T + h W_hg^T + b)
        c_t = f * c_(t-1) + i * g,  h_t = o * tanh(c_t)

    x (T, N, I), h0 and c0 (N, H) or None for zeros, w_ih (4H, I), w_hh (4H, H), biases (4H,).
    Returns the outputs (T, N, H) and the final states h_n, c_n (N, H)."""
    seq = _Sequence("lstm_layer", 4, x, (h0, c0), w_ih, w_hh, b_ih, b_hh, mask, reverse)
    T, N, H, r = seq.T, seq.N, seq.H, seq.r
    A = seq.project(_fold_biases(b_ih, b_hh, 4 * H))  # pre-activations, then the gates
    S = seq.state_buffer(h0)
    C = seq.state_buffer(c0)
    TC = np.empty((T, N, H), seq.dtype)  # tanh(c_t)
    ig = np.empty((N, H), seq.dtype)
    step = np.empty((N, 4 * H), seq.dtype)
    whh = w_hh.data
    whh_t = whh.T
    with np.errstate(over="ignore"):
        for t in seq.order:
            a, h, c = A[t], S[t + r], C[t + r]
            h_new, c_new = S[t + 1 - r], C[t + 1 - r]
            np.matmul(h, whh_t, out=step)
            a += step
            _sigmoid_(a[:, : 2 * H])
            np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])
            _sigmoid_(a[:, 3 * H :])
            np.multiply(a[:, H : 2 * H], c, out=c_new)
            np.multiply(a[:, :H], a[:, 2 * H : 3 * H], out=ig)
            c_new += ig
            np.tanh(c_new, out=TC[t])
            np.multiply(a[:, 3 * H :], TC[t], out=h_new)
            seq.freeze(t, h_new, h)
            seq.freeze(t, c_new, c)

    def backward(gy: np.ndarray | None, gh: np.ndarray | None, gc: np.ndarray | None) -> tuple:
        i, f, g, o = (A[..., k * H : (k + 1) * H] for k in range(4))
        c_prev = seq.old_states(C)
        # E starts as the part of each gate's gradient known before the loop: d c_t / d gate
        # (d h_t / d o for o), times the gate's derivative. The loop multiplies in d c_t, d h_t.
        E = np.empty((T, N, 4 * H), seq.dtype)
        e_i, e_f, e_g, e_o = (E[..., k * H : (k + 1) * H] for k in range(4))
        _dsigmoid(i, e_i)
        e_i *= g
        _dsigmoid(f, e_f)
        e_f *= c_prev
        _dtanh(g, e_g)
        e_g *= i
        _dsigmoid(o, e_o)
        e_o *= TC
        Q = _dtanh(TC, np.empty((T, N, H), seq.dtype))  # d c_t / d h_t, through tanh(c_t)
        Q *= o
        seq.mask_rows(E)
        seq.mask_rows(Q)
        F = seq.keep_on_padding(f)  # d c_(t-1) / d c_t
        gy = seq.incoming(gy)
        dh = np.empty((N, H), seq.dtype)
        tmp = np.empty((N, H), seq.dtype)
        dh_next = seq.initial_grad(gh)
        dc = seq.initial_grad(gc)
        for t in reversed(seq.order):
            np.add(gy[t], dh_next, out=dh)
            np.multiply(dh, Q[t], out=tmp)
            dc += tmp
            e = E[t].reshape(N, 4, H)
            e[:, :3] *= dc[:, None, :]
            e[:, 3] *= dh
            np.matmul(E[t], whh, out=dh_next)
            dc *= F[t]
            seq.pass_through(t, dh_next, dh)
        return seq.gradients(E, E, S, (dh_next, dc))

    return seq.outputs((S, C), backward, "LSTM")


@op("gru_layer")
def gru_layer(
    x: Tensor,
    h0: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    mask: np.ndarray | None = None,
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """GRU with PyTorch's gate order (r, z, n) and formula:

        r, z = sigmoid(x W_i*^T + b_i* + h W_h*^T + b_h*)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),  h_t = (1 - z) * n + z * h_(t-1)

    x (T, N, I), h0 (N, H) or None for zeros, w_ih (3H, I), w_hh (3H, H), biases (3H,). Returns
    the outputs (T, N, H) and the final state h_n (N, H)."""
    seq = _Sequence("gru_layer", 3, x, (h0,), w_ih, w_hh, b_ih, b_hh, mask, reverse)
    T, N, H, r = seq.T, seq.N, seq.H, seq.r
    A = seq.project(_fold_biases(b_ih, b_hh, 2 * H))  # b_hn stays inside r * (...)
    b_hn = None if b_hh is None else b_hh.data[2 * H :]
    S = seq.state_buffer(h0)
    HW = np.empty((T, N, 3 * H), seq.dtype)  # h_(t-1) W_hh^T (+ b_hn): its n part is kept
    tmp = np.empty((N, H), seq.dtype)
    whh = w_hh.data
    whh_t = whh.T
    with np.errstate(over="ignore"):
        for t in seq.order:
            a, hw, h, h_new = A[t], HW[t], S[t + r], S[t + 1 - r]
            np.matmul(h, whh_t, out=hw)
            if b_hn is not None:
                hw[:, 2 * H :] += b_hn
            a[:, : 2 * H] += hw[:, : 2 * H]
            _sigmoid_(a[:, : 2 * H])
            n = a[:, 2 * H :]
            np.multiply(a[:, :H], hw[:, 2 * H :], out=tmp)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(h, n, out=tmp)
            tmp *= a[:, H : 2 * H]
            np.add(n, tmp, out=h_new)
            seq.freeze(t, h_new, h)

    def backward(gy: np.ndarray | None, gh: np.ndarray | None) -> tuple:
        rg, z, n = (A[..., k * H : (k + 1) * H] for k in range(3))
        hn = HW[..., 2 * H :]
        # E holds, per step, the gradients of the pre-activations of r, z, (h W_hn^T + b_hn)
        # and n, in that order: its first 3H columns are the hidden side's gates (r, z, n) and
        # columns r, z, n(last) the input side's. Before the loop each is d/d h_t's factor.
        E = np.empty((T, N, 4 * H), seq.dtype)
        e_r, e_z, e_hn, e_n = (E[..., k * H : (k + 1) * H] for k in range(4))
        work = np.empty((T, N, H), seq.dtype)
        _dtanh(n, e_n)
        np.subtract(1.0, z, out=work)
        e_n *= work
        np.subtract(seq.old_states(S), n, out=e_z)
        _dsigmoid(z, work)
        e_z *= work
        np.multiply(e_n, rg, out=e_hn)
        _dsigmoid(rg, e_r)
        e_r *= hn
        e_r *= e_n
        seq.mask_rows(E)
        Z = seq.keep_on_padding(z)  # the direct path d h_(t-1) / d h_t
        gy = seq.incoming(gy)
        dh = np.empty((N, H), seq.dtype)
        dh_next = seq.initial_grad(gh)
        for t in reversed(seq.order):
            np.add(gy[t], dh_next, out=dh)
            e = E[t].reshape(N, 4, H)
            e *= dh[:, None, :]
            np.matmul(E[t][:, : 3 * H], whh, out=dh_next)
            np.multiply(dh, Z[t], out=tmp)
            dh_next += tmp
        e_input = np.concatenate((E[..., : 2 * H], e_n), axis=-1)
        return seq.gradients(e_input, E[..., : 3 * H], S, (dh_next,))

    return seq.outputs((S,), backward, "GRU")


# -- what the three layers share ------------------------------------------------------------------


class _Sequence:
    """One layer's run over a sequence: checks, time order, state buffers, padding and the
    gradients that come after the loop.

    States live in (T + 1, N, H) buffers in time order with the initial state at one end, so that
    step t reads buffer[t + r] and writes buffer[t + 1 - r] (r = 1 when running in reverse), and
    the outputs and the states each step started from are both contiguous slices of it.
    """

    def __init__(
        self,
        name: str,
        gates: int,
        x: Tensor,
        states: Sequence[Tensor | None],
        w_ih: Tensor,
        w_hh: Tensor,
        b_ih: Tensor | None,
        b_hh: Tensor | None,
        mask: np.ndarray | None,
        reverse: bool,
    ) -> None:
        xd = x.data
        if xd.ndim != 3:
            raise ValueError(f"{name}: input must be 3-D (T, N, features), got shape {xd.shape}")
        T, N, size = xd.shape
        if T == 0:
            raise ValueError(
                f"{name}: expected a sequence of at least one step, got shape {xd.shape}"
            )
        w = w_hh.data
        H = w.shape[-1]
        if w.shape != (gates * H, H):
            raise ValueError(
                f"{name}: weight_hh must have shape ({gates} * hidden_size, hidden_size), "
                f"got {w.shape}"
            )
        if w_ih.data.shape != (gates * H, size):
            raise ValueError(
                f"{name}: input has {size} features (shape {xd.shape}) but weight_ih has shape "
                f"{w_ih.data.shape}; expected ({gates * H}, {size})"
            )
        for label, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
            if b is not None and b.data.shape != (gates * H,):
                raise ValueError(f"{name}: {label} must have shape ({gates * H},), got {b.shape}")
        for label, s in zip(("h0", "c0"), states):
            if s is not None and s.data.shape != (N, H):
                raise ValueError(f"{name}: {label} must have shape ({N}, {H}), got {s.shape}")
        named = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
        named.update(zip(("h0", "c0"), states))
        for label, t in named.items():
            if t is not None and t.data.dtype != xd.dtype:
                raise TypeError(
                    f"{name}: input has dtype {xd.dtype} but {label} has dtype {t.data.dtype}"
                )
        if xd.dtype.kind != "f":
            raise TypeError(f"{name}: expected a floating point input, got dtype {xd.dtype}")
        self.T, self.N, self.H, self.r = T, N, H, int(bool(reverse))
        self.dtype = xd.dtype
        self.order = range(T - 1, -1, -1) if reverse else range(T)
        self.x, self.w_ih, self.w_hh, self.b_ih, self.b_hh = x, w_ih, w_hh, b_ih, b_hh
        self.states = tuple(states)
        self.x2 = xd.reshape(T * N, size)
        self.padding: np.ndarray | None = None  # (T, N, 1) True on padded steps
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (T, N):
                raise ValueError(f"{name}: mask must have shape ({T}, {N}), got {mask.shape}")
            if not mask.all():
                self.padding = ~mask[:, :, None]
                self.real = mask[:, :, None].astype(self.dtype)
                self.padded_steps = self.padding.any(axis=(1, 2))

    # -- forward --

    def project(self, bias: np.ndarray | None) -> np.ndarray:
        """x_t W_ih^T (+ bias) for every step: one matrix product, (T, N, gates * H)."""
        out = self.x2 @ self.w_ih.data.T
        if bias is not None:
            out += bias
        return out.reshape(self.T, self.N, -1)

    def state_buffer(self, initial: Tensor | None) -> np.ndarray:
        buffer = np.empty((self.T + 1, self.N, self.H), self.dtype)
        buffer[self.T * self.r] = 0.0 if initial is None else initial.data
        return buffer

    def freeze(self, t: int, new: np.ndarray, old: np.ndarray) -> None:
        """On padded steps, the state stays what it was."""
        if self.padding is not None and self.padded_steps[t]:
            np.copyto(new, old, where=self.padding[t])

    def new_states(self, buffer: np.ndarray) -> np.ndarray:
        """The state after each step, in time order: (T, N, H)."""
        return buffer[1 - self.r : self.T + 1 - self.r]

    def old_states(self, buffer: np.ndarray) -> np.ndarray:
        """The state each step started from, in time order: (T, N, H)."""
        return buffer[self.r : self.T + self.r]

    def outputs(self, buffers: tuple, backward: Callable, name: str) -> tuple:
        """The outputs (zero on padded steps) and the final states, as tensors of one node."""
        out = self.new_states(buffers[0])
        if self.padding is not None:
            out = out * self.real
        last = 0 if self.r else self.T
        finals = [b[last].copy() for b in buffers]
        parents = (self.x, *self.states, self.w_ih, self.w_hh, self.b_ih, self.b_hh)
        return record([out, *finals], parents, backward, name)

    # -- backward --

    def mask_rows(self, a: np.ndarray) -> None:
        """Zero the rows of padded steps: nothing flows into the gates there."""
        if self.padding is not None:
            a *= self.real

    def keep_on_padding(self, factor: np.ndarray) -> np.ndarray:
        """`factor` with ones on padded steps, where the state's gradient passes unchanged."""
        return factor if self.padding is None else np.where(self.padding, 1.0, factor)

    def pass_through(self, t: int, dh_prev: np.ndarray, dh: np.ndarray) -> None:
        """On padded steps h_(t-1) = h_t: its gradient passes unchanged (no gate saw it)."""
        if self.padding is not None and self.padded_steps[t]:
            np.copyto(dh_prev, dh, where=self.padding[t])

    def incoming(self, gy: np.ndarray | None) -> np.ndarray:
        """The outputs' gradient, zero where no gradient came or the output was padding."""
        if gy is None:
            return np.zeros((self.T, self.N, self.H), self.dtype)
        return gy if self.padding is None else gy * self.real

    def initial_grad(self, g: np.ndarray | None) -> np.ndarray:
        return np.zeros((self.N, self.H), self.dtype) if g is None else np.array(g)

    def gradients(
        self, e_input: np.ndarray, e_hidden: np.ndarray, S: np.ndarray, state_grads: tuple
    ) -> tuple:
        """One gradient per parent (None for those that need none): the input's, the initial
        states', and the weights' and biases', each one matrix product or sum over all steps.

        e_input and e_hidden (T, N, gates * H) are the gradients of the input's and the hidden
        state's parts of the gates' pre-activations (the same array except in a GRU)."""
        TN = self.T * self.N
        e_in = e_input.reshape(TN, -1)
        e_h = e_in if e_hidden is e_input else e_hidden.reshape(TN, -1)
        x, w_ih, w_hh, b_ih, b_hh = self.x, self.w_ih, self.w_hh, self.b_ih, self.b_hh
        db_ih = e_in.sum(axis=0) if _wanted(b_ih) or (e_h is e_in and _wanted(b_hh)) else None
        db_hh = db_ih if e_h is e_in else e_h.sum(axis=0) if _wanted(b_hh) else None
        return (
            (e_in @ w_ih.data).reshape(x.data.shape) if x.requires_grad else None,
            *(g if _wanted(s) else None for s, g in zip(self.states, state_grads)),
            e_in.T @ self.x2 if w_ih.requires_grad else None,
            e_h.T @ self.old_states(S).reshape(TN, self.H) if w_hh.requires_grad else None,
            db_ih if _wanted(b_ih) else None,
            db_hh if _wanted(b_hh) else None,
        )


def _wanted(t: Tensor | None) -> bool:
    return t is not None and t.requires_grad


def _fold_biases(b_ih: Tensor | None, b_hh: Tensor | None, size: int) -> np.ndarray | None:
    """b_ih plus the first `size` entries of b_hh: the biases that can join x W_ih^T."""
    if b_ih is None and b_hh is None:
        return None
    total = np.zeros_like(b_hh.data) if b_ih is None else b_ih.data.copy()
    if b_hh is not None:
        total[:size] += b_hh.data[:size]
    return total


def _sigmoid_(a: np.ndarray) -> None:
    """a = 1 / (1 + exp(-a)) in place (exp overflows to inf for very negative a: 1 / inf = 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


def _dsigmoid(s: np.ndarray, out: np.ndarray) -> np.ndarray:
    """s (1 - s), the derivative of the sigmoid from its output s."""
    np.subtract(1.0, s, out=out)
    out *= s
    return out


def _dtanh(t: np.ndarray, out: np.ndarray) -> np.ndarray:
    """1 - t^2, the derivative of tanh from its output t."""
    np.square(t, out=out)
    np.subtract(1.0, out, out=out)
    return out
