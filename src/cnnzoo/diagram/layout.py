"""A network's figure laid out: the size of each block and where its parts go, before any
SVG is written. Laid out here rather than by a graph engine: a network drawn as its paper draws
it is a column of boxes with frames around blocks, branches side by side and skips as arcs,
which a few lines place exactly; a general graph layout (Graphviz's ``dot``) would route edges
of its own, draw every op of a block, and needs a program installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cnnzoo.diagram.structure import Part, visible
from cnnzoo.errors import ConfigError

__all__ = [
    "ARC",
    "BOX_H",
    "BOX_W",
    "GAP",
    "HEAD",
    "PAD",
    "STYLES",
    "Layout",
    "Look",
    "layout_of",
    "look_for",
]

STYLES = ("auto", "column", "graph")
BOX_W, BOX_H, GAP = 190, 24, 14  # a layer's box and the space between two boxes
PAD, HEAD = 10, 18  # inside a block's frame: padding, and the line of its name
ARC = 22  # the room a skip's arc takes beside its block


@dataclass(frozen=True)
class Look:
    """How a figure is drawn: ``stats`` writes each block's parameters and MACs; ``graph`` is
    the style of GoogLeNet's Fig. 3, where a module's branches are bare columns of layers."""

    stats: bool = True
    graph: bool = False


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
    framed: bool = True  # a block drawn in a frame with its name (not a graph's branch)
    # Concatenations that read more than the layer above them, as (from, to) positions in the
    # column (-1: the block's input; from == to: a collapsed dense layer reading all before)
    feeds: list[tuple[int, int]] = field(default_factory=list)
    lanes: float = 0.0  # the room left of the column those feeds run in


def _merge(children: list[Part]) -> Part | None:
    """Where a block's paths join: its last concatenation or addition."""
    return next((c for c in reversed(children) if c.leaf and c.row.type in ("cat", "add")), None)


def _dense_feeds(block: Part, column: list[Part]) -> list[tuple[int, int]]:
    """The column's concatenations of more than the layer above: DenseNet's connections,
    each layer reading the block's input and every layer before it."""
    feeds = {(j, j) for j, child in enumerate(column) if child.dense}
    for j, child in enumerate(column):
        cat = child.entry_cat()
        for source in cat.row.sources if cat is not None else ():
            i = next((i for i, c in enumerate(column[:j]) if c.holds(source)), None)
            if i is None and source < block.index and j > 0:
                i = -1  # the block's input
            if i is not None and i != j - 1:
                feeds.add((i, j))
    return sorted(feeds)


def layout_of(part: Part, look: Look, framed: bool = True) -> Layout:
    if part.leaf:
        return Layout(part, BOX_W, BOX_H)
    children = visible(part.children)
    if part.repeat == 1 and len(children) == 1 and children[0].leaf:
        # a block that wraps one layer (GoogLeNet's conv + ReLU) is drawn as that layer
        return Layout(part, BOX_W, BOX_H, shown=children[0])
    merge = _merge(children)
    # The children that read the block's own input: one is the main path, the others run beside.
    entry = [c for c in children if c.row.sources == part.row.sources and c is not merge]
    layout = Layout(part, 0, 0, framed=framed)
    if merge is not None and merge.row.type == "cat" and len(entry) > 1:
        branches = [_path(p, look) for p in _paths(children, entry, merge)]
        layout.style = "branches"
        layout.children = [*branches, layout_of(merge, look)]
        inner_w = sum(b.width for b in branches) + GAP * (len(branches) - 1)
        # the input fans out over a bus above the branches; they join at the merge below
        inner_h = GAP + max(b.height for b in branches) + GAP + BOX_H
    else:
        shortcut = next((c for c in entry[1:] if merge is not None and _feeds(c, merge)), None)
        if merge is not None and merge.row.type == "add":
            outside = any(s < part.index for s in merge.row.sources)
            layout.skip = "identity" if outside and shortcut is None else "projection"
            layout.shortcut = shortcut
        parts = [c for c in children if c is not shortcut]
        column = [layout_of(c, look) for c in parts]
        layout.style = "column"
        layout.children = column
        layout.feeds = _dense_feeds(part, parts)
        if layout.feeds:
            layout.lanes = ARC + 3 * min(max(j - i for i, j in layout.feeds), 8)
        inner_w = max((c.width for c in column), default=BOX_W) + layout.lanes
        inner_h = sum(c.height for c in column) + GAP * max(len(column) - 1, 0)
    head = HEAD * (2 if look.stats else 1) if framed else 0
    pad = PAD if framed else 0
    layout.width = inner_w + 2 * pad + (ARC if layout.skip else 0)
    layout.height = inner_h + 2 * pad + head
    return layout


def _paths(children: list[Part], entry: list[Part], merge: Part) -> list[list[Part]]:
    """A branching block's paths: one from each child that reads the block's input, every other
    child on the path of the child it reads (Inception-v4's 1x3 and 3x1 split off a 1x1)."""
    paths = [[c] for c in entry]
    for child in children:
        if child is merge or child in entry:
            continue
        path = next(
            (p for p in paths if any(q.holds(s) for q in p for s in child.row.sources)), None
        )
        if path is None:
            paths.append([child])
        else:
            path.append(child)
    return paths


def _path(path: list[Part], look: Look) -> Layout:
    """One path of a branching block: a block as itself (framed only in the column style),
    several as a bare column, in which layers reading one output side by side (a fork)."""
    if len(path) == 1:
        return layout_of(path[0], look, framed=not look.graph)
    groups: list[list[Part]] = []
    for part in path:
        same = next((g for g in groups if g[0].row.sources == part.row.sources), None)
        if same is None:
            groups.append([part])
        else:
            same.append(part)
    items = []
    for group in groups:
        if len(group) == 1:
            items.append(layout_of(group[0], look, framed=not look.graph))
            continue
        fork = [layout_of(p, look, framed=not look.graph) for p in group]
        width = sum(f.width for f in fork) + GAP * (len(fork) - 1)
        items.append(Layout(None, width, GAP + max(f.height for f in fork) + GAP / 2, fork, "fork"))
    height = sum(i.height for i in items) + GAP * (len(items) - 1)
    return Layout(None, max(i.width for i in items), height, items, "column", framed=False)


def _feeds(part: Part, merge: Part) -> bool:
    return any(part.holds(s) for s in merge.row.sources)


def _layouts(layout: Layout) -> Iterator[Layout]:
    yield layout
    for child in layout.children:
        yield from _layouts(child)


def look_for(parts: list[Part], style: str, stats: bool) -> Look:
    """The figure's style: ``graph`` for networks of branching modules (GoogLeNet's Fig. 3),
    ``column`` for chains and residual nets (the VGG and ResNet figures); ``auto`` picks."""
    if style not in STYLES:
        raise ConfigError(f"style {style!r}: expected one of {', '.join(STYLES)}")
    if style == "auto":
        plain = Look(stats=False)
        layouts = (lay for p in parts for lay in _layouts(layout_of(p, plain)))
        style = "graph" if any(lay.style == "branches" for lay in layouts) else "column"
    return Look(stats, graph=style == "graph")
