"""Class activation maps by Grad-CAM (Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391),
computed by Captum's ``LayerGradCam``: where in the image the evidence for a class lies."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.viz._common import figure_title, save, subplots
from cnnzoo.viz.activations import activation_maps, find_module

__all__ = ["cam_layer", "grad_cam", "plot_cam"]


def cam_layer(model: nn.Module, x: torch.Tensor) -> str:
    """The last feature stage whose maps are still larger than 1x1 for input ``x``: Grad-CAM's
    usual choice, the deepest layer that still knows where things are."""
    stages = [info.module for info in getattr(model, "feature_info", [])]
    if not stages:
        stages = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    maps = activation_maps(model, x, stages)
    spatial = [name for name in stages if maps[name].dim() == 4 and maps[name].shape[-1] > 1]
    if not spatial:
        raise ConfigError("no layer keeps a spatial map larger than 1x1 at this input size")
    return spatial[-1]


def grad_cam(model: nn.Module, x: torch.Tensor, layer: str, target: int) -> torch.Tensor:
    """Grad-CAM of class ``target`` for one image ``x`` (1, C, H, W): the layer's maps weighted
    by their pooled gradients, ReLU, upsampled to the input and scaled to 0..1, (H, W)."""
    from captum.attr import LayerAttribution, LayerGradCam

    was_training = model.training
    model.eval()
    try:
        attribution = LayerGradCam(model, find_module(model, layer)).attribute(
            x, target=target, relu_attributions=True
        )
    finally:
        model.train(was_training)
    heat = LayerAttribution.interpolate(attribution, tuple(x.shape[-2:]), "bilinear")[0, 0]
    heat = heat.detach().clamp_min(0)
    return heat / heat.max().clamp_min(1e-12)


def plot_cam(
    image: np.ndarray, heat: torch.Tensor, path: str | os.PathLike[str], title: str
) -> Path:
    """The input, the class activation map and the two overlaid."""
    fig, axes = subplots(1, 3, figsize=(10.5, 3.9), constrained_layout=True)
    cmap = "gray" if image.ndim == 2 else None
    axes[0].imshow(image, cmap=cmap)
    axes[0].set_title("input")
    shown = axes[1].imshow(heat.numpy(), cmap="jet", vmin=0, vmax=1)
    axes[1].set_title("Grad-CAM")
    fig.colorbar(shown, ax=axes[1], shrink=0.8, label="relative importance")
    axes[2].imshow(image, cmap=cmap)
    axes[2].imshow(heat.numpy(), cmap="jet", alpha=0.45, vmin=0, vmax=1)
    axes[2].set_title("overlay")
    for axis in axes:
        axis.axis("off")
    figure_title(fig, title)
    return save(fig, path)
