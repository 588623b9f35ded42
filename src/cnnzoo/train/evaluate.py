"""Accuracy of a model on a loader: loss, top-1, top-5, per-class accuracy and the confusion
matrix, summed over every rank so each test image counts exactly once; with the papers'
test-time protocols (a mirror, AlexNet's ten crops) averaged over the views of each image."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.data.loader import InMemoryLoader, StreamLoader
from cnnzoo.errors import ConfigError
from cnnzoo.train.config import Protocol
from cnnzoo.train.metrics import topk_correct

if TYPE_CHECKING:
    from cnnzoo.train.distributed import Distributed

__all__ = ["PROTOCOLS", "EvalResult", "Protocol", "TestViews", "evaluate", "ten_crops"]

PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)


def ten_crops(x: torch.Tensor, size: tuple[int, int]) -> list[torch.Tensor]:
    """The four corner crops and the centre crop of ``size`` from each image of a batch, then
    their mirrors (AlexNet §4.1: "the five 224x224 patches ... as well as their horizontal
    reflections"; VGG and ResNet report the same 10-crop figures)."""
    height, width = x.shape[-2:]
    h, w = size
    if h > height or w > width:
        raise ConfigError(f"a {h}x{w} crop does not fit in {height}x{width} images")
    top, left = (height - h) // 2, (width - w) // 2
    corners = [(0, 0), (0, width - w), (height - h, 0), (height - h, width - w), (top, left)]
    crops = [x[..., y : y + h, z : z + w] for y, z in corners]
    return crops + [crop.flip(-1) for crop in crops]


@dataclass(frozen=True)
class TestViews:
    """How each test image is seen: as given (``center``: the loader's centre crop), with its
    mirror (``flip``), or as ten crops (``10crop``) of ``crop`` from the given image after
    zero-padding it by ``pad`` (a run trained on random crops of padded images sees those crops
    at test time; published weights read a larger image and crop it)."""

    protocol: Protocol = "center"
    crop: tuple[int, int] | None = None  # 10crop: the crop size (default: the image's own)
    pad: int = 0  # 10crop: zero padding per side before cropping

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"test protocol {self.protocol!r}: expected one of {PROTOCOLS}")

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.protocol == "center":
            return [x]
        if self.protocol == "flip":
            return [x, x.flip(-1)]
        size = self.crop or (x.shape[-2], x.shape[-1])
        if self.pad:
            x = F.pad(x, (self.pad,) * 4)
        if size == (x.shape[-2], x.shape[-1]):
            raise ConfigError(
                "10-crop needs images larger than the crop: this run trained without random "
                "crops (--crop-padding 0), so there is no margin to crop from; use --protocol flip"
            )
        return ten_crops(x, size)


@dataclass(frozen=True)
class EvalResult:
    loss: float  # mean cross-entropy (no label smoothing)
    top1: float  # percent
    top5: float  # percent
    count: int  # images evaluated
    confusion: torch.Tensor  # (classes, classes) int64: row = true class, column = predicted

    @property
    def per_class(self) -> list[float]:
        """Accuracy of each true class, percent."""
        totals = self.confusion.sum(1).clamp_min(1)
        return (100 * self.confusion.diag() / totals).tolist()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: InMemoryLoader | StreamLoader | Iterable[tuple[torch.Tensor, torch.Tensor]],
    num_classes: int,
    dist: Distributed | None = None,
    channels_last: bool = False,
    views: TestViews | None = None,
) -> EvalResult:
    """``views``: each image is classified by the mean of the softmax over its views (AlexNet
    §4.1 averages "the predictions made by the network's softmax layer"); the loss is then the
    negative log of that mean."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    sums = torch.zeros(4, dtype=torch.float64, device=device)  # loss, top-1, top-5, count
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        if views is None or views.protocol == "center":
            logits = model(images).float()
            sums[0] += F.cross_entropy(logits, labels, reduction="sum")
        else:
            probs = torch.stack([model(view).float().softmax(1) for view in views(images)])
            logits = probs.mean(0).clamp_min(torch.finfo(torch.float32).tiny).log()
            sums[0] += F.nll_loss(logits, labels, reduction="sum")
        sums[1] += topk_correct(logits, labels, 1)
        sums[2] += topk_correct(logits, labels, 5)
        sums[3] += labels.shape[0]
        confusion += torch.bincount(
            labels * num_classes + logits.argmax(1), minlength=num_classes**2
        )
    if dist is not None:
        dist.sum(sums)
        dist.sum(confusion)
    model.train(was_training)
    count = int(sums[3].item())
    if count == 0:
        raise ConfigError("the evaluation set is empty")
    return EvalResult(
        loss=sums[0].item() / count,
        top1=100 * sums[1].item() / count,
        top5=100 * sums[2].item() / count,
        count=count,
        confusion=confusion.view(num_classes, num_classes).cpu(),
    )
