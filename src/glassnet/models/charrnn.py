"""A character-level language model: a recurrent network that reads text and predicts the next
character.

Each character's index picks a learned vector (Embedding); a stack of recurrent layers (LSTM, GRU or
a plain RNN) reads the vectors one step at a time, carrying a hidden state that summarises what
came before; a Linear layer turns each step's output into a score for every character of the
vocabulary. Trained to predict the next character everywhere, it writes new text by sampling one
character, feeding it back in, and sampling the next.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.layers import GRU, LSTM, RNN, Dropout, Embedding, Linear
from ..nn.modes import inference
from ..nn.module import Module
from ..random import Generator, as_rng
from ..tensor import Tensor
from .sampling import check_prompt, sample_next

CELLS: dict[str, type[Module]] = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class CharRNN(Module):
    """Embedding -> recurrent layers (batch first) -> dropout -> Linear: next-character scores.

    Args:
        vocab_size: how many distinct characters (the Embedding's rows, the Linear's outputs).
        embed: the length of each character's vector.
        hidden: the recurrent layers' hidden size.
        layers: how many recurrent layers are stacked.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        dropout: dropout between the recurrent layers and before the Linear layer, in training.

    Shape:
        input: int64 ``(N, T)`` character indices (or unbatched ``(T,)``); state: the recurrent
        layer's state (``(h, c)`` for an LSTM, each ``(layers, N, hidden)``), None for zeros.
        ``forward`` returns ``(logits, state)``: logits ``(N, T, vocab_size)`` and the state after
        the last step, to pass to the next call.

    The state_dict's keys (``embedding.weight``, ``rnn.weight_ih_l0``, ..., ``head.weight``) are
    those of the same model written in PyTorch with nn.Embedding, nn.LSTM and nn.Linear.

    Example::

        >>> model = CharRNN(65, embed=32, hidden=128, layers=2)
        >>> logits, state = model(glassnet.randint(0, 65, (4, 10)))
        >>> logits.shape, state[0].shape
        ((4, 10, 65), (2, 4, 128))
        >>> model.generate([5, 7], max_new_tokens=20, temperature=0.8).shape
        (20,)
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int = 64,
        hidden: int = 256,
        layers: int = 2,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"CharRNN: cell must be one of {list(CELLS)}, got {cell!r}")
        self.vocab_size, self.cell = vocab_size, cell
        self.embedding = Embedding(vocab_size, embed)
        self.rnn = CELLS[cell](embed, hidden, layers, batch_first=True, dropout=dropout)
        self.drop = Dropout(dropout)
        self.head = Linear(hidden, vocab_size)

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this model: ``CharRNN(**model.config())``."""
        return {
            "vocab_size": self.vocab_size,
            "embed": self.embedding.embedding_dim,
            "hidden": self.rnn.hidden_size,
            "layers": self.rnn.num_layers,
            "cell": self.cell,
            "dropout": self.drop.p,
        }

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        output, state = self.rnn(self.embedding(x), state)
        return self.head(self.drop(output)), state

    def generate(
        self,
        prompt_ids: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: Generator | np.random.Generator | None = None,
    ) -> np.ndarray:
        """Write `max_new_tokens` characters after `prompt_ids` (a non-empty 1-D sequence of
        indices); returns the new indices (int64 array).

        The prompt is read once; after that each step feeds only the character just chosen,
        with the state carried over. Each character is drawn from softmax(logits /
        `temperature`) restricted to the `top_k` highest scores (all if None), with
        `generator` (glassnet's global one by default). ``temperature=0`` or ``top_k=1``
        always takes the most likely character (greedy decoding)."""
        ids = check_prompt("CharRNN.generate", prompt_ids, temperature, top_k)
        rng = as_rng(generator)
        new = np.empty(max(int(max_new_tokens), 0), dtype=np.int64)
        with inference(self):
            logits, state = self(Tensor(ids[None, :]))
            for k in range(len(new)):
                new[k] = sample_next(logits.data[0, -1], temperature, top_k, rng)
                if k + 1 < len(new):
                    logits, state = self(Tensor(new[None, k : k + 1]), state)
        return new
