"""The column figure of the VGG and ResNet papers, as SVG, laid out here rather than by a graph
engine: a network drawn as its paper draws it is a column of boxes with frames around blocks,
branches side by side and skips as arcs, which a few lines place exactly; a general graph
layout (Graphviz's ``dot``) would route edges of its own and needs a program installed.

Every element says what it is (``class`` and ``data-*`` attributes), so a test can hold the
picture to the network: a part's name, kind and repeat count, a skip's kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape

from cnnzoo.anatomy.report import human
from cnnzoo.draw.labels import KINDS
from cnnzoo.draw.structure import Part

__all__ = [
    "Canvas",
    "Layout",
    "arrow",
    "label_text",
    "layout_of",
    "render_part",
    "render_svg",
    "svg_document",
    "visible",
]

BOX_W, BOX_H, GAP = 190, 24, 14  # a layer's box and the space between two boxes
PAD, HEAD = 10, 18  # inside a block's frame: padding, and the line of its name
ARC = 22  # the room a skip's arc takes beside its block
SHAPE_W = 110  # the margin of output shapes, right of the column (and of its "x N")
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"

# Fills by kind: light to dark in print too (greyscale-safe), told apart by hue on screen.
FILLS = {
    "conv": "#f6d07a",
    "pool": "#9ccbe9",
    "norm": "#d8d8d8",
    "activation": "#f7f2e6",
    "fc": "#b9a3d6",
    "merge": "#ffffff",
    "other": "#e9e9e9",
}


def label_text(
    x: float, y: float, text: str, size: int = 11, anchor: str = "middle", **attrs: str
) -> str:
    extra = "".join(f" {k.rstrip('_').replace('_', '-')}='{escape(v)}'" for k, v in attrs.items())
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' {FONT}{extra}>"
        f"{escape(text)}</text>"
    )


class Canvas(list[str]):
    """The SVG elements drawn so far, and where each layer's output shape falls."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.shapes: list[tuple[float, str]] = []  # (the text's baseline, the shape)
        self.batch = batch  # images in the traced batch: the rows' MACs are of all of them


@dataclass
class Layout:
    """A part placed: its size, and how to draw it at a point."""

    part: Part | None
    width: float
    height: float
    children: list[Layout] = field(default_factory=list)
    style: str = "leaf"  # leaf | column | branches
    skip: str = ""  # "identity" or "projection": the block adds its input back
    shortcut: Part | None = None  # the projection's layers, drawn beside the arc
    shown: Part | None = None  # the one layer a wrapping block is drawn as


def _shape(part: Part) -> str:
    shape = part.row.output_shape[1:]
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(map(str, shape))


def visible(parts: list[Part]) -> list[Part]:
    """The parts drawn as boxes: batch norm or an activation right after a layer is folded into
    it, as the papers fold them (``3x3 conv, 64`` is conv + BN + ReLU in the ResNet figures)."""
    out: list[Part] = []
    for part in parts:
        folded = part.kind == "activation" or part.label == "BN"  # not LRN: the papers show it
        if part.leaf and folded and out and out[-1].leaf:
            continue
        out.append(part)
    return out


def _inside(part: Part, index: int) -> bool:
    return any(p.index == index for p in part.walk())


def layout_of(part: Part, stats: bool) -> Layout:
    if part.leaf:
        return Layout(part, BOX_W, BOX_H)
    children = visible(part.children)
    if part.repeat == 1 and len(children) == 1 and children[0].leaf:
        # a block that wraps one layer (GoogLeNet's conv + ReLU) is drawn as that layer
        return Layout(part, BOX_W, BOX_H, shown=children[0])
    merge = children[-1] if children and children[-1].row.type in ("cat", "add") else None
    # The children that read the block's own input: one is the main path, the others run beside.
    entry = [c for c in children if c.row.sources == part.row.sources and c is not merge]
    layout = Layout(part, 0, 0)
    if merge is None:
        merge = next((c for c in children if c.row.type == "add"), None)
    if merge is not None and merge.row.type == "cat" and len(entry) > 1:
        branches = [layout_of(b, stats) for b in entry]
        layout.style = "branches"
        layout.children = [*branches, layout_of(merge, stats)]
        inner_w = sum(b.width for b in branches) + GAP * (len(branches) - 1)
        inner_h = max(b.height for b in branches) + GAP + BOX_H
    else:
        shortcut = next((c for c in entry[1:] if merge is not None and _feeds(c, merge)), None)
        if merge is not None and merge.row.type == "add":
            outside = any(s < part.index for s in merge.row.sources)
            layout.skip = "identity" if outside and shortcut is None else "projection"
            layout.shortcut = shortcut
        column = [layout_of(c, stats) for c in children if c is not shortcut]
        layout.style = "column"
        layout.children = column
        inner_w = max((c.width for c in column), default=BOX_W)
        inner_h = sum(c.height for c in column) + GAP * max(len(column) - 1, 0)
    head = HEAD * (2 if stats else 1)
    layout.width = inner_w + 2 * PAD + (ARC if layout.skip else 0)
    layout.height = inner_h + 2 * PAD + head
    return layout


def _feeds(part: Part, merge: Part) -> bool:
    return any(_inside(part, s) for s in merge.row.sources)


def render_part(
    layout: Layout, x: float, y: float, out: Canvas, stats: bool, shapes: bool = True
) -> None:
    """Draw ``layout`` with its top-left corner at (x, y); ``shapes``: note its layers'
    output shapes for the margin (not inside side-by-side branches, where they differ)."""
    part = layout.part
    assert part is not None
    repeat = f" data-repeat='{part.repeat}'" if part.repeat > 1 else ""
    kind = (layout.shown or part).kind
    out.append(
        f"<g class='part {layout.style}' data-name='{escape(part.name)}' "
        f"data-kind='{kind}' data-type='{escape(part.row.type)}'{repeat}>"
    )
    if layout.style == "leaf":
        shown = layout.shown or part
        if shown.towers > 1:
            _towers(shown, x, y, out)
        else:
            round_ = 10 if shown.kind == "merge" else 3
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{BOX_W}' height='{BOX_H}' rx='{round_}' "
                f"fill='{FILLS[shown.kind]}' stroke='#444' stroke-width='1'/>"
            )
            out.append(label_text(x + BOX_W / 2, y + BOX_H / 2 + 4, shown.label))
        if shapes:
            out.shapes.append((y + BOX_H / 2 + 4, _shape(part)))
        out.append("</g>")
        return
    out.append(
        f"<rect x='{x:.1f}' y='{y:.1f}' width='{layout.width:.1f}' height='{layout.height:.1f}' "
        "rx='6' fill='#fafafa' stroke='#999' stroke-dasharray='4 3'/>"
    )
    title = part.label if part.label != part.row.type else part.row.type
    out.append(label_text(x + PAD, y + HEAD - 4, f"{part.name}: {title}", 10, "start", fill="#555"))
    if stats:
        macs = part.row.macs // out.batch
        figures = f"{human(part.row.params)} params, {human(macs)} MACs"
        out.append(label_text(x + PAD, y + 2 * HEAD - 5, figures, 9, "start", fill="#777"))
    if part.repeat > 1:
        out.append(
            label_text(
                x + layout.width + 6,
                y + layout.height / 2 + 5,
                f"x {part.repeat}",
                14,
                "start",
                font_weight="bold",
                class_="repeat",
            )
        )
    top = y + PAD + HEAD * (2 if stats else 1)
    left = x + PAD
    if layout.style == "branches":
        *branches, merge = layout.children
        bx = left
        bottom = top + max(b.height for b in branches) + GAP
        mx = left + (sum(b.width for b in branches) + GAP * (len(branches) - 1) - BOX_W) / 2
        join = bottom - GAP / 2
        for branch in branches:
            out.append("<g class='branch'>")
            render_part(branch, bx, top, out, stats, shapes=False)
            out.append("</g>")
            centre = bx + branch.width / 2
            out.append(
                f"<polyline points='{centre:.1f},{top + branch.height:.1f} {centre:.1f},"
                f"{join:.1f} {mx + BOX_W / 2:.1f},{join:.1f}' fill='none' stroke='#444'/>"
            )
            bx += branch.width + GAP
        arrow(mx + BOX_W / 2, join, mx + BOX_W / 2, bottom, out)
        render_part(merge, mx, bottom, out, stats, shapes)
    else:
        cy, merge_y = top, top
        for i, child in enumerate(layout.children):
            cx = left + (layout.width - 2 * PAD - (ARC if layout.skip else 0) - child.width) / 2
            if i:
                arrow(cx + child.width / 2, cy - GAP, cx + child.width / 2, cy, out)
            render_part(child, cx, cy, out, stats, shapes)
            if child.part is not None and child.part.row.type == "add":
                merge_y = cy + BOX_H / 2
            cy += child.height + GAP
        if layout.skip:
            _skip(layout, x, top, merge_y, out)
    out.append("</g>")


def _towers(part: Part, x: float, y: float, out: list[str]) -> None:
    """A grouped convolution as its towers side by side, each with its share of the filters."""
    gap = 4
    width = (BOX_W - gap * (part.towers - 1)) / part.towers
    out.append(f"<g class='towers' data-towers='{part.towers}'>")
    for i in range(part.towers):
        left = x + i * (width + gap)
        out.append(
            f"<rect x='{left:.1f}' y='{y:.1f}' width='{width:.1f}' height='{BOX_H}' rx='3' "
            f"fill='{FILLS[part.kind]}' stroke='#444' stroke-width='1'/>"
        )
        size = 11 if part.towers == 2 else 8
        out.append(label_text(left + width / 2, y + BOX_H / 2 + 4, part.tower_label, size))
    out.append("</g>")


def arrow(x1: float, y1: float, x2: float, y2: float, out: list[str]) -> None:
    out.append(
        f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' stroke='#444' "
        "marker-end='url(#arrow)'/>"
    )


def _skip(layout: Layout, x: float, top: float, end: float, out: list[str]) -> None:
    """The shortcut of ResNet's Fig. 3: an arc from the block's input to its addition,
    solid for the identity, dashed where a projection changes the size."""
    right = x + layout.width - PAD - ARC / 2
    dashed = " stroke-dasharray='6 4'" if layout.skip == "projection" else ""
    out.append(
        f"<path class='skip {layout.skip}' d='M {right - ARC:.1f} {top - 4:.1f} "
        f"C {right + ARC / 2:.1f} {top - 4:.1f} {right + ARC / 2:.1f} {end:.1f} "
        f"{right - ARC:.1f} {end:.1f}' fill='none' stroke='#333' stroke-width='1.6'{dashed} "
        "marker-end='url(#arrow)'/>"
    )
    if layout.shortcut is not None:
        label = next(
            (p.label for p in layout.shortcut.walk() if p.kind == "conv"), layout.shortcut.label
        )
        out.append(
            label_text(x + layout.width + 6, (top + end) / 2, label, 9, "start", fill="#333")
        )


def _legend(kinds: set[str], x: float, y: float, out: list[str]) -> None:
    out.append("<g class='legend'>")
    for kind in (k for k in KINDS if k in kinds):
        out.append(
            f"<rect x='{x:.1f}' y='{y:.1f}' width='14' height='12' fill='{FILLS[kind]}' "
            "stroke='#444'/>"
        )
        out.append(label_text(x + 20, y + 10, kind, 10, "start"))
        y += 18
    out.append("</g>")


def _kinds(parts: list[Part]) -> Iterator[str]:
    for part in parts:
        for p in part.walk():
            yield p.kind


def render_svg(parts: list[Part], title: str, stats: bool = True, batch: int = 1) -> str:
    """The parts of one network as one column, top to bottom, with a title and a legend; the
    branches only training runs (GoogLeNet's auxiliary classifiers) beside it, where they
    branch off."""
    layouts = [layout_of(p, stats) for p in visible([p for p in parts if not p.side])]
    width = max(layout.width for layout in layouts) + 2 * PAD
    body = Canvas(batch)
    y = 40.0
    placed: list[tuple[Layout, float, float]] = []  # each main part, its left and its top
    for i, layout in enumerate(layouts):
        x = PAD + (width - 2 * PAD - layout.width) / 2
        if i:
            arrow(width / 2, y - GAP, width / 2, y, body)
        render_part(layout, x, y, body, stats)
        placed.append((layout, x, y))
        y += layout.height + GAP
    sides = [layout_of(p, stats) for p in parts if p.side]
    side_x, side_y = width + SHAPE_W, 40.0
    for side in sides:
        assert side.part is not None
        source = side.part.row.sources[0] if side.part.row.sources else -1
        found = [(lay, x, top) for lay, x, top in placed if lay.part and _inside(lay.part, source)]
        lay, x, top = found[0] if found else placed[-1]
        branch_y = max(top + lay.height - BOX_H, side_y)
        origin = lay.part.name if lay.part is not None else ""
        body.append(f"<g class='side' data-from='{escape(origin)}'>")
        body.append(
            f"<polyline points='{x + lay.width:.1f},{top + lay.height - BOX_H / 2:.1f} "
            f"{side_x - 12:.1f},{top + lay.height - BOX_H / 2:.1f} {side_x - 12:.1f},"
            f"{branch_y + BOX_H / 2:.1f} {side_x:.1f},{branch_y + BOX_H / 2:.1f}' fill='none' "
            "stroke='#444' stroke-dasharray='2 3' marker-end='url(#arrow)'/>"
        )
        render_part(side, side_x, branch_y, body, stats, shapes=False)
        body.append("</g>")
        side_y = branch_y + side.height + GAP
    y = max(y, side_y)
    # The output shape in a margin of its own, where it changes (as the papers' tables do).
    previous = ""
    for baseline, shape in sorted(body.shapes):
        if shape != previous:
            body.append(label_text(width + 24, baseline, shape, 10, "start", fill="#555"))
            previous = shape
    legend_x = width + SHAPE_W + max((s.width + 2 * GAP for s in sides), default=0)
    _legend(set(_kinds(parts)), legend_x, 40, body)
    return svg_document(legend_x + 110, y + PAD, title, body)


def svg_document(width: float, height: float, title: str, body: list[str]) -> str:
    """A whole SVG file: the arrow marker, a white ground, the title and ``body``."""
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='0 0 {width:.0f} {height:.0f}'>"
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' "
        "markerHeight='6' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' "
        "fill='#444'/></marker></defs>"
        "<rect width='100%' height='100%' fill='white'/>"
        + label_text(PAD, 24, title, 15, "start", font_weight="bold")
        + "".join(body)
        + "</svg>\n"
    )
