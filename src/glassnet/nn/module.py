"""Modules: the pieces a network is built from.

A Module owns parameters (the numbers it learns), buffers (numbers it keeps but does not learn,
such as running averages) and sub-modules, found simply by assigning them as attributes. From
that registry come `parameters()` for the optimizer, `state_dict()` for saving, `train()`/`eval()`
for switching behaviour, and a printed outline of the whole network.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd import is_grad_enabled
from ..hooks import RemovableHandle, add_hook, check_callable
from ..meta import MetaArray, as_device
from ..tensor import Tensor
from .backward_hooks import BackwardHookCall
from .parameter import Parameter
from .state_dict_keys import missing_keys, prefix_hint


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the model's keys the state_dict lacked, and the
    state_dict's keys the model does not have."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _indent(text: str, spaces: int) -> str:
    """Indent every line of `text` but the first (it follows a label such as ``(0): ``)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(" " * spaces + line for line in rest)])


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class Module:
    """Base class of every layer and network: subclass it, assign parameters and sub-modules in
    ``__init__``, and write ``forward``.

    Example::

        >>> class Scale(Module):
        ...     def __init__(self, n):
        ...         super().__init__()
        ...         self.w = Parameter(numpy.ones(n, dtype=numpy.float32))
        ...     def forward(self, x):
        ...         return x * self.w
        >>> Scale(3)(glassnet.ones(3))
        tensor([1.0000, 1.0000, 1.0000], grad_fn=<MulBackward>)
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dictionaries to exist already
        set_attr = object.__setattr__
        set_attr(self, "training", True)
        set_attr(self, "_parameters", OrderedDict())
        set_attr(self, "_buffers", OrderedDict())
        set_attr(self, "_non_persistent_buffers_set", set())
        set_attr(self, "_modules", OrderedDict())
        set_attr(self, "_forward_pre_hooks", OrderedDict())
        set_attr(self, "_forward_hooks", OrderedDict())
        set_attr(self, "_backward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # -- calling ----------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result!r}"
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_call = None
        if self._backward_hooks and is_grad_enabled():
            backward_call = BackwardHookCall(self, list(self._backward_hooks.values()))
            args = backward_call.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self._forward_hooks.values()):
            result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        if backward_call is not None:
            output = backward_call.wrap_outputs(output)
        return output

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; a value it returns replaces the
        positional arguments (a non-tuple is wrapped in one). With `with_kwargs`, the hook is
        ``hook(module, args, kwargs)`` and may return a new ``(args, kwargs)`` pair."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; a value it returns replaces
        the output. With `with_kwargs`, the hook is ``hook(module, args, kwargs, output)``."""
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_full_backward_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to this
        module's tensor inputs have been computed (once per backward); a tuple it returns
        replaces `grad_input`. See glassnet.nn.backward_hooks."""
        check_callable(hook, f"{type(self).__name__}.register_full_backward_hook")
        return add_hook(self._backward_hooks, hook, prepend)

    @staticmethod
    def _add_hook(
        hooks: OrderedDict, hook: Callable[..., Any], prepend: bool, with_kwargs: bool
    ) -> RemovableHandle:
        check_callable(hook, "register_forward_hook")
        return add_hook(hooks, (hook, bool(with_kwargs)), prepend)

    # -- registering ------------------------------------------------------------------------------

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add `param` under `name` (None keeps the name reserved, like a layer without bias)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(glassnet.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor the module keeps but does not learn. A persistent buffer is saved in the
        state_dict; a non-persistent one (scratch values that can be recomputed) is not."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(glassnet Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module under `name` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: parameters, buffers and modules live in the
        # registries, not in __dict__. Read __dict__ directly so that a half-built object (while
        # unpickling) gets an AttributeError, not an endless recursion.
        state = self.__dict__
        if "_parameters" in state:
            if name in state["_parameters"]:
                return state["_parameters"][name]
            if name in state["_buffers"]:
                return state["_buffers"][name]
            if name in state["_modules"]:
                return state["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__
        params = state.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, state, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(glassnet.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if "_modules" not in state:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, state, self._parameters, self._buffers)
            self._modules[name] = value
        elif "_modules" in state and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(glassnet.nn.Module or None expected)"
                )
            self._modules[name] = None
        elif "_buffers" in state and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(glassnet Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, *registries: dict) -> None:
        """Drop `name` from the other places an attribute can live, before it moves to a new one."""
        for registry in registries:
            registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = [
            *dir(type(self)),
            *self.__dict__,
            *self._parameters,
            *self._modules,
            *self._buffers,
        ]
        # numbered children of containers ("0", "1") are not valid attribute names
        return sorted({name for name in names if not name[0].isdigit()})

    # -- walking the tree -------------------------------------------------------------------------

    def _named_members(
        self,
        members: Callable[[Module], Iterable[tuple[str, Any]]],
        prefix: str,
        recurse: bool,
        remove_duplicate: bool,
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (module_prefix + "." + name if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs: own parameters first, then each child's in turn. A
        parameter shared by several modules is listed once, under the first name found."""
        return self._named_members(
            lambda m: m._parameters.items(), prefix, recurse, remove_duplicate
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order (what an optimizer is given)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, persistent or not, in the same order as parameters."""
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their names, each module once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module (named `prefix`) and every module below it, depth first, parents before
        children; a module reachable by several paths is listed once (by id) unless
        `remove_duplicate` is False."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                child_prefix = prefix + "." + name if prefix else name
                yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path `target` (``"encoder.layers.0"``); ``""`` is this module."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            child = module._modules.get(item) if isinstance(module, Module) else None
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module `{item}`")
            module = child
        return module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ----------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Put this module and all below it in training mode (or evaluation mode if False):
        dropout and batch norm behave differently in the two."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient tracking on or off for every parameter (False freezes the module)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: drop them (the default), or fill them with
        zeros in place when `set_to_none` is False."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the module learns, a shared parameter counted once; with
        `trainable_only`, only those with ``requires_grad``."""
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # -- dtype ------------------------------------------------------------------------------------

    def to(
        self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False
    ) -> Module:
        """Convert floating-point parameters and buffers to `dtype` in place (``model.to(
        glassnet.float64)``, or the dtype of a Tensor given); the Parameter objects stay the same
        and integer buffers are left alone. A device is "cpu" or "meta": ``model.to("meta")``
        drops every value and keeps the shapes; a meta model cannot go back to "cpu" (it has no
        values to move; see `to_empty`). `non_blocking` is accepted for PyTorch compatibility."""
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg.dtype if isinstance(arg, Tensor) else arg
        if device is not None:
            self._move(as_device(device, "Module.to"))
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"to(): expected a dtype, a Tensor or the device 'cpu' (glassnet runs on the CPU "
                f"only), got {dtype!r}"
            ) from None
        if dtype.kind not in "fc":
            raise TypeError(
                f"Module.to only accepts floating point or complex dtypes, but got dtype={dtype}"
            )
        return self._cast_floating(dtype)

    def _tensors(self) -> Iterator[Tensor]:
        """Every parameter and buffer once (shared ones too)."""
        seen: set[int] = set()
        for module in self.modules():
            for tensor in itertools.chain(module._parameters.values(), module._buffers.values()):
                if tensor is not None and id(tensor) not in seen:
                    seen.add(id(tensor))
                    yield tensor

    def _move(self, device: str) -> None:
        for tensor in self._tensors():
            if tensor.device == device:
                continue
            if device == "cpu":
                raise RuntimeError(
                    f"Module.to('cpu'): {type(self).__name__} has tensors on the 'meta' device "
                    "(shapes without values), which have nothing to copy; use "
                    "module.to_empty(device='cpu') and then initialise the parameters"
                )
            tensor.data, tensor.grad = MetaArray(tensor.data.shape, tensor.data.dtype), None

    def to_empty(self, *, device: Any = "cpu") -> Module:
        """Give every parameter and buffer fresh, uninitialised memory on `device`, keeping
        shapes, dtypes and Parameter objects: how a model built on the 'meta' device becomes a
        real one. Its values are garbage until set, e.g. by each layer's ``reset_parameters()``
        or ``load_state_dict``."""
        device = as_device(device, "to_empty")
        for tensor in self._tensors():
            shape, dtype = tensor.data.shape, tensor.data.dtype
            tensor.data = MetaArray(shape, dtype) if device == "meta" else np.empty(shape, dtype)
            tensor.grad = None
        return self

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64."""
        return self._cast_floating(np.dtype(np.float64))

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32."""
        return self._cast_floating(np.dtype(np.float32))

    def half(self) -> Module:
        """Convert floating-point parameters and buffers to float16."""
        return self._cast_floating(np.dtype(np.float16))

    def cpu(self) -> Module:
        return self

    def _cast_floating(self, dtype: np.dtype) -> Module:
        for tensor in self._tensors():
            if tensor.data.dtype.kind != "f":
                continue
            tensor.data = tensor.data.astype(dtype, copy=False)
            if tensor.grad is not None:
                tensor.grad.data = tensor.grad.data.astype(dtype, copy=False)
        return self

    # -- saving and loading -----------------------------------------------------------------------

    def state_dict(
        self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, in PyTorch's order (own
        parameters, own buffers, then each child's). The tensors are detached but share memory
        with the model; with `keep_vars` they are the Parameter objects themselves."""
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> _IncompatibleKeys:
        """Copy values from `state_dict` (Tensors or NumPy arrays, e.g. a PyTorch state_dict
        converted with ``.numpy()``) into the parameters and buffers.

        Everything is checked first (missing and unexpected keys when `strict`, shapes, value
        types) and a RuntimeError lists every problem, and the prefix by which the names differ
        where there is one (``module.`` from DistributedDataParallel, ``generator.`` when a
        whole GAN's file meets its generator), so a failed load changes nothing. A parameter
        tied under two names (GPT's head and token embedding) needs only one of them, as in
        the files ``safetensors.torch.save_model`` writes. Values
        are copied into the existing arrays: each parameter keeps its object, array and dtype,
        so an optimizer built on the model stays valid.

        Returns:
            ``(missing_keys, unexpected_keys)``, a namedtuple.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict expects a dict-like state_dict, got {type(state_dict).__name__}"
            )
        targets = self.state_dict(keep_vars=True)
        missing = missing_keys(targets, state_dict)
        unexpected = [key for key in state_dict if key not in targets]
        errors = []
        if strict and missing:
            errors.append(
                "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
            )
        if strict and unexpected:
            errors.append(
                "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + "."
            )
        hint = prefix_hint(missing, unexpected) if strict else None
        if hint:
            errors.append(hint)
        copies = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = _as_array(state_dict[key])
            if value is None:
                errors.append(
                    f"While copying the parameter named {key!r}: expected a Tensor or a NumPy "
                    f"array of numbers, got {type(state_dict[key]).__name__}"
                )
            elif type(target.data) is MetaArray:
                errors.append(
                    f"{key} is on the 'meta' device (a shape without values) and cannot hold "
                    "the values loaded; call model.to_empty(device='cpu') first"
                )
            elif value.shape != target.data.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {target.data.shape}."
                )
            else:
                copies.append((target, value))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for target, value in copies:
            # in place, cast to the model's dtype: the array an optimizer may hold stays valid
            target.data[...] = value
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ---------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The settings shown inside this module's parentheses when it is printed."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_indent(repr(module), 2)}" for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        if not lines:
            return self._get_name() + "()"
        if len(extra_lines) == 1 and not child_lines:
            return f"{self._get_name()}({extra_lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


def _as_array(value: Any) -> np.ndarray | None:
    """The numbers in a state_dict entry as an array, or None if it holds none (a list, a str,
    an object array). Array-likes such as a PyTorch tensor pass through ``__array__``."""
    if isinstance(value, Tensor):
        array = value.data
    elif isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
    elif hasattr(value, "__array__"):
        try:
            array = np.asarray(value)
        except (TypeError, ValueError, RuntimeError):
            return None
    else:
        return None
    return array if array.dtype.kind in "biufc" else None
