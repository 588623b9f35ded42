"""Pooling layers with trainable parameters."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TrainableSubsampling(nn.Module):
    """LeNet-5's S-layers: the 2x2 inputs of a unit are added, multiplied by a trainable
    coefficient and shifted by a trainable bias, one pair per map (LeCun 1998, §II.B).

    Two parameters per map: S2 has 6·2 = 12, S4 16·2 = 32, as the paper counts.
    """

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) -> (B, C, H/2, W/2): the sum of each non-overlapping 2x2 window. The
        # mean times the window's area, not divisor_override=1: ONNX's AveragePool has no such
        # option, and the exported graph would divide by 4.
        summed = F.avg_pool2d(x, self.kernel_size) * self.kernel_size**2
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"channels={self.weight.numel()}, kernel_size={self.kernel_size}"
