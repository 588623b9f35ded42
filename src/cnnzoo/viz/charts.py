"""Charts of the zoo as a whole."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from cnnzoo.anatomy.compare import Comparison
from cnnzoo.anatomy.report import human
from cnnzoo.errors import ConfigError
from cnnzoo.viz._common import figure_title, save, subplots

__all__ = ["plot_comparison", "plot_measures"]


def plot_comparison(rows: list[Comparison], path: str | Path) -> Path:
    """Depth against ILSVRC top-5 error, and cost against error (marker area ∝ parameters of
    the network that infers; training-only heads are named apart in the label): the picture of
    the notes, from the papers' own figures."""
    rated = [r for r in rows if r.top5_error is not None]
    if not rated:
        raise ConfigError(
            "none of these models has a published ILSVRC top-5 error to plot; "
            "pick ImageNet models such as alexnet, zfnet, vgg16, googlenet, resnet152"
        )
    fig, (left, right) = subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    biggest = max(r.params for r in rated)
    for r in rated:
        area = 40 + 600 * r.params / biggest
        label = f"{r.name} ({r.year}), {human(r.params)} params" + (
            f" (+{human(r.training_params)} in training)" if r.training_params else ""
        )
        for axis, x in ((left, r.depth), (right, r.macs / 1e9)):
            axis.scatter(x, r.top5_error, s=area, alpha=0.6)
            axis.annotate(
                label, (x, r.top5_error), fontsize=8, xytext=(4, 4), textcoords="offset points"
            )
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
    return save(fig, path, dpi=120)


class Spread(Protocol):
    """A figure measured over seeds: its mean, standard deviation and per-seed values."""

    @property
    def mean(self) -> float: ...
    @property
    def std(self) -> float: ...
    @property
    def values(self) -> Sequence[float | None]: ...


def plot_measures(
    arms: Sequence[tuple[str, Mapping[str, Spread]]],
    metrics: list[tuple[str, str, str]],
    path: str | Path,
    title: str,
) -> Path:
    """One panel per measured figure: a bar per arm at the mean over seeds, each seed a dot,
    the standard deviation as an error bar, so the spread is seen beside the difference.

    ``arms`` are (label, figures by key) pairs; ``metrics`` are (key, axis label, panel title)
    triples. A value of None, or an infinite mean, is a target not reached.
    """
    shown = [m for m in metrics if any(m[0] in figures for _, figures in arms)]
    if not shown:
        raise ConfigError("nothing to plot: no arm has any of the metrics")
    fig, axes = subplots(
        1, len(shown), figsize=(4.2 * len(shown), 4.4), constrained_layout=True, squeeze=False
    )
    for axis, (key, text, panel) in zip(axes[0], shown, strict=True):
        rows = [(label, figures[key]) for label, figures in arms if key in figures]
        for i, (_, stats) in enumerate(rows):
            values = [v for v in stats.values if v is not None]
            if not values or stats.mean is None or not math.isfinite(stats.mean):
                axis.annotate("not reached", (i, 0), ha="center", va="bottom", fontsize=8)
                continue
            axis.bar(i, stats.mean, yerr=stats.std or None, capsize=4, alpha=0.7)
            axis.scatter([i] * len(values), values, color="black", s=12, zorder=3)
        axis.set_xticks(
            range(len(rows)), [label for label, _ in rows], rotation=25, ha="right", fontsize=8
        )
        axis.set_ylabel(text)
        if key in ("params", "macs"):
            axis.set_yscale("log")
        axis.grid(axis="y", alpha=0.3)
        axis.set_title(panel)
    figure_title(fig, title, fontsize=12)
    return save(fig, path)
