"""``cnnzoo lab``: the local web application."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rich.console import Console

__all__ = ["PARSERS"]


def cmd_lab(args: argparse.Namespace, console: Console) -> int:
    from cnnzoo.lab import serve  # the web stack loads only for this command

    serve(args.runs, args.host, args.port, args.open)
    return 0


def _lab_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", default="runs", help="the folder of runs it shows (default: runs)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: the loopback; any other requires the access "
        "token the printed URL carries)",
    )
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    p.add_argument("--open", action="store_true", help="open the lab in the web browser")
    p.set_defaults(run=cmd_lab)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"lab": _lab_options}
