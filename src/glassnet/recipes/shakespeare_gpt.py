"""Recipe: a small GPT learns to write like Shakespeare, one character at a time.

The same task as shakespeare-lstm, solved with attention instead of recurrence: every position
looks back at all earlier characters of its window (up to `context`) at once, rather than through
a hidden state carried step by step. Training follows the standard GPT recipe: random windows of
the text, AdamW with weight decay on the weight matrices only, a linear warm-up then a cosine
decay of the learning rate, and gradient clipping. Samples are printed as it trains; at the end
the recipe draws which characters each attention head looks at for a piece of the text, measures
how much faster the key/value cache makes writing, and saves the model for `glassnet sample`.

With the defaults (4 layers of width 128 and 4 heads, context 128, batches of 16 windows, learning
rate 6e-3 down to 6e-4) the model reached 1.501 nats/char on the validation text in 20 minutes on
this project's 2-core machine (5,748 steps), and 1.54 in 18.5 minutes on one core; 4-minute
trials picked the batch size and learning rate (batch 32 at 3e-3: 2.07; at 6e-3: 1.89; batch 16
at 6e-3: 1.79).

Tiny Shakespeare is downloaded once and cached (offline: put input.txt in a folder and set
``GLASSNET_DATA=/that/folder``); when it can be had neither way, the model learns the Python
standard library's source instead, which is always on this machine.
"""

from __future__ import annotations

import math
import os
import shlex
import time
from collections.abc import Callable

import numpy as np

from .. import manual_seed
from ..data.datasets.text import CharCorpus, load_python_source, load_tiny_shakespeare
from ..data.download import DownloadError
from ..io import save_model
from ..models.gpt import GPT
from ..nn import inference
from ..nn.utils import clip_grad_norm_
from ..optim.lr_scheduler import warmup_cosine
from ..plot import plot_series, plot_token_attention
from ..random import Generator
from ..tensor import Tensor
from .char_rnn import sample_text
from .console import clock, writer
from .shakespeare_lstm import load_corpus as load_shakespeare

PROMPTS = {"Tiny Shakespeare": "ROMEO:", "Python standard library source": "def "}


def load_corpus(
    corpus: str = "auto", root: str | os.PathLike | None = None, say: Callable = print
) -> CharCorpus:
    """Tiny Shakespeare ("shakespeare"), the standard library's source ("python"), or the first
    of them that can be had ("auto"); the last 10% held out for validation."""
    if corpus not in ("auto", "shakespeare", "python"):
        raise ValueError(
            f"shakespeare-gpt: corpus must be 'auto', 'shakespeare' or 'python', got {corpus!r}"
        )
    if corpus == "shakespeare":
        return load_shakespeare(root, "shakespeare-gpt")
    if corpus == "auto":
        try:
            return CharCorpus(load_tiny_shakespeare(root), name="Tiny Shakespeare")
        except (DownloadError, OSError) as error:
            say(
                f"Tiny Shakespeare could not be had ({type(error).__name__}: {error}); learning "
                "the Python standard library's source instead"
            )
    return CharCorpus(load_python_source(), name="Python standard library source")


def evaluate_gpt(
    model: GPT,
    corpus: CharCorpus,
    split: str = "val",
    batch_size: int = 32,
    stride: int | None = None,
) -> float:
    """Mean cross-entropy per character (nats) over the whole split, in eval mode and without
    gradients.

    The text is read in windows of the model's context that overlap: each starts `stride`
    characters after the one before (half the context by default), and only the characters no
    earlier window scored count. So every character after the first `context` is predicted from
    at least ``context - stride`` characters before it, as when the model writes. With
    ``stride=context`` the windows are disjoint and the first characters of each are predicted
    from almost nothing: for the 20-minute model that read 1.563 nats/char instead of 1.541."""
    ids = corpus.split(split)
    targets_total = len(ids) - 1
    length = min(model.context, targets_total)
    stride = length // 2 if stride is None else stride
    if not 1 <= stride <= length:
        raise ValueError(f"evaluate_gpt: stride must be in [1, {length}], got {stride}")
    starts = list(range(0, targets_total - length + 1, stride))
    if starts[-1] + length < targets_total:  # a last window that ends with the text
        starts.append(targets_total - length)
    # window w scores its positions from first[w] on: the targets that earlier windows did not
    ends = np.array(starts) + length
    first = np.maximum(np.concatenate([[0], ends[:-1]]) - np.array(starts), 0)
    total = 0.0
    with inference(model):
        for b in range(0, len(starts), batch_size):
            rows = np.array(starts[b : b + batch_size])[:, None] + np.arange(length + 1)
            window = ids[rows]
            logits = model(Tensor(window[:, :-1].astype(np.int64))).data.astype(np.float64)
            top = logits.max(axis=-1, keepdims=True)
            log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
            picked = np.take_along_axis(logits, window[:, 1:, None], axis=-1)[..., 0]
            scored = np.arange(length) >= first[b : b + batch_size, None]
            total += float(((log_z - picked) * scored).sum())
    return total / targets_total


def generation_speed(model: GPT, corpus: CharCorpus, prompt: str) -> dict:
    """Characters per second written greedily after `prompt` up to the end of the context window
    (past it, the cache has to be rebuilt at every step; see `GPT.generate`), with and without
    the key/value cache."""
    ids = corpus.vocab.encode(prompt)
    length = max(1, model.context - len(ids))
    speed = {}
    for use_cache in (True, False):
        start = time.perf_counter()
        model.generate(ids, length, temperature=0.0, use_cache=use_cache)
        speed["cached" if use_cache else "uncached"] = length / (time.perf_counter() - start)
    return speed


def run(
    out_dir: str = "runs/shakespeare-gpt",
    minutes: float | None = 20.0,
    max_steps: int | None = None,
    epochs: float | None = None,
    context: int = 128,
    d_model: int = 128,
    n_layers: int = 4,
    n_heads: int = 4,
    dropout: float = 0.0,
    batch_size: int = 16,
    lr: float = 6e-3,
    min_lr: float = 6e-4,
    weight_decay: float = 0.1,
    warmup_steps: int = 100,
    clip: float = 1.0,
    eval_every: float = 120.0,
    corpus: str = "auto",
    prompt: str | None = None,
    root: str | os.PathLike | None = None,
    seed: int = 0,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a GPT for `minutes` (or `max_steps`, or `epochs` passes over the training text's
    characters, whichever ends first); write loss.png, attention_layer*.png, model.safetensors
    and model.json to `out_dir`. `progress` is accepted for the CLI and unused: the recipe
    prints a line (and a sample) every `eval_every` seconds instead of a progress bar.

    The learning-rate schedule (linear warm-up over `warmup_steps`, then a cosine down to
    `min_lr`) needs its length in steps: with a time budget it is planned from the time of a few
    trial steps. If the machine then runs slower, the schedule follows the clock instead (it
    skips ahead), so it still ends with the budget. `eval_every` is in seconds of training."""
    say = writer(verbose)
    manual_seed(seed)
    text = load_corpus(corpus, root, say)
    prompt = prompt if prompt is not None else PROMPTS[text.name]
    say(repr(text))
    model = GPT(len(text.vocab), context, d_model, n_layers, n_heads, dropout)
    n_params = sum(p.numel() for p in model.parameters())
    say(model)
    say(f"parameters: {n_params:,}")
    rng = Generator(seed)
    if epochs is not None:
        by_epochs = max(2, round(epochs * len(text.train_ids) / (batch_size * context)))
        max_steps = by_epochs if max_steps is None else min(max_steps, by_epochs)
    budget = math.inf if minutes is None else 60.0 * minutes
    steps = plan_steps(model, text, batch_size, budget, max_steps, rng)
    optimizer = model.configure_optimizer(weight_decay=weight_decay, lr=lr)
    scheduler = warmup_cosine(optimizer, min(warmup_steps, steps - 1), steps, min_lr=min_lr)
    say(
        f"training: {steps} steps of {batch_size} windows of {context} characters "
        f"({steps * batch_size * context / len(text.train_ids):.1f} epochs)"
        + (f", at most {minutes:g} minutes" if minutes is not None else "")
    )

    history: dict[str, list] = {"step": [], "minutes": [], "loss": [], "val_loss": []}
    start = last_eval = time.perf_counter()
    step, running, running_steps, stopped = 0, 0.0, 0, "schedule complete"

    def report() -> None:
        nonlocal running, running_steps
        elapsed = time.perf_counter() - start
        val = evaluate_gpt(model, text)
        history["step"].append(step)
        history["minutes"].append(elapsed / 60.0)
        history["loss"].append(running / max(running_steps, 1))
        history["val_loss"].append(val)
        say(
            f"{clock(elapsed)}  step {step:>5}/{steps}  lr {optimizer.param_groups[0]['lr']:.2e}"
            f"  train {history['loss'][-1]:.3f}  val {val:.3f} nats/char "
            f"({val / math.log(2):.2f} bits)  "
            f"{step * batch_size * context / max(elapsed, 1e-9):,.0f} chars/s"
        )
        say("  " + sample_text(model, text, prompt, 200).replace("\n", "\n  "))
        running, running_steps = 0.0, 0

    try:
        while scheduler.last_epoch < steps:
            elapsed = time.perf_counter() - start
            if elapsed >= budget:
                stopped = "time budget"
                break
            # a machine slower than planned moves the schedule on by the clock, so that the
            # learning rate still comes down to min_lr by the end of the time budget
            while scheduler.last_epoch < min(steps - 1, int(steps * elapsed / budget)):
                scheduler.step()
            inputs, targets = text.batch(batch_size, context, generator=rng)
            _, loss = model(inputs, targets)
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            scheduler.step()
            value = float(loss.data)
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"shakespeare-gpt: the loss became {value} at step {step}; try a lower lr"
                )
            step += 1
            running += value
            running_steps += 1
            if time.perf_counter() - last_eval >= eval_every:
                report()
                last_eval = time.perf_counter()
    except KeyboardInterrupt:
        stopped = "Ctrl-C"
        say("\nstopped by Ctrl-C: evaluating and saving the model as it is")
    if running_steps or not history["step"]:
        report()
    seconds = time.perf_counter() - start

    os.makedirs(out_dir, exist_ok=True)
    files = [
        plot_series(
            history["minutes"],
            {"training (running mean)": history["loss"], "validation": history["val_loss"]},
            os.path.join(out_dir, "loss.png"),
            xlabel="minutes of training",
            ylabel="cross-entropy (nats per character)",
            title=f"shakespeare-gpt: GPT {n_layers}x{d_model} on {text.name}",
        )
    ]
    files += plot_attention(model, text, out_dir)
    val_loss = history["val_loss"][-1]
    files += save_model(
        model,
        os.path.join(out_dir, "model.safetensors"),
        extras=dict(
            vocab=text.vocab.chars,
            recipe="shakespeare-gpt",
            corpus=text.name,
            val_loss=val_loss,
            steps=step,
            seconds=round(seconds, 1),
            prompt=prompt,
        ),
    )
    sample = sample_text(model, text, prompt, 800)
    speed = generation_speed(model, text, prompt)
    say(f"\ntrained {step} steps in {seconds:.0f} s (stopped by: {stopped})")
    say(f"validation loss: {val_loss:.4f} nats/char ({val_loss / math.log(2):.3f} bits/char)")
    say(f"a sample (temperature 0.8):\n{sample}\n")
    say(
        f"writing speed within the context window: {speed['cached']:,.0f} chars/s with the "
        f"key/value cache, {speed['uncached']:,.0f} without"
    )
    say(f"wrote {', '.join(files)}")
    say(f"try: glassnet sample {files[-1]} --prompt {shlex.quote(prompt)} --length 500")
    return {
        "val_loss": val_loss,
        "history": history,
        "steps": step,
        "seconds": seconds,
        "stopped": stopped,
        "parameters": n_params,
        "sample": sample,
        "generation_speed": speed,
        "files": files,
    }


def plan_steps(
    model: GPT,
    text: CharCorpus,
    batch_size: int,
    budget: float,
    max_steps: int | None,
    rng: Generator,
) -> int:
    """How many steps fit: `max_steps`, or as many as 90% of the time `budget` allows at the
    speed of three trial forward and backward passes (the weights are not changed)."""
    if math.isinf(budget):
        if max_steps is None:
            raise ValueError("shakespeare-gpt: give minutes, max_steps or both")
        return max_steps
    times = []
    for _ in range(3):
        inputs, targets = text.batch(batch_size, model.context, generator=rng)
        began = time.perf_counter()
        _, loss = model(inputs, targets)
        loss.backward()
        times.append(time.perf_counter() - began)
    model.zero_grad()
    affordable = max(2, int(0.9 * budget / min(times)))
    return affordable if max_steps is None else min(max_steps, affordable)


def plot_attention(model: GPT, text: CharCorpus, out_dir: str, length: int = 40) -> list[str]:
    """The first and the last layer's attention over the first `length` characters of the
    validation text, one heatmap per head."""
    ids = text.val_ids[: min(length, model.context)]
    with inference(model):
        maps = model.attention_maps(Tensor(ids[None, :].astype(np.int64)))
    chars = text.vocab.decode(ids)
    layers = sorted({0, len(maps) - 1})
    return [
        plot_token_attention(
            chars,
            maps[i][0],
            os.path.join(out_dir, f"attention_layer{i + 1}.png"),
            title=f"layer {i + 1}: which earlier characters each position looks at",
        )
        for i in layers
    ]
