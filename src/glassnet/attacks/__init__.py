"""Adversarial examples and other ways to make a network fail.

Networks are "vulnerable to adversarial examples, tiny input perturbations that cause confident
misclassifications". `fgsm` and `pgd` find such perturbations (no pixel moved by more than eps,
the images kept in their valid range), untargeted or towards a chosen class;
`robustness_curve` measures accuracy as eps grows; `AdversarialBatches` turns `fit()` into
adversarial training. `shift_curves` measures the other failure the guide names: accuracy when
the test images are turned, noisy or faded, unlike the training images.

Every attack runs the model in eval mode with its weights frozen, so no gradient reaches a
weight's ``.grad``, and leaves each module's mode and each parameter's ``requires_grad`` as they
were.
"""

from .common import check_eps
from .fgsm import fgsm
from .pgd import pgd
from .robustness import (
    ATTACKS,
    RobustnessCurve,
    accuracy_of,
    format_robustness_table,
    robustness_curve,
)
from .shift import DEFAULT_LEVELS, format_shift_table, shift_curves, shifted
from .training import AdversarialBatches

__all__ = [
    "ATTACKS",
    "DEFAULT_LEVELS",
    "AdversarialBatches",
    "RobustnessCurve",
    "accuracy_of",
    "check_eps",
    "fgsm",
    "format_robustness_table",
    "format_shift_table",
    "pgd",
    "robustness_curve",
    "shift_curves",
    "shifted",
]
