"""Anatomy of a network: shapes, parameters, cost, memory and receptive field of every layer,
worked out on the meta device, and the design arithmetic of the papers."""

from cnnzoo.anatomy.analyze import analyze
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
    "analyze",
    "conv_arithmetic",
]
