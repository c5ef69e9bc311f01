"""Training parity for transformers: a 2-layer character GPT on Tiny Shakespeare, trained in
glassnet and in PyTorch from the same initial weights on the same batches (AdamW with the decay
and no-decay groups, gradient clipping), ends with the same validation loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.data.datasets.text import CharCorpus, random_windows
from glassnet.models import GPT
from torch_twins import TorchGPT

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared/data/tinyshakespeare/input.txt"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not SHAKESPEARE.is_file(), reason=f"Tiny Shakespeare is not at {SHAKESPEARE}"
    ),
]

D_MODEL, LAYERS, HEADS, CONTEXT, BATCH, STEPS, LR = 64, 2, 4, 64, 16, 300, 3e-3


def torch_optimizer(model: TorchGPT, decay_names: set[str]) -> torch.optim.AdamW:
    """The optimizer of `GPT.configure_optimizer`, over the torch twin's parameters."""
    named = list(model.named_parameters())
    return torch.optim.AdamW(
        [
            {"params": [p for n, p in named if n in decay_names], "weight_decay": 0.1},
            {"params": [p for n, p in named if n not in decay_names], "weight_decay": 0.0},
        ],
        lr=LR,
        betas=(0.9, 0.95),
    )


def val_losses(ours: GPT, theirs: TorchGPT, corpus: CharCorpus) -> tuple[float, float]:
    """Mean cross-entropy over the whole validation text, read in windows of CONTEXT."""
    totals = [0.0, 0.0]
    count = 0
    with gn.no_grad(), torch.no_grad():
        for inputs, targets in corpus.stream(32, CONTEXT, "val"):
            n = targets.data.size
            _, loss = ours(inputs, targets)
            ref = torch.nn.functional.cross_entropy(
                theirs(torch.from_numpy(inputs.data)).reshape(n, -1),
                torch.from_numpy(targets.data).reshape(n),
            )
            totals[0] += loss.item() * n
            totals[1] += ref.item() * n
            count += n
    return totals[0] / count, totals[1] / count


def test_gpt_trains_like_torch():
    corpus = CharCorpus(SHAKESPEARE.read_text(encoding="utf-8"), name="Tiny Shakespeare")
    gn.manual_seed(0)
    ours = GPT(len(corpus.vocab), CONTEXT, D_MODEL, LAYERS, HEADS, dropout=0.0)
    theirs = TorchGPT.copy_of(ours)
    opt_ours = ours.configure_optimizer(weight_decay=0.1, lr=LR)
    decay_ids = {id(p) for p in opt_ours.param_groups[0]["params"]}
    decay_names = {n for n, p in ours.named_parameters() if id(p) in decay_ids}
    opt_theirs = torch_optimizer(theirs, decay_names)
    rng = np.random.default_rng(0)
    losses: list[list[float]] = [[], []]
    for _ in range(STEPS):
        inputs, targets = random_windows(corpus.train_ids, BATCH, CONTEXT, rng)
        _, loss = ours(inputs, targets)
        opt_ours.zero_grad()
        loss.backward()
        gn.nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
        opt_ours.step()

        logits = theirs(torch.from_numpy(inputs.data))
        ref = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), torch.from_numpy(targets.data).reshape(-1)
        )
        opt_theirs.zero_grad()
        ref.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        opt_theirs.step()
        losses[0].append(loss.item())
        losses[1].append(ref.item())

    # step by step at first (float32 rounding only), then the same place at the end
    np.testing.assert_allclose(losses[0][:20], losses[1][:20], rtol=1e-3)
    val_ours, val_theirs = val_losses(ours, theirs, corpus)
    assert val_ours < 2.6, val_ours  # it learned: ln 65 = 4.17 for uniform guessing
    assert abs(val_ours - val_theirs) / val_theirs < 0.01, (val_ours, val_theirs)
