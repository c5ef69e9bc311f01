"""Run the `glassnet` command with every checkpoint write held open for half a second.

Test instrumentation for tests/test_resume_after_kill.py: the temporary file of a checkpoint
exists for a moment long enough to kill the process while it is being written.
"""

from __future__ import annotations

import sys
import time

import glassnet.train.checkpoint as checkpoint
from glassnet.cli import main

_write = checkpoint._atomic_write


def _slow_write(path, write):
    def held(file):
        time.sleep(0.5)
        return write(file)

    return _write(path, held)


checkpoint._atomic_write = _slow_write

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
