"""A network as its papers draw it: the module tree in call order, each layer labelled, and
runs of identical blocks collapsed into one drawn block with ``x N`` beside it.

Built from the anatomy trace (:func:`cnnzoo.anatomy.analyze`), so any ``nn.Module`` has one:
the rows give the call order, the shapes and the graph (which rows each call reads); the
modules give the labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from torch import nn

from cnnzoo.anatomy.stats import Analysis, LayerStats
from cnnzoo.diagram.labels import conv_like, kind_of, label_of, towers_of

__all__ = ["Part", "structure", "visible"]


@dataclass
class Part:
    """One module call (or functional op) of the trace, with the parts it calls."""

    index: int  # its row in the analysis
    row: LayerStats
    label: str
    kind: str
    children: list[Part] = field(default_factory=list)
    repeat: int = 1  # identical parts collapsed into this one (``x repeat``)
    side: bool = False  # a branch only training runs (an auxiliary classifier)
    towers: int = 1  # a grouped convolution's groups, drawn side by side
    tower_label: str = ""  # the label of one of them
    dense: bool = False  # each of the ``repeat`` reads the concatenation of all before it

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def leaf(self) -> bool:
        return not self.children

    def signature(self) -> tuple[object, ...]:
        """What makes two parts the same block as a paper draws it: the same type, the same
        labels all the way down, the same output shape (a dense layer's growing input does
        not tell two layers apart; a stride or a projection does)."""
        shape = self.row.output_shape[1:] if self.children else ()
        return (self.row.type, self.label, shape, tuple(c.signature() for c in self.children))

    def walk(self) -> Iterator[Part]:
        yield self
        for child in self.children:
            yield from child.walk()

    def holds(self, index: int) -> bool:
        """Whether the trace's row ``index`` is this part or inside it."""
        return any(p.index == index for p in self.walk())

    def entry_cat(self) -> Part | None:
        """The concatenation this part starts with: itself, or its first layer (a dense
        layer's ``torch.cat`` of every earlier map); None if it starts otherwise."""
        first = self
        while first.row.type != "cat":
            if first.leaf:
                return None
            first = first.children[0]
        return first


def _module(modules: dict[str, nn.Module], row: LayerStats) -> nn.Module | None:
    """The module a row is a call of; None for a functional op's row."""
    module = modules.get(row.name)
    return module if module is not None and type(module).__name__ == row.type else None


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


def _concatenates(part: Part, earlier: Part) -> bool:
    """Whether ``part`` starts by concatenating an output of ``earlier`` (a dense layer)."""
    cat = part.entry_cat()
    return cat is not None and any(earlier.holds(s) for s in cat.row.sources)


def _collapse(parts: list[Part]) -> list[Part]:
    """Runs of consecutive blocks with one signature become their first, ``repeat`` times,
    marked ``dense`` where each reads its predecessors' outputs (a dense block's layers)."""
    out: list[Part] = []
    previous: Part | None = None
    for part in parts:
        part.children = _collapse(part.children)
        last = out[-1] if out else None
        # a block drawn as its one layer (conv + BN + ReLU) is drawn each time, as layers are
        block = not part.leaf and len(visible(part.children)) > 1
        if last is not None and block and last.signature() == part.signature():
            last.repeat += part.repeat
            last.dense = last.dense or (previous is not None and _concatenates(part, previous))
        else:
            out.append(part)
        previous = part
    return out


def structure(
    model: nn.Module, analysis: Analysis, expand: bool = False, side: Sequence[str] = ()
) -> list[Part]:
    """The top-level parts of ``model`` in call order (``expand``: every block drawn).
    ``side`` names the top-level modules only training runs, marked as side branches; the
    operations after the last module call (a training trace's loss) are not the network's."""
    modules = dict(model.named_modules())
    roots: list[Part] = []
    stack: list[Part] = []
    within = -1  # the depth of a layer drawn as one whose inner rows are passed over
    for index, row in enumerate(analysis.layers):
        if within >= 0 and row.depth > within:
            continue
        within = -1
        module = _module(modules, row)
        op = row.type if module is None else ""
        towers, tower_label = towers_of(module)
        label, kind = label_of(module, op), kind_of(module, op)
        part = Part(index, row, label, kind, towers=towers, tower_label=tower_label)
        while stack and stack[-1].row.depth >= row.depth:
            stack.pop()
        if isinstance(module, nn.Identity):  # a layer switched off (no BN, no dropout)
            continue
        (stack[-1].children if stack else roots).append(part)
        if conv_like(module):
            within = row.depth
        elif not row.leaf:
            stack.append(part)
    last = max((i for i, p in enumerate(roots) if _module(modules, p.row) is not None), default=-1)
    roots = roots[: last + 1]
    for part in roots:
        part.side = part.name in side
    return roots if expand else _collapse(roots)
