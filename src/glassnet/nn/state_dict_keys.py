"""Matching a state_dict's names to a model's, for ``Module.load_state_dict``.

A model's parameters are found by name. Two things make names differ without anything being
wrong: a parameter used under two names (a GPT's head tied to its token embedding), which files
written by ``safetensors.torch.save_model`` store once, and a prefix, when a file holds a
wrapper's or a bigger model's weights (DistributedDataParallel's ``module.``, a GAN's
``generator.``). The first is accepted; for the second the error says which prefix to add or
remove.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def missing_keys(targets: Mapping[str, Any], state_dict: Mapping[str, Any]) -> list[str]:
    """The model's keys (`targets`: name -> Parameter or buffer) that `state_dict` lacks, not
    counting a tied parameter that the state_dict holds under another of its names."""
    loaded = {id(target) for key, target in targets.items() if key in state_dict}
    return [
        key for key, target in targets.items() if key not in state_dict and id(target) not in loaded
    ]


def prefix_hint(missing: list[str], unexpected: list[str]) -> str | None:
    """A sentence naming the prefix by which the state_dict's keys differ from the model's,
    if every missing key is an unexpected one minus one prefix, or the other way round."""
    if not missing or not unexpected:
        return None
    extra = _common_prefix(missing, unexpected)
    if extra is not None:
        return (
            f"The state_dict holds the model's keys under the prefix {extra!r}: remove it, e.g. "
            f"{{k.removeprefix({extra!r}): v for k, v in state_dict.items() "
            f"if k.startswith({extra!r})}}."
        )
    lacking = _common_prefix(unexpected, missing)
    if lacking is not None:
        return (
            f"The model holds the state_dict's keys under the prefix {lacking!r}: load it into "
            f"that part of the model (model.{lacking.rstrip('.')}), or add the prefix to its keys."
        )
    return None


def _common_prefix(shorter: list[str], longer: list[str]) -> str | None:
    """The prefix P ending in '.' with P + key in `longer` for every key of `shorter`, if any."""
    longer_set = set(longer)
    first = shorter[0]
    for candidate in longer:
        prefix = candidate[: len(candidate) - len(first)]
        if (
            candidate.endswith("." + first)
            and prefix.endswith(".")
            and all(prefix + key in longer_set for key in shorter)
        ):
            return prefix
    return None
