"""Convolution units: conv(-BN)-ReLU, and convolutions with a sparse map-to-map table."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class BasicConv2d(nn.Module):
    """Convolution, optional batch norm, ReLU; the unit of the Inception networks.

    With ``norm=True`` it matches torchvision's ``BasicConv2d`` key for key (``conv``, ``bn``,
    bias-free convolution, BN eps 1e-3); without, it is the 2014 paper's conv + ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        norm: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=not norm
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001) if norm else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class PartialConv2d(nn.Module):
    """A convolution where output map ``j`` sees only the input maps ``connections[j]``.

    LeNet-5's C3 (LeCun 1998, Table I) connects each of its 16 maps to 3, 4 or 6 of S2's 6 maps,
    "to break the symmetry in the network" and to keep the connections in bounds. Only the
    connected kernels exist as parameters (1,516 for C3, not 2,416): outputs with the same
    fan-in share one grouped convolution over the gathered input maps.
    """

    index: torch.Tensor
    order: torch.Tensor

    def __init__(self, connections: Sequence[Sequence[int]], kernel_size: int) -> None:
        super().__init__()
        self.in_channels = 1 + max(max(c) for c in connections)
        self.out_channels = len(connections)
        self.kernel_size = (kernel_size, kernel_size)  # as nn.Conv2d has it: one layer, drawn
        self.connections = [tuple(c) for c in connections]
        fan_ins = sorted({len(c) for c in self.connections})
        gather: list[int] = []
        produced: list[int] = []
        convs: list[nn.Conv2d] = []
        for fan_in in fan_ins:
            outputs = [j for j, c in enumerate(self.connections) if len(c) == fan_in]
            for j in outputs:
                gather.extend(self.connections[j])
            produced.extend(outputs)
            n = len(outputs)
            convs.append(nn.Conv2d(n * fan_in, n, kernel_size, groups=n))
        self.convs = nn.ModuleList(convs)
        self.widths = [conv.in_channels for conv in convs]
        self.register_buffer("index", torch.tensor(gather), persistent=False)
        # position of output j in the concatenation of the grouped convolutions' outputs
        order = [produced.index(j) for j in range(self.out_channels)]
        self.register_buffer("order", torch.tensor(order), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gathered = x.index_select(1, self.index)  # (B, Σ fan-in, H, W)
        parts = gathered.split(self.widths, dim=1)
        outs = [conv(part) for conv, part in zip(self.convs, parts, strict=True)]
        return torch.cat(outs, 1).index_select(1, self.order)

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels} maps, table={self.connections}"
