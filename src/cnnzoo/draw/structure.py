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
from cnnzoo.draw.labels import kind_of, label_of, towers_of

__all__ = ["Part", "structure"]


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


def _module(modules: dict[str, nn.Module], row: LayerStats) -> nn.Module | None:
    """The module a row is a call of; None for a functional op's row."""
    module = modules.get(row.name)
    return module if module is not None and type(module).__name__ == row.type else None


def _collapse(parts: list[Part]) -> list[Part]:
    """Runs of consecutive blocks with one signature become their first, ``repeat`` times."""
    out: list[Part] = []
    for part in parts:
        part.children = _collapse(part.children)
        last = out[-1] if out else None
        if last is not None and not part.leaf and last.signature() == part.signature():
            last.repeat += part.repeat
        else:
            out.append(part)
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
    for index, row in enumerate(analysis.layers):
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
        if not row.leaf:
            stack.append(part)
    last = max((i for i, p in enumerate(roots) if _module(modules, p.row) is not None), default=-1)
    roots = roots[: last + 1]
    for part in roots:
        part.side = part.name in side
    return roots if expand else _collapse(roots)
