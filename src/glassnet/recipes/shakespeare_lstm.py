"""Recipe: a two-layer LSTM learns to write like Shakespeare, one character at a time.

Tiny Shakespeare (1.1 million characters of the plays, downloaded once and cached) is read as a
stream of characters; the network predicts each next character from all those before it. Its
validation loss, in nats per character, says how surprised it is by text it never saw: uniform
guessing over the 65 characters costs ln 65 = 4.17, a model that knows which letters are common
about 3.3, one that knows words and names and the shape of a play about 1.5. Samples printed along
the way show it learn: first spaces and common letters, then words, then speakers' names, line
breaks and verse. Measured with the defaults on two shared CPU cores (about 10,000 characters a
second): below 1.60 nats per character after 3 minutes, 1.45 after 20 (from about 12 minutes on,
the validation loss stays level while the training loss still falls).

Offline, put ``input.txt`` in a folder and set ``GLASSNET_DATA=/that/folder`` (or pass `root`).
"""

from __future__ import annotations

import os

from ..data.datasets.text import TINY_SHAKESPEARE_URLS, CharCorpus, load_tiny_shakespeare
from ..data.download import DownloadError
from .char_rnn import train_char_rnn


def load_corpus(
    root: str | os.PathLike | None = None, recipe: str = "shakespeare-lstm"
) -> CharCorpus:
    """Tiny Shakespeare, the last 10% held out for validation; a clear SystemExit, naming the
    `recipe` that needs it, when it can be neither found nor downloaded."""
    try:
        text = load_tiny_shakespeare(root)
    except (DownloadError, OSError) as error:
        raise SystemExit(
            f"{recipe} needs Tiny Shakespeare (input.txt, 1.1 MB). It is downloaded from "
            f"{TINY_SHAKESPEARE_URLS[0]} when the internet can be reached; offline, put input.txt "
            "in a folder and set GLASSNET_DATA=/that/folder (or pass root=). "
            f"({error})"
        ) from error
    return CharCorpus(text, name="Tiny Shakespeare")


def run(
    out_dir: str = "runs/shakespeare-lstm",
    epochs: int = 50,
    minutes: float | None = 20.0,
    max_steps: int | None = None,
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
    prompt: str = "ROMEO:",
    root: str | os.PathLike | None = None,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a 2-layer LSTM on Tiny Shakespeare for `minutes` (or `epochs`, or `max_steps`,
    whichever ends first); write loss.png, model.safetensors and model.json to `out_dir`."""
    return train_char_rnn(
        load_corpus(root),
        name="shakespeare-lstm",
        out_dir=out_dir,
        cell="lstm",
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
        sample_chars=200,
        seed=seed,
        progress=progress,
        verbose=verbose,
    )
