"""What the viz modules share: a grid shape, figures, and saving them.

Figures are matplotlib ``Figure`` objects made without pyplot: no backend is chosen or
switched (a notebook keeps its own), and nothing is shown; they only become files."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from cnnzoo.train.files import write_file

__all__ = ["grid", "save", "subplots"]


def grid(count: int) -> tuple[int, int]:
    """Rows and columns for ``count`` panels, a little wider than tall."""
    cols = math.ceil(math.sqrt(count * 1.5))
    return math.ceil(count / cols), cols


def subplots(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float],
    constrained_layout: bool = False,
    **kwargs: Any,
) -> tuple[Figure, Any]:
    """pyplot's ``subplots`` without pyplot (see the module's note)."""
    fig = Figure(figsize=figsize, layout="constrained" if constrained_layout else None)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG (folders made as needed); the file is replaced, so a link planted
    at ``path`` (in a run folder someone else made) is not written through."""
    image = io.BytesIO()
    fig.savefig(image, dpi=dpi, format="png")
    return write_file(path, image.getvalue())
