"""Pre-activation ResNet (He, Zhang, Ren & Sun 2016): BN and ReLU before each convolution,
so the shortcut path stays a pure identity from any block to any later one:
``x_L = x_l + Σ_{i=l}^{L-1} F(x_i)`` (eq. 4), which lets a 1001-layer net train and improve.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.models._base import (
    FeatureInfo,
    PooledLinearNet,
    he_init,
    linear_or_identity,
    on_meta,
)
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = ["PreActBottleneck", "PreActResNet", "preact_resnet164", "preact_resnet1001"]

PAPER = Paper(
    title="Identity Mappings in Deep Residual Networks",
    authors="K. He, X. Zhang, S. Ren, J. Sun",
    year=2016,
    url="https://arxiv.org/abs/1603.05027",
)


class PreActBottleneck(nn.Module):
    """BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1 (Fig. 4e), as in the authors' code
    (``resnet-pre-act.lua``): a stride sits in the first 1x1 and the 3x3 runs at stride 1, and
    where the shape changes the projection shortcut reads the pre-activated input."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, planes, 1, stride=stride, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.relu = nn.ReLU(inplace=False)
        self.shortcut: nn.Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(x))
        identity = x if self.shortcut is None else self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + identity


class PreActResNet(PooledLinearNet):
    """CIFAR pre-activation ResNet of depth 9n+2: a 3x3 conv, three stages of n bottlenecks
    (64, 128, 256 output maps on 32, 16, 8 pixels), a final BN-ReLU, pooling and FC."""

    layer1: nn.Sequential
    layer2: nn.Sequential
    layer3: nn.Sequential

    def __init__(self, depth: int, num_classes: int = 10, in_chans: int = 3) -> None:
        super().__init__(num_classes, in_chans)
        if (depth - 2) % 9:
            raise ConfigError(
                f"pre-activation bottleneck ResNets have 9n+2 layers (164, 1001), got {depth}"
            )
        n = (depth - 2) // 9
        self.conv1 = nn.Conv2d(in_chans, 16, 3, padding=1, bias=False)
        self.feature_info = [FeatureInfo("conv1", 16, 1)]
        channels = 16
        for i, planes in enumerate((16, 32, 64)):
            stride = 1 if i == 0 else 2
            blocks = []
            for j in range(n):
                blocks.append(PreActBottleneck(channels, planes, stride if j == 0 else 1))
                channels = planes * PreActBottleneck.expansion
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            self.feature_info.append(FeatureInfo(f"layer{i + 1}", channels, 2**i))
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.feature_info[-1] = FeatureInfo("relu", channels, 4)
        self.num_features = channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Identity()
        self.fc = linear_or_identity(channels, num_classes)
        if not on_meta(self):
            he_init(self)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.relu(self.bn(x))  # the last unit's output still needs its activation


def _entry(params: str, error: str, excludes_norm: bool = False) -> dict[str, Any]:
    return {
        "family": "PreAct-ResNet",
        "paper": PAPER,
        "input_size": (3, 32, 32),
        "min_input_size": 1,
        "num_classes": 10,
        "params": reported(params, "Table 3", excludes_norm=excludes_norm),
        "cifar10_error": reported(error, "Table 3"),
    }


@register_model(**_entry("1.7M", "5.46%"))
def preact_resnet164(**kwargs: int) -> PreActResNet:
    """Pre-activation ResNet-164 for CIFAR: 18 bottlenecks per stage."""
    return PreActResNet(164, **kwargs)


# Table 3's 10.2M counts convolution and FC weights; BN's scale and shift add 0.13M more.
@register_model(**_entry("10.2M", "4.92%", excludes_norm=True))
def preact_resnet1001(**kwargs: int) -> PreActResNet:
    """Pre-activation ResNet-1001 for CIFAR: 111 bottlenecks per stage."""
    return PreActResNet(1001, **kwargs)
