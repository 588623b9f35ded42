"""The commands that look into networks: ``info``, ``summary``, ``conv``, ``compare`` and
``design``."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from cnnzoo import create_model, list_models, model_info
from cnnzoo.anatomy import GeometryError, GeometryWarning, analyze, conv_arithmetic
from cnnzoo.anatomy.compare import compare
from cnnzoo.anatomy.design import (
    Design,
    break_even_filters,
    fc_vs_pooled_head,
    inception_reductions,
    kernel_stack,
    residual_blocks,
)
from cnnzoo.anatomy.report import FORMATS, auto_depth, human, human_bytes, render
from cnnzoo.anatomy.stats import OPTIMIZER_STATES
from cnnzoo.cli._args import MAX_BATCH, UsageError, params_text, parse_size
from cnnzoo.diagram import draw, draw_side_by_side
from cnnzoo.models import ZooModel
from cnnzoo.train.files import write_file

__all__ = ["PARSERS"]


def _model_params_text(model: ZooModel, style: Callable[[int], str]) -> str:
    params = model.num_params()
    extra = model.num_params(training=True) - params
    return params_text(params, extra, model.training_only(), style)


def cmd_info(args: argparse.Namespace, console: Console) -> int:
    info = model_info(args.name)
    size = parse_size(args.input) if args.input else info.input_size
    model = create_model(args.name, in_chans=size[0], device="meta")
    p = info.paper
    console.print(f"[bold]{info.name}[/bold] — {info.summary}")
    console.print(f"paper      {p.authors} ({p.year}). {p.title}. {p.url}")
    console.print(f"family     {info.family}")
    c, h, w = info.input_size
    mh, mw = info.min_input_size
    fixed = " (fixed: the FC layers are sized for it)" if info.fixed_input_size else ""
    console.print(f"input      {c}x{h}x{w}{fixed}; smallest accepted {mh}x{mw}")
    line = f"params     {_model_params_text(model, lambda n: f'{n:,} ({human(n)})')}"
    if info.params:
        line += f"; the paper: {info.params.text} ({info.params.source})"
    console.print(line)
    for label, figure in (
        ("MACs", info.macs),
        ("top-5 err", info.top5_error),
        ("CIFAR-10 err", info.cifar10_error),
    ):
        if figure is not None:
            console.print(f"{label:<10} {figure.text} ({figure.source})")
    if info.torchvision:
        same = (
            "same network; its weights load strictly"
            if info.torchvision_equal
            else "same keys, different network (its weights would load, meaning something else)"
        )
        console.print(f"torchvision models.{info.torchvision}: {same}")
    _print_weights(info.name, console)
    if info.deviations:
        console.print("deviations from the paper:")
        for deviation in info.deviations:
            console.print(f"  - {deviation}")
    else:
        console.print("deviations none: built as the paper describes")
    if info.assumptions:
        console.print("assumptions (what the paper leaves open, and where our choice comes from):")
        for assumption in info.assumptions:
            console.print(f"  - {assumption}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryWarning)  # `cnnzoo summary` reports misfits
        analysis = analyze(model, size)
    depth = args.depth or auto_depth(analysis, max_rows=40)
    table = Table(
        title=f"layers at depth {depth}, input {'x'.join(map(str, size))}", title_justify="left"
    )
    for column in ("layer", "type", "output", "params"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for layer in analysis.at_depth(depth):
        table.add_row(
            layer.name,
            layer.type,
            "x".join(map(str, layer.chw)),
            f"{layer.params:,}" if layer.params else "",
        )
    console.print(table)
    console.print(f"`cnnzoo summary {info.name}` adds MACs, memory and receptive fields.")
    return 0


_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def cmd_summary(args: argparse.Namespace, console: Console) -> int:
    info = model_info(args.name)
    size = parse_size(args.input) if args.input else info.input_size
    if not 1 <= args.batch_size <= MAX_BATCH:
        raise UsageError(
            f"--batch-size {args.batch_size}: give 1 or more images (at most {MAX_BATCH:,})"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryWarning)  # listed under the table instead
        analysis = analyze(
            args.name,
            size,
            batch_size=args.batch_size,
            dtype=_DTYPES[args.dtype],
            strict=args.strict,
        )
    memory = analysis.training_memory(optimizer=args.optimizer)
    text = render(analysis, args.format, args.depth, args.explain, memory)
    if args.output:
        write_file(args.output, text)
        console.print(f"wrote {args.output}")
    elif args.format == "table":
        console.print(text, end="", highlight=False, markup=False)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_conv(args: argparse.Namespace, console: Console) -> int:
    size = parse_size(args.input)
    conv = conv_arithmetic(
        size,
        args.filters,
        args.kernel,
        args.stride,
        args.padding,
        args.dilation,
        args.groups,
        not args.no_bias,
    )
    if args.strict and not conv.fits:
        raise GeometryError("; ".join(line for line in conv.explain() if line.startswith("misfit")))
    c, h, w = size
    console.print(
        f"input   {c}x{h}x{w}; {args.filters} filters of {args.kernel}x{args.kernel}, "
        f"stride {args.stride}, padding {args.padding}",
        highlight=False,
    )
    for line in conv.explain():
        console.print(line, highlight=False)
    oc, oh, ow = conv.output_shape
    console.print(
        f"shape   {oc}x{oh}x{ow}: {oc * oh * ow:,} activations "
        f"({human_bytes(4 * oc * oh * ow)} as float32)",
        highlight=False,
    )
    return 0


def _design_table(title: str, rows: list[Design], console: Console) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("design", "params", "MACs", "RF", "ReLUs", "output", "parameters written out"):
        table.add_column(column, justify="right" if column in ("params", "MACs", "RF") else "left")
    for d in rows:
        table.add_row(
            d.name,
            f"{d.params:,}",
            f"{d.macs:,}",
            str(d.receptive_field),
            str(d.nonlinearities),
            "x".join(map(str, d.output)),
            d.formula,
        )
    console.print(table)
    a, b = rows

    def ratio(x: int, y: int) -> str:
        return f"{y / x:.1f}x fewer" if x < y else f"{x / y:.2f}x the"

    console.print(
        f"{b.name}: {ratio(b.params, a.params)} parameters and "
        f"{ratio(b.macs, a.macs)} MACs of {a.name}",
        highlight=False,
    )


def cmd_design(args: argparse.Namespace, console: Console) -> int:
    c, h, w = parse_size(args.input)
    if h != w:
        raise UsageError(f"--input {args.input!r}: the design comparisons take square inputs")
    if args.what == "stack":
        filters = args.filters or c
        rows = kernel_stack(args.kernel, c, filters, h)
        _design_table(
            f"one {args.kernel}x{args.kernel} against stacked 3x3, D={c}, N={filters}, {h}x{w}",
            rows,
            console,
        )
        console.print(
            f"the stack has fewer parameters while N < "
            f"{break_even_filters(args.kernel, c):.1f} (= "
            f"{break_even_filters(args.kernel, 1):.2f}·D)",
            highlight=False,
        )
    elif args.what == "bottleneck":
        rows = inception_reductions(c, h, *args.inception)
        _design_table(f"inception module on {c}x{h}x{w}", rows, console)
        rows = residual_blocks(args.width, h)
        _design_table(f"ResNet blocks on {h}x{w}", rows, console)
    else:
        rows = fc_vs_pooled_head(c, h, args.hidden, args.classes)
        _design_table(f"classifier heads on {c}x{h}x{w}", rows, console)
    return 0


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    names = []
    for pattern in args.names:  # a name matching nothing is an error, not dropped
        names += list_models(pattern) or [model_info(pattern).name]
    rows = compare(list(dict.fromkeys(names)))
    table = Table(
        title="the networks side by side (each at its paper's input size)", title_justify="left"
    )
    for column in (
        "name",
        "year",
        "input",
        "params",
        "GMACs",
        "depth",
        "RF",
        "fwd memory",
        "top-5 err",
        "as reported in",
    ):
        table.add_column(
            column, justify="left" if column in ("name", "as reported in") else "right"
        )
    for r in rows:
        params = human(r.params) + (
            f" +{human(r.training_params)} training" if r.training_params else ""
        )
        table.add_row(
            r.name,
            str(r.year),
            "x".join(map(str, r.input_size)),
            params,
            f"{r.macs / 1e9:.2f}",
            str(r.depth),
            str(r.receptive_field or "-"),
            human_bytes(r.forward_bytes),
            f"{r.top5_error:g}%" if r.top5_error is not None else "-",
            r.top5_source or "",
        )
    console.print(table)
    if args.plot:
        from cnnzoo.viz import plot_comparison

        console.print(f"wrote {plot_comparison(rows, args.plot)}")
    return 0


def _summary_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--input", help="input size CxHxW (default: the paper's)")
    p.add_argument("--depth", type=int, help="collapse modules deeper than this (1: children)")
    p.add_argument("--explain", action="store_true", help="show the arithmetic of each layer")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", help="write to this file instead of the terminal")
    p.add_argument("--batch-size", type=int, default=1, help="images per batch (memory)")
    p.add_argument("--dtype", choices=sorted(_DTYPES), default="float32")
    p.add_argument(
        "--optimizer",
        choices=sorted(OPTIMIZER_STATES),
        default="momentum",
        help="optimizer whose state the training memory counts",
    )
    p.add_argument("--strict", action="store_true", help="a window that drops input is an error")
    p.set_defaults(run=cmd_summary)


def _conv_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, help="input CxHxW, e.g. 3x227x227")
    p.add_argument("--filters", type=int, required=True, help="output channels K")
    p.add_argument("--kernel", type=int, required=True, help="kernel side F")
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--padding", type=int, default=0)
    p.add_argument("--dilation", type=int, default=1)
    p.add_argument("--groups", type=int, default=1)
    p.add_argument("--no-bias", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 2 when the window does not fit")
    p.set_defaults(run=cmd_conv)


def _compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", help="model names or wildcards")
    p.add_argument("--plot", help="also write the depth-against-error chart to this PNG")
    p.set_defaults(run=cmd_compare)


def _design_options(p: argparse.ArgumentParser) -> None:
    designs = p.add_subparsers(dest="what", required=True, metavar="DESIGN")
    # Each comparison takes only its own options: `design head --kernel 5` is an error.
    d = designs.add_parser("stack", help="one large kernel against a stack of 3x3 (VGG §2.3)")
    d.add_argument("--input", default="64x56x56", help="CxHxW the block sees")
    d.add_argument("--kernel", type=int, default=11, help="the large kernel (5, 7, 11)")
    d.add_argument("--filters", type=int, help="output channels N (default: D)")
    d = designs.add_parser("bottleneck", help="1x1 reductions: inception and ResNet blocks")
    d.add_argument("--input", default="256x28x28", help="CxHxW the block sees")
    d.add_argument(
        "--inception",
        type=int,
        nargs=6,
        default=[128, 192, 96, 64, 64, 64],
        metavar=("B1", "B3", "B5", "POOL", "R3", "R5"),
        help="1x1, 3x3, 5x5 and pool-projection filters, then the 3x3 and 5x5 "
        "reductions (default: the CS231n example)",
    )
    d.add_argument("--width", type=int, default=64, help="ResNet block width")
    d = designs.add_parser("head", help="flatten + FC layers against global average pooling")
    d.add_argument("--input", default="512x7x7", help="CxHxW the head sees")
    d.add_argument("--hidden", type=int, default=4096, help="FC width")
    d.add_argument("--classes", type=int, default=1000, help="classes")
    p.set_defaults(run=cmd_design)


def _info_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--input", help="input size CxHxW (default: the paper's)")
    p.add_argument("--depth", type=int, help="module depth of the layer listing")
    p.set_defaults(run=cmd_info)


def _print_weights(name: str, console: Console) -> None:
    """The published weights, with torchvision's figures; or why there are none."""
    from cnnzoo.pretrained import WeightsError, find_weights, weights_of

    published = weights_of(name)
    if not published:
        try:
            find_weights(name, "DEFAULT")
        except WeightsError as error:
            console.print(f"weights    none: {error}", highlight=False)
        return
    console.print("weights    (--weights NAME; torchvision's ImageNet-1K val, centre crop)")
    for w in published:
        default = " = DEFAULT" if w.default else ""
        console.print(
            f"  {w.name}{default}: acc@1 {w.acc1}%, acc@5 {w.acc5}%, {w.file_mb:.1f} MB, "
            f"{w.url}; recipe {w.recipe}",
            highlight=False,
        )


def cmd_draw(args: argparse.Namespace, console: Console) -> int:
    size = parse_size(args.input) if args.input else None
    if args.all == bool(args.names):
        raise UsageError("name the networks to draw, or give --all for every zoo model")
    if args.all and args.input:
        raise UsageError("--all draws each network at its paper's input size: leave out --input")
    names = list_models() if args.all else args.names
    if args.side_by_side:
        if args.all or len(names) < 2 or args.output_dir:
            raise UsageError("--side-by-side draws the two or more networks named into one file")
        together = draw_side_by_side(
            names, size, expand=args.expand, stats=not args.no_stats, style=args.style or "column"
        )
        output = args.output or f"{'-'.join(names)}.{args.format}"
        console.print(f"wrote {together.save(output)}", highlight=False)
        return 0
    if len(names) > 1 or args.output_dir:
        if args.output:
            raise UsageError("--output names one file: for several networks give --output-dir")
        folder = Path(args.output_dir or ".")
        targets = [folder / f"{name}.{args.format}" for name in names]
    else:
        targets = [Path(args.output or f"{names[0]}.{args.format}")]
    for name, target in zip(names, targets, strict=True):
        style = args.style or "auto"
        diagram = draw(name, size, expand=args.expand, stats=not args.no_stats, style=style)
        console.print(f"wrote {diagram.save(target)}", highlight=False)
    return 0


def _draw_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="zoo model names, e.g. resnet34")
    p.add_argument("--all", action="store_true", help="every zoo model (with --output-dir)")
    p.add_argument("--input", help="input size CxHxW (default: the paper's)")
    p.add_argument("--output", help="file: .svg, .png or .pdf (default: NAME.svg)")
    p.add_argument("--output-dir", help="folder for several networks, one file each")
    p.add_argument("--format", choices=("svg", "png", "pdf"), default="svg", help="with --all")
    p.add_argument("--expand", action="store_true", help="draw every block, not one x N")
    p.add_argument(
        "--side-by-side",
        action="store_true",
        help="the networks named in one figure, aligned by stage (ResNet's Fig. 3)",
    )
    p.add_argument("--no-stats", action="store_true", help="leave out parameters and MACs")
    p.add_argument(
        "--style",
        help="column (the VGG and ResNet figures), graph (GoogLeNet's Fig. 3: branches bare) "
        "or auto: graph where modules branch (default; column for --side-by-side)",
    )
    p.set_defaults(run=cmd_draw)


PARSERS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "info": _info_options,
    "summary": _summary_options,
    "conv": _conv_options,
    "compare": _compare_options,
    "design": _design_options,
    "draw": _draw_options,
}
