"""Training parity for transformers: a 2-layer character GPT on Tiny Shakespeare, trained in
glassnet and in PyTorch from the same initial weights on the same batches (AdamW with the decay
and no-decay groups, gradient clipping). In float64 every step's loss and weights agree to
rounding; in float32 the first steps agree, and after 300 steps both have learned to the same
absolute bar (where two float32 runs end drifts apart with every step, so it is not compared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.data.datasets.text import CharCorpus, random_windows
from glassnet.models import GPT
from torch_compare import FLOAT64_RTOL, SideBySide, train_side_by_side
from torch_twins import TorchGPT

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared/data/tinyshakespeare/input.txt"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not SHAKESPEARE.is_file(), reason=f"Tiny Shakespeare is not at {SHAKESPEARE}"
    ),
]

D_MODEL, LAYERS, HEADS, CONTEXT, BATCH, STEPS, LR = 64, 2, 4, 64, 16, 300, 3e-3
# float64: measured 1.6e-13 after the first step, 1.5e-12 after the 20th. float32: 1e-4 from the
# first step (Adam moves a weight by about lr whatever the size of its gradient, so gradient
# entries near its eps, rarely seen characters' embeddings, carry their rounding into whole
# steps), 2.8e-4 after 10, 6.3e-4 after 20, 1.4e-3 after 40, while the losses stay within 2e-5.
FLOAT32_STEPS, FLOAT32_RTOL = 10, 3e-3
# validation loss after 300 steps: 2.372 in both (ln 65 = 4.17 for uniform guessing)
VAL_BAR = 2.6


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


def gpts(corpus: CharCorpus) -> tuple[GPT, TorchGPT]:
    gn.manual_seed(0)
    ours = GPT(len(corpus.vocab), CONTEXT, D_MODEL, LAYERS, HEADS, dropout=0.0)
    return ours, TorchGPT.copy_of(ours)


def train(models: tuple[GPT, TorchGPT], corpus: CharCorpus, steps: int, record: int) -> SideBySide:
    """`steps` steps on random windows of the training text, as the shakespeare-gpt recipe
    trains (without its warm-up and schedule)."""
    ours, theirs = models
    opt_ours = ours.configure_optimizer(weight_decay=0.1, lr=LR)
    decay_ids = {id(p) for p in opt_ours.param_groups[0]["params"]}
    decay_names = {n for n, p in ours.named_parameters() if id(p) in decay_ids}
    losses = (
        lambda b: ours(gn.tensor(b[0]), gn.tensor(b[1]))[1],
        lambda b: torch.nn.functional.cross_entropy(
            theirs(torch.from_numpy(b[0])).flatten(0, 1), torch.from_numpy(b[1]).flatten()
        ),
    )
    rng = np.random.default_rng(0)
    batches = (
        tuple(t.numpy() for t in random_windows(corpus.train_ids, BATCH, CONTEXT, rng))
        for _ in range(steps)
    )
    optimizers = (opt_ours, torch_optimizer(theirs, decay_names))
    return train_side_by_side(models, optimizers, losses, batches, record, clip=1.0)


def test_gpt_trains_like_torch():
    corpus = CharCorpus(SHAKESPEARE.read_text(encoding="utf-8"), name="Tiny Shakespeare")
    run = train(tuple(model.double() for model in gpts(corpus)), corpus, 20, record=20)
    run.assert_same_steps(20, FLOAT64_RTOL)
    models = gpts(corpus)
    run = train(models, corpus, STEPS, record=FLOAT32_STEPS)
    run.assert_same_steps(FLOAT32_STEPS, FLOAT32_RTOL)
    val = val_losses(*models, corpus)
    print(f"validation loss after {STEPS} steps: glassnet {val[0]:.4f}, torch {val[1]:.4f}")
    assert max(val) < VAL_BAR, val
