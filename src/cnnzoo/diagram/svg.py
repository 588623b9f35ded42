"""A network's figure as SVG, drawn from its layout (:mod:`cnnzoo.diagram.layout`): the column
of the VGG and ResNet papers, GoogLeNet's graph of branching modules, ResNet's skip arcs and
DenseNet's connections.

Every element says what it is (``class`` and ``data-*`` attributes), so a test can hold the
picture to the network: a part's name, kind and repeat count, a skip's kind.
"""

from __future__ import annotations

from html import escape

from cnnzoo.anatomy.report import human
from cnnzoo.diagram.labels import KINDS
from cnnzoo.diagram.layout import ARC, BOX_H, BOX_W, GAP, HEAD, PAD, Layout, Look, layout_of
from cnnzoo.diagram.structure import Part, visible

__all__ = [
    "Canvas",
    "arrow",
    "label_text",
    "legend",
    "render_part",
    "render_svg",
    "svg_document",
]

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
    """The SVG elements drawn so far, where each layer's output shape falls, the kinds of
    layer drawn (the legend's) and how far right the notes beside the column reach."""

    def __init__(self, batch: int, look: Look) -> None:
        super().__init__()
        self.shapes: list[tuple[float, str]] = []  # (the text's baseline, the shape)
        self.batch = batch  # images in the traced batch: the rows' MACs are of all of them
        self.look = look
        self.kinds: set[str] = set()
        self.right = 0.0

    def note(self, x: float, y: float, text: str, size: int, **attrs: str) -> None:
        """A text right of the column (``x 3``, a projection's label), kept clear of the
        margin of shapes."""
        self.append(label_text(x, y, text, size, "start", **attrs))
        self.right = max(self.right, x + 0.62 * size * len(text))


def _shape(part: Part) -> str:
    shape = part.row.output_shape[1:]
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(map(str, shape))


def render_part(layout: Layout, x: float, y: float, out: Canvas, shapes: bool = True) -> None:
    """Draw ``layout`` with its top-left corner at (x, y); ``shapes``: note its layers'
    output shapes for the margin (not inside side-by-side branches, where they differ)."""
    part = layout.part
    if part is None:  # a path of a branching block, or a fork in one: no module of its own
        (_fork if layout.style == "fork" else _column)(layout, x, y, out, shapes)
        return
    repeat = f" data-repeat='{part.repeat}'" if part.repeat > 1 else ""
    dense = " data-dense='true'" if part.dense else ""
    kind = (layout.shown or part).kind
    bare = "" if layout.framed else " bare"  # a graph's branch: its layers, no frame
    out.append(
        f"<g class='part {layout.style}{bare}' data-name='{escape(part.name)}' "
        f"data-kind='{kind}' data-type='{escape(part.row.type)}'{repeat}{dense}>"
    )
    if layout.style == "leaf":
        _box(layout.shown or part, x, y, out)
        if shapes:
            out.shapes.append((y + BOX_H / 2 + 4, _shape(part)))
        out.append("</g>")
        return
    pad = PAD if layout.framed else 0
    top = y + pad
    if layout.framed:
        _frame(layout, x, y, out)
        top += HEAD * (2 if out.look.stats else 1)
    if part.repeat > 1:
        middle = y + layout.height / 2
        out.note(x + layout.width + 6, middle + 5, f"x {part.repeat}", 14, font_weight="bold")
        if part.dense:
            out.note(x + layout.width + 6, middle + 19, "each reads all before", 9)
    if layout.style == "branches":
        _branches(layout, x + pad, top, out, shapes)
    else:
        _column(layout, x + pad, top, out, shapes)
    out.append("</g>")


def _box(shown: Part, x: float, y: float, out: Canvas) -> None:
    out.kinds.add(shown.kind)
    if shown.towers > 1:
        _towers(shown, x, y, out)
        return
    round_ = 10 if shown.kind == "merge" else 3
    out.append(
        f"<rect x='{x:.1f}' y='{y:.1f}' width='{BOX_W}' height='{BOX_H}' rx='{round_}' "
        f"fill='{FILLS[shown.kind]}' stroke='#444' stroke-width='1'/>"
    )
    out.append(label_text(x + BOX_W / 2, y + BOX_H / 2 + 4, shown.label))


def _frame(layout: Layout, x: float, y: float, out: Canvas) -> None:
    """A block's dashed frame, its name and (``stats``) its parameters and MACs."""
    part = layout.part
    assert part is not None
    out.append(
        f"<rect x='{x:.1f}' y='{y:.1f}' width='{layout.width:.1f}' height='{layout.height:.1f}' "
        "rx='6' fill='#fafafa' stroke='#999' stroke-dasharray='4 3'/>"
    )
    out.append(
        label_text(x + PAD, y + HEAD - 4, _title(part, layout.width), 10, "start", fill="#555")
    )
    if out.look.stats:
        macs = part.row.macs // out.batch
        figures = f"{human(part.row.params)} params, {human(macs)} MACs"
        out.append(label_text(x + PAD, y + 2 * HEAD - 5, figures, 9, "start", fill="#777"))


def _title(part: Part, width: float) -> str:
    """A frame's name and type, its outer modules' names left out where it would overrun the
    frame (``denselayer1: DenseLayer`` inside ``features.denseblock1``)."""
    names = part.name.split(".")
    while len(names) > 1 and 6.2 * len(f"{'.'.join(names)}: {part.label}") > width - 2 * PAD:
        names.pop(0)
    return f"{'.'.join(names)}: {part.label}"


def _branches(layout: Layout, left: float, top: float, out: Canvas, shapes: bool) -> None:
    """Inception's paths side by side: the input fans out over a bus above them, and they
    join at the concatenation below (GoogLeNet's Fig. 2 and 3)."""
    *branches, merge = layout.children
    span = sum(b.width for b in branches) + GAP * (len(branches) - 1)
    centres, bx = [], left
    for branch in branches:
        centres.append(bx + branch.width / 2)
        bx += branch.width + GAP
    bus = top + GAP / 2
    middle = left + span / 2
    out.append(
        f"<polyline class='fan-out' points='{middle:.1f},{top - 4:.1f} {middle:.1f},{bus:.1f}' "
        "fill='none' stroke='#444'/>"
    )
    out.append(
        f"<line x1='{centres[0]:.1f}' y1='{bus:.1f}' x2='{centres[-1]:.1f}' y2='{bus:.1f}' "
        "stroke='#444'/>"
    )
    start = top + GAP
    bottom = start + max(b.height for b in branches) + GAP
    join = bottom - GAP / 2
    bx = left
    for branch, centre in zip(branches, centres, strict=True):
        arrow(centre, bus, centre, start, out)
        out.append("<g class='branch'>")
        render_part(branch, bx, start, out, shapes=False)
        out.append("</g>")
        out.append(
            f"<polyline points='{centre:.1f},{start + branch.height:.1f} {centre:.1f},"
            f"{join:.1f} {middle:.1f},{join:.1f}' fill='none' stroke='#444'/>"
        )
        bx += branch.width + GAP
    arrow(middle, join, middle, bottom, out)
    render_part(merge, middle - BOX_W / 2, bottom, out, shapes)


def _fork(layout: Layout, left: float, top: float, out: Canvas, shapes: bool) -> None:
    """Layers that read one output side by side, joined below for the concatenation."""
    middle = left + layout.width / 2
    centres, x = [], left
    for child in layout.children:
        centres.append(x + child.width / 2)
        x += child.width + GAP
    bus, join = top + GAP / 2, top + layout.height
    out.append(
        f"<polyline points='{middle:.1f},{top:.1f} {middle:.1f},{bus:.1f}' fill='none' "
        f"stroke='#444'/><line x1='{centres[0]:.1f}' y1='{bus:.1f}' x2='{centres[-1]:.1f}' "
        f"y2='{bus:.1f}' stroke='#444'/>"
    )
    x = left
    for child, centre in zip(layout.children, centres, strict=True):
        arrow(centre, bus, centre, top + GAP, out)
        render_part(child, x, top + GAP, out, shapes)
        out.append(
            f"<polyline points='{centre:.1f},{top + GAP + child.height:.1f} {centre:.1f},"
            f"{join:.1f} {middle:.1f},{join:.1f}' fill='none' stroke='#444'/>"
        )
        x += child.width + GAP


def _column(layout: Layout, left: float, top: float, out: Canvas, shapes: bool) -> None:
    """A chain of layers and blocks, with its skip (ResNet) or its dense feeds (DenseNet)."""
    inner = layout.width - 2 * (PAD if layout.framed else 0) - (ARC if layout.skip else 0)
    placed: list[tuple[float, float, float]] = []  # each child's left, top and bottom
    cy, merge_y = top, top
    for i, child in enumerate(layout.children):
        cx = left + layout.lanes + (inner - layout.lanes - child.width) / 2
        if i:
            arrow(cx + child.width / 2, cy - GAP, cx + child.width / 2, cy, out)
        render_part(child, cx, cy, out, shapes)
        placed.append((cx, cy, cy + child.height))
        if child.part is not None and child.part.row.type == "add":
            merge_y = cy + BOX_H / 2
        cy += child.height + GAP
    if layout.skip:
        _skip(layout, left - (PAD if layout.framed else 0), top, merge_y, out)
    for source, target in layout.feeds:
        _dense(layout, left, top, placed, source, target, out)


def _dense(
    layout: Layout,
    left: float,
    top: float,
    placed: list[tuple[float, float, float]],
    source: int,
    target: int,
    out: Canvas,
) -> None:
    """One of DenseNet's connections (Fig. 1): from below a layer (or the block's input) along
    a lane left of the column into a later concatenation; from below a collapsed layer back
    into its own, for the layers it stands for."""
    if source < 0:
        centre, start = placed[0][0] + layout.children[0].width / 2, top - 4
    else:
        sx, _, bottom = placed[source]
        child = layout.children[source]
        centre, start = sx + child.width / 2, bottom + GAP / 2
    tx, ty, _ = placed[target]
    child = layout.children[target]
    framed = child.style != "leaf" and child.framed
    end = ty + BOX_H / 2 + ((PAD + HEAD * (2 if out.look.stats else 1)) if framed else 0)
    lane = left + layout.lanes - ARC / 2 - 3 * min(abs(target - source), 8)
    out.append(
        f"<polyline class='dense' data-from='{source}' data-to='{target}' points='{centre:.1f},"
        f"{start:.1f} {lane:.1f},{start:.1f} {lane:.1f},{end:.1f} {tx:.1f},{end:.1f}' "
        "fill='none' stroke='#2b6a99' stroke-width='1.2' marker-end='url(#arrow)'/>"
    )


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


def _skip(layout: Layout, x: float, top: float, end: float, out: Canvas) -> None:
    """The shortcut of ResNet's Fig. 3: an arc from the block's input to its addition,
    solid for the identity, dashed where a projection changes the size."""
    right = x + layout.width - PAD - ARC / 2
    dashed = " stroke-dasharray='6 4'" if layout.skip == "projection" else ""
    label = ""
    if layout.shortcut is not None:
        convs = [p.label for p in layout.shortcut.walk() if p.kind == "conv"]
        label = convs[0] if convs else layout.shortcut.label
    out.append(
        f"<path class='skip {layout.skip}' data-shortcut='{escape(label)}' "
        f"d='M {right - ARC:.1f} {top - 4:.1f} "
        f"C {right + ARC / 2:.1f} {top - 4:.1f} {right + ARC / 2:.1f} {end:.1f} "
        f"{right - ARC:.1f} {end:.1f}' fill='none' stroke='#333' stroke-width='1.6'{dashed} "
        "marker-end='url(#arrow)'/>"
    )
    if label:
        out.note(x + layout.width + 6, (top + end) / 2, label, 9, fill="#333")


def legend(kinds: set[str], x: float, y: float, out: list[str]) -> None:
    """The kinds of layer the figure draws, with their fills."""
    out.append("<g class='legend'>")
    for kind in (k for k in KINDS if k in kinds):
        out.append(
            f"<rect x='{x:.1f}' y='{y:.1f}' width='14' height='12' fill='{FILLS[kind]}' "
            "stroke='#444'/>"
        )
        out.append(label_text(x + 20, y + 10, kind, 10, "start"))
        y += 18
    out.append("</g>")


def render_svg(parts: list[Part], title: str, look: Look, batch: int = 1) -> str:
    """The parts of one network as one column, top to bottom, with a title and a legend; the
    branches only training runs (GoogLeNet's auxiliary classifiers) beside it, where they
    branch off."""
    layouts = [layout_of(p, look) for p in visible([p for p in parts if not p.side])]
    width = max(layout.width for layout in layouts) + 2 * PAD
    body = Canvas(batch, look)
    y = 40.0
    placed: list[tuple[Layout, float, float]] = []  # each main part, its left and its top
    for i, layout in enumerate(layouts):
        x = PAD + (width - 2 * PAD - layout.width) / 2
        if i:
            arrow(width / 2, y - GAP, width / 2, y, body)
        render_part(layout, x, y, body)
        placed.append((layout, x, y))
        y += layout.height + GAP
    # The output shape in a margin of its own, where it changes (as the papers' tables do),
    # clear of the notes beside the column.
    margin = max(width + 24, body.right + 12)
    previous = ""
    for baseline, shape in sorted(body.shapes):
        if shape != previous:
            body.append(label_text(margin, baseline, shape, 10, "start", fill="#555"))
            previous = shape
    sides = [layout_of(p, look) for p in parts if p.side]
    side_x, side_y = margin + 90, 40.0
    for side in sides:
        assert side.part is not None
        source = side.part.row.sources[0] if side.part.row.sources else -1
        found = [(lay, x, top) for lay, x, top in placed if lay.part and lay.part.holds(source)]
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
        render_part(side, side_x, branch_y, body, shapes=False)
        body.append("</g>")
        side_y = branch_y + side.height + GAP
    y = max(y, side_y)
    legend_x = max(side_x + max((s.width + 2 * GAP for s in sides), default=0), body.right + 12)
    legend(body.kinds, legend_x, 40, body)
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
