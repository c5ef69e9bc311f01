"""Looking inside a network: what each layer does to its input and what it has learned.

`summary` tabulates every layer's output shape and parameter count; `count_parameters` counts
the numbers a model learns; `sample_quality` lets a classifier judge generated images.
Saliency maps (`vanilla_gradient`, `gradient_x_input`, `smoothgrad`, `integrated_gradients`,
`occlusion`) show which pixels a classifier's answer depends on; `plot_saliency` and
`plot_adversarial` draw them, and adversarial examples (see `glassnet.attacks`).
"""

from .pictures import plot_adversarial, plot_saliency
from .saliency import (
    gradient_x_input,
    integrated_gradients,
    occlusion,
    smoothgrad,
    vanilla_gradient,
)
from .sample_quality import SampleQuality, sample_quality
from .summary import Summary, SummaryRow, count_parameters, print_summary, summary

__all__ = [
    "SampleQuality",
    "Summary",
    "SummaryRow",
    "count_parameters",
    "gradient_x_input",
    "integrated_gradients",
    "occlusion",
    "plot_adversarial",
    "plot_saliency",
    "print_summary",
    "sample_quality",
    "smoothgrad",
    "summary",
    "vanilla_gradient",
]
