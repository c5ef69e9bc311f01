"""Looking inside a network: what each layer does to its input and what it has learned.

`summary` tabulates every layer's output shape and parameter count; `count_parameters` counts
the numbers a model learns; `sample_quality` lets a classifier judge generated images.
"""

from .sample_quality import SampleQuality, sample_quality
from .summary import Summary, SummaryRow, count_parameters, print_summary, summary

__all__ = [
    "SampleQuality",
    "Summary",
    "SummaryRow",
    "count_parameters",
    "print_summary",
    "sample_quality",
    "summary",
]
