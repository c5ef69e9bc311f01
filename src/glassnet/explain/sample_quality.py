"""Judging generated images with a classifier: are they recognisable, and is every class there?

A generative model has no test accuracy. One way to score its samples without a person looking
(and without downloading a reference network) is to train an ordinary classifier on the real
images and let it read the generated ones:

- confidence: a recognisable "7" gets a sharp prediction, a blot between classes does not. We
  count the samples whose top class probability is above a threshold (0.9 by default);
- coverage: which classes the confident samples fall in. A generator that draws only 1s can be
  confident and still useless ("mode collapse"); all 10 digits should appear;
- an Inception-Score-like number, exp(mean over samples of KL(p(y | x) || p(y))), with p(y) the
  average prediction over the samples. It is high when each sample is sharp and the samples
  together spread over the classes: from 1 (all alike, or all unsure) up to the number of
  classes (every sample certain, classes equally often). The Inception Score (Salimans et al.,
  2016) is this with an ImageNet network; ours uses the small classifier, so its values are only
  comparable between models judged by the same classifier.

These are proxies: a classifier can be sure of an image that a person would reject, and they
say nothing about whether the samples are new rather than copies of the training images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn import functional as F
from ..nn.module import Module
from ..tensor import Tensor
from ..train import predict


@dataclass
class SampleQuality:
    """What a classifier makes of a set of generated images (see the module's docstring)."""

    samples: int
    threshold: float
    confident_fraction: float  # share of samples with top probability > threshold
    classes_covered: int  # classes among the confident samples
    class_counts: np.ndarray  # confident samples per class
    inception_score: float
    mean_confidence: float
    predicted: np.ndarray  # each sample's top class
    confidence: np.ndarray  # each sample's top probability

    def __str__(self) -> str:
        counts = " ".join(f"{c}:{n}" for c, n in enumerate(self.class_counts.tolist()))
        return (
            f"{self.confident_fraction:.1%} of {self.samples} samples classified with confidence "
            f"> {self.threshold:g}; {self.classes_covered} of {len(self.class_counts)} classes "
            f"among them ({counts}); mean confidence {self.mean_confidence:.3f}; "
            f"inception-like score {self.inception_score:.2f}"
        )


def class_probabilities(classifier: Module, images: Tensor, batch_size: int = 512) -> np.ndarray:
    """The classifier's softmax probabilities for each image, computed in eval mode, float64."""
    logits = predict(classifier, images, batch_size=batch_size)
    return F.softmax(logits, dim=1).numpy().astype(np.float64)


def inception_like_score(probabilities: np.ndarray) -> float:
    """exp(mean_i KL(p(y | x_i) || p(y))) for rows of class probabilities, p(y) their mean."""
    p = np.clip(probabilities, 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(axis=1).mean()))


def sample_quality(
    classifier: Module,
    images: Tensor,
    threshold: float = 0.9,
    num_classes: int | None = None,
) -> SampleQuality:
    """Score generated `images` with a `classifier` trained on the real ones.

    Args:
        classifier: maps a batch of images (the same shape and pixel scale as its training
            images) to class scores ``(N, classes)``.
        images: the generated images.
        threshold: a sample counts as confident when its top probability is above this.
        num_classes: the number of classes (default: the classifier's number of outputs).
    """
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"sample_quality: threshold must be in [0, 1), got {threshold}")
    if len(images) == 0:
        raise ValueError("sample_quality: no images to score")
    probabilities = class_probabilities(classifier, images)
    classes = probabilities.shape[1] if num_classes is None else num_classes
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    confident = confidence > threshold
    counts = np.bincount(predicted[confident], minlength=classes)
    return SampleQuality(
        samples=len(predicted),
        threshold=threshold,
        confident_fraction=float(confident.mean()),
        classes_covered=int((counts > 0).sum()),
        class_counts=counts,
        inception_score=inception_like_score(probabilities),
        mean_confidence=float(confidence.mean()),
        predicted=predicted,
        confidence=confidence,
    )
