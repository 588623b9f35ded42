"""Training curves: error, loss and learning rate per epoch, for one run or many on one plot."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.ticker import MaxNLocator

from cnnzoo.errors import ConfigError
from cnnzoo.train.folder import History, load_history
from cnnzoo.viz._common import figure_title, save, subplots

__all__ = ["STEPPED", "load_history", "plot_curves"]

# Schedules whose rate holds for whole epochs: their rate is drawn as steps, not as ramps
# between the rates at the epochs' ends.
STEPPED = frozenset({"constant", "step", "multistep", "plateau"})


def _band(histories: Sequence[History], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs, mean and (min, max) of ``key`` over runs, up to the shortest run."""
    length = min(len(h) for h in histories)
    values = np.array([[row[key] for row in h[:length]] for h in histories], dtype=float)
    epochs = np.array([row["epoch"] for row in histories[0][:length]], dtype=float)
    return epochs, values.mean(0), np.stack([values.min(0), values.max(0)])


def _stepped_rate(
    epochs: np.ndarray, rates: np.ndarray, warmup: float, peak: float
) -> tuple[np.ndarray, np.ndarray]:
    """A step-wise rate as the run took it: each epoch at the rate it ended with, from its start
    to its end, after a warm-up drawn as the linear rise from a hundredth of ``peak`` it is (cut
    where training ended, for a warm-up longer than the run)."""
    xs: list[float] = []
    ys: list[float] = []
    if warmup > 0:
        end = min(warmup, float(epochs[-1]))
        xs, ys = [0.0, end], [peak / 100, peak * (0.01 + 0.99 * end / warmup)]
    for epoch, rate in zip(epochs, rates, strict=True):
        if epoch <= warmup:
            continue
        xs += [max(epoch - 1, warmup), epoch]
        ys += [rate, rate]
    return np.array(xs), np.array(ys)


def plot_curves(
    runs: Mapping[str, Sequence[History]],
    path: str | os.PathLike[str],
    title: str = "Training curves",
    target_error: float | None = None,
    panels: Sequence[str] = ("error", "loss", "lr"),
    configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """One colour per entry of ``runs`` (a label and the histories of its seeds): the mean
    over seeds as a line and the range as a band; training dashed, test solid, as in the
    ResNet paper's figures. ``target_error`` draws AlexNet Fig. 1's horizontal line.
    ``configs`` gives an entry's run config: a step-wise ``schedule`` (:data:`STEPPED`) draws
    its rate as steps, each epoch at the rate it ended with, after its ``warmup_epochs``' rise."""
    if not runs or any(not histories for histories in runs.values()):
        raise ConfigError("plot_curves needs at least one run with at least one epoch")
    unknown = set(panels) - {"error", "loss", "lr"}
    if unknown:
        raise ConfigError(f"panels {sorted(unknown)}: expected error, loss and/or lr")
    fig, axes = subplots(
        1, len(panels), figsize=(5.5 * len(panels), 4.5), constrained_layout=True, squeeze=False
    )
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    # Markers where lines alone would be too short to see (a run of a few epochs).
    marker = "o" if min(len(h) for hs in runs.values() for h in hs) < 8 else None
    for i, (label, histories) in enumerate(runs.items()):
        colour = colours[i % len(colours)]
        seeds = f" ({len(histories)} seeds)" if len(histories) > 1 else ""
        for axis, panel in zip(axes[0], panels, strict=True):
            if panel == "lr":
                epochs, mean, _ = _band(histories, "lr")
                config = (configs or {}).get(label, {})
                if config.get("schedule") in STEPPED:
                    warmup = float(config.get("warmup_epochs") or 0)
                    peak = float(config.get("lr") or mean.max())  # the schedule's base rate
                    epochs, mean = _stepped_rate(epochs, mean, warmup, peak)
                    axis.plot(epochs, mean, color=colour, label=label)
                else:
                    axis.plot(epochs, mean, color=colour, label=label, marker=marker)
                continue
            # training dashed with hollow markers, test solid with filled ones: the two stay
            # apart in the legend too, where a short dashed line looks solid
            for split, style, face in (("train", "--", "white"), ("test", "-", colour)):
                key = f"{split}_top1" if panel == "error" else f"{split}_loss"
                epochs, mean, spread = _band(histories, key)
                if panel == "error":
                    mean, spread = 100 - mean, 100 - spread[::-1]
                axis.plot(
                    epochs,
                    mean,
                    style,
                    color=colour,
                    marker=marker,
                    markerfacecolor=face,
                    label=f"{label}, {split}{seeds}",
                )
                if len(histories) > 1:
                    axis.fill_between(epochs, spread[0], spread[1], color=colour, alpha=0.15)
    for axis, panel in zip(axes[0], panels, strict=True):
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        if panel == "error":
            axis.set_ylabel("error (%) — dashed, hollow: training (running); solid: test")
            axis.set_title("Error")
            if target_error is not None:
                axis.axhline(
                    target_error, color="grey", linestyle=":", label=f"target {target_error:g}%"
                )
        elif panel == "loss":
            axis.set_ylabel("cross-entropy loss (nats per image)")
            axis.set_title("Loss")
            axis.set_yscale("log")
        else:
            axis.set_ylabel("learning rate (at the epoch's end)")
            axis.set_ylim(bottom=0)  # a constant rate reads as constant, not as noise
            axis.set_title("Learning rate")
        axis.legend(fontsize=7)
    figure_title(fig, title, fontsize=12)
    return save(fig, path)
