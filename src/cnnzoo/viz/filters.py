"""First-layer filters as AlexNet's Fig. 3 and ZFNet's Fig. 2 draw them."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.viz._common import figure_title, grid, save, subplots

__all__ = ["first_conv", "kernels", "plot_filters"]


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    """The first convolution the input meets (module order is the forward order in the zoo)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            return name, module
    raise ConfigError(f"{type(model).__name__} has no Conv2d layer to draw")


def kernels(conv: nn.Conv2d, max_filters: int = 96) -> torch.Tensor:
    """The first ``max_filters`` kernels of ``conv`` as pictures (N, 3 or 1, k, k) in 0..1:
    colour for RGB input, grey otherwise (the mean over input channels). Each kernel is
    stretched to its own min..max, so its pattern shows whatever its scale."""
    weight = conv.weight.detach().float().cpu()  # (out, in, k, k)
    if conv.groups != 1 and weight.shape[1] != conv.in_channels:
        weight = weight.repeat(1, conv.in_channels // weight.shape[1], 1, 1)
    shown = weight[:max_filters]
    low = shown.amin(dim=(1, 2, 3), keepdim=True)
    high = shown.amax(dim=(1, 2, 3), keepdim=True)
    scaled = (shown - low) / (high - low).clamp_min(1e-12)
    return scaled if scaled.shape[1] == 3 else scaled.mean(1, keepdim=True)


def plot_filters(
    model: nn.Module, path: str | os.PathLike[str], title: str = "", max_filters: int = 96
) -> Path:
    """The first layer's kernels as a grid (:func:`kernels`); the weights' range is printed
    in the title."""
    name, conv = first_conv(model)
    weight = conv.weight.detach().float()
    scaled = kernels(conv, max_filters)
    rows, cols = grid(len(scaled))
    fig, axes = subplots(
        rows,
        cols,
        figsize=(max(cols * 0.9, 5.0) + 0.6, rows * 0.9 + 1.2),
        constrained_layout=True,  # the title gets its own room above the tiles
        squeeze=False,
    )
    for axis in axes.flat:
        axis.axis("off")
    for axis, kernel in zip(axes.flat, scaled, strict=False):
        if kernel.shape[0] == 3:
            axis.imshow(kernel.permute(1, 2, 0).numpy(), interpolation="nearest")
        else:
            axis.imshow(kernel[0].numpy(), cmap="gray", interpolation="nearest")
    k = tuple(conv.kernel_size)
    what = (
        f"{name}: {len(scaled)} of {weight.shape[0]} filters, {k[0]}x{k[1]}x{conv.in_channels} "
        f"(each scaled to its own range; weights {weight.min():.3g} .. {weight.max():.3g})"
    )
    figure_title(fig, "\n".join(filter(None, [title, what])), fontsize=9)
    return save(fig, path)
