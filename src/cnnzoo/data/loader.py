"""Loaders that yield ready model inputs on the training device, sharded by rank.

:class:`InMemoryLoader` keeps a small data set as one uint8 tensor on the device and builds each
batch with tensor indexing and :class:`~cnnzoo.data.inputs.InputTransform`: no worker
processes, no per-image Python. :class:`StreamLoader` decodes a large image folder with
``DataLoader`` workers and hands the uint8 batch to the same transform. Both are deterministic
functions of ``(seed, epoch, batch index)``, so a run resumed mid-epoch sees the batches it would
have seen, and ``world_size`` processes see exactly the batches one process would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torch.utils.data.distributed import DistributedSampler

from cnnzoo.data.augment import Part
from cnnzoo.data.inputs import InputTransform
from cnnzoo.errors import ConfigError

__all__ = ["InMemoryLoader", "Shard", "StreamLoader", "batch_seed"]


@dataclass(frozen=True)
class Shard:
    """This process's place among ``world_size`` data-parallel processes."""

    rank: int = 0
    world_size: int = 1


def batch_seed(seed: int, epoch: int, index: int) -> int:
    """A seed for one batch's random draws, distinct per (seed, epoch, batch) and stable."""
    return ((seed * 1_000_003 + epoch) * 1_000_033 + index) & 0x7FFF_FFFF_FFFF_FFFF


def _generator(device: torch.device, seed: int) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


class _Batches:
    """What both loaders share: the global batch split over ranks, the epoch, the transform."""

    def __init__(
        self,
        transform: InputTransform,
        batch_size: int,
        train: bool,
        seed: int,
        shard: Shard | None,
        device: torch.device | str,
    ) -> None:
        self.shard = shard or Shard()
        world = self.shard.world_size
        if batch_size % world:
            raise ConfigError(
                f"batch size {batch_size} does not split over {world} processes; use a "
                f"multiple of {world}, e.g. {batch_size - batch_size % world or world}"
            )
        self.transform = transform
        self.batch_size = batch_size
        self.local_batch = batch_size // world
        self.train = train
        self.seed = seed
        self.device = torch.device(device)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


class InMemoryLoader(_Batches):
    """Batches of an in-memory uint8 data set.

    ``batch_size`` is the global batch: each of ``world_size`` processes gets a contiguous
    ``batch_size / world_size`` of it. Training shuffles every epoch and drops the last partial
    batch (so every rank steps together); evaluation walks the data in order, each rank a
    contiguous range, so every image is counted exactly once and none twice.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        transform: InputTransform,
        batch_size: int,
        train: bool,
        seed: int = 0,
        shard: Shard | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(transform, batch_size, train, seed, shard, device)
        if train and len(images) < batch_size:
            raise ConfigError(
                f"{len(images)} training images are fewer than one batch of {batch_size}"
            )
        self.images = images.to(self.device)  # (N, C, H, W) uint8
        self.labels = labels.to(self.device)  # (N,) int64

    @property
    def num_samples(self) -> int:
        """Images this process sees per epoch."""
        if self.train:
            return len(self) * self.local_batch
        start, stop = self._eval_range()
        return stop - start

    def __len__(self) -> int:
        if self.train:
            return len(self.images) // self.batch_size
        start, stop = self._eval_range()
        return -(-(stop - start) // self.local_batch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.batches()

    def batches(self, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(inputs, labels)`` from batch ``start`` on (resuming mid-epoch)."""
        if not self.train:
            yield from self._eval_batches()
            return
        # The order's seed is apart from every batch's (index -1), and from other seeds' epochs.
        shuffle = _generator(torch.device("cpu"), batch_seed(self.seed, self.epoch, -1))
        order = torch.randperm(len(self.images), generator=shuffle)
        local, rank = self.local_batch, self.shard.rank
        part = Part(rank * local, (rank + 1) * local, self.batch_size)
        for index in range(start, len(self)):
            rows = order[index * self.batch_size : (index + 1) * self.batch_size]
            rows = rows[part.start : part.stop].to(self.device)
            generator = _generator(self.device, batch_seed(self.seed, self.epoch, index))
            yield (
                self.transform(self.images[rows], generator, train=True, part=part),
                self.labels[rows],
            )

    def _eval_range(self) -> tuple[int, int]:
        n, rank, world = len(self.images), self.shard.rank, self.shard.world_size
        return rank * n // world, (rank + 1) * n // world

    def _eval_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        start, stop = self._eval_range()
        for first in range(start, stop, self.local_batch):
            images = self.images[first : min(first + self.local_batch, stop)]
            yield self.transform(images), self.labels[first : first + len(images)]


class StreamLoader(_Batches):
    """Batches decoded by ``DataLoader`` workers from a data set of uint8 images.

    The dataset returns ``(uint8 (C, H, W), label)`` at a fixed storage size; augmentation runs
    on the batch on the device, as for :class:`InMemoryLoader`.
    """

    def __init__(
        self,
        dataset: Dataset[tuple[torch.Tensor, int]],
        transform: InputTransform,
        batch_size: int,
        train: bool,
        seed: int = 0,
        shard: Shard | None = None,
        device: torch.device | str = "cpu",
        workers: int = 4,
    ) -> None:
        super().__init__(transform, batch_size, train, seed, shard, device)
        rank, world = self.shard.rank, self.shard.world_size
        self.sampler: DistributedSampler[int] | None = None
        if train:
            self.sampler = DistributedSampler(dataset, world, rank, seed=seed, drop_last=True)
        else:  # a contiguous range per rank: DistributedSampler would pad with duplicates
            n = len(dataset)  # type: ignore[arg-type]
            dataset = Subset(dataset, range(rank * n // world, (rank + 1) * n // world))
        self.loader = DataLoader(
            dataset,
            batch_size=self.local_batch,
            sampler=self.sampler,
            num_workers=workers,
            pin_memory=self.device.type == "cuda",
            drop_last=train,
            persistent_workers=workers > 0,
        )

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    @property
    def num_samples(self) -> int:
        """Images this process sees per epoch (training drops the last partial batch)."""
        if self.train:
            return len(self.loader) * self.local_batch
        return len(self.loader.dataset)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.batches()

    def batches(self, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for index, (images, labels) in enumerate(self.loader):
            if index < start:
                continue
            images = images.to(self.device, non_blocking=True)
            generator = _generator(
                self.device,
                batch_seed(self.seed, self.epoch, index * self.shard.world_size + self.shard.rank),
            )
            yield (
                self.transform(images, generator, train=self.train),
                labels.to(self.device, non_blocking=True),
            )
