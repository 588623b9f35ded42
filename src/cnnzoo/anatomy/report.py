"""An analysis as people read it: a terminal table, Markdown, CSV, JSON or HTML."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnnzoo.anatomy.stats import (
    COLUMNS,
    Analysis,
    TrainingMemory,
    auto_depth,
    human_bytes,
)
from cnnzoo.errors import ConfigError

__all__ = ["FORMATS", "auto_depth", "human", "human_bytes", "render", "totals_lines"]

FORMATS = ("table", "json", "csv", "md", "html")


def human(count: float) -> str:
    """12,345,678 -> '12.35M': the way papers print parameter counts."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:.2f}{unit}"
    return f"{count:,.0f}"


def _training_line(memory: TrainingMemory) -> str:
    return (
        f"{human_bytes(memory.total)} at batch {memory.batch_size} with {memory.optimizer}: "
        f"weights {human_bytes(memory.params)} + gradients {human_bytes(memory.grads)} + "
        f"optimizer state {human_bytes(memory.optimizer_state)} + activations kept for "
        f"backward {human_bytes(memory.activations)}"
    )


def totals_lines(analysis: Analysis, memory: TrainingMemory | None = None) -> list[tuple[str, str]]:
    """(label, text) pairs: the whole network's figures, each with its unit."""
    t = analysis.totals
    memory = memory or analysis.training_memory()
    ops = ", ".join(f"{kind} {human(count)}" for kind, count in t.ops.items()) or "none"
    rows = [
        (
            "params",
            f"{t.params:,} trainable ({human(t.params)})"
            + (f" + {t.frozen_params:,} frozen" if t.frozen_params else "")
            + (
                f"; training adds {t.training_params:,} ({human(t.training_params)}) in "
                "modules inference drops"
                if t.training_params
                else ""
            )
            + f"; {human_bytes(t.param_bytes)} with buffers as {analysis.dtype}",
        ),
        ("MACs", f"{t.macs:,} per image ({human(t.macs)}); FLOPs {human(t.flops)}"),
        ("element-wise", f"{human(t.elementwise)} ops per image: {ops}"),
        (
            "forward memory",
            f"{human_bytes(t.forward_bytes)} of activations per image (input "
            f"{human_bytes(t.input_bytes)} more)",
        ),
        ("training memory", _training_line(memory)),
        ("depth", f"{t.depth} weight layers on the longest path"),
    ]
    if t.receptive_field is not None:
        h, w = t.receptive_field
        rows.append(
            (
                "receptive field",
                f"{h.size}x{w.size} pixels, jump {h.jump}, effective padding {h.padding}"
                + ("" if h == w else f" (W: jump {w.jump}, padding {w.padding})"),
            )
        )
    if analysis.misfits:
        rows.append(("misfits", f"{len(analysis.misfits)} window(s) drop input rows or columns"))
    return rows


def _table(analysis: Analysis, depth: int, explain: bool, memory: TrainingMemory | None) -> str:
    c, h, w = analysis.input_size
    table = Table(
        title=f"{analysis.model}: input {c}x{h}x{w}, batch {analysis.batch_size}, "
        f"{analysis.dtype}, depth {depth}",
        title_justify="left",
    )
    for column in COLUMNS:
        table.add_column(
            column, justify="left" if column in ("layer", "type", "output") else "right"
        )
    for layer in analysis.at_depth(depth):
        table.add_row(*layer.cells())
        if explain:
            for line in layer.explain:
                table.add_row(Text(f"  {line}", style="dim"), *[""] * (len(COLUMNS) - 1))
    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    console.print(table)
    for label, text in totals_lines(analysis, memory):
        console.print(f"{label:<16} {text}", highlight=False)
    for misfit in analysis.misfits:
        console.print(f"  misfit: {misfit}", highlight=False)
    console.print(f"[dim]counting: {analysis.convention}[/dim]")
    return console.file.getvalue()  # type: ignore[attr-defined]


def _markdown(analysis: Analysis, depth: int, explain: bool, memory: TrainingMemory | None) -> str:
    c, h, w = analysis.input_size
    lines = [
        f"## {analysis.model}: input {c}x{h}x{w}, batch {analysis.batch_size}, {analysis.dtype}",
        "",
    ]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    worked = []
    for layer in analysis.at_depth(depth):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in layer.cells()) + " |")
        if explain and layer.explain:
            worked.append(f"- `{layer.name}`: " + "; ".join(f"`{x}`" for x in layer.explain))
    lines.append("")
    lines += [f"- **{label}**: {text}" for label, text in totals_lines(analysis, memory)]
    lines += [f"- misfit: {m}" for m in analysis.misfits]
    if worked:
        lines += ["", "### The arithmetic", "", *worked]
    lines += ["", f"_Counting: {analysis.convention}_", ""]
    return "\n".join(lines)


def _csv(analysis: Analysis, depth: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "layer",
            "type",
            "depth",
            "output_shape",
            "params",
            "frozen_params",
            "macs",
            "flops",
            "elementwise",
            "output_bytes",
            "new_bytes",
            "rf_h",
            "rf_w",
            "jump_h",
            "jump_w",
            "misfit",
            "explain",
        ]
    )
    for layer in analysis.at_depth(depth):
        rf = layer.rf
        writer.writerow(
            [
                layer.name,
                layer.type,
                layer.depth,
                "x".join(map(str, layer.output_shape)),
                layer.params,
                layer.frozen_params,
                layer.macs,
                layer.flops,
                layer.elementwise,
                layer.output_bytes,
                layer.new_bytes,
                rf[0].size if rf else "",
                rf[1].size if rf else "",
                rf[0].jump if rf else "",
                rf[1].jump if rf else "",
                layer.misfit or "",
                " | ".join(layer.explain),
            ]
        )
    return out.getvalue()


def render(
    analysis: Analysis,
    fmt: str = "table",
    depth: int | None = None,
    explain: bool = False,
    memory: TrainingMemory | None = None,
) -> str:
    """The analysis as text in one of :data:`FORMATS`; ``depth`` collapses modules below it."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    depth = depth or auto_depth(analysis)
    if depth < 1:
        raise ConfigError(f"depth must be >= 1 (1: the model's direct children), got {depth}")
    if fmt == "json":
        data = analysis.to_dict()
        if memory is not None:
            data["training"] = {**memory.__dict__, "total": memory.total}
        return json.dumps(data, indent=1)
    if fmt == "csv":
        return _csv(analysis, depth)
    if fmt == "md":
        return _markdown(analysis, depth, explain, memory)
    if fmt == "html":
        return analysis.to_html(depth, explain)
    return _table(analysis, depth, explain, memory)
