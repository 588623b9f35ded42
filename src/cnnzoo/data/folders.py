"""Users' own photos: an ImageFolder tree (one sub-folder per class), split stratified and
decoded with PIL to the same uint8 tensors as the data sets, whatever the image's mode."""

from __future__ import annotations

import contextlib
import os
import random
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import Dataset

from cnnzoo.data.catalogue import DataIntegrityError, DataNotFoundError, ImageArrays
from cnnzoo.errors import ConfigError

__all__ = [
    "IMAGE_EXTENSIONS",
    "FolderImages",
    "FolderSplit",
    "image_folder_split",
    "images_under",
    "load_folder_arrays",
    "open_image",
    "read_image",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


# ---------------------------------------------------------------------------------------------
# Image folders: a user's own photos


@dataclass(frozen=True)
class FolderSplit:
    """An ImageFolder tree split into training and validation samples."""

    train: list[tuple[Path, int]]  # (image path, label), classes mixed in a seeded order
    val: list[tuple[Path, int]]
    classes: tuple[str, ...]  # the class folders' names, sorted; a label indexes this


def images_under(directory: Path) -> list[Path]:
    """The image files under ``directory``, at any depth, sorted; hidden files are skipped:
    macOS's "._photo.jpg" companions are not images."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    )


def image_folder_split(
    root: str | os.PathLike[str], val_fraction: float = 0.1, seed: int = 0
) -> FolderSplit:
    """Split ``root/<class>/<image>`` into training and validation, stratified by class.

    Each class gives ``round(n · val_fraction)`` of its images to validation, at least one when
    it has two or more and at most all but one, so every class is seen in both. Each class is
    shuffled by its own generator seeded from ``(seed, class name)``: the split is the same on
    every run and machine, and adding a class leaves the others' splits as they were. Both lists
    come in a seeded order with the classes mixed, so a prefix of one is a fair sample of it.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction {val_fraction}: expected a fraction in [0, 1), e.g. 0.1")
    base = Path(root).expanduser()
    if not base.is_dir():
        raise DataNotFoundError(
            f"image folder {base} {'is not a directory' if base.exists() else 'does not exist'}: "
            "expected a directory with one sub-folder of images per class"
        )
    folders = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = {d.name: images_under(d) for d in folders}
    total = sum(len(paths) for paths in per_class.values())
    extensions = " ".join(IMAGE_EXTENSIONS)
    if total == 0:
        loose = len(images_under(base)) if not folders else 0
        where = (
            f"{loose} images lie directly in it, not in class sub-folders"
            if loose
            else f"no images ({extensions}) in {len(folders)} sub-folders"
        )
        raise DataNotFoundError(
            f"image folder {base}: {where}; expected {base}/<class>/<image>, one sub-folder per "
            "class"
        )
    empty = [name for name, paths in per_class.items() if not paths]
    if empty:
        raise DataNotFoundError(
            f"image folder {base}: the class folders {', '.join(empty)} hold no images "
            f"({extensions}); add images or remove the folders"
        )
    if len(per_class) < 2:
        ((name, paths),) = per_class.items()
        raise ConfigError(
            f"image folder {base} has one class, {name!r} with {len(paths)} images: a "
            "classifier needs at least two class sub-folders"
        )
    classes = tuple(per_class)
    train: list[tuple[Path, int]] = []
    val: list[tuple[Path, int]] = []
    for label, (name, paths) in enumerate(per_class.items()):
        order = list(paths)
        random.Random(f"{seed}:{name}").shuffle(order)
        n = len(order)
        k = round(n * val_fraction)
        if val_fraction > 0 and n >= 2:
            k = min(max(k, 1), n - 1)
        val += [(p, label) for p in order[:k]]
        train += [(p, label) for p in order[k:]]
    # Classes interleaved in a seeded order: a prefix of either list is a fair sample of it.
    random.Random(f"{seed}:train").shuffle(train)
    random.Random(f"{seed}:val").shuffle(val)
    return FolderSplit(train=train, val=val, classes=classes)


_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Any PIL mode as "L" or "RGB" with 8-bit values."""
    if image.mode == "F":
        # Float images (TIFF, scientific cameras): [0, 1] as most tools write them, else their
        # own range stretched over 0..255; PIL's convert would clip [0, 1] to black.
        values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        if low < 0.0 or high > 1.0:
            values = (values - low) / (high - low)
        image = Image.fromarray(np.rint(values * 255).astype(np.uint8))
    if image.mode in _DEEP_MODES:
        # PIL's convert clips 16-bit values at 255 instead of scaling: a 16-bit PNG turns white.
        # Deep integer images are read as 16-bit, PNG's and TIFF's deep greyscale.
        wide = np.asarray(image).astype(np.int64)
        image = Image.fromarray(((wide.clip(0, 65535) * 255 + 32767) // 65535).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        # Transparent pixels become black, whatever colour they happen to store.
        image = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", image.size, (0, 0, 0, 255)), image)
    return image.convert(mode)


@contextlib.contextmanager
def _no_bomb_warning() -> Iterator[None]:
    """Silence PIL's warning for images over its pixel limit: :func:`_check_pixels` refuses
    them instead. Warning filters are global and not thread-safe, so only the main thread sets
    them; threads that decode for it run inside its setting (:func:`load_folder_arrays`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _check_pixels(
    path: str | os.PathLike[str], size: tuple[int, int], max_pixels: int | None
) -> None:
    """Refuse an image larger than PIL's limit (or the caller's lower one) from its header,
    before its pixels are inflated (a small file can promise gigabytes: a decompression bomb)."""
    width, height = size
    limits = (
        (Image.MAX_IMAGE_PIXELS, "PIL allows (PIL.Image.MAX_IMAGE_PIXELS; a decompression bomb?)"),
        (max_pixels, "taken here"),
    )
    for limit, whose in limits:
        if limit is not None and width * height > limit:
            raise DataIntegrityError(
                f"{path}: refused, {width}x{height} = {width * height:,} pixels is more than the "
                f"{limit:,} {whose}"
            )


def open_image(
    path: str | os.PathLike[str], channels: int, draft: int = 0, max_pixels: int | None = None
) -> Image.Image:
    """An image file decoded with its pixel count checked first (a decompression bomb is
    refused by name; ``max_pixels`` a lower limit than PIL's), turned upright by its EXIF
    orientation, as "L" (1 channel) or "RGB" (3) from any mode (palette, CMYK, 16-bit, with
    alpha). ``draft``: a JPEG may decode at 1/2, 1/4 or 1/8 scale where that still covers
    ``draft`` x ``draft`` (faster)."""
    if channels not in (1, 3):
        raise ConfigError(f"channels {channels}: expected 1 (greyscale) or 3 (RGB)")
    mode = "L" if channels == 1 else "RGB"
    try:
        with _no_bomb_warning(), Image.open(path) as opened:
            _check_pixels(path, opened.size, max_pixels)
            if draft:
                opened.draft(mode, (draft, draft))
            return _to_mode(ImageOps.exif_transpose(opened), mode)
    except DataIntegrityError:
        raise
    except Image.DecompressionBombError as error:
        raise DataIntegrityError(f"{path}: refused, {error}") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataIntegrityError(f"{path}: not a readable image ({error})") from error


def read_image(path: str | os.PathLike[str], size: int, channels: int) -> torch.Tensor:
    """An image file (decoded by :func:`open_image`) as a (channels, size, size) uint8 tensor:
    the shorter side resized to ``size`` (bilinear, antialiased), the centre cropped square."""
    if size < 1:
        raise ConfigError(f"size {size}: expected a side of at least 1 pixel")
    image = open_image(path, channels, draft=size)
    width, height = image.size
    side = min(width, height)
    # Resizing the centred square of the source is the shorter-side resize and centre crop in
    # one step, without rounding the intermediate size.
    box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
    image = image.resize((size, size), Image.Resampling.BILINEAR, box=box)
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8))  # (H, W) or (H, W, 3)
    return pixels.unsqueeze(0) if channels == 1 else pixels.permute(2, 0, 1).contiguous()


class FolderImages(Dataset[tuple[torch.Tensor, int]]):
    """Images of an ImageFolder tree, decoded on demand: each item is a (channels, size, size)
    uint8 tensor and its label. For a folder too large to hold in memory."""

    def __init__(self, samples: Sequence[tuple[Path, int]], size: int, channels: int) -> None:
        if channels not in (1, 3):
            raise ConfigError(f"channels {channels}: expected 1 (greyscale) or 3 (RGB)")
        if size < 1:
            raise ConfigError(f"size {size}: expected a side of at least 1 pixel")
        self.samples = list(samples)
        self.size = size
        self.channels = channels

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return read_image(path, self.size, self.channels), label


def load_folder_arrays(
    samples: Sequence[tuple[Path, int]],
    size: int,
    channels: int,
    classes: Sequence[str] | None = None,
    name: str = "image-folder",
) -> ImageArrays:
    """A small image folder decoded whole into memory (as :class:`FolderImages` decodes it).

    ``classes`` names the labels (``FolderSplit.classes``); without it they are named by number.
    """
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    low, count = (int(labels.min()), int(labels.max()) + 1) if len(samples) else (0, 0)
    names = tuple(classes) if classes is not None else tuple(str(i) for i in range(count))
    if low < 0 or count > len(names):
        raise ConfigError(
            f"labels range over {low}..{count - 1}, but {len(names)} class names were given: "
            "one name per label is needed"
        )
    images = torch.empty(len(samples), channels, size, size, dtype=torch.uint8)
    # PIL decodes and resizes outside the GIL, so threads decode in parallel.
    workers = min(8, os.cpu_count() or 1)
    with _no_bomb_warning(), ThreadPoolExecutor(max_workers=workers) as pool:
        decoded = pool.map(lambda s: read_image(s[0], size, channels), samples)
        for i, pixels in enumerate(decoded):
            images[i] = pixels
    return ImageArrays(name, images, labels, names)
