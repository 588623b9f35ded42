"""Weights in and out of a run: checked for NaN, exported."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo.train.checkpoint import CheckpointError
from cnnzoo.train.files import write_file

__all__ = ["check_finite", "export_safetensors"]


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


def export_safetensors(
    model: nn.Module, path: str | os.PathLike[str], metadata: dict[str, Any]
) -> Path:
    """Write the weights as safetensors; metadata values are stored as JSON strings."""
    from safetensors.torch import save

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return write_file(path, save(tensors, metadata={k: json.dumps(v) for k, v in metadata.items()}))
