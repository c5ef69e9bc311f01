"""Recipe: a GRU learns to write Python by reading the Python standard library.

No download: the corpus is this machine's own Python installation, the top-level modules of its
standard library (see `glassnet.data.datasets.text.load_python_source`), about a million
characters of real, well-written code. A two-layer GRU reads it character by character and learns
indentation, keywords, names that recur, docstrings, brackets that close. Its samples soon look
like Python at a glance; whether they run is another matter. Measured: 1.27 nats per character on
the held-out source after 5 minutes on two CPU cores.
"""

from __future__ import annotations

from ..data.datasets.text import PYTHON_SOURCE_CHARS, CharCorpus, load_python_source
from .char_rnn import train_char_rnn


def run(
    out_dir: str = "runs/python-gru",
    epochs: int = 50,
    minutes: float | None = 10.0,
    max_steps: int | None = None,
    max_chars: int = PYTHON_SOURCE_CHARS,
    embed: int = 64,
    hidden: int = 256,
    layers: int = 2,
    dropout: float = 0.1,
    batch_size: int = 32,
    seq_len: int = 64,
    lr: float = 5e-3,
    weight_decay: float = 0.01,
    clip: float = 1.0,
    eval_every: float = 60.0,
    prompt: str = "def ",
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a 2-layer GRU on `max_chars` characters of the standard library's source for
    `minutes` (or `epochs`, or `max_steps`); write loss.png, model.safetensors and model.json."""
    corpus = CharCorpus(load_python_source(max_chars), name="Python standard library source")
    return train_char_rnn(
        corpus,
        name="python-gru",
        out_dir=out_dir,
        cell="gru",
        embed=embed,
        hidden=hidden,
        layers=layers,
        dropout=dropout,
        batch_size=batch_size,
        seq_len=seq_len,
        lr=lr,
        weight_decay=weight_decay,
        clip=clip,
        epochs=epochs,
        minutes=minutes,
        max_steps=max_steps,
        eval_every=eval_every,
        prompt=prompt,
        sample_chars=300,
        seed=seed,
        progress=progress,
        verbose=verbose,
    )
