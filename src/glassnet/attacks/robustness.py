"""Robustness curves: accuracy as the attacker is allowed a larger change.

A network's test accuracy says how it does on images like its training images. Its accuracy
under attack at radius eps says how it does when someone may change every pixel by up to eps in
the worst way they can find. `robustness_curve` measures that at several eps: at 0 it is the
clean accuracy; it falls as eps grows, for an ordinary network steeply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from ..train import predict
from .common import check_eps, check_images, check_labels
from .fgsm import fgsm
from .pgd import pgd

ATTACKS: dict[str, Callable[..., Tensor]] = {"fgsm": fgsm, "pgd": pgd}


@dataclass(frozen=True)
class RobustnessCurve:
    """Accuracy (a fraction) at each eps, under one attack."""

    attack: str
    eps: list[float]
    accuracy: list[float]

    def __str__(self) -> str:
        cells = "  ".join(f"{e:g}: {a:6.1%}" for e, a in zip(self.eps, self.accuracy))
        return f"{self.attack} accuracy by eps  {cells}"


def robustness_curve(
    model: Module,
    data: tuple[Any, Any],
    eps_list: Sequence[float],
    attack: str | Callable[..., Tensor] = "pgd",
    batch_size: int = 500,
    **attack_kwargs: Any,
) -> RobustnessCurve:
    """The accuracy of `model` on `data` = (images, labels) attacked at each eps of `eps_list`.

    `attack` is "pgd", "fgsm", or a function called as ``attack(model, images, labels, eps,
    **attack_kwargs)`` that returns the adversarial images; the images are attacked `batch_size`
    at a time. At eps = 0 the clean images are scored as they are.
    """
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError("robustness_curve: data must be a pair (images, labels)")
    images, labels = data
    x = check_images("robustness_curve", images, attack_kwargs.get("clip", (0.0, 1.0)))
    y = check_labels("robustness_curve", labels, len(x))
    eps_values = [check_eps("robustness_curve", e) for e in eps_list]
    fn = ATTACKS.get(attack) if isinstance(attack, str) else attack
    if fn is None:
        raise ValueError(f"robustness_curve: unknown attack {attack!r}; use one of {list(ATTACKS)}")
    name = attack if isinstance(attack, str) else getattr(attack, "__name__", "attack")
    accuracy = []
    for eps in eps_values:
        correct = 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            adv = Tensor(xb) if eps == 0 else fn(model, xb, yb, eps, **attack_kwargs)
            correct += int((predict(model, adv).data.argmax(axis=1) == yb).sum())
        accuracy.append(correct / len(x))
    return RobustnessCurve(name, eps_values, accuracy)


def format_robustness_table(rows: dict[str, Sequence[RobustnessCurve]]) -> str:
    """Curves as a table: one row per (model, attack), one column per eps.

    `rows` maps a model's name to its curves (all over the same eps values)."""
    curves = [c for group in rows.values() for c in group]
    if not curves:
        return ""
    eps = curves[0].eps
    head = f"{'model':<28}{'attack':<8}" + "".join(f"{'eps ' + format(e, 'g'):>10}" for e in eps)
    lines = [head, "-" * len(head)]
    for model_name, group in rows.items():
        for curve in group:
            if curve.eps != eps:
                raise ValueError("format_robustness_table: every curve needs the same eps values")
            cells = "".join(f"{a:>10.1%}" for a in curve.accuracy)
            lines.append(f"{model_name:<28}{curve.attack:<8}{cells}")
    return "\n".join(lines)


def accuracy_of(model: Module, images: Any, labels: Any) -> float:
    """The fraction of `images` the model classifies as `labels`."""
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    return float((predict(model, images).data.argmax(axis=1) == y).mean())
