"""Residual shortcuts that carry no parameters."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.errors import ConfigError


class PadShortcut(nn.Module):
    """ResNet's option A (He et al. 2015, §3.3): identity, subsampled by the stride, with the
    extra channels padded with zeros. Parameter-free, which is how the CIFAR ResNets stay at
    0.27M (ResNet-20) parameters."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        if out_channels < in_channels:
            raise ConfigError(
                f"a zero-padding shortcut can only widen: {in_channels} -> {out_channels} channels"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, 0, extra)) if extra else x

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels}, stride={self.stride}"
