"""The ``cnnzoo`` command.

This module imports nothing heavy: the commands (and PyTorch) load inside :func:`main`, so a
Ctrl-C while they load, or a reader that stops early (``cnnzoo list | head -1``), ends in one
line instead of a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from cnnzoo.cli.commands import run

        code = run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except KeyboardInterrupt:  # a run's own Ctrl-C is handled in `run`: this is start-up
        print("cnnzoo: interrupted (nothing was half-written)", file=sys.stderr)
        return 130  # as shells report Ctrl-C
    except BrokenPipeError:
        # The reader (`| head`) has gone: nothing is wrong and nothing more can be printed.
        # Python's own flush at exit would fail again, so stdout now points nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as shells report a writer stopped by SIGPIPE
