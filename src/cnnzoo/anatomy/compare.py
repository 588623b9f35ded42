"""Networks side by side: the "deeper, cheaper, better" story of ILSVRC in one table."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from cnnzoo.anatomy.analysis import analyze
from cnnzoo.anatomy.geometry import GeometryWarning
from cnnzoo.models import model_info

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """One network's figures at its paper's input size (or the size asked for)."""

    name: str
    year: int
    input_size: tuple[int, ...]  # (C, H, W)
    params: int  # of the network that infers
    training_params: int  # of the modules only training runs (GoogLeNet's auxiliary heads)
    macs: int  # per image
    depth: int  # weight layers on the longest path
    receptive_field: int | None  # of the last feature map, in input pixels
    forward_bytes: int  # activations per image, float32
    top5_error: float | None  # the paper's ILSVRC top-5 error, percent
    top5_source: str | None


def compare(names: list[str], input_size: tuple[int, int, int] | None = None) -> list[Comparison]:
    """Analyse each registered network and line up the figures the notes compare."""
    rows = []
    for name in names:
        info = model_info(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GeometryWarning)  # misfits are per-layer detail
            analysis = analyze(name, input_size)
        t = analysis.totals
        rf = t.receptive_field
        rows.append(
            Comparison(
                name,
                info.paper.year,
                analysis.input_size,
                t.params,
                t.training_params,
                t.macs,
                t.depth,
                None if rf is None else max(rf[0].size, rf[1].size),
                t.forward_bytes,
                info.top5_error.value if info.top5_error else None,
                info.top5_error.source if info.top5_error else None,
            )
        )
    return rows
