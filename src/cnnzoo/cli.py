"""The ``cnnzoo`` command: parses, calls the library, prints. Errors are one line, no traceback."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from cnnzoo import __version__, create_model, list_models, model_info
from cnnzoo.anatomy.trace import at_depth, trace
from cnnzoo.models import UnknownModelError, ZooModel

__all__ = ["main"]


class UsageError(Exception):
    """A bad argument: the message says what was wrong and what is accepted."""


def human(count: float) -> str:
    """12,345,678 -> '12.35M': the way papers print parameter counts."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:.2f}{unit}"
    return f"{count:,.0f}"


def parse_size(text: str) -> tuple[int, int, int]:
    """'3x224x224' (C x H x W) or '224' (a square RGB image)."""
    parts = re.fullmatch(r"\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*[xX×]\s*(\d+))?\s*", text)
    if parts is None:
        raise UsageError(f"--input {text!r} is not a size: write CxHxW like 3x224x224, or 224")
    if parts[2] is None:
        side = int(parts[1])
        size = (3, side, side)
    else:
        size = (int(parts[1]), int(parts[2]), int(parts[3]))
    if min(size) < 1:
        raise UsageError(f"--input {text!r}: channels, height and width must all be >= 1")
    return size


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    names = list_models(args.pattern or "*", family=args.family)
    if not names:
        raise UsageError(
            f"no model matches {args.pattern!r}"
            + (f" in family {args.family!r}" if args.family else "")
            + "; patterns are shell wildcards, e.g. 'resnet*' or '*_bn'"
        )
    table = Table(title=f"cnnzoo: {len(names)} models", title_justify="left")
    for column in ("name", "family", "year", "input", "params", "paper's params", "build"):
        table.add_column(column, justify="right" if "params" in column else "left")
    for name in names:
        info = model_info(name)
        model = create_model(name, device="meta")
        assert isinstance(model, ZooModel)
        paper = info.params.text if info.params else "-"
        build = "faithful" if info.faithful else f"variant ({len(info.deviations)})"
        c, h, w = info.input_size
        table.add_row(name, info.family, str(info.paper.year), f"{c}x{h}x{w}",
                      human(model.num_params()), paper, build)  # fmt: skip
    console.print(table)
    return 0


def cmd_info(args: argparse.Namespace, console: Console) -> int:
    info = model_info(args.name)
    size = parse_size(args.input) if args.input else info.input_size
    model = create_model(args.name, in_chans=size[0], device="meta")
    assert isinstance(model, ZooModel)
    p = info.paper
    console.print(f"[bold]{info.name}[/bold] — {info.summary}")
    console.print(f"paper      {p.authors} ({p.year}). {p.title}. {p.url}")
    console.print(f"family     {info.family}")
    c, h, w = info.input_size
    mh, mw = info.min_input_size
    fixed = " (fixed: the FC layers are sized for it)" if info.fixed_input_size else ""
    console.print(f"input      {c}x{h}x{w}{fixed}; smallest accepted {mh}x{mw}")
    params = model.num_params()
    line = f"params     {params:,} ({human(params)})"
    if info.params:
        line += f"; the paper: {info.params.text} ({info.params.source})"
    console.print(line)
    for label, figure in (("MACs", info.macs), ("top-5 err", info.top5_error),
                          ("CIFAR-10 err", info.cifar10_error)):  # fmt: skip
        if figure is not None:
            console.print(f"{label:<10} {figure.text} ({figure.source})")
    if info.torchvision:
        same = "same network" if info.torchvision_equal else "same keys, different network"
        console.print(f"torchvision models.{info.torchvision}: {same}; its weights load strictly")
    if info.deviations:
        console.print("deviations from the paper:")
        for deviation in info.deviations:
            console.print(f"  - {deviation}")
    else:
        console.print("deviations none: built as the paper describes")
    records = trace(model, size)
    depth = args.depth or next(d for d in (3, 2, 1) if len(at_depth(records, d)) <= 40 or d == 1)
    table = Table(title=f"layers at depth {depth}, input {'x'.join(map(str, size))}",
                  title_justify="left")  # fmt: skip
    for column in ("layer", "type", "output", "params"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for record in at_depth(records, depth):
        table.add_row(record.name, record.type, "x".join(map(str, record.chw)),
                      f"{record.params:,}" if record.params else "")  # fmt: skip
    console.print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnzoo", description="The landmark CNNs, faithful to their papers."
    )
    parser.add_argument("--version", action="version", version=f"cnnzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("list", help="the models, with their papers and parameter counts")
    p.add_argument("pattern", nargs="?", help="shell wildcard on the name, e.g. 'resnet*'")
    p.add_argument("--family", help="only this family, e.g. VGG")
    p.set_defaults(run=cmd_list)
    p = sub.add_parser("info", help="one model: paper, deviations, sizes and its layers")
    p.add_argument("name")
    p.add_argument("--input", help="input size CxHxW (default: the paper's)")
    p.add_argument("--depth", type=int, help="module depth of the layer listing")
    p.set_defaults(run=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return int(args.run(args, console))
    except (UsageError, UnknownModelError, ValueError) as error:
        print(f"cnnzoo {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
