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
from typing import Any

import numpy as np

from .. import manual_seed
from ..data.datasets.text import (
    CharCorpus,
    RandomWindows,
    SlidingWindows,
    load_python_source,
    load_tiny_shakespeare,
)
from ..data.download import DownloadError
from ..io import save_model
from ..models.gpt import GPT
from ..nn import inference
from ..optim.lr_scheduler import warmup_cosine
from ..plot import plot_token_attention
from ..random import Generator
from ..tensor import Tensor
from ..train import Trainer
from ..train.checkpoint import CheckpointManager
from .char_rnn import PROMPTS, Reporter, load_shakespeare, sample_text
from .console import writer


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
    earlier window scored count (see `SlidingWindows`). So every character after the first
    `context` is predicted from at least ``context - stride`` characters before it, as when the
    model writes. With ``stride=context`` the windows are disjoint and the first characters of
    each are predicted from almost nothing: for the 20-minute model that read 1.563 nats/char
    instead of 1.541."""
    return windows_loss(
        model, SlidingWindows(corpus.split(split), model.context, stride, batch_size)
    )


def windows_loss(model: GPT, windows: SlidingWindows) -> float:
    """Mean cross-entropy per scored character (nats) over `windows`, in float64, in eval mode
    and without gradients."""
    total = 0.0
    with inference(model):
        for inputs, targets, scored in windows:
            logits = model(Tensor(inputs)).data.astype(np.float64)
            top = logits.max(axis=-1, keepdims=True)
            log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
            picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
            total += float(((log_z - picked) * scored).sum())
    return total / windows.targets_total


class GPTTrainer(Trainer):
    """A GPT's step on random windows, with a per-step learning-rate schedule of `steps` steps.

    With a time budget of `seconds`, a machine slower than planned moves the schedule on by the
    clock (`elapsed()`), so that the learning rate still comes down to its end by the end of the
    budget; training stops once the schedule is complete. Validation data (`SlidingWindows`) is
    scored by `windows_loss`. Other arguments go to `Trainer`.
    """

    def __init__(
        self,
        model: GPT,
        optimizer: Any,
        scheduler: Any,
        *,
        steps: int,
        seconds: float = math.inf,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            model,
            optimizer,
            loss_fn=None,
            metrics=(),
            scheduler=scheduler,
            scheduler_interval="step",
            **kwargs,
        )
        self.steps = steps
        self.seconds = seconds

    def train_step(self, batch: Any) -> dict[str, float]:
        inputs, targets = batch
        if math.isfinite(self.seconds):
            behind = min(self.steps - 1, int(self.steps * self.elapsed() / self.seconds))
            while self.scheduler.last_epoch < behind:
                self.scheduler.step()
        _, loss = self.model(inputs, targets)
        self.backward(loss)
        self.optimizer_step()
        if self.scheduler.last_epoch >= self.steps:
            self.stop_training = True
        return {"loss": float(loss.data)}

    def evaluate(self, data: Any) -> dict[str, float]:
        return {"loss": windows_loss(self.model, data)}

    def get_extra_state(self) -> dict[str, Any]:
        return {"steps": self.steps}


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
    resume: bool = False,
    checkpoint_every: int | None = 200,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a GPT for `minutes` (or `max_steps`, or `epochs` passes over the training text's
    characters, whichever ends first); write loss.png, attention_layer*.png, model.safetensors
    and model.json to `out_dir`, checkpoints to its ``checkpoints`` folder every
    `checkpoint_every` steps (None: after every pass only) and the run log to its metrics.jsonl.
    ``resume=True`` carries on from the newest checkpoint.

    The learning-rate schedule (linear warm-up over `warmup_steps`, then a cosine down to
    `min_lr`) needs its length in steps: with a time budget it is planned from the time of a few
    trial steps (a resumed run keeps the plan it started with). If the machine then runs slower,
    the schedule follows the clock instead (it skips ahead), so it still ends with the budget.
    `eval_every` is in seconds of training: a line and a sample are printed that often, and
    after every pass over the text."""
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
    checkpoints = os.path.join(out_dir, "checkpoints")
    found = CheckpointManager(checkpoints, say=say).latest() if resume else None
    if found is not None:
        steps = int(found[0]["extra"]["steps"])
    else:
        steps = plan_steps(model, text, batch_size, budget, max_steps, rng)
    optimizer = model.configure_optimizer(weight_decay=weight_decay, lr=lr)
    scheduler = warmup_cosine(optimizer, min(warmup_steps, steps - 1), steps, min_lr=min_lr)
    say(
        f"training: {steps} steps of {batch_size} windows of {context} characters "
        f"({steps * batch_size * context / len(text.train_ids):.1f} epochs)"
        + (f", at most {minutes:g} minutes" if minutes is not None else "")
    )
    # an "epoch": as many random windows as the training text has characters
    train_data = RandomWindows(
        text.train_ids,
        batch_size,
        context,
        max(1, len(text.train_ids) // (batch_size * context)),
        generator=rng,
    )
    reporter = Reporter(
        lambda: evaluate_gpt(model, text),
        (lambda g: sample_text(model, text, prompt, 200, generator=g)) if verbose else None,
        say,
        eval_every,
        batch_size * context,
        len(train_data),
        total_steps=steps,
        seed=seed,
    )
    trainer = GPTTrainer(
        model,
        optimizer,
        scheduler,
        steps=steps,
        seconds=budget,
        callbacks=[reporter],
        progress=progress,
        clip_grad_norm=clip,
        checkpoint_dir=checkpoints,
        checkpoint_every=checkpoint_every,
        log_dir=out_dir,
        say=say,
    )
    stopped = "time budget"
    try:
        trainer.fit(
            train_data,
            val_data=SlidingWindows(text.val_ids, model.context),
            max_steps=steps,
            minutes=minutes,
            resume=resume,
        )
        if scheduler.last_epoch >= steps:
            stopped = "schedule complete"
    except KeyboardInterrupt:
        stopped = "Ctrl-C"
        say("\nstopped by Ctrl-C: evaluating and saving the model as it is")
        reporter.report(trainer)
    step, seconds = trainer.global_step, trainer.elapsed()

    files = [
        reporter.plot(
            os.path.join(out_dir, "loss.png"),
            f"shakespeare-gpt: GPT {n_layers}x{d_model} on {text.name}",
        )
    ]
    files += plot_attention(model, text, out_dir)
    val_loss = reporter.curve["val_loss"][-1]
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
        "history": reporter.curve,
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
