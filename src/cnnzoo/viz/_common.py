"""What the viz modules share: a grid shape and saving a figure."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt

from cnnzoo.train.files import write_file

__all__ = ["grid", "save"]


def grid(count: int) -> tuple[int, int]:
    """Rows and columns for ``count`` panels, a little wider than tall."""
    cols = math.ceil(math.sqrt(count * 1.5))
    return math.ceil(count / cols), cols


def save(fig: plt.Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG (folders made as needed) and free it; the file is replaced, so a
    link planted at ``path`` (in a run folder someone else made) is not written through."""
    image = io.BytesIO()
    try:
        fig.savefig(image, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return write_file(path, image.getvalue())
