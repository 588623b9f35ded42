"""``python -m cnnzoo.lab`` (and ``cnnzoo lab``, which runs it): serve the lab until Ctrl-C.
The lab is an application of its own beside the command line, as ``jupyter lab`` is beside
``jupyter``; a mistake in its options is one line and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cnnzoo.errors import CnnzooError

__all__ = ["main", "parser"]


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65_535:
        raise argparse.ArgumentTypeError(f"{text!r}: a port is 0 (any free one) to 65535")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnnzoo lab",
        description="The zoo, its runs and its experiments in the browser (a local web app).",
    )
    p.add_argument("--runs", default="runs", help="the folder of runs it shows (default: runs)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: the loopback; any other requires the access "
        "token the printed URL carries)",
    )
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0: any free)")
    p.add_argument("--open", action="store_true", help="open the lab in the web browser")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        from cnnzoo.lab.server import serve  # the web stack loads after the options are read

        serve(args.runs, args.host, args.port, args.open)
    except CnnzooError as error:
        print(f"cnnzoo lab: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
