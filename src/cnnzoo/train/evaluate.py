"""Accuracy of a model on a loader: loss, top-1, top-5, per-class accuracy and the confusion
matrix, summed over every rank so each test image counts exactly once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.data.loader import InMemoryLoader, StreamLoader
from cnnzoo.errors import ConfigError
from cnnzoo.train.metrics import topk_correct

if TYPE_CHECKING:
    from cnnzoo.train.distributed import Distributed

__all__ = ["EvalResult", "evaluate"]


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
) -> EvalResult:
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    sums = torch.zeros(4, dtype=torch.float64, device=device)  # loss, top-1, top-5, count
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
    for images, labels in loader:
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        logits = model(images).float()
        sums[0] += F.cross_entropy(logits, labels, reduction="sum")
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
