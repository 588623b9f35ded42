"""Pictures as arrays, for a page rather than a figure: maps coloured on one scale, laid out
in a grid, a heat map over its image, and PNG bytes; no plotting library in the way."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

__all__ = ["coloured", "overlay", "png", "tiled"]


def coloured(maps: torch.Tensor, cmap: str = "viridis") -> np.ndarray:
    """Maps (N, h, w) as RGB pictures (N, h, w, 3) in 0..1, all on one scale (the smallest
    value to the largest), so strong and weak responses compare."""
    from matplotlib import colormaps  # the colour tables only, not pyplot

    values = maps.detach().float().cpu().numpy()
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / max(high - low, 1e-12)
    return np.asarray(colormaps[cmap](scaled)[..., :3])


def tiled(pictures: np.ndarray, columns: int = 8, scale: int = 1, gap: int = 2) -> np.ndarray:
    """Pictures (N, h, w, 3) or (N, h, w) in 0..1 side by side, ``columns`` a row, each
    enlarged ``scale`` times (nearest: a pixel stays a pixel), on white; (H, W, 3) uint8."""
    if pictures.ndim == 3:
        pictures = np.repeat(pictures[..., None], 3, axis=-1)
    n, h, w, _ = pictures.shape
    big = pictures.repeat(scale, axis=1).repeat(scale, axis=2)
    h, w = h * scale, w * scale
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    sheet = np.ones((rows * (h + gap) - gap, columns * (w + gap) - gap, 3))
    for i, picture in enumerate(big):
        r, c = divmod(i, columns)
        sheet[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = picture
    return (sheet * 255).round().astype(np.uint8)


def overlay(image: np.ndarray, heat: torch.Tensor, alpha: float = 0.45) -> np.ndarray:
    """A heat map (H, W) in 0..1 (Grad-CAM's) over its image (H, W) or (H, W, 3) in 0..1,
    coloured as ``cmap="jet"`` draws it; (H, W, 3) uint8."""
    from matplotlib import colormaps

    picture = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=-1)
    colours = np.asarray(colormaps["jet"](heat.detach().cpu().numpy())[..., :3])
    mixed = ((1 - alpha) * picture + alpha * colours).clip(0, 1)
    return (mixed * 255).round().astype(np.uint8)


def png(array: np.ndarray) -> bytes:
    """An (H, W, 3) or (H, W) uint8 array, or one in 0..1, as PNG bytes."""
    if array.dtype != np.uint8:
        array = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()
