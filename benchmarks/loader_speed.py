"""Images per second of cnnzoo's in-memory loader, beside torchvision's DataLoader in the same run.

cnnzoo keeps Fashion-MNIST in memory as one uint8 tensor and turns each batch into model input
with tensor operations (``InMemoryLoader`` + ``InputTransform``): no workers, no per-image
Python. The baseline is the usual torchvision pipeline: a ``DataLoader`` (shuffled, last partial
batch dropped, 0 and 2 worker processes) over a map-style data set that runs ``transforms.v2`` on
one image at a time. Both read the same uint8 tensors in batches of the same size; the baseline
through a small Dataset that indexes them, torchvision's best case
(``torchvision.datasets.FashionMNIST`` would also make a PIL image per sample). Its transforms
give the same inputs as cnnzoo's (checked first, with augmentation off, as max |Δ|):

    ToImage, ToDtype(float32, scale=True), [Pad to 32x32 | Resize(227), Grayscale(3)],
    Normalize(mean, std), RandomCrop(size, padding=2), RandomHorizontalFlip, [RandomErasing]

(a) the loader alone: normalised float batches per second, for crop + flip at 1x28x28, the same
with random erasing (p = 0.5), and resized to AlexNet's 3x227x227; (b) the loader feeding one SGD
step (the fast recipe's) of lenet5_modern (1x32x32, padded as the engine pads it) and resnet20
(1x28x28): images per second end to end. Each figure is the best of --repeats windows of
--steps batches, after 3 warm-up batches; ratio = cnnzoo ÷ torchvision (above 1: cnnzoo is
faster). On a machine busy with other work, pass --threads 1: OpenMP threads that wait for a
busy core can slow small operations by an order of magnitude or more. Run:

    python benchmarks/loader_speed.py [--steps 20] [--repeats 3] [--batch-size 256] [--threads N]
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from _common import Batch, Step, engine_step, images_per_s, machine_line
from cnnzoo import model_info
from cnnzoo.data import DATASETS, load_arrays
from cnnzoo.data.augment import Augment, channel_stats
from cnnzoo.data.inputs import Fit, InputTransform, choose_fit
from cnnzoo.data.loader import InMemoryLoader
from cnnzoo.train import resolve_config

WORKERS = (0, 2)  # the baseline's DataLoader worker processes
FASHION = DATASETS["fashion-mnist"]
STORED = FASHION.image_shape  # (1, 28, 28)


@dataclass(frozen=True)
class Case:
    name: str
    fit: Fit
    augment: Augment
    model: str | None = None  # train one step of this model per batch; None: the loader alone


def cases() -> list[Case]:
    crop_flip = Augment(crop_padding=2, flip=True)
    grey = Fit((28, 28), 1)
    fits = {
        name: choose_fit(model_info(name), STORED)  # the fast recipe's channels and fit
        for name in ("lenet5_modern", "resnet20")
    }
    return [
        Case("crop+flip 1x28x28", grey, crop_flip),
        Case("crop+flip+erasing 1x28x28", grey, Augment(2, True, erasing=0.5)),
        Case("resize+crop+flip 3x227x227", Fit((227, 227), 3), crop_flip),
        *(Case(f"+ {name} step", fit, crop_flip, name) for name, fit in fits.items()),
    ]


class TensorImages(Dataset[tuple[torch.Tensor, int]]):
    """The baseline's data set: one (1, 28, 28) uint8 image at a time, through ``transform``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform: v2.Compose) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.images[index]), int(self.labels[index])


def torchvision_transform(
    fit: Fit, augment: Augment, mean: torch.Tensor, std: torch.Tensor
) -> v2.Compose:
    """Per-image transforms that do what ``InputTransform(fit, mean, std, augment)`` does."""
    steps: list[v2.Transform] = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
    (height, width), stored = fit.size, STORED[1:]
    if (height, width) != stored and fit.mode == "pad":
        dh, dw = height - stored[0], width - stored[1]
        steps.append(v2.Pad([dw // 2, dh // 2, dw - dw // 2, dh - dh // 2]))  # left, top, ...
    elif (height, width) != stored:
        steps.append(v2.Resize(fit.size))
    if fit.channels == 3:
        steps.append(v2.Grayscale(num_output_channels=3))
    steps.append(v2.Normalize(mean.tolist() * fit.channels, std.tolist() * fit.channels))
    if augment.crop_padding:
        steps.append(v2.RandomCrop(fit.size, padding=augment.crop_padding))  # fills the mean, 0
    if augment.flip:
        steps.append(v2.RandomHorizontalFlip())
    if augment.erasing:
        steps.append(v2.RandomErasing(p=augment.erasing, value=0))
    return v2.Compose(steps)


def train_step(case: Case) -> Step | None:
    """A fresh model and optimizer for ``case`` (the same weights every call), or none."""
    if case.model is None:
        return None
    return engine_step(resolve_config(case.model, "fast"), case.fit, len(FASHION.classes))


def forever(loader: Iterable[Batch]) -> Iterator[Batch]:
    """Batches across as many epochs as asked for."""
    for epoch in itertools.count():
        if isinstance(loader, InMemoryLoader):
            loader.set_epoch(epoch)
        yield from loader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="batches per timed window")
    parser.add_argument("--repeats", type=int, default=3, help="timed windows; the best counts")
    parser.add_argument("--batch-size", type=int, default=256, help="images per batch")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as the engine does
    print(machine_line())
    data = load_arrays("fashion-mnist", "train")
    images, labels = data.images, data.labels  # (60000, 1, 28, 28) uint8, (60000,) int64
    mean, std = channel_stats(images)

    rows = cases()
    probe = slice(0, args.batch_size)
    for fit in dict.fromkeys(case.fit for case in rows):  # augmentation off: the same inputs?
        ours = InputTransform(fit, mean, std)(images[probe])
        baseline = torchvision_transform(fit, Augment(), mean, std)
        theirs = torch.stack([baseline(image) for image in images[probe]])
        difference = (ours - theirs).abs().max().item()
        print(
            f"same inputs at {fit.channels}x{fit.size[0]}x{fit.size[1]}: max |Δ| {difference:.1e}"
        )

    print(
        f"images/s, batches of {args.batch_size}: the best of {args.repeats} windows of "
        f"{args.steps} batches"
    )
    print(
        f"{'':<30} {'cnnzoo':>8} "
        + " ".join(f"{f'tv w={w}':>8}" for w in WORKERS)
        + " "
        + " ".join(f"{f'ratio w={w}':>9}" for w in WORKERS)
    )
    for case in rows:
        transform = InputTransform(case.fit, mean, std, case.augment)
        loader = InMemoryLoader(images, labels, transform, args.batch_size, train=True)
        step = train_step(case)
        ours = images_per_s(forever(loader), args.steps, args.repeats, step)
        theirs = []
        for workers in WORKERS:
            dataset = TensorImages(
                images, labels, torchvision_transform(case.fit, case.augment, mean, std)
            )
            baseline = DataLoader(
                dataset,
                batch_size=args.batch_size,
                shuffle=True,
                drop_last=True,
                num_workers=workers,
                persistent_workers=workers > 0,
                generator=torch.Generator().manual_seed(0),
            )
            batches = forever(baseline)
            step = train_step(case)
            theirs.append(images_per_s(batches, args.steps, args.repeats, step))
            batches.close()
            del baseline  # stops its workers
        print(
            f"{case.name:<30} {ours:>8,.0f} "
            + " ".join(f"{rate:>8,.0f}" for rate in theirs)
            + " "
            + " ".join(f"{ours / rate:>8.1f}x" for rate in theirs)
        )


if __name__ == "__main__":
    main()
