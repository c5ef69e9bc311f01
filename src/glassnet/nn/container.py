"""Containers: modules that hold other modules.

`Sequential` chains modules so that each one's output is the next one's input. `ModuleList` and
`ModuleDict` just hold modules, by position or by name, so that their parameters are registered
(a plain Python list would hide them from `parameters()`); your `forward` decides how to use them.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module, _indent


class _NumberedModules(Module):
    """What Sequential and ModuleList share: children named "0", "1", ... kept in order."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key(self, idx: int) -> str:
        """The name of the child at position `idx` (negative counts from the end)."""
        idx = operator.index(idx)
        size = len(self._modules)
        if not -size <= idx < size:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range")
        return list(self._modules)[idx % size]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        for key in keys:
            delattr(self, key)
        # renumber so that positions and names agree again
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(self._modules.values()))

    def pop(self, idx: int | slice) -> Any:
        """Remove and return the module(s) at `idx`."""
        value = self[idx]
        del self[idx]
        return value

    def append(self, module: Module) -> Any:
        """Add `module` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        """Add every module of `modules` at the end, in order."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                f"{type(self).__name__}.extend expects an iterable of modules, "
                f"got {type(modules).__name__}"
            )
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index` (as ``list.insert``), shifting the rest."""
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.insert expects a Module, got {type(module).__name__}"
            )
        n = len(self._modules)
        index = operator.index(index)
        if not -n <= index <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_NumberedModules):
    """A chain of modules: ``forward(x)`` passes `x` through each in turn.

    Build it from modules (named "0", "1", ...) or from an OrderedDict of name -> module.

    Example::

        >>> model = Sequential(Linear(2, 3), ReLU())
        >>> model
        Sequential(
          (0): Linear(in_features=2, out_features=3, bias=True)
          (1): ReLU()
        )
        >>> model[0], model[-1], model[:1]   # a slice is a Sequential of the same modules
    """

    def __init__(self, *args: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def insert(self, index: int, module: Module) -> Sequential:
        """Put `module` before position `index` (as ``list.insert``), shifting the rest."""
        super().insert(index, module)
        return self

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential + expects another Sequential, got {type(other).__name__}")
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                f"Sequential += expects another Sequential, got {type(other).__name__}"
            )
        return self.extend(list(other))

    def __mul__(self, times: int) -> Sequential:
        if isinstance(times, bool) or not isinstance(times, int):
            raise TypeError(f"Sequential * expects an int, got {type(times).__name__}")
        if times <= 0:
            raise ValueError(f"Sequential * expects a positive factor, got {times}")
        return Sequential(*(list(self) * times))

    __rmul__ = __mul__

    def forward(self, input: Any) -> Any:  # noqa: A002 (PyTorch's name)
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_NumberedModules):
    """A list of modules whose parameters are registered; indexing, slicing, ``append``,
    ``extend``, ``insert``, ``+=`` and ``del`` work as on a list. It has no ``forward``: loop over
    it in your own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        # runs of identical children are printed once, as "(2-5): 4 x Block(...)"
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list] = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [
            _indent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
            for a, b, text in runs
        ]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order: indexing by name,
    ``in``, ``keys``, ``values``, ``items``, ``update``, ``pop`` and ``clear`` work as on a dict."""

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove the module named `key` and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping, a ModuleDict, or (name, module) pairs."""
        if isinstance(modules, Mapping | ModuleDict):
            for key, module in modules.items():
                self[key] = module
            return
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleDict.update expects a mapping or an iterable of (name, module) pairs, "
                f"got {type(modules).__name__}"
            )
        for j, pair in enumerate(modules):
            if not isinstance(pair, Iterable) or isinstance(pair, str):
                raise TypeError(
                    f"ModuleDict.update: element #{j} should be a (name, module) pair, "
                    f"got {type(pair).__name__}"
                )
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(
                    f"ModuleDict.update: element #{j} has length {len(pair)}; 2 is required"
                )
            self[pair[0]] = pair[1]
