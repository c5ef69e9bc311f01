"""Learning-rate schedules: change the step size as training goes on.

A large learning rate makes fast progress early; a small one settles into a minimum late. A
scheduler rewrites ``group["lr"]`` of an optimizer each time its `step()` is called (usually once
per epoch or per batch, after `optimizer.step()`): decaying in steps, exponentially or along a
cosine, warming up linearly, following a one-cycle policy, or dropping when progress stalls.
"""

from __future__ import annotations

import copy
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .. import checks
from .optimizer import Optimizer


class LRScheduler:
    """Base class of learning-rate schedulers, with PyTorch's semantics.

    Creating a scheduler records each group's ``"initial_lr"`` (the base learning rate) and
    applies the schedule's first value, so ``last_epoch`` is 0 right after construction. Each
    `step()` advances ``last_epoch`` by one and sets every group's ``"lr"`` to `get_lr()`.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: the index of the last step taken; -1 starts a fresh schedule. A larger value
            resumes one, and needs ``"initial_lr"`` already in every param group.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"{type(self).__name__}: param group {i} has no 'initial_lr', needed to resume "
                    f"with last_epoch={last_epoch}; load the optimizer's state first, or use "
                    "last_epoch=-1 for a fresh schedule"
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rate of every group at step ``last_epoch`` (schedules implement this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The learning rates this scheduler set most recently, one per param group."""
        return self._last_lr

    def step(self) -> None:
        """Advance the schedule by one step (call it after ``optimizer.step()``)."""
        if self._step_count == 1 and getattr(self.optimizer, "_step_count", 1) == 0:
            warnings.warn(
                "lr_scheduler.step() was called before optimizer.step(): the first value of the "
                "schedule is skipped. Call optimizer.step() first, then lr_scheduler.step().",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set the rates of the next step, or of step `epoch` by the closed form if there is one."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._closed_form_lr() if hasattr(self, "_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything the scheduler tracks except the optimizer, to resume the schedule later."""
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict`."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class LambdaLR(LRScheduler):
    """Set each group's rate to its base rate times ``lr_lambda(last_epoch)``.

    Args:
        optimizer: the optimizer to schedule.
        lr_lambda: a function of the step index giving a factor, or a list of them, one per group.
        last_epoch: see `LRScheduler`.

    Example::

        >>> sched = LambdaLR(opt, lambda step: 0.95**step)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        self.lr_lambdas = _per_group(self, optimizer, "lr_lambda", lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(
                    f"LambdaLR: lr_lambda should be a function, got {type(fn).__name__}"
                )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """As `LRScheduler.state_dict`; a lambda is saved only if it is a callable object (its
        attributes), since plain functions cannot be saved."""
        state = copy.deepcopy(
            {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        )
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else copy.deepcopy(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = copy.deepcopy(state_dict)
        lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class StepLR(LRScheduler):
    """Multiply the rate by `gamma` every `step_size` steps.

    Args:
        optimizer: the optimizer to schedule.
        step_size: steps between decays.
        gamma: the factor of each decay. Default: 0.1.
        last_epoch: see `LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        checks.positive_int(step_size, "step_size", "StepLR")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by `gamma` at each of the given steps (milestones).

    Args:
        optimizer: the optimizer to schedule.
        milestones: step indices at which to decay; a repeated index decays more than once.
        gamma: the factor of each decay. Default: 0.1.
        last_epoch: see `LRScheduler`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by `gamma` at every step.

    Args:
        optimizer: the optimizer to schedule.
        gamma: the factor of each step's decay.
        last_epoch: see `LRScheduler`.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor that moves linearly from `start_factor` to `end_factor` over
    `total_iters` steps, then stays there: the usual linear warm-up.

    Args:
        optimizer: the optimizer to schedule.
        start_factor: factor at step 0, in (0, 1]. Default: 1/3.
        end_factor: factor from step `total_iters` on, in [0, 1]. Default: 1.
        total_iters: length of the ramp in steps. Default: 5.
        last_epoch: see `LRScheduler`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        checks.probability(end_factor, "end_factor", "LinearLR")
        checks.positive_int(total_iters, "total_iters", "LinearLR")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        # The ratio of this step's factor to the last one: the schedule is applied incrementally,
        # as PyTorch does, so that it composes with other schedulers acting on the same rates.
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * change
        )
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Lower the rate from its base value to `eta_min` along half a cosine over `T_max` steps
    (``eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2``), then back up again.

    Like PyTorch, each step is computed from the previous rate (a recursive form of that formula),
    so the schedule also follows rates changed from outside, and matches PyTorch's numbers.

    Args:
        optimizer: the optimizer to schedule.
        T_max: steps from the base rate down to `eta_min` (half a period).
        eta_min: the lowest rate. Default: 0.
        last_epoch: see `LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:
            return [
                low + (base - low) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:
            # At the bottom of the cosine the ratio below is 0/0: add the first rise instead.
            return [
                lr + (base - low) * (1 - math.cos(math.pi / T)) / 2
                for base, lr in zip(self.base_lrs, self._current_lrs())
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - low) + low for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the given steps (milestones).

    Args:
        optimizer: the optimizer all the schedulers act on.
        schedulers: the schedulers, in order of use.
        milestones: the steps at which to move to the next scheduler (one fewer than schedulers).
        last_epoch: see `LRScheduler`.

    Example (linear warm-up for 5 steps, then cosine decay)::

        >>> warm = LinearLR(opt, start_factor=0.1, total_iters=5)
        >>> decay = CosineAnnealingLR(opt, T_max=95)
        >>> sched = SequentialLR(opt, [warm, decay], milestones=[5])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR does not support ReduceLROnPlateau (at index {i}): its step() "
                    "needs the metric"
                )
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"SequentialLR: schedulers[{i}] should be an LRScheduler, "
                    f"got {type(scheduler).__name__}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: schedulers[{i}] ({type(scheduler).__name__}) acts on a "
                    "different optimizer; all must share the one given"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR expects one milestone fewer than schedulers, got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Every scheduler took its initial step when it was made; undo those so the first one
        # starts from the base rates, then take its initial step again.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = copy.deepcopy(
            {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        )
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = copy.deepcopy(state_dict)
        saved = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, s in zip(self._schedulers, saved):
            scheduler.load_state_dict(s)


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith, 2018): warm the rate up from ``max_lr / div_factor`` to
    `max_lr`, then anneal it down to ``max_lr / div_factor / final_div_factor``, while momentum
    (or Adam's beta1) moves the opposite way. Step it after every batch.

    Args:
        optimizer: the optimizer to schedule.
        max_lr: the peak rate, or one per param group.
        total_steps: the length of the cycle; or give `epochs` and `steps_per_epoch`.
        epochs: epochs of training (with `steps_per_epoch`).
        steps_per_epoch: batches per epoch (with `epochs`).
        pct_start: the share of the cycle spent increasing the rate. Default: 0.3.
        anneal_strategy: ``"cos"`` or ``"linear"``. Default: ``"cos"``.
        cycle_momentum: move momentum between `max_momentum` and `base_momentum` inversely to
            the rate. Default: True.
        base_momentum: the lowest momentum (at the peak rate), or one per group. Default: 0.85.
        max_momentum: the highest momentum (at the start and end), or one per group.
            Default: 0.95.
        div_factor: initial rate = max_lr / div_factor. Default: 25.
        final_div_factor: final rate = initial rate / final_div_factor. Default: 1e4.
        three_phase: go back down to the initial rate symmetrically before the final annealing
            (fast.ai's original schedule). Default: False.
        last_epoch: see `LRScheduler`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            self.total_steps = checks.positive_int(total_steps, "total_steps", "OneCycleLR")
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                checks.positive_int(value, name, "OneCycleLR")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(
                "OneCycleLR: give either total_steps, or both epochs and steps_per_epoch"
            )
        checks.probability(pct_start, "pct_start", "OneCycleLR")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        # Each phase runs up to its end step, from one group key's value to another's.
        warm_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._phases = [
                (warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (
                    float(2 * pct_start * self.total_steps) - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = _per_group(self, optimizer, "max_lr", max_lr)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"OneCycleLR: cycle_momentum needs an optimizer with momentum or betas, "
                    f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            highs = _per_group(self, optimizer, "max_momentum", max_momentum)
            lows = _per_group(self, optimizer, "base_momentum", base_momentum)
            if last_epoch == -1:
                for high, low, group in zip(highs, lows, optimizer.param_groups):
                    self._set_momentum(group, high)
                    group["max_momentum"] = high
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, but total_steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m_from], group[m_to], pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Divide the rate when a watched metric (say, the validation loss) stops improving.

    Call ``step(metric)`` once per epoch. After more than `patience` epochs without improvement
    (by more than `threshold`), every group's rate is multiplied by `factor`, but not below
    `min_lr`; then `cooldown` epochs pass before bad epochs are counted again.

    Args:
        optimizer: the optimizer to schedule.
        mode: ``"min"`` (lower is better, as for a loss) or ``"max"`` (as for accuracy).
        factor: the factor of each reduction, below 1. Default: 0.1.
        patience: epochs without improvement tolerated before reducing. Default: 10.
        threshold: the least change that counts as an improvement. Default: 1e-4.
        threshold_mode: ``"rel"`` (relative to the best so far) or ``"abs"``. Default: ``"rel"``.
        cooldown: epochs to wait after a reduction before counting again. Default: 0.
        min_lr: the lowest rate, or one per param group. Default: 0.
        eps: reductions smaller than this are skipped. Default: 1e-8.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor!r}")
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        self.factor = factor
        self.min_lrs = _per_group(self, optimizer, "min_lr", min_lr)
        # A single min_lr also applies to param groups added later; a list cannot.
        self.default_min_lr = None if isinstance(min_lr, list | tuple) else min_lr
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, current: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return current < best * (1.0 - self.threshold)
            return current < best - self.threshold
        if self.threshold_mode == "rel":
            return current > best * (1.0 + self.threshold)
        return current > best + self.threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record this epoch's value of the metric, reducing the rates if it has stalled."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer now has {len(groups)} param groups but "
                    f"min_lrs has {len(self.min_lrs)}; set min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


def warmup_cosine(
    optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> LambdaLR:
    """Linear warm-up, then cosine decay: the usual schedule for transformers. Step it per batch.

    Over the first `warmup_steps` steps the rate climbs linearly, ``base * (t+1)/(warmup_steps+1)``,
    reaching the base rate at step `warmup_steps`; from there it follows half a cosine down to
    `min_lr`, reached at step ``total_steps - 1`` (the last of `total_steps` optimizer steps), and
    stays there.

    Args:
        optimizer: the optimizer to schedule; each group's current rate is its peak.
        warmup_steps: steps of linear warm-up (0 for none).
        total_steps: the length of the whole schedule, warm-up included.
        min_lr: the final rate, at most every group's peak rate. Default: 0.
    """
    if not isinstance(total_steps, int) or total_steps <= 0:
        raise ValueError(
            f"warmup_cosine: total_steps must be a positive integer, got {total_steps!r}"
        )
    if not isinstance(warmup_steps, int) or not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"warmup_cosine: warmup_steps must be an integer in [0, total_steps={total_steps}), "
            f"got {warmup_steps!r}"
        )
    _check_optimizer(warmup_cosine, optimizer)
    decay_steps = max(1, total_steps - 1 - warmup_steps)

    def schedule(floor: float) -> Callable[[int], float]:
        def factor(t: int) -> float:
            if t < warmup_steps:
                return (t + 1) / (warmup_steps + 1)
            progress = min(1.0, (t - warmup_steps) / decay_steps)
            return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        return factor

    lambdas = []
    for i, group in enumerate(optimizer.param_groups):
        peak = group.get("initial_lr", group["lr"])
        if not 0.0 <= min_lr <= peak:
            raise ValueError(
                f"warmup_cosine: min_lr must be in [0, lr] for every param group; group {i} has "
                f"lr={peak!r}, got min_lr={min_lr!r}"
            )
        lambdas.append(schedule(min_lr / peak if peak > 0 else 0.0))
    return LambdaLR(optimizer, lambdas)


def _check_optimizer(owner: Any, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        name = owner.__name__ if isinstance(owner, types.FunctionType) else type(owner).__name__
        raise TypeError(f"{name} needs a glassnet Optimizer, got {type(optimizer).__name__}")


def _per_group(owner: Any, optimizer: Optimizer, name: str, value: Any) -> list[Any]:
    """One value per param group: a list or tuple as given (of the right length), else repeated."""
    if isinstance(value, list | tuple):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{type(owner).__name__}: {name} needs one value per param group, "
                f"{len(optimizer.param_groups)} in all, got {len(value)}"
            )
        return list(value)
    return [value] * len(optimizer.param_groups)
