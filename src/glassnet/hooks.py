"""Hooks: functions a user hands to glassnet to be called at a given moment.

A module calls its forward hooks around `forward`, a tensor calls its hooks when its gradient has
been computed. Registering one returns a `RemovableHandle`; ``handle.remove()`` takes it away
again (or use the handle as a ``with`` block).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_forward_hook``, ``Tensor.register_hook`` and friends return:
    ``handle.remove()`` unregisters the hook. It is also a context manager, removing the hook
    when the ``with`` block ends."""

    def __init__(self, hooks: OrderedDict, hook_id: int) -> None:
        self._hooks = hooks
        self.id = hook_id

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, value: Any, prepend: bool = False) -> RemovableHandle:
    """Put `value` (a hook, or a hook with its options) into `hooks` under a new id."""
    handle = RemovableHandle(hooks, next(_hook_ids))
    hooks[handle.id] = value
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def check_callable(hook: Callable, where: str) -> None:
    if not callable(hook):
        raise TypeError(f"{where}: a hook must be callable, got {type(hook).__name__}")
