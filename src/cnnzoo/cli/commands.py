"""The ``cnnzoo`` commands: parse, call the library, print. Errors are one line, no traceback."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from cnnzoo import __version__
from cnnzoo.anatomy.report import human
from cnnzoo.cli._args import APPLICATIONS, COMMANDS, UsageError, params_text, parse_size
from cnnzoo.errors import CnnzooError, NonFiniteLossError, TrainingInterrupted, os_error_text
from cnnzoo.listing import LISTING, matching

__all__ = ["UsageError", "build_parser", "parse_size", "run"]


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    names = matching(args.pattern or "*", args.family)
    published: dict[str, str] = {}
    if args.pretrained:  # asks torchvision, so PyTorch loads
        from cnnzoo.pretrained import weights_of

        published = {n: ", ".join(w.name for w in weights_of(n)) for n in names}
        names = [n for n in names if published[n]]
    if not names:
        families = sorted({row.family for row in LISTING.values()})
        if args.family and args.family.lower() not in {f.lower() for f in families}:
            raise UsageError(f"no family {args.family!r}; the families: {', '.join(families)}")
        raise UsageError(
            f"no model matches {args.pattern or '*'!r}"
            + (f" in family {args.family!r}" if args.family else "")
            + (" with published weights" if args.pretrained else "")
            + "; patterns are shell wildcards, e.g. 'resnet*' or '*_bn'"
        )
    table = Table(title=f"cnnzoo: {len(names)} models", title_justify="left")
    columns = ["name", "family", "year", "input", "params", "paper's params", "build"]
    for column in columns + (["weights"] if published else []):
        table.add_column(column, justify="right" if "params" in column else "left")
    for name in names:
        row = LISTING[name]  # counted once: no network is built, PyTorch is not even loaded
        c, h, w = row.input_size
        table.add_row(
            name,
            row.family,
            str(row.year),
            f"{c}x{h}x{w}",
            params_text(row.params, row.training_params, row.training_only, human),
            row.paper_params or "-",
            f"variant ({row.deviations})" if row.deviations else "faithful",
            *([published[name]] if published else []),
        )
    console.print(table)
    return 0


def _list_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("pattern", nargs="?", help="shell wildcard on the name, e.g. 'resnet*'")
    p.add_argument("--family", help="only this family, e.g. VGG")
    p.add_argument(
        "--pretrained", action="store_true", help="only models with torchvision's weights"
    )
    p.set_defaults(run=cmd_list)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, that command's options alone (the others listed
    by name): a command imports what it needs, so ``cnnzoo list`` starts without PyTorch."""
    parser = argparse.ArgumentParser(
        prog="cnnzoo", description="The landmark CNNs, faithful to their papers."
    )
    parser.add_argument("--version", action="version", version=f"cnnzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if only is None or only == name:
            fill = _list_options if module == "commands" else _module(module).PARSERS[name]
            fill(p)
    return parser


def _module(name: str) -> Any:
    return importlib.import_module(f"cnnzoo.cli.{name}")


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich would exit with status 1; a closed pipe is the caller's choice, not an error.
        self.quiet = True
        raise BrokenPipeError


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line; what the user got wrong is one line on stderr and exit 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((word for word in argv if not word.startswith("-")), "")
    if chosen in APPLICATIONS and argv[0] == chosen:  # its options, --help too, are its own
        return int(_module(COMMANDS[chosen][0]).launch(argv[1:]))
    args = build_parser(chosen).parse_args(argv)
    # Tables keep their columns when piped or captured: no terminal, no width limit.
    console = _Console() if sys.stdout.isatty() else _Console(width=200)

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        # One line a warning, as the errors are: not Python's file, line and source code.
        print(f"cnnzoo {args.command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            return int(args.run(args, console))
    except NonFiniteLossError as error:
        print(f"cnnzoo {args.command}: error: {error}", file=sys.stderr)
        return 3
    except CnnzooError as error:  # what the user can put right; anything else is a bug
        print(f"cnnzoo {args.command}: error: {error}", file=sys.stderr)
        return 2
    except TrainingInterrupted as interrupted:
        print(f"cnnzoo {args.command}: interrupted: {interrupted}", file=sys.stderr)
        return 130  # as shells report Ctrl-C
    except BrokenPipeError:
        raise  # the reader has gone: main() ends quietly
    except OSError as error:  # a missing file, a full disk, a read-only folder
        print(f"cnnzoo {args.command}: error: {os_error_text(error)}", file=sys.stderr)
        return 2
