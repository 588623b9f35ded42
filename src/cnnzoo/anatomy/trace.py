"""Trace a network's layers on the meta device: shapes and parameters, no memory, no compute."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnzoo.factory import create_model
from cnnzoo.models import ZooModel, model_info

__all__ = ["LayerRecord", "trace"]


@dataclass(frozen=True)
class LayerRecord:
    """One module's call in a forward pass."""

    name: str  # qualified name, e.g. "features.conv1"
    type: str  # class name, e.g. "Conv2d"
    depth: int  # 1 for the model's direct children
    output_shape: tuple[int, ...]  # (B, C, H, W) or (B, F)
    params: int  # trainable parameters of the module and its children
    leaf: bool  # no child modules

    @property
    def chw(self) -> tuple[int, ...]:
        """The output shape without the batch dimension."""
        return self.output_shape[1:]


def _resolve(
    model: nn.Module | str, input_size: tuple[int, ...] | None
) -> tuple[nn.Module, tuple[int, ...]]:
    if isinstance(model, str):
        info = model_info(model)
        size = input_size or info.input_size
        return create_model(model, in_chans=size[0], device="meta").eval(), size
    if input_size is None:
        if not isinstance(model, ZooModel):
            raise ValueError("give input_size=(C, H, W) for a model that is not from the zoo")
        return model, (model.in_chans, *model.default_input_size)
    return model, input_size


def trace(
    model: nn.Module | str,
    input_size: tuple[int, ...] | None = None,
    batch_size: int = 1,
) -> list[LayerRecord]:
    """Every module called in an eval-mode forward pass, in call order, with its output shape.

    A registered name is built on the meta device, so even ResNet-1202 traces in about a second.
    ``input_size`` is (C, H, W); the default is the paper's.
    """
    net, size = _resolve(model, input_size)
    device = next(iter(net.parameters()), torch.empty(0)).device
    records: list[LayerRecord] = []
    handles = []
    for name, module in net.named_modules():
        if not name:
            continue

        def hook(mod: nn.Module, _inputs: object, output: object, name: str = name) -> None:
            if not isinstance(output, torch.Tensor):
                return
            params = sum(p.numel() for p in mod.parameters() if p.requires_grad)
            leaf = next(iter(mod.children()), None) is None
            records.append(
                LayerRecord(
                    name, type(mod).__name__, name.count(".") + 1, tuple(output.shape), params, leaf
                )
            )

        handles.append(module.register_forward_hook(hook))
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(torch.zeros(batch_size, *size, device=device))
    finally:
        for handle in handles:
            handle.remove()
        net.train(was_training)
    return records


def at_depth(records: list[LayerRecord], depth: int) -> list[LayerRecord]:
    """The layers seen at ``depth``: modules that deep, and shallower leaves."""
    return [r for r in records if r.depth == depth or (r.leaf and r.depth < depth)]
