"""Command-line options as data: what a recipe can be told, how each value is read and checked.

`glassnet train RECIPE` builds that recipe's parser from the COMMON options (each offered only if
the recipe's run() takes its parameter) and the recipe's own, declared beside it in the registry.
Defaults are never written here: they come from run()'s signature, so `--help` shows what the
recipe really uses. Every value is read and checked before the recipe starts, and a bad one is
one line naming the option, the value received and what is allowed.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import checks

Parse = Callable[[str, str, str], Any]
"""Reads an option's text: (text, "--flag", where) -> value, or ValueError with the message."""


@dataclass(frozen=True)
class Option:
    """One command-line option of a recipe.

    Args:
        name: the parameter of the recipe's run() it sets, e.g. ``max_steps`` (``--max-steps``).
        parse: reads and checks the text given (see `Parse`); None for a `switch`.
        help: what it does, in a few words; the default is added from run()'s signature.
        metavar: the placeholder shown in `--help`, e.g. ``N`` or ``FILE``.
        flag: the command-line spelling, if not ``--`` + name with dashes.
        switch: for an option that takes no value, the value run() gets when it is given.
        unset: what a default of None means for this option (shown in `--help`).
        requires: options that must be given with this one.
    """

    name: str
    parse: Parse | None
    help: str
    metavar: str | None = None
    flag: str | None = None
    switch: bool | None = None
    unset: str = "chosen by the recipe"
    requires: tuple[str, ...] = ()

    @property
    def cli(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


class OptionError(ValueError):
    """A bad command line: the message is the one line to print."""


# -- readers: text in, a checked value out ---------------------------------------------------------


def _int_or_text(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text  # not an integer: the check says so, quoting it


def _float_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def positive_int(text: str, flag: str, where: str) -> int:
    return checks.positive_int(_int_or_text(text), flag, where)


def non_negative_int(text: str, flag: str, where: str) -> int:
    return checks.non_negative_int(_int_or_text(text), flag, where)


def positive_number(text: str, flag: str, where: str) -> float:
    """A finite number > 0 (a time budget of inf minutes is no budget: leave the option out)."""
    return checks.number(
        _float_or_text(text),
        flag,
        where,
        low=0,
        high=math.inf,
        low_open=True,
        high_open=True,
        expected="a positive finite number",
    )


def between(low: float, high: float) -> Parse:
    """A reader that takes a number from `low` to `high`, both included."""

    def read(value: str, flag: str, where: str) -> float:
        return checks.number_in_range(_float_or_text(value), flag, where, low, high)

    return read


def text(value: str, flag: str, where: str) -> str:
    if not value:
        raise ValueError(f"{where}: {flag} must be non-empty text, got ''")
    return value


def existing_file(value: str, flag: str, where: str) -> str:
    if not os.path.isfile(value):
        raise ValueError(f"{where}: {flag} must be an existing file, got {value!r} (no such file)")
    return value


def folder(value: str, flag: str, where: str) -> str:
    if not value or os.path.isfile(value):
        why = " (that is a file)" if value else ""
        raise ValueError(f"{where}: {flag} must be a folder, got {value!r}{why}")
    return value


def device(value: str, flag: str, where: str) -> str:
    if value != "cpu":
        raise ValueError(
            f"{where}: {flag} must be cpu, got {value!r}: {value} is not available: glassnet has "
            "no GPU backend yet"
        )
    return value


def choice(*allowed: str) -> Parse:
    """A reader that takes one of `allowed`."""

    def read(value: str, flag: str, where: str) -> str:
        if value not in allowed:
            raise ValueError(f"{where}: {flag} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    return read


# -- the options every recipe shares ---------------------------------------------------------------

COMMON: tuple[Option, ...] = (
    Option("seed", non_negative_int, "random seed", "N"),
    Option("epochs", positive_int, "passes over the training data", "N"),
    Option(
        "minutes", positive_number, "training time budget in minutes", "M", unset="no time limit"
    ),
    Option(
        "max_steps", positive_int, "stop after this many optimizer steps", "N", unset="no limit"
    ),
    Option("out_dir", folder, "the run folder, written as it trains", "DIR", flag="--out"),
    Option("device", device, "where to train (cpu: glassnet has no GPU backend yet)", "DEVICE"),
    Option("resume", None, "continue from the last checkpoint in the run folder", switch=True),
    Option(
        "checkpoint_every",
        positive_int,
        "also checkpoint every N steps (besides each epoch's end)",
        "N",
        unset="at epoch ends only",
    ),
    Option(
        "progress", None, "no progress bar, even on a terminal", flag="--no-progress", switch=False
    ),
)
"""Offered to a recipe when its run() takes the parameter; `--out` and `--no-progress` always."""

ALWAYS = ("seed", "out_dir", "progress")

REFUSED = {"resume": "cannot resume"}
"""How the error reads for a common option given to a recipe whose run() does not take it."""


def parameters(run: Callable[..., Any]) -> dict[str, Any]:
    """run()'s keyword parameters and their defaults (inspect.Parameter.empty if none)."""
    return {name: p.default for name, p in inspect.signature(run).parameters.items()}


def options_of(
    own: Sequence[Option], taken: dict[str, Any]
) -> tuple[list[Option], list[Option], list[Option]]:
    """(common, own, hidden): the common options a recipe offers (its own declaration of a name
    wins, e.g. an `epochs` that may be fractional), its own, and the common ones it does not."""
    names = {o.name for o in own}
    common = [o for o in COMMON if o.name not in names and (o.name in ALWAYS or o.name in taken)]
    hidden = [o for o in COMMON if o not in common and o.name not in names]
    return common, list(own), hidden


def _default(option: Option, taken: dict[str, Any], out_default: str) -> str:
    if option.switch is not None:
        return ""
    if option.name == "out_dir":
        return f" (default: {out_default})"
    value = taken.get(option.name, inspect.Parameter.empty)
    if value is inspect.Parameter.empty:
        return ""
    if value is None:
        return f" (default: {option.unset})"
    return f" (default: {value!r})" if isinstance(value, str) else f" (default: {value})"


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, raised as OptionError."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise OptionError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser(recipe: Any, prog: str, out_default: str) -> argparse.ArgumentParser:
    """The parser of `recipe` (a registry entry): its summary, then the common options and its
    own with their defaults. Common options its run() does not take are accepted but hidden, so
    that giving one is a clear error rather than "unrecognized arguments"."""
    taken = parameters(recipe.run)
    common, own, hidden = options_of(recipe.options, taken)
    parser = _Parser(prog=prog, description=recipe.summary, allow_abbrev=False)
    groups = [(parser.add_argument_group("common options"), common)]
    if own:
        groups.append((parser.add_argument_group(f"{recipe.name} options"), own))
    for group, options in groups:
        for option in options:
            _add(group, option, option.help + _default(option, taken, out_default))
    for option in hidden:
        _add(parser, option, argparse.SUPPRESS)
    return parser


def _add(group: Any, option: Option, help: str) -> None:
    if option.switch is not None:
        group.add_argument(option.cli, dest=option.name, action="store_true", help=help)
    else:
        group.add_argument(option.cli, dest=option.name, metavar=option.metavar, help=help)


def read(recipe: Any, argv: Sequence[str], prog: str, out_default: str) -> dict[str, Any]:
    """The keyword arguments for `recipe`'s run() from the command line `argv`: the options
    given, each read and checked, plus `out_dir`. Raises OptionError, one line per problem;
    `--help` prints the recipe's help and exits (SystemExit), as argparse does."""
    args, unknown = build_parser(recipe, prog, out_default).parse_known_args(argv)
    name = recipe.name
    errors = []
    for i, word in enumerate(unknown):
        if word.startswith("-"):
            flag = word.split("=", 1)[0]
            errors.append(f"{prog}: recipe {name!r} does not take {flag} (see {prog} --help)")
        elif i == 0 or not unknown[i - 1].startswith("-"):  # not the value of an unknown option
            errors.append(f"{prog}: unexpected argument {shlex.quote(word)} (see {prog} --help)")
    common, own, hidden = options_of(recipe.options, parameters(recipe.run))
    kwargs: dict[str, Any] = {}
    given = {o.name for o in (*COMMON, *own) if getattr(args, o.name, None) not in (None, False)}
    for option in (*common, *own, *hidden):
        if option.name not in given:
            continue
        offered = option not in hidden
        # --device cpu is right for every recipe (all train on the CPU); only a run() that
        # takes `device` is told
        if not offered and option.name != "device":
            refusal = REFUSED.get(option.name, f"does not take {option.cli}")
            errors.append(f"{prog}: recipe {name!r} {refusal}")
            continue
        value = getattr(args, option.name)
        if option.switch is not None:
            value = option.switch
        else:
            try:
                value = option.parse(value, option.cli, prog)
            except ValueError as error:
                errors.append(str(error))
                continue
        missing = [r for r in option.requires if r not in given]
        if missing:
            needed = " and ".join(_cli(r, own) for r in missing)
            errors.append(f"{prog}: {option.cli} needs {needed} too")
        if offered:
            kwargs[option.name] = value
    if errors:
        raise OptionError("\n".join(errors))
    kwargs.setdefault("out_dir", out_default)
    return kwargs


def _cli(name: str, own: Sequence[Option]) -> str:
    return next(o.cli for o in (*own, *COMMON) if o.name == name)
