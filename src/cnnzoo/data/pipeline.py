"""From a data set's name (or an image folder) to train and test loaders for one model.

:class:`InputSpec` records how stored images become model inputs (size, channels, fit,
normalisation); it is saved with every checkpoint, so evaluation and prediction convert an image
exactly as training did.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from cnnzoo.data.augment import Augment, Fit, InputTransform, channel_stats, pca_lighting_basis
from cnnzoo.data.loader import InMemoryLoader, Shard, StreamLoader
from cnnzoo.data.sources import (
    DATASETS,
    FolderImages,
    ImageArrays,
    image_folder_split,
    load_arrays,
    load_folder_arrays,
)
from cnnzoo.errors import ConfigError

__all__ = ["DataBundle", "InputSpec", "build_data", "is_folder"]

# An image folder whose decoded images fit in this many bytes is held in memory.
IN_MEMORY_BYTES = 2 * 1024**3
# The most pixels a model input or stored image may have (8192 x 8192): far beyond any zoo
# model's input, and a bound on what a prediction allocates per image.
MAX_PIXELS = 8192 * 8192


@dataclass(frozen=True)
class InputSpec:
    """How a stored image becomes the model's input; enough to repeat it at prediction time."""

    size: tuple[int, int]  # (H, W) the model reads
    channels: int  # channels the model reads
    mode: str  # "resize" | "pad"
    mean: tuple[float, ...]  # per stored channel, images in [0, 1]
    std: tuple[float, ...]
    stored_size: tuple[int, int]  # (H, W) of the images as loaded (folders: after decoding)
    stored_channels: int

    def __post_init__(self) -> None:
        # A spec is read back from checkpoints someone else may have made: every value is
        # checked, so a crafted one cannot ask for 40 GB per image or divide by zero.
        for name in ("size", "stored_size"):
            h, w = getattr(self, name)
            if not (isinstance(h, int) and isinstance(w, int) and min(h, w) >= 1):
                raise ConfigError(f"input {name} {(h, w)}: expected two whole numbers of pixels")
            if h * w > MAX_PIXELS:
                raise ConfigError(
                    f"input {name} {h}x{w}: more than the {MAX_PIXELS:,} pixels an image may have"
                )
        if self.channels not in (1, 3) or self.stored_channels not in (1, 3):
            raise ConfigError(
                f"input channels {self.channels} (stored {self.stored_channels}): expected 1 or 3"
            )
        if self.mode not in ("resize", "pad"):
            raise ConfigError(f"input mode {self.mode!r}: expected 'resize' or 'pad'")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if len(values) != self.stored_channels or not all(
                isinstance(v, float | int) and math.isfinite(v) for v in values
            ):
                raise ConfigError(
                    f"input {name} {values}: expected {self.stored_channels} finite numbers"
                )
        if min(self.std) <= 0:
            raise ConfigError(f"input std {self.std}: expected positive numbers")

    def transform(
        self, augment: Augment | None = None, lighting_basis: torch.Tensor | None = None
    ) -> InputTransform:
        return InputTransform(
            Fit(self.size, self.channels, self.mode),
            torch.tensor(self.mean),
            torch.tensor(self.std),
            augment,
            lighting_basis,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> InputSpec:
        names = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or set(values) != names:
            given = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise ConfigError(f"input spec {given}: expected the keys {sorted(names)}")
        values = dict(values)
        for key in ("size", "mean", "std", "stored_size"):
            values[key] = tuple(values[key])
        return cls(**values)


@dataclass
class DataBundle:
    train: InMemoryLoader | StreamLoader
    test: InMemoryLoader | StreamLoader
    classes: tuple[str, ...]
    spec: InputSpec
    # The training images as the test set is read (no augmentation, each once): the error the
    # weights make on what they were fitted to, for train/test gaps.
    train_eval: InMemoryLoader | StreamLoader
    # What the data was, to tell a resumed run that it is given other data: a digest of the
    # images and labels (in memory), or of the files' names and sizes (streamed folders).
    fingerprint: str


def _fingerprint(*parts: torch.Tensor | str) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        if isinstance(part, str):
            digest.update(part.encode())
        else:
            flat = part.contiguous().reshape(-1)
            digest.update(flat.view(torch.uint8).numpy().data)
    return digest.hexdigest()


def is_folder(data: str) -> bool:
    """A data argument names a folder of class sub-folders rather than a known data set."""
    return data not in DATASETS and Path(data).expanduser().is_dir()


def build_data(
    data: str,
    fit: Fit,
    augment: Augment,
    batch_size: int,
    *,
    data_dir: str | None = None,
    seed: int = 0,
    shard: Shard | None = None,
    device: torch.device | str = "cpu",
    train_subset: int = 0,
    test_subset: int = 0,
    val_fraction: float = 0.1,
    workers: int = 4,
) -> DataBundle:
    """Loaders for ``data`` feeding a model that reads ``fit`` (size, channels)."""
    if is_folder(data):
        return _folder_data(
            data,
            fit,
            augment,
            batch_size,
            seed,
            shard,
            device,
            train_subset,
            test_subset,
            val_fraction,
            workers,
        )
    if data not in DATASETS:
        raise ConfigError(
            f"unknown data set {data!r}: expected one of {', '.join(DATASETS)} "
            "or a folder with one sub-folder of images per class"
        )
    train = _subset(load_arrays(data, "train", data_dir or None), train_subset)
    test = _subset(load_arrays(data, "test", data_dir or None), test_subset)
    return _in_memory(train, test, fit, augment, batch_size, seed, shard, device)


def _subset(arrays: ImageArrays, n: int) -> ImageArrays:
    if not n or n >= len(arrays):
        return arrays
    return ImageArrays(arrays.name, arrays.images[:n], arrays.labels[:n], arrays.classes)


def _spec(train: torch.Tensor, fit: Fit) -> InputSpec:
    mean, std = channel_stats(train)
    return InputSpec(
        fit.size,
        fit.channels,
        fit.mode,
        tuple(mean.tolist()),
        tuple(std.tolist()),
        (train.shape[-2], train.shape[-1]),
        train.shape[1],
    )


def _in_memory(
    train: ImageArrays,
    test: ImageArrays,
    fit: Fit,
    augment: Augment,
    batch_size: int,
    seed: int,
    shard: Shard | None,
    device: torch.device | str,
) -> DataBundle:
    spec = _spec(train.images, fit)
    basis = pca_lighting_basis(train.images) if augment.lighting else None
    make = functools.partial(
        InMemoryLoader, batch_size=batch_size, seed=seed, shard=shard, device=device
    )
    return DataBundle(
        make(train.images, train.labels, spec.transform(augment, basis), train=True),
        make(test.images, test.labels, spec.transform(), train=False),
        train.classes,
        spec,
        make(train.images, train.labels, spec.transform(), train=False),
        _fingerprint(train.images, train.labels, test.images, test.labels, *train.classes),
    )


def _folder_data(
    root: str,
    fit: Fit,
    augment: Augment,
    batch_size: int,
    seed: int,
    shard: Shard | None,
    device: torch.device | str,
    train_subset: int,
    test_subset: int,
    val_fraction: float,
    workers: int,
) -> DataBundle:
    split = image_folder_split(root, val_fraction, seed)
    train_samples = split.train[:train_subset] if train_subset else split.train
    val_samples = split.val[:test_subset] if test_subset else split.val
    side = max(fit.size)
    decoded = (len(train_samples) + len(val_samples)) * side * side * fit.channels
    if decoded <= IN_MEMORY_BYTES:
        train = load_folder_arrays(train_samples, side, fit.channels, split.classes, root)
        val = load_folder_arrays(val_samples, side, fit.channels, split.classes, root)
        return _in_memory(train, val, fit, augment, batch_size, seed, shard, device)
    # Too large for memory: statistics from a sample, images streamed by workers.
    sample = load_folder_arrays(
        train_samples[:: max(1, len(train_samples) // 2000)], side, fit.channels
    )
    spec = _spec(sample.images, fit)
    basis = pca_lighting_basis(sample.images) if augment.lighting else None
    make = functools.partial(
        StreamLoader, batch_size=batch_size, seed=seed, shard=shard, device=device, workers=workers
    )
    return DataBundle(
        make(
            FolderImages(train_samples, side, fit.channels),
            spec.transform(augment, basis),
            train=True,
        ),
        make(FolderImages(val_samples, side, fit.channels), spec.transform(), train=False),
        split.classes,
        spec,
        make(FolderImages(train_samples, side, fit.channels), spec.transform(), train=False),
        _fingerprint(*(f"{p.name}:{p.stat().st_size}:{y}" for p, y in train_samples + val_samples)),
    )
