"""What the character-level language model recipes share: training with truncated BPTT, a
validation loss in nats per character, samples along the way, the curve and the saved model.

The training text is read as parallel streams (see `glassnet.data.datasets.text.StreamBatches`):
each batch continues the previous one, so the recurrent state at the end of a batch starts the
next. It is detached first, so the gradient flows back only `seq_len` steps (truncated
backpropagation through time) while the model still sees everything before. Each epoch starts the
streams at a new random offset, so the windows' cut points move. AdamW updates the weights after
gradient clipping (one bad batch cannot throw them far: recurrent gradients can explode), and the
learning rate decays along a cosine from `lr` to a tenth of it over the training budget (epochs
or minutes, whichever ends first). Ctrl-C stops training early and still evaluates and saves.
"""

from __future__ import annotations

import math
import os
import shlex
import time
from collections.abc import Callable
from typing import Any

from .. import manual_seed
from ..data.datasets.text import CharCorpus
from ..io import save_model
from ..models.charrnn import CharRNN
from ..nn import functional as F
from ..nn import inference
from ..nn.utils import clip_grad_norm_
from ..optim import AdamW
from ..plot import plot_series
from ..random import default_generator
from ..train import TrainingDiverged
from .console import clock, writer

FINAL_LR_FRACTION = 0.1


def detach_state(state: Any) -> Any:
    """The recurrent state cut from the graph (a tensor, or a tuple of them for an LSTM)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return None if state is None else state.detach()


def evaluate_char_rnn(
    model: CharRNN, corpus: CharCorpus, split: str = "val", batch_size: int = 32, seq_len: int = 256
) -> float:
    """Mean cross-entropy per character (nats) over the whole split, read as parallel streams with
    the state carried through, in eval mode and without gradients."""
    total, count, state = 0.0, 0, None
    with inference(model):
        for inputs, targets in corpus.stream(batch_size, seq_len, split):
            logits, state = model(inputs, state)
            n = targets.data.size
            total += float(F.cross_entropy(logits.reshape(n, -1), targets.reshape(n)).data) * n
            count += n
    return total / count


def sample_text(
    model: Any, corpus: CharCorpus, prompt: str, length: int, temperature: float = 0.8
) -> str:
    """The prompt and `length` characters the model (a CharRNN or a GPT) writes after it."""
    new = model.generate(corpus.vocab.encode(prompt), length, temperature=temperature)
    return prompt + corpus.vocab.decode(new)


def train_char_rnn(
    corpus: CharCorpus,
    *,
    name: str,
    out_dir: str,
    cell: str,
    embed: int,
    hidden: int,
    layers: int,
    dropout: float,
    batch_size: int,
    seq_len: int,
    lr: float,
    weight_decay: float,
    clip: float,
    epochs: int,
    minutes: float | None,
    max_steps: int | None,
    eval_every: float,
    prompt: str,
    sample_chars: int,
    seed: int,
    progress: bool | None,
    verbose: bool,
) -> dict:
    """Train a CharRNN on `corpus` (see the module docstring), then write ``loss.png``,
    ``model.safetensors`` and ``model.json`` to `out_dir`; returns the numbers.

    `eval_every` is in seconds of training: the validation loss and a sample are printed that
    often (and at the end)."""
    say: Callable[..., None] = writer(verbose)
    manual_seed(seed)
    say(repr(corpus))
    say(f"vocabulary: {corpus.vocab.chars!r}")
    model = CharRNN(len(corpus.vocab), embed, hidden, layers, cell, dropout)
    n_params = sum(p.numel() for p in model.parameters())
    say(model)
    say(f"parameters: {n_params:,}")
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    budget = math.inf if minutes is None else 60.0 * minutes
    steps_per_epoch = len(corpus.stream(batch_size, seq_len, "train"))
    total_steps = epochs * steps_per_epoch
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    say(
        f"training: {steps_per_epoch} batches of {batch_size} x {seq_len} characters per epoch, "
        f"at most {epochs} epochs"
        + (f" or {minutes:g} minutes" if minutes is not None else "")
        + (f" or {max_steps} steps" if max_steps is not None else "")
    )

    history: dict[str, list] = {"step": [], "minutes": [], "loss": [], "val_loss": []}
    rng = default_generator()
    start = last_eval = time.perf_counter()
    step, seen, running, running_chars, stopped = 0, 0, 0.0, 0, "budget"
    evaluating = 0.0  # seconds spent on validation, left out of the training speed

    def report() -> None:
        nonlocal running, running_chars, evaluating
        elapsed = time.perf_counter() - start
        speed = seen / max(elapsed - evaluating, 1e-9)  # characters per second of training
        val = evaluate_char_rnn(model, corpus)
        evaluating += time.perf_counter() - start - elapsed
        train_loss = running / max(running_chars, 1)
        running, running_chars = 0.0, 0
        history["step"].append(step)
        history["minutes"].append(elapsed / 60.0)
        history["loss"].append(train_loss)
        history["val_loss"].append(val)
        say(
            f"{clock(elapsed)}  step {step:>5}  epoch {seen / len(corpus.train_ids):5.2f}  "
            f"lr {optimizer.param_groups[0]['lr']:.2e}  train {train_loss:.3f}  "
            f"val {val:.3f} nats/char ({val / math.log(2):.2f} bits)  "
            f"{speed:,.0f} chars/s"
        )
        say("  " + sample_text(model, corpus, prompt, sample_chars).replace("\n", "\n  "))

    try:
        for epoch in range(epochs):
            offset = 0 if epoch == 0 else int(rng.integers(seq_len))
            state = None
            for inputs, targets in _progress(
                corpus.stream(batch_size, seq_len, "train", offset), epoch, epochs, progress
            ):
                done = max(step / total_steps, (time.perf_counter() - start) / budget)
                if done >= 1.0:
                    raise _Finished
                for group in optimizer.param_groups:
                    group["lr"] = lr * _cosine(done)
                logits, state = model(inputs, state)
                n = targets.data.size
                loss = F.cross_entropy(logits.reshape(n, -1), targets.reshape(n))
                value = float(loss.data)
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"{name}: the loss became {value} at step {step}, before that step "
                        "changed any weight; try a lower lr or a smaller clip"
                    )
                optimizer.zero_grad()
                loss.backward()
                clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                state = detach_state(state)
                step += 1
                seen += n
                running += value * n
                running_chars += n
                if time.perf_counter() - last_eval >= eval_every:
                    report()
                    last_eval = time.perf_counter()
        stopped = "epochs"
    except _Finished:
        pass
    except KeyboardInterrupt:
        stopped = "Ctrl-C"
        say("\nstopped by Ctrl-C: evaluating and saving the model as it is")
    if running_chars or not history["step"]:
        report()
    seconds = time.perf_counter() - start

    os.makedirs(out_dir, exist_ok=True)
    curve = plot_series(
        history["minutes"],
        {"training (running mean)": history["loss"], "validation": history["val_loss"]},
        os.path.join(out_dir, "loss.png"),
        xlabel="minutes of training",
        ylabel="cross-entropy (nats per character)",
        title=f"{name}: {cell.upper()} {layers}x{hidden} on {corpus.name}",
    )
    val_loss = history["val_loss"][-1]
    weights, config = save_model(
        model,
        os.path.join(out_dir, "model.safetensors"),
        extras=dict(
            vocab=corpus.vocab.chars,
            recipe=name,
            corpus=corpus.name,
            val_loss=val_loss,
            steps=step,
            seconds=round(seconds, 1),
            prompt=prompt,
        ),
    )
    sample = sample_text(model, corpus, prompt, 4 * sample_chars)
    say(f"\ntrained {step} steps ({seen / len(corpus.train_ids):.2f} epochs) in {seconds:.0f} s")
    say(f"validation loss: {val_loss:.4f} nats/char ({val_loss / math.log(2):.3f} bits/char)")
    say(f"a sample (temperature 0.8):\n{sample}\n")
    say(f"wrote {curve}, {weights} and {config}")
    say(f"try: glassnet sample {config} --prompt {shlex.quote(prompt)} --length 500")
    return {
        "val_loss": val_loss,
        "history": history,
        "steps": step,
        "seconds": seconds,
        "stopped": stopped,
        "parameters": n_params,
        "sample": sample,
        "files": [curve, weights, config],
    }


class _Finished(Exception):
    """The training budget is spent."""


def _cosine(done: float) -> float:
    """The learning rate's factor after the fraction `done` of training: 1 down to
    FINAL_LR_FRACTION along half a cosine."""
    return FINAL_LR_FRACTION + (1.0 - FINAL_LR_FRACTION) * 0.5 * (1.0 + math.cos(math.pi * done))


def _progress(batches: Any, epoch: int, epochs: int, progress: bool | None) -> Any:
    import sys

    from tqdm.auto import tqdm

    enabled = sys.stderr.isatty() if progress is None else progress
    return tqdm(
        batches, desc=f"epoch {epoch + 1}/{epochs}", disable=not enabled, leave=False, unit="batch"
    )
