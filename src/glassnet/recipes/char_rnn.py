"""Recipes: a recurrent network learns to write, one character at a time.

Two presets of one recipe. ``shakespeare-lstm``: a two-layer LSTM reads Tiny Shakespeare (1.1
million characters of the plays, downloaded once and cached; offline, put ``input.txt`` in a
folder and set ``GLASSNET_DATA=/that/folder``). ``python-gru``: a two-layer GRU reads this
machine's own Python standard library (about a million characters of code, no download) and
learns indentation, keywords, names that recur, docstrings, brackets that close.

The network predicts each next character from all those before it. Its validation loss, in nats
per character, says how surprised it is by text it never saw: uniform guessing over Shakespeare's
65 characters costs ln 65 = 4.17, a model that knows which letters are common about 3.3, one
that knows words and names and the shape of a play about 1.5. Samples printed along the way show
it learn. Measured with the defaults on two shared CPU cores (about 10,000 characters a second):
Shakespeare below 1.60 nats per character after 3 minutes, 1.45 after 20 (from about 12 minutes
on, the validation loss stays level while the training loss still falls); Python 1.27 after 5.

The training text is read as parallel streams (`glassnet.data.datasets.text.ShiftingStreams`):
each batch continues the previous one, so the recurrent state at the end of a batch starts the
next. It is detached first, so the gradient flows back only `seq_len` steps (truncated
backpropagation through time) while the model still sees everything before. Each epoch starts the
streams at a new random offset, so the windows' cut points move. AdamW updates the weights after
gradient clipping (one bad batch cannot throw them far: recurrent gradients can explode), and the
learning rate decays along a cosine from `lr` to a tenth of it over the training budget (epochs,
steps or minutes, whichever ends first). Checkpoints every `checkpoint_every` steps let
``resume=True`` carry on exactly where a run stopped; Ctrl-C stops training early and still
evaluates and saves.
"""

from __future__ import annotations

import math
import os
import shlex
from collections.abc import Callable
from typing import Any

from .. import manual_seed
from ..data.datasets.text import (
    PYTHON_SOURCE_CHARS,
    TINY_SHAKESPEARE_URLS,
    CharCorpus,
    ShiftingStreams,
    load_python_source,
    load_tiny_shakespeare,
)
from ..data.download import DownloadError
from ..io import save_model
from ..models.charrnn import CharRNN
from ..nn import functional as F
from ..nn import inference
from ..optim import AdamW
from ..plot import plot_series
from ..random import Generator
from ..tensor import Tensor
from ..train import Callback, Trainer
from .console import clock, writer

FINAL_LR_FRACTION = 0.1
PROMPTS = {"Tiny Shakespeare": "ROMEO:", "Python standard library source": "def "}
"""The prompt a recipe writes its samples after, by corpus."""


def load_shakespeare(
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


def load_corpus(
    corpus: str = "shakespeare",
    root: str | os.PathLike | None = None,
    max_chars: int | None = None,
    recipe: str = "shakespeare-lstm",
) -> CharCorpus:
    """Tiny Shakespeare ("shakespeare", see `load_shakespeare`) or the standard library's source
    ("python"), cut to its first `max_chars` characters if given; the last 10% for validation."""
    if corpus == "python":
        text = load_python_source(PYTHON_SOURCE_CHARS if max_chars is None else max_chars)
        return CharCorpus(text, name="Python standard library source")
    if corpus != "shakespeare":
        raise ValueError(f"{recipe}: corpus must be 'shakespeare' or 'python', got {corpus!r}")
    whole = load_shakespeare(root, recipe)
    if max_chars is None:
        return whole
    return CharCorpus(whole.text[:max_chars], name=whole.name, vocab=whole.vocab)


def detach_state(state: Any) -> Any:
    """The recurrent state cut from the graph (a tensor, or a tuple of them for an LSTM)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return None if state is None else state.detach()


def stream_loss(model: CharRNN, batches: Any) -> float:
    """Mean cross-entropy per character (nats) over parallel streams (`StreamBatches`), the
    state carried from batch to batch, in eval mode and without gradients."""
    total, count, state = 0.0, 0, None
    with inference(model):
        for inputs, targets in batches:
            logits, state = model(inputs, state)
            n = targets.data.size
            total += float(F.cross_entropy(logits.reshape(n, -1), targets.reshape(n)).data) * n
            count += n
    return total / count


def evaluate_char_rnn(
    model: CharRNN, corpus: CharCorpus, split: str = "val", batch_size: int = 32, seq_len: int = 256
) -> float:
    """Mean cross-entropy per character (nats) over the whole split, read as parallel streams with
    the state carried through (see `stream_loss`)."""
    return stream_loss(model, corpus.stream(batch_size, seq_len, split))


def sample_text(
    model: Any,
    corpus: CharCorpus,
    prompt: str,
    length: int,
    temperature: float = 0.8,
    generator: Generator | None = None,
) -> str:
    """The prompt and `length` characters the model (a CharRNN or a GPT) writes after it, drawn
    with `generator` (glassnet's global one by default)."""
    new = model.generate(
        corpus.vocab.encode(prompt), length, temperature=temperature, generator=generator
    )
    return prompt + corpus.vocab.decode(new)


class CharRNNTrainer(Trainer):
    """Truncated backpropagation through time with a cosine learning rate.

    The recurrent state at the end of one batch starts the next, detached from the graph (the
    gradient flows back through one batch only); it is reset at the start of every epoch and
    saved in checkpoints, so a run resumed part-way through an epoch carries on exactly. Before
    each step the learning rate is set to `lr` times a factor that falls along half a cosine
    from 1 to FINAL_LR_FRACTION as training uses up `total_steps` steps or `seconds` of
    training time (`elapsed()`), whichever goes faster. Validation data (`StreamBatches`) is
    scored by `stream_loss`. Other arguments go to `Trainer`.
    """

    def __init__(
        self,
        model: CharRNN,
        optimizer: Any,
        *,
        lr: float,
        total_steps: int,
        seconds: float = math.inf,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, optimizer, loss_fn=None, metrics=(), **kwargs)
        self.lr = lr
        self.total_steps = total_steps
        self.seconds = seconds
        self.state: Any = None

    def on_epoch_start(self) -> None:
        self.state = None

    def train_step(self, batch: Any) -> dict[str, float]:
        inputs, targets = batch
        done = self.global_step / self.total_steps
        if math.isfinite(self.seconds):
            done = max(done, self.elapsed() / self.seconds)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * cosine_factor(min(done, 1.0))
        logits, state = self.model(inputs, self.state)
        n = targets.data.size
        loss = F.cross_entropy(logits.reshape(n, -1), targets.reshape(n))
        self.backward(loss)
        self.optimizer_step()
        self.state = detach_state(state)
        return {"loss": float(loss.data)}

    def evaluate(self, data: Any) -> dict[str, float]:
        return {"loss": stream_loss(self.model, data)}

    def get_extra_state(self) -> dict[str, Any]:
        state = self.state
        if isinstance(state, tuple):
            return {"state": tuple(s.data for s in state)}
        return {"state": None if state is None else state.data}

    def set_extra_state(self, extra: dict[str, Any]) -> None:
        state = extra["state"]
        if isinstance(state, tuple):
            self.state = tuple(Tensor(s) for s in state)
        else:
            self.state = None if state is None else Tensor(state)


def cosine_factor(done: float) -> float:
    """The learning rate's factor after the fraction `done` of training: 1 down to
    FINAL_LR_FRACTION along half a cosine."""
    return FINAL_LR_FRACTION + (1.0 - FINAL_LR_FRACTION) * 0.5 * (1.0 + math.cos(math.pi * done))


class Reporter(Callback):
    """Says how a language model's training goes: a line every `every` seconds of training and
    after every epoch (the step, the learning rate, the training loss since the line before,
    the validation loss in nats and bits per character, the speed) and a sample of its writing;
    keeps those points (``curve``) for the loss plot.

    Args:
        validate: returns the validation loss (called for timed lines; after an epoch the
            trainer's own ``val_loss`` is used).
        sample: writes a sample with the generator it is given; None for no samples.
        say: where the lines go.
        every: seconds of training between lines.
        chars_per_step: characters each step reads (for the speed).
        steps_per_epoch: for the epoch count shown.
        total_steps: shown as step N/total when given.
        seed: of the samples' own generator, which keeps them from moving the training's
            random draws (a run is the same whether it prints or not).
    """

    def __init__(
        self,
        validate: Callable[[], float],
        sample: Callable[[Generator], str] | None,
        say: Callable[..., Any],
        every: float,
        chars_per_step: int,
        steps_per_epoch: int,
        total_steps: int | None = None,
        seed: int = 0,
    ) -> None:
        self.validate = validate
        self.sample = sample
        self.say = say
        self.every = every
        self.chars_per_step = chars_per_step
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = total_steps
        self.generator = Generator(seed)
        self.curve: dict[str, list[float]] = {"step": [], "minutes": [], "loss": [], "val_loss": []}
        self.loss_sum, self.losses = 0.0, 0
        self.last_time, self.last_step = 0.0, 0

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        self.loss_sum += logs["loss"]
        self.losses += 1
        if trainer.elapsed() - self.last_time >= self.every:
            self.report(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self.report(trainer, logs.get("val_loss"))

    def report(self, trainer: Trainer, val_loss: float | None = None) -> float:
        """Print a line (and a sample) now; returns the validation loss."""
        elapsed = trainer.elapsed()
        steps = trainer.global_step - self.last_step
        speed = steps * self.chars_per_step / max(elapsed - self.last_time, 1e-9)
        val = self.validate() if val_loss is None else val_loss
        train = self.loss_sum / self.losses if self.losses else math.nan
        for key, value in zip(self.curve, (trainer.global_step, elapsed / 60.0, train, val)):
            self.curve[key].append(value)
        total = "" if self.total_steps is None else f"/{self.total_steps}"
        lr = trainer.optimizer.param_groups[0]["lr"]
        self.say(
            f"{clock(elapsed)}  step {trainer.global_step:>5}{total}  "
            f"epoch {trainer.global_step / self.steps_per_epoch:5.2f}  lr {lr:.2e}  "
            f"train {train:.3f}  val {val:.3f} nats/char ({val / math.log(2):.2f} bits)  "
            f"{speed:,.0f} chars/s"
        )
        if self.sample is not None:
            self.say("  " + self.sample(self.generator).replace("\n", "\n  "))
        self.loss_sum, self.losses = 0.0, 0
        self.last_time, self.last_step = trainer.elapsed(), trainer.global_step
        return val

    def plot(self, path: str, title: str) -> str:
        """The loss curve: the training loss (running mean) and the validation loss of every
        line, against minutes of training; returns `path`."""
        return plot_series(
            self.curve["minutes"],
            {"training (running mean)": self.curve["loss"], "validation": self.curve["val_loss"]},
            path,
            xlabel="minutes of training",
            ylabel="cross-entropy (nats per character)",
            title=title,
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "curve": {k: list(v) for k, v in self.curve.items()},
            "running": [self.loss_sum, self.losses],
            "last": [self.last_time, self.last_step],
            "generator": self.generator.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.curve = {k: list(v) for k, v in state["curve"].items()}
        self.loss_sum, self.losses = state["running"]
        self.last_time, self.last_step = state["last"]
        self.generator.rng.bit_generator.state = state["generator"]


def run(
    out_dir: str | None = None,
    corpus: str = "shakespeare",
    cell: str = "lstm",
    epochs: int = 50,
    minutes: float | None = 20.0,
    max_steps: int | None = None,
    max_chars: int | None = None,
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
    prompt: str | None = None,
    sample_chars: int = 200,
    root: str | os.PathLike | None = None,
    seed: int = 0,
    resume: bool = False,
    checkpoint_every: int | None = 200,
    progress: bool | None = None,
    verbose: bool = True,
) -> dict:
    """Train a CharRNN (`cell` "lstm" or "gru") on `corpus` ("shakespeare" or "python", its
    first `max_chars` characters if given) for `minutes` (or `epochs`, or `max_steps`,
    whichever ends first); write loss.png, model.safetensors and model.json to `out_dir`
    (default ``runs/<corpus>-<cell>``), checkpoints to its ``checkpoints`` folder every
    `checkpoint_every` steps (None: at epoch ends only) and the run log to its metrics.jsonl.
    ``resume=True`` carries on from the newest checkpoint. `eval_every` is in seconds of
    training: the validation loss and a sample are printed that often (and after every epoch).
    Returns the numbers."""
    name = f"{corpus}-{cell}"
    out_dir = out_dir or f"runs/{name}"
    say: Callable[..., None] = writer(verbose)
    manual_seed(seed)
    text = load_corpus(corpus, root, max_chars, name)
    prompt = PROMPTS[text.name] if prompt is None else prompt
    say(repr(text))
    say(f"vocabulary: {text.vocab.chars!r}")
    model = CharRNN(len(text.vocab), embed, hidden, layers, cell, dropout)
    n_params = sum(p.numel() for p in model.parameters())
    say(model)
    say(f"parameters: {n_params:,}")
    train_data = ShiftingStreams(text.train_ids, batch_size, seq_len)
    total_steps = epochs * len(train_data)
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    say(
        f"training: {len(train_data)} batches of {batch_size} x {seq_len} characters per "
        f"epoch, at most {epochs} epochs"
        + (f" or {minutes:g} minutes" if minutes is not None else "")
        + (f" or {max_steps} steps" if max_steps is not None else "")
    )
    reporter = Reporter(
        lambda: evaluate_char_rnn(model, text),
        (lambda g: sample_text(model, text, prompt, sample_chars, generator=g))
        if verbose
        else None,
        say,
        eval_every,
        batch_size * seq_len,
        len(train_data),
        seed=seed,
    )
    os.makedirs(out_dir, exist_ok=True)
    trainer = CharRNNTrainer(
        model,
        AdamW(model.parameters(), lr=lr, weight_decay=weight_decay),
        lr=lr,
        total_steps=total_steps,
        seconds=math.inf if minutes is None else 60.0 * minutes,
        callbacks=[reporter],
        progress=progress,
        clip_grad_norm=clip,
        checkpoint_dir=os.path.join(out_dir, "checkpoints"),
        checkpoint_every=checkpoint_every,
        log_dir=out_dir,
        say=say,
    )
    stopped = "budget"
    try:
        trainer.fit(
            train_data,
            epochs,
            text.stream(32, 256, "val"),
            max_steps=max_steps,
            minutes=minutes,
            resume=resume,
        )
        if trainer.epoch >= epochs:
            stopped = "epochs"
    except KeyboardInterrupt:
        stopped = "Ctrl-C"
        say("\nstopped by Ctrl-C: evaluating and saving the model as it is")
        reporter.report(trainer)
    steps, seconds = trainer.global_step, trainer.elapsed()
    curve = reporter.plot(
        os.path.join(out_dir, "loss.png"),
        f"{name}: {cell.upper()} {layers}x{hidden} on {text.name}",
    )
    val_loss = reporter.curve["val_loss"][-1]
    weights, config = save_model(
        model,
        os.path.join(out_dir, "model.safetensors"),
        extras=dict(
            vocab=text.vocab.chars,
            recipe=name,
            corpus=text.name,
            val_loss=val_loss,
            steps=steps,
            seconds=round(seconds, 1),
            prompt=prompt,
        ),
    )
    sample = sample_text(model, text, prompt, 4 * sample_chars)
    say(f"\ntrained {steps} steps ({steps / len(train_data):.2f} epochs) in {seconds:.0f} s")
    say(f"validation loss: {val_loss:.4f} nats/char ({val_loss / math.log(2):.3f} bits/char)")
    say(f"a sample (temperature 0.8):\n{sample}\n")
    say(f"wrote {curve}, {weights} and {config}")
    say(f"try: glassnet sample {config} --prompt {shlex.quote(prompt)} --length 500")
    return {
        "val_loss": val_loss,
        "history": reporter.curve,
        "steps": steps,
        "seconds": seconds,
        "stopped": stopped,
        "parameters": n_params,
        "sample": sample,
        "files": [curve, weights, config],
    }
