"""From a data set's name (or an image folder) to train and test loaders for one model, with
the :class:`~cnnzoo.data.inputs.InputSpec` that says how its images become the model's input."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from cnnzoo.data.augment import Augment, channel_stats, pca_lighting_basis
from cnnzoo.data.catalogue import DATASETS, ImageArrays
from cnnzoo.data.folders import FolderImages, image_folder_split, load_folder_arrays
from cnnzoo.data.inputs import Fit, InputSpec
from cnnzoo.data.loader import InMemoryLoader, Shard, StreamLoader
from cnnzoo.data.sources import load_arrays
from cnnzoo.errors import ConfigError

__all__ = ["DataBundle", "build_data", "is_folder"]

# An image folder whose decoded images fit in this many bytes is held in memory.
IN_MEMORY_BYTES = 2 * 1024**3


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
    """How the training images become inputs: normalised by their own statistics, or by the
    published weights' (averaged over the colours for grey images)."""
    mean, std = channel_stats(train)
    if fit.mean is not None and fit.std is not None:
        stored = train.shape[1]
        mean = torch.tensor(fit.mean) if stored == 3 else torch.tensor([sum(fit.mean) / 3])
        std = torch.tensor(fit.std) if stored == 3 else torch.tensor([sum(fit.std) / 3])
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
