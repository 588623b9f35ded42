"""Pictures of an evaluation: the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from cnnzoo.viz._common import save, subplots

__all__ = ["plot_confusion"]


def plot_confusion(
    confusion: torch.Tensor, classes: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Rows are true classes, columns predictions; cells show the share of each true class (%),
    so a class's errors read along its row whatever its size."""
    counts = confusion.double()
    share = 100 * counts / counts.sum(1, keepdim=True).clamp_min(1)
    n = len(classes)
    side = max(5.0, 0.55 * n + 2)
    fig, axis = subplots(figsize=(side + 1.5, side), constrained_layout=True)
    image = axis.imshow(share.numpy(), cmap="Blues", vmin=0, vmax=100)
    fig.colorbar(image, ax=axis, label="share of the true class (%)")
    if n <= 30:
        axis.set_xticks(range(n), list(classes), rotation=45, ha="right")
        axis.set_yticks(range(n), list(classes))
        for i in range(n):
            for j in range(n):
                value = share[i, j].item()
                if value >= 0.5:
                    axis.text(
                        j,
                        i,
                        f"{value:.0f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if value > 50 else "black",
                    )
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    accuracy = 100 * counts.diag().sum().item() / max(counts.sum().item(), 1)
    axis.set_title(title or f"confusion matrix: {accuracy:.2f}% correct")
    return save(fig, path, dpi=120)
