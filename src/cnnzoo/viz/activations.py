"""Activation maps: what each filter of a layer responds to in one image, beside the image."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.viz._common import figure_title, grid, save

__all__ = ["activation_maps", "find_module", "plot_activations"]


def find_module(model: nn.Module, name: str) -> nn.Module:
    """The layer called ``name`` (as in ``named_modules``); a near miss is suggested."""
    modules = dict(model.named_modules())
    if name not in modules:
        near = difflib.get_close_matches(name, list(modules), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise ConfigError(f"{type(model).__name__} has no layer {name!r}{hint}")
    return modules[name]


@torch.no_grad()
def activation_maps(
    model: nn.Module, x: torch.Tensor, layers: list[str]
) -> dict[str, torch.Tensor]:
    """The outputs of the named layers for input ``x`` (B, C, H, W), by forward hooks."""
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for name in layers:

        def hook(_m: nn.Module, _i: object, out: torch.Tensor, key: str = name) -> None:
            captured[key] = out.detach()

        handles.append(find_module(model, name).register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return captured


def plot_activations(
    maps: torch.Tensor,
    image: np.ndarray,
    path: str | os.PathLike[str],
    title: str,
    max_maps: int = 32,
) -> Path:
    """The input (H, W) or (H, W, 3) in [0, 1] on the left, then the first ``max_maps`` maps of
    one layer (C, h, w), all on one colour scale so strong and weak responses compare."""
    maps = maps.float().cpu()[:max_maps]
    rows, cols = grid(len(maps))
    fig = Figure(figsize=(cols * 1.1 + 3.6, max(rows * 1.1 + 1.0, 3.6)), layout="constrained")
    halves: Any = fig.subfigures(1, 2, width_ratios=[3.0, cols * 1.1])
    left, right = halves
    axis = left.subplots()
    axis.imshow(image, cmap="gray" if image.ndim == 2 else None)
    axis.set_title(f"input {image.shape[1]}x{image.shape[0]}", fontsize=9)
    axis.axis("off")
    axes = right.subplots(rows, cols, squeeze=False)
    vmin, vmax = maps.min().item(), maps.max().item()
    image_handle = None
    for axis in axes.flat:
        axis.axis("off")
    for i, (axis, fmap) in enumerate(zip(axes.flat, maps, strict=False)):
        image_handle = axis.imshow(fmap.numpy(), cmap="viridis", vmin=vmin, vmax=vmax)
        axis.set_title(str(i), fontsize=6)
    if image_handle is not None:
        right.colorbar(image_handle, ax=axes, shrink=0.8, label="activation")
    figure_title(fig, title)
    return save(fig, path)
