"""Anatomy of a network: shapes, parameters, cost, memory and receptive field of every layer,
worked out on the meta device, and the design arithmetic of the papers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnnzoo._lazy import lazy_attributes

if TYPE_CHECKING:
    from cnnzoo.anatomy.analysis import TraceError, analyze
    from cnnzoo.anatomy.geometry import (
        ConvArithmetic,
        Field,
        GeometryError,
        GeometryWarning,
        conv_arithmetic,
    )
    from cnnzoo.anatomy.stats import CONVENTION, Analysis, LayerStats, Totals

__all__ = [
    "CONVENTION",
    "Analysis",
    "ConvArithmetic",
    "Field",
    "GeometryError",
    "GeometryWarning",
    "LayerStats",
    "Totals",
    "TraceError",
    "analyze",
    "conv_arithmetic",
]

# Loaded on first use: the arithmetic and the reports need no PyTorch, only the analysis does.
_HOMES = {
    **dict.fromkeys(("TraceError", "analyze"), "cnnzoo.anatomy.analysis"),
    **dict.fromkeys(("CONVENTION", "Analysis", "LayerStats", "Totals"), "cnnzoo.anatomy.stats"),
    **dict.fromkeys(
        ("ConvArithmetic", "Field", "GeometryError", "GeometryWarning", "conv_arithmetic"),
        "cnnzoo.anatomy.geometry",
    ),
}


__getattr__ = lazy_attributes(__name__, _HOMES)
