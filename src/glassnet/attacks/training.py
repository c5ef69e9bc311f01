"""Adversarial training: learn from the worst examples near each training image.

Madry et al. (2017) train on adversarial examples made against the network as it is at each
step: every batch is attacked (PGD, or the cheaper FGSM) before the network sees it, so the
network learns to give the right answer anywhere within eps of each image, not only at the image
itself. It costs one extra forward and backward pass per attack step, and some clean accuracy.

`AdversarialBatches` wraps the training data for `fit()`: ``fit(model, AdversarialBatches(model,
(x, y), eps=0.2))`` is adversarial training, with nothing else to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from ..train.loop import as_loader
from .common import check_eps
from .robustness import ATTACKS


class AdversarialBatches:
    """Batches of `data` with their images replaced by adversarial ones, made when each batch
    is drawn, against `model` as it is at that moment.

    Args:
        model: the model being trained (attacked in eval mode, then left in its mode).
        data: what `fit()` accepts: a pair (images, labels), a Dataset or a DataLoader.
        attack: "pgd" (default) or "fgsm".
        eps: the attack's radius.
        fraction: the share of each batch to replace (1.0, Madry et al.'s choice; 0.5 trains on
            half clean, half adversarial images).
        batch_size: when `data` is not already a DataLoader.
        generator: shuffles the batches (glassnet's global generator by default).
        **attack_kwargs: passed on to the attack (steps, step_size, clip, ...).
    """

    def __init__(
        self,
        model: Module,
        data: Any,
        attack: str = "pgd",
        eps: float = 0.1,
        fraction: float = 1.0,
        batch_size: int = 64,
        generator: Any = None,
        **attack_kwargs: Any,
    ) -> None:
        if attack not in ATTACKS:
            raise ValueError(
                f"AdversarialBatches: attack must be one of {list(ATTACKS)}, got {attack!r}"
            )
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"AdversarialBatches: fraction must be in [0, 1], got {fraction!r}")
        self.model = model
        self.loader = as_loader(data, batch_size, shuffle=True, generator=generator)
        self.attack = attack
        self.eps = check_eps("AdversarialBatches", eps)
        self.fraction = fraction
        self.attack_kwargs = attack_kwargs

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        attack = ATTACKS[self.attack]
        for images, labels in self.loader:
            count = int(round(self.fraction * len(images)))
            if count == 0:
                yield images, labels
                continue
            adv = attack(self.model, images[:count], labels[:count], self.eps, **self.attack_kwargs)
            if count < len(images):
                adv = Tensor(np.concatenate([adv.data, images.data[count:]]))
            yield adv, labels

    def __repr__(self) -> str:
        return (
            f"AdversarialBatches(attack={self.attack!r}, eps={self.eps}, "
            f"fraction={self.fraction}, batches={len(self)})"
        )
