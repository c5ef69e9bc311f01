"""Training parity for recurrent networks: a 2-layer LSTM language model on Tiny Shakespeare,
trained in glassnet and in PyTorch from the same initial weights on the same batches, the way the
shakespeare-lstm recipe trains (parallel streams, the state carried across batches and detached,
AdamW, gradient clipping). In float64 every step's loss and weights agree to rounding; in float32
the first steps agree, and after 300 steps both have learned to the same absolute bar (where two
float32 runs end drifts apart with every step, so it is not compared)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

import glassnet as gn
from glassnet.data.datasets.text import CharCorpus
from glassnet.models import CharRNN
from glassnet.recipes.char_rnn import detach_state, evaluate_char_rnn
from torch_compare import FLOAT64_RTOL, SideBySide, copy_weights, train_side_by_side

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared/data/tinyshakespeare/input.txt"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not SHAKESPEARE.is_file(), reason=f"Tiny Shakespeare is not at {SHAKESPEARE}"
    ),
]

EMBED, HIDDEN, LAYERS, BATCH, SEQ, STEPS = 32, 128, 2, 32, 64, 300
# float64: measured 1e-15 over the first 20 steps. float32: 2.2e-7 after the first step, 4.4e-7
# after the 20th (6e-7 after the 30th): no gradient entry near Adam's eps for rounding to blow up.
FLOAT32_RTOL = 1e-5
VAL_BAR = 2.2  # validation loss after 300 steps; ln 65 = 4.17 for uniform guessing


class TorchCharRNN(torch.nn.Module):
    """CharRNN written in PyTorch, module for module, so that the state_dict keys match."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab_size, EMBED)
        self.rnn = torch.nn.LSTM(EMBED, HIDDEN, LAYERS, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, vocab_size)

    def forward(self, x, state=None):
        output, state = self.rnn(self.embedding(x), state)
        return self.head(output), state


def torch_val_loss(model: TorchCharRNN, corpus: CharCorpus) -> float:
    """`evaluate_char_rnn` for the torch model: the same streams, the state carried through."""
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for inputs, targets in corpus.stream(32, 256, "val"):
            logits, state = model(torch.from_numpy(inputs.data), state)
            n = targets.data.size
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(n, -1), torch.from_numpy(targets.data).reshape(n)
            )
            total += loss.item() * n
            count += n
    return total / count


def lstms(vocab: int) -> tuple[CharRNN, TorchCharRNN]:
    gn.manual_seed(0)
    ours = CharRNN(vocab, EMBED, HIDDEN, LAYERS, "lstm")
    theirs = TorchCharRNN(vocab)
    copy_weights(ours, theirs)
    return ours, theirs


def carrying_state(model, tensor, cross_entropy, detach):
    """The loss of one batch of the streams, the state carried on from the previous batch and
    cut from the graph (truncated backpropagation through time)."""
    state = None

    def loss(batch):
        nonlocal state
        inputs, targets = (tensor(a) for a in batch)
        logits, out = model(inputs, state)
        state = detach(out)
        return cross_entropy(logits.flatten(0, 1), targets.flatten())

    return loss


def train(
    models: tuple[CharRNN, TorchCharRNN], corpus: CharCorpus, steps: int, record: int
) -> SideBySide:
    ours, theirs = models
    optimizers = (
        gn.optim.AdamW(ours.parameters(), lr=3e-3, weight_decay=0.01),
        torch.optim.AdamW(theirs.parameters(), lr=3e-3, weight_decay=0.01),
    )
    losses = (
        carrying_state(ours, gn.tensor, gn.nn.functional.cross_entropy, detach_state),
        carrying_state(
            theirs,
            torch.from_numpy,
            torch.nn.functional.cross_entropy,
            lambda state: tuple(s.detach() for s in state),
        ),
    )
    batches = itertools.islice(
        ((x.numpy(), y.numpy()) for x, y in corpus.stream(BATCH, SEQ)), steps
    )
    return train_side_by_side(models, optimizers, losses, batches, record, clip=1.0)


def test_lstm_language_model_trains_like_torch():
    corpus = CharCorpus(SHAKESPEARE.read_text(encoding="utf-8"), name="Tiny Shakespeare")
    run = train(tuple(model.double() for model in lstms(len(corpus.vocab))), corpus, 20, 20)
    run.assert_same_steps(20, FLOAT64_RTOL)
    ours, theirs = models = lstms(len(corpus.vocab))
    run = train(models, corpus, STEPS, record=20)
    run.assert_same_steps(20, FLOAT32_RTOL)
    theirs.eval()
    val = evaluate_char_rnn(ours, corpus), torch_val_loss(theirs, corpus)
    print(f"validation loss after {STEPS} steps: glassnet {val[0]:.4f}, torch {val[1]:.4f}")
    assert max(val) < VAL_BAR, val
