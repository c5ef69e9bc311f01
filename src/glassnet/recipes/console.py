"""How a recipe talks while it trains: lines that keep clear of the progress bar, and a clock.

A recipe prints through `writer(verbose)`: with tqdm's progress bar on the screen a plain print
would tear it, so lines go through `tqdm.write`; with `verbose=False` they go nowhere (tests).
"""

from __future__ import annotations

from collections.abc import Callable


def writer(verbose: bool) -> Callable[..., None]:
    """A print-like function: tqdm.write of its arguments joined by spaces, or nothing."""
    if not verbose:
        return lambda *args, **kwargs: None
    from tqdm.auto import tqdm

    return lambda *args: tqdm.write(" ".join(str(a) for a in args))


def clock(seconds: float) -> str:
    """Elapsed time as minutes:seconds, e.g. `` 12:05``."""
    return f"{int(seconds // 60):>3}:{int(seconds % 60):02d}"
