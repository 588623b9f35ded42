"""Charts of the zoo as a whole."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt

from cnnzoo.anatomy.compare import Comparison

__all__ = ["plot_comparison"]


def plot_comparison(rows: list[Comparison], path: str | Path) -> Path:
    """Depth against ILSVRC top-5 error, and cost against error (marker area ∝ parameters):
    the picture of the notes, from the papers' own figures."""
    rated = [r for r in rows if r.top5_error is not None]
    if not rated:
        raise ValueError(
            "none of these models has a published ILSVRC top-5 error to plot; "
            "pick ImageNet models such as alexnet, zfnet, vgg16, googlenet, resnet152"
        )
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    biggest = max(r.params for r in rated)
    for r in rated:
        area = 40 + 600 * r.params / biggest
        for axis, x in ((left, r.depth), (right, r.macs / 1e9)):
            axis.scatter(x, r.top5_error, s=area, alpha=0.6)
            axis.annotate(f"{r.name} ({r.year})", (x, r.top5_error), fontsize=8,
                          xytext=(4, 4), textcoords="offset points")  # fmt: skip
    left.set_xlabel("depth (weight layers on the longest path)")
    right.set_xlabel("multiply-accumulates per image (GMACs)")
    for axis in (left, right):
        axis.set_xscale("log")
    for axis in (left, right):
        axis.set_ylabel("ILSVRC top-5 error (%), as each paper reports it")
        axis.grid(alpha=0.3)
    left.set_title("Deeper networks, lower error")
    right.set_title("Error against cost (marker area ∝ parameters)")
    fig.suptitle("The landmark CNNs on ImageNet: depth, cost and the papers' top-5 error")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
