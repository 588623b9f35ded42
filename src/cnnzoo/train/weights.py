"""Weights in and out of a model: checked for NaN, adapted from other weights, exported."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo.train.checkpoint import CheckpointError
from cnnzoo.train.files import write_file

__all__ = ["adapt_state_dict", "check_finite", "export_safetensors"]


def check_finite(weights: dict[str, torch.Tensor], source: str | os.PathLike[str]) -> None:
    """Refuse weights with NaN or infinite values: evaluating or exporting them would report
    numbers (or ship a model) that mean nothing."""
    bad = [k for k, v in weights.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(
            f"{source}: {len(bad)} of {len(weights)} weight tensors hold NaN or infinite values "
            f"({', '.join(bad[:3])}): the run diverged before this checkpoint; train again "
            "with a lower --lr or --clip-grad 1.0"
        )


def adapt_state_dict(
    model: nn.Module, state: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Fit pretrained weights to ``model``: first-layer channels, new classifier.

    A 3-channel first convolution becomes a 1-channel one by summing over colours (and back by
    spreading the weight over three), as timm's ``adapt_input_conv`` does; tensors whose shapes
    still differ (the classifier for a new number of classes) are left at their initialisation.
    Returns the adapted weights and notes on what changed.
    """
    own = model.state_dict()
    adapted: dict[str, torch.Tensor] = {}
    notes: list[str] = []
    for key, value in state.items():
        if key not in own:
            notes.append(f"unused: {key}")
            continue
        target = own[key]
        if (
            value.shape != target.shape
            and value.dim() == 4
            and value.shape[0] == target.shape[0]
            and value.shape[2:] == target.shape[2:]
        ):
            if target.shape[1] == 1:
                value = value.sum(1, keepdim=True)
            elif value.shape[1] == 1:
                value = value.repeat(1, target.shape[1], 1, 1) / target.shape[1]
            notes.append(f"{key}: input channels {state[key].shape[1]} -> {target.shape[1]}")
        if value.shape != target.shape:
            notes.append(f"kept new {key}: {tuple(value.shape)} does not fit {tuple(target.shape)}")
            continue
        adapted[key] = value.to(target.dtype)
    missing = [k for k in own if k not in adapted]
    if missing:
        notes.append(f"initialised afresh: {len(missing)} tensors ({', '.join(missing[:4])}...)")
    return adapted, notes


def export_safetensors(
    model: nn.Module, path: str | os.PathLike[str], metadata: dict[str, Any]
) -> Path:
    """Write the weights as safetensors; metadata values are stored as JSON strings."""
    from safetensors.torch import save

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return write_file(path, save(tensors, metadata={k: json.dumps(v) for k, v in metadata.items()}))
