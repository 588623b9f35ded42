"""What the viz modules share: a grid shape, figures, and saving them.

Figures are matplotlib ``Figure`` objects made without pyplot: no backend is chosen or
switched (a notebook keeps its own), and nothing is shown; they only become files."""

from __future__ import annotations

import io
import math
import os
import textwrap
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from cnnzoo.train.files import write_file

__all__ = ["figure_title", "grid", "save", "subplots"]

# A character of the default sans-serif is at most about 0.6 of the font size wide, on average
_CHAR_EM = 0.62


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


def figure_title(fig: Figure, text: str, fontsize: float = 10) -> None:
    """``text`` as the figure's title, each line wrapped to the figure's width: a long run
    name or layer path would otherwise run past both edges of a narrow figure."""
    chars = max(24, int(fig.get_figwidth() * 72 / (_CHAR_EM * fontsize)))
    lines = [textwrap.fill(line, chars) for line in text.split("\n")]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def save(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG (folders made as needed); the file is replaced, so a link planted
    at ``path`` (in a run folder someone else made) is not written through."""
    image = io.BytesIO()
    fig.savefig(image, dpi=dpi, format="png")
    return write_file(path, image.getvalue())
