"""``cnnzoo lab``: runs the lab (``python -m cnnzoo.lab``), an application beside the command
line rather than a part of it, as ``jupyter lab`` runs ``jupyter-lab``. Its options, ``--help``
included, are the lab's own."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from collections.abc import Callable
from types import FrameType

__all__ = ["PARSERS", "launch"]


def launch(options: list[str]) -> int:
    """Run the lab with ``options`` and return its exit status. The lab runs in a session of
    its own and gets each Ctrl-C (or SIGTERM) from here, once: it stops, keeping what it
    trains, and says so."""
    lab = subprocess.Popen([sys.executable, "-m", "cnnzoo.lab", *options], start_new_session=True)

    def forward(signum: int, frame: FrameType | None) -> None:
        lab.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return lab.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _lab_options(p: argparse.ArgumentParser) -> None:
    # Listed by `cnnzoo --help`; `cnnzoo lab ...` itself goes to `launch` unparsed.
    p.add_argument("options", nargs=argparse.REMAINDER, help="the lab's: --runs, --host, ...")


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"lab": _lab_options}
