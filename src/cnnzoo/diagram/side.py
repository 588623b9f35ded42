"""Several networks in one figure, in columns aligned by stage: ResNet's Fig. 3 sets VGG-19,
a 34-layer plain net and its residual twin side by side, each stage at one height."""

from __future__ import annotations

from html import escape

from cnnzoo.diagram.layout import GAP, Look, layout_of
from cnnzoo.diagram.structure import Part, visible
from cnnzoo.diagram.svg import Canvas, arrow, label_text, legend, render_part, svg_document

__all__ = ["render_side_by_side"]


def _chain_items(parts: list[Part]) -> list[Part]:
    """The top-level parts with plain chains opened (VGG's ``features``), so that networks
    built differently line up by the size of their maps."""
    out: list[Part] = []
    for part in visible(parts):
        plain = part.row.type == "Sequential" and part.repeat == 1
        if plain and not any(p.row.type in ("add", "cat") for p in part.walk()):
            out.extend(_chain_items(part.children))
        else:
            out.append(part)
    return out


def _band(part: Part) -> tuple[int, int]:
    """Where a part lines up across networks: the (height, width) of its output maps; the
    classifier's vectors come last."""
    shape = part.row.output_shape[1:]
    return (int(shape[1]), int(shape[2])) if len(shape) == 3 else (0, 0)


def render_side_by_side(
    networks: list[tuple[str, list[Part]]], title: str, look: Look, batch: int = 1
) -> str:
    """Several networks in columns, aligned by stage (the size of their maps), as ResNet's
    Fig. 3 sets VGG-19, a plain net and its residual twin side by side."""
    columns = [
        (name, [layout_of(p, look) for p in _chain_items([p for p in parts if not p.side])])
        for name, parts in networks
    ]
    order: list[tuple[int, int]] = []
    for _, layouts in columns:
        for layout in layouts:
            assert layout.part is not None
            if (band := _band(layout.part)) not in order:
                order.append(band)
    order.sort(key=lambda b: -b[0] * b[1])  # the largest maps first, the classifier last
    heights = {
        band: max(
            sum(lay.height + GAP for lay in layouts if lay.part and _band(lay.part) == band)
            for _, layouts in columns
        )
        for band in order
    }
    tops, y = {}, 70.0
    for band in order:
        tops[band] = y
        y += heights[band] + GAP
    body = Canvas(batch, look)
    x = 70.0
    for name, layouts in columns:
        width = max(layout.width for layout in layouts)
        body.append(f"<g class='network' data-name='{escape(name)}'>")
        body.append(label_text(x + width / 2, 56, name, 13, "middle", font_weight="bold"))
        previous: tuple[float, float] | None = None
        filled = dict.fromkeys(order, 0.0)
        for layout in layouts:
            assert layout.part is not None
            band = _band(layout.part)
            top = tops[band] + filled[band]
            left = x + (width - layout.width) / 2
            if previous is not None:
                arrow(previous[0], previous[1], left + layout.width / 2, top, body)
            render_part(layout, left, top, body, shapes=False)
            filled[band] += layout.height + GAP
            previous = (left + layout.width / 2, top + layout.height)
        body.append("</g>")
        x = max(x + width + 40, body.right + 30)  # clear of the projections' labels and "x N"
    for band in order:  # the size of the maps, beside each stage
        label = f"{band[0]}x{band[1]}" if band != (0, 0) else "fc"
        body.append(label_text(8, tops[band] + 16, label, 10, "start", fill="#555", class_="band"))
        body.append(
            f"<line x1='4' y1='{tops[band] - GAP / 2:.1f}' x2='{x:.1f}' "
            f"y2='{tops[band] - GAP / 2:.1f}' stroke='#ddd'/>"
        )
    legend(body.kinds, x, 70, body)
    return svg_document(x + 110, y, title, body)
