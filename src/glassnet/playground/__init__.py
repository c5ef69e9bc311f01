"""The playground: watch a network learn in the browser, trained by glassnet on the server.

`glassnet playground` starts the web server (`app`, which needs the ``playground`` extra: Starlette
and uvicorn) and opens the page. Each tab gets its own `TrainingSession` (`session`), a glassnet
MLP trained on TensorFlow Playground's 2-D datasets; `settings` reads and writes a lesson's
settings as a URL query string, so that a link reproduces it.
"""

from .session import TrainingSession
from .settings import Settings, SettingsError, format_query, parse_query

__all__ = ["Settings", "SettingsError", "TrainingSession", "format_query", "parse_query"]
