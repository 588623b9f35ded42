"""Demo photos to look at a network with, when no image of one's own is at hand: the samples
scikit-image ships inside its package (never a download)."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from cnnzoo.errors import ConfigError

__all__ = ["DEMO_IMAGES", "demo_image", "demo_picture"]

# name: what it shows (each is a function of ``skimage.data`` that reads a bundled file)
DEMO_IMAGES = {
    "chelsea": "Chelsea the cat (a tabby)",
    "coffee": "a cup of coffee",
    "astronaut": "Eileen Collins, astronaut",
    "rocket": "a rocket on its launch pad",
    "camera": "a cameraman (greyscale)",
    "coins": "Greek coins (greyscale)",
}


@functools.cache
def demo_image(name: str) -> Image.Image:
    """The demo photo ``name`` as RGB (greyscale ones repeated to three channels)."""
    if name not in DEMO_IMAGES:
        raise ConfigError(f"demo image {name!r}: expected one of {', '.join(DEMO_IMAGES)}")
    from skimage import data  # its bundled samples; imports only when a demo is asked for

    pixels = np.asarray(getattr(data, name)())
    return Image.fromarray(pixels).convert("RGB")


def demo_picture(name: str, height: int, width: int, channels: int = 3) -> Image.Image:
    """The demo photo as a network of that input would see it: its centre cropped to the
    aspect of ``height`` x ``width``, resized to it, in grey for one channel."""
    image = demo_image(name)
    w, h = image.size
    scale = min(w / width, h / height)
    box_w, box_h = width * scale, height * scale
    box = ((w - box_w) / 2, (h - box_h) / 2, (w + box_w) / 2, (h + box_h) / 2)
    picture = image.resize((width, height), Image.Resampling.BILINEAR, box=box)
    return picture.convert("L") if channels == 1 else picture
