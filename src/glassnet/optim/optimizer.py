"""The optimizer: the part of training that moves the weights.

After `loss.backward()` every parameter holds a gradient, the direction in which the loss grows
fastest. An optimizer walks each parameter a small step the other way. Parameters are kept in
groups (`param_groups`), each with its own settings such as the learning rate `lr`, and whatever
an algorithm remembers between steps (momentum, running averages) lives in `state`, per parameter.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import bump_version, enable_grad
from ..sparse import SparseRows
from ..tensor import Tensor


class Optimizer:
    """Base class of all optimizers, with PyTorch's interface.

    Args:
        params: an iterable of Parameters, of ``(name, Parameter)`` pairs, or of dicts that each
            define a parameter group: ``{"params": [...], "lr": 0.1, ...}``. Options a group does
            not set are taken from `defaults`.
        defaults: the default value of every option of the algorithm.

    Attributes:
        param_groups: a list of dicts, each with ``"params"`` (a list of Parameters) and the
            group's options.
        state: per-parameter state, a dict keyed by the Parameter itself.

    Subclasses implement ``_update_group(group)``, which updates every parameter of one group that
    has a gradient; `step` runs it over all groups.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Parameters or dicts "
                "(for example model.parameters()), got a single Tensor"
            )
        _reject_set(self, params)
        self._check_options(defaults, "defaults")
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        # Scratch arrays reused across steps (keyed by shape, dtype and slot), so that an update
        # needs no fresh temporaries: large fresh arrays cost a page fault on every first touch.
        self._buffers: dict[tuple, np.ndarray] = {}
        # Counted so that a learning-rate scheduler can warn when it is stepped first.
        self._step_count = 0

        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups -------------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options, to `param_groups`.

        Useful when fine-tuning: unfreeze a layer and hand its parameters to the optimizer.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a param group must be a dict, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(
                f"{name}: a param group needs a 'params' entry, got keys {list(param_group)}"
            )
        group = dict(param_group)
        params = group["params"]
        _reject_set(self, params)
        params = [params] if isinstance(params, Tensor) else list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named):
            if not all(named):
                raise ValueError(f"{name}: give all parameters of a group with names, or none")
            group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        index = len(self.param_groups)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name} can only optimize Tensors, but param group {index} has a "
                    f"{type(p).__name__} at position {i}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name} can't optimize a non-leaf Tensor (param group {index}, position {i}): "
                    "optimize the Parameters it was computed from"
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: param group {index} lists the same parameter twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        if any(("param_names" in g) != ("param_names" in group) for g in self.param_groups):
            raise ValueError(f"{name}: all param groups must be given with names, or all without")
        group["params"] = params
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_options(group, f"param group {index}")
        self.param_groups.append(group)

    def _check_options(self, options: dict[str, Any], where: str) -> None:
        """Raise ValueError for an invalid option; each algorithm adds its own checks."""
        _check_nonnegative(self, options, where, "lr")

    # -- one optimisation step --------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters: set them to None (default) or fill with zeros.

        Gradients add up over backward passes, so they are cleared before each new one.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss, if given.

        Args:
            closure: a function that clears the gradients, recomputes the loss, calls backward and
                returns the loss. Optional for these algorithms.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            if not self.accepts_sparse_gradients:
                _refuse_sparse(self, group)
            self._update_group(group)
            for p in group["params"]:  # changed in place: a graph that saved them is stale now
                if p.grad is not None:
                    bump_version(p)
        self._step_count += 1
        return loss

    accepts_sparse_gradients = False
    """Whether `_update_group` knows gradients that hold only some rows (`SparseAdam` does)."""

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_group(group)")

    def _buffer(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like `like`, reused by every step (contents are garbage)."""
        key = (like.shape, like.dtype, slot)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty_like(like)
        return buf

    def _direction(
        self, p: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool
    ) -> np.ndarray:
        """The gradient an algorithm follows: negated to maximize, plus the L2 term
        ``weight_decay * p``. Returns `g` itself when neither applies, else a scratch array."""
        if weight_decay == 0.0 and not maximize:
            return g
        d = self._buffer(p, slot=1)
        if weight_decay == 0.0:
            return np.negative(g, out=d)
        np.multiply(p, weight_decay, out=d)
        if maximize:
            d -= g
        else:
            d += g
        return d

    # -- saving and loading -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as a dict, laid out as in PyTorch.

        ``"state"`` maps each parameter's index (counting through all groups in order) to its
        state (arrays and numbers); ``"param_groups"`` lists every group's options, with
        ``"params"`` as a list of those indices. Arrays are copies, so the snapshot does not
        change as training goes on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _copy_value(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict` (of this library or of PyTorch's same optimizer).

        The optimizer must hold the same number of groups, of the same sizes, as when it was
        saved; parameters are matched by position.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(
                f"{name}.load_state_dict expects a dict with 'state' and 'param_groups' "
                f"(from state_dict()), got {type(state_dict).__name__}"
                + (f" with keys {list(state_dict)}" if isinstance(state_dict, dict) else "")
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: loaded state dict has {len(saved_groups)} parameter groups, "
                f"but the optimizer has {len(self.param_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}: loaded parameter group {i} has {len(saved['params'])} parameters, "
                    f"but the optimizer's group {i} has {len(group['params'])}"
                )
        by_index = {
            k: p
            for group, saved in zip(self.param_groups, saved_groups)
            for k, p in zip(saved["params"], group["params"])
        }
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for k, saved_state in state_dict["state"].items():
            if k not in by_index:
                raise ValueError(f"{name}: loaded state for parameter {k}, which no group lists")
            p = by_index[k]
            state[p] = {key: _load_value(name, k, key, v, p) for key, v in saved_state.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = copy.deepcopy({key: v for key, v in saved.items() if key != "params"})
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            for key, default in self.defaults.items():
                new.setdefault(key, default)
            groups.append(new)
        self.state = state
        self.param_groups = groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _copy_value(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


def _load_value(name: str, index: int, key: str, value: Any, param: Tensor) -> Any:
    """One saved state entry, as this optimizer keeps it: a step count as an int, arrays (NumPy,
    Tensor or anything with ``__array__``) as fresh arrays of the parameter's dtype."""
    if key == "step":
        return int(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    array = np.array(value, dtype=param.dtype)
    if array.shape != param.shape:
        raise ValueError(
            f"{name}: loaded state '{key}' of parameter {index} has shape {array.shape}, "
            f"but the parameter has shape {param.shape}"
        )
    return array


def _reject_set(opt: Optimizer, params: Any) -> None:
    if isinstance(params, set):
        raise TypeError(
            f"{type(opt).__name__}: parameters must be given in an ordered collection (a list), "
            "not a set, whose order changes between runs"
        )


def _check_nonnegative(opt: Optimizer, options: dict[str, Any], where: str, *keys: str) -> None:
    for key in keys:
        if key in options and not options[key] >= 0.0:
            raise ValueError(
                f"{type(opt).__name__} ({where}): {key} must be >= 0, got {options[key]!r}"
            )


def _refuse_sparse(opt: Optimizer, group: dict[str, Any]) -> None:
    """PyTorch's error for a sparse gradient (``Embedding(sparse=True)``) given to a dense
    optimizer, raised before any weight changes."""
    for p in group["params"]:
        if p.grad is not None and type(p.grad.data) is SparseRows:
            raise RuntimeError(
                f"{type(opt).__name__} does not support sparse gradients (a parameter of shape "
                f"{p.shape} has one, from an Embedding(sparse=True)), please consider "
                "SparseAdam instead"
            )
