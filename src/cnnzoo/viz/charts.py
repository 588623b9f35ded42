"""Charts of the zoo as a whole."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cnnzoo.anatomy.compare import Comparison
from cnnzoo.anatomy.report import human
from cnnzoo.errors import ConfigError
from cnnzoo.viz._common import figure_title, save, subplots

__all__ = ["Panel", "plot_comparison", "plot_measures", "plot_profiles"]


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


@dataclass(frozen=True)
class Panel:
    """One panel of :func:`plot_profiles`: per arm, one series per seed."""

    title: str
    x_label: str
    y_label: str
    lines: Mapping[str, Sequence[Sequence[float]]]
    log: bool = False
    x: Sequence[float] | None = None  # the positions of the points; None: 1, 2, 3, ...


def plot_profiles(panels: Sequence[Panel], path: str | Path, title: str) -> Path:
    """Series against position (a gradient per layer, an error per shift), a panel each:
    every seed a thin line, the arm's mean a thick one (the geometric mean on a log axis),
    one colour per arm across the panels."""
    if not panels or not any(panel.lines for panel in panels):
        raise ConfigError("nothing to plot: no series")
    fig, axes = subplots(
        1, len(panels), figsize=(6 * len(panels), 4.6), constrained_layout=True, squeeze=False
    )
    labels = list(dict.fromkeys(label for panel in panels for label in panel.lines))
    colours = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    for axis, panel in zip(axes[0], panels, strict=True):
        for label, runs in panel.lines.items():
            length = min(len(run) for run in runs)
            x = list(panel.x or range(1, length + 1))[:length]
            for run in runs:
                axis.plot(x, run[:length], color=colours[label], alpha=0.3, linewidth=0.8)
            rows = [run[:length] for run in runs]
            if panel.log:
                tiny = 1e-300  # a gradient of exactly 0 stays on the axis
                mean = [
                    10 ** (sum(math.log10(max(v, tiny)) for v in col) / len(col))
                    for col in zip(*rows, strict=True)
                ]
            else:
                mean = [sum(col) / len(col) for col in zip(*rows, strict=True)]
            axis.plot(x, mean, color=colours[label], linewidth=2, label=label)
        if panel.log:
            axis.set_yscale("log")
        if panel.x is not None:
            axis.set_xticks(list(panel.x))
        axis.set_xlabel(panel.x_label)
        axis.set_ylabel(panel.y_label)
        axis.grid(alpha=0.3)
        axis.set_title(panel.title)
        axis.legend(fontsize=8)
    figure_title(fig, title, fontsize=12)
    return save(fig, path)
