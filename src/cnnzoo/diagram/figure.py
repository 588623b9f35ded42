"""``cnnzoo.diagram``: a network as one figure, shown inline in Jupyter, saved as SVG."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from cnnzoo.anatomy.analysis import analyze, network_at
from cnnzoo.anatomy.geometry import GeometryWarning
from cnnzoo.anatomy.stats import Analysis
from cnnzoo.diagram.layout import look_for
from cnnzoo.diagram.side import render_side_by_side
from cnnzoo.diagram.structure import Part, structure
from cnnzoo.diagram.svg import render_svg
from cnnzoo.errors import ConfigError
from cnnzoo.models import ZooModel
from cnnzoo.train.files import write_file

__all__ = ["SUFFIXES", "Diagram", "draw", "draw_side_by_side"]

SUFFIXES = (".svg", ".png", ".pdf")  # what Diagram.save writes, by the file's suffix


@dataclass
class Diagram:
    """One network drawn: its parts and the SVG of them, and (one network) the analysis they
    come from, so a page shows the figures of the blocks it draws without a second trace."""

    name: str
    parts: list[Part]
    svg: str
    analysis: Analysis | None = field(default=None, repr=False)

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the figure as SVG, PNG (at twice the SVG's size) or PDF, by the suffix."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in SUFFIXES:
            raise ConfigError(
                f"{target}: cannot write a {target.suffix or 'suffix-less'} figure; "
                f"give a file ending in {', '.join(SUFFIXES)}"
            )
        if suffix == ".svg":
            return write_file(target, self.svg)
        return write_file(target, _converted(self.svg, suffix))


def _converted(svg: str, suffix: str) -> bytes:
    try:
        import cairosvg  # loads the cairo library, which only PNG and PDF need
    except OSError as error:  # cairocffi's way of saying libcairo is missing
        raise ConfigError(
            f"a {suffix} figure needs the cairo library ({error}): install it (Debian and "
            "Ubuntu: apt-get install libcairo2), or save the figure as .svg"
        ) from error
    data = svg.encode()
    if suffix == ".png":
        return bytes(cairosvg.svg2png(bytestring=data, scale=2))
    return bytes(cairosvg.svg2pdf(bytestring=data))


def _traced(
    model: nn.Module | str, input_size: tuple[int, int, int] | None, expand: bool
) -> tuple[str, list[Part], Analysis]:
    """A network's name, its parts, and the analysis of the trace they come from."""
    net, name, size = network_at(model, input_size)
    # A model with modules only training runs is traced as training runs it, so GoogLeNet's
    # auxiliary classifiers are drawn where they branch off.
    side = list(net.training_only()) if isinstance(net, ZooModel) else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryWarning)  # `cnnzoo summary` reports misfits
        analysis = analyze(net, size, batch_size=2 if side else 1, training=bool(side))
    return name, structure(net, analysis, expand, side), analysis


def draw(
    model: nn.Module | str,
    input_size: tuple[int, int, int] | None = None,
    expand: bool = False,
    stats: bool = True,
    style: str = "auto",
) -> Diagram:
    """Draw a zoo model (by name) or any ``nn.Module`` at ``input_size`` (C, H, W) as its
    paper draws it: blocks framed, repeated blocks once with ``x N`` (``expand``: all of them),
    branches side by side, skips as arcs; ``stats`` adds each block's parameters and MACs.
    ``style``: ``column`` (VGG's and ResNet's figures), ``graph`` (GoogLeNet's: a module's
    branches as bare columns), or ``auto``, graph where modules branch."""
    name, parts, analysis = _traced(model, input_size, expand)
    title = f"{name}, input {'x'.join(map(str, analysis.input_size))}"
    look = look_for(parts, style, stats)
    return Diagram(name, parts, render_svg(parts, title, look, analysis.batch_size), analysis)


def draw_side_by_side(
    models: Sequence[nn.Module | str],
    input_size: tuple[int, int, int] | None = None,
    expand: bool = False,
    stats: bool = False,
    style: str = "column",
) -> Diagram:
    """Several networks in one figure, in columns aligned by the size of their maps: ResNet's
    Fig. 3 is ``draw_side_by_side(["vgg19", "plain34", "resnet34"])``."""
    if len(models) < 2:
        raise ConfigError("a side-by-side figure needs two networks or more")
    traced = [_traced(model, input_size, expand) for model in models]
    names = [name for name, _, _ in traced]
    look = look_for([p for _, parts, _ in traced for p in parts], style, stats)
    svg = render_side_by_side(
        [(name, parts) for name, parts, _ in traced],
        " | ".join(names),
        look,
        max(analysis.batch_size for _, _, analysis in traced),
    )
    return Diagram("-".join(names), [p for _, parts, _ in traced for p in parts], svg)
