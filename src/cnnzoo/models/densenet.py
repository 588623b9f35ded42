"""DenseNet (Huang, Liu, van der Maaten & Weinberger 2017): each layer reads the concatenated
maps of all layers before it in its block and adds ``k`` (the growth rate) of its own.

A block of L layers with k0 input maps ends with ``k0 + L·k`` maps; transition layers (BN, 1x1
conv, 2x2 average pooling) between blocks shrink them by the compression θ. Keys follow
torchvision's DenseNet.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.models._base import FeatureInfo, PooledLinearNet, linear_or_identity, on_meta
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = [
    "DenseNet",
    "densenet40_k12",
    "densenet121",
    "densenet169",
    "densenet201",
    "densenet264",
    "densenet_bc100_k12",
]

PAPER = Paper(
    title="Densely Connected Convolutional Networks",
    authors="G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger",
    year=2017,
    url="https://arxiv.org/abs/1608.06993",
)


class DenseLayer(nn.Module):
    """BN-ReLU-Conv(3x3) producing k maps; with a bottleneck ("-B"), first BN-ReLU-Conv(1x1)
    to ``bn_size·k`` maps (§3: 4k). ``drop_rate`` follows each of its convolutions (§4.2: "a
    dropout layer after each convolutional layer (except the first one)", as the authors'
    ``DenseConnectLayer.lua`` does after the 1x1 too; torchvision drops only after the 3x3)."""

    def __init__(
        self, in_channels: int, growth_rate: int, bn_size: int | None, drop_rate: float
    ) -> None:
        super().__init__()
        width = in_channels
        if bn_size is not None:
            self.norm1 = nn.BatchNorm2d(in_channels)
            self.relu1 = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
            width = bn_size * growth_rate
        self.bottleneck = bn_size is not None
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, 3, padding=1, bias=False)
        self.drop_rate = drop_rate

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)  # (B, k0 + i·k, H, W): every earlier map in the block
        if self.bottleneck:
            x = self._drop(self.conv1(self.relu1(self.norm1(x))))  # (B, bn_size·k, H, W)
        return self._drop(self.conv2(self.relu2(self.norm2(x))))  # (B, k, H, W)

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, p=self.drop_rate, training=self.training) if self.drop_rate else x


class DenseBlock(nn.ModuleDict):
    """Layers ``denselayer1..L``; the block's output concatenates its input and every layer's."""

    def __init__(
        self,
        num_layers: int,
        in_channels: int,
        growth_rate: int,
        bn_size: int | None,
        drop_rate: float,
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN, ReLU, 1x1 conv to ``out_channels``, 2x2 average pooling (§3, "transition layers");
    with ``drop_rate``, dropout after the convolution, as the authors' ``densenet.lua`` has."""

    def __init__(self, in_channels: int, out_channels: int, drop_rate: float = 0.0) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        if drop_rate:
            self.drop = nn.Dropout(drop_rate)
        self.pool = nn.AvgPool2d(2, stride=2)


class DenseNet(PooledLinearNet):
    """Dense blocks joined by transitions, then BN, ReLU, global pooling and one FC layer."""

    classifier_attr = "classifier"

    def __init__(
        self,
        growth_rate: int,
        block_config: Sequence[int],
        stem: Literal["imagenet", "cifar"] = "imagenet",
        bn_size: int | None = 4,
        compression: float = 0.5,
        drop_rate: float = 0.0,
        num_classes: int = 1000,
        in_chans: int = 3,
    ) -> None:
        super().__init__(num_classes, in_chans)
        if not 0 < compression <= 1:
            raise ConfigError(f"compression θ must be in (0, 1], got {compression}")
        width = 2 * growth_rate if bn_size is not None and compression < 1 else 16
        stem_layers: list[tuple[str, nn.Module]]
        if stem == "imagenet":  # Table 1: 7x7/2 conv with 2k maps, 3x3/2 max pooling
            width = 2 * growth_rate
            stem_layers = [
                ("conv0", nn.Conv2d(in_chans, width, 7, stride=2, padding=3, bias=False)),
                ("norm0", nn.BatchNorm2d(width)),
                ("relu0", nn.ReLU(inplace=True)),
                ("pool0", nn.MaxPool2d(3, stride=2, padding=1)),
            ]
            reduction = 4
            self.feature_info = [FeatureInfo("features.relu0", width, 2)]
        else:  # §3 "Implementation Details": one 3x3 conv with 16 maps (2k for DenseNet-BC)
            stem_layers = [("conv0", nn.Conv2d(in_chans, width, 3, padding=1, bias=False))]
            reduction = 1
            self.feature_info = [FeatureInfo("features.conv0", width, 1)]
        self.features = nn.Sequential(OrderedDict(stem_layers))
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, width, growth_rate, bn_size, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            width += num_layers * growth_rate
            if i < len(block_config) - 1:
                self.feature_info.append(
                    FeatureInfo(f"features.denseblock{i + 1}", width, reduction)
                )
                out = int(width * compression)
                transition = Transition(width, out, drop_rate)
                self.features.add_module(f"transition{i + 1}", transition)
                width, reduction = out, reduction * 2
        self.features.add_module(f"norm{len(block_config) + 1}", nn.BatchNorm2d(width))
        self.feature_info.append(
            FeatureInfo(f"features.norm{len(block_config) + 1}", width, reduction)
        )
        self.num_features = width
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Identity()
        self.classifier = linear_or_identity(width, num_classes)
        if not on_meta(self):
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight)  # §4.2 cites He et al. 2015
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.features(x))


# Table 1: layers per dense block, k = 32, DenseNet-BC (bottleneck, θ = 0.5)
IMAGENET_BLOCKS = {
    121: (6, 12, 24, 16),
    169: (6, 12, 32, 32),
    201: (6, 12, 48, 32),
    264: (6, 12, 64, 48),
}


def _entry(
    params: str | None,
    top5: str | None = None,
    error: str | None = None,
    cifar: bool = False,
    torchvision: str | None = None,
) -> dict[str, Any]:
    return {
        "family": "DenseNet-CIFAR" if cifar else "DenseNet",
        "paper": PAPER,
        "input_size": (3, 32, 32) if cifar else (3, 224, 224),
        "min_input_size": 4 if cifar else 29,
        "num_classes": 10 if cifar else 1000,
        "params": reported(
            params, "Table 2" if cifar else "torchvision model card (the paper plots them)"
        )
        if params
        else None,
        "top5_error": reported(top5, "Table 3: val, single crop") if top5 else None,
        "cifar10_error": reported(error, "Table 2: C10+ (with augmentation)") if error else None,
        "torchvision": torchvision,
        "torchvision_equal": torchvision is not None,
    }


def _imagenet(depth: int, **kwargs: Any) -> DenseNet:
    return DenseNet(32, IMAGENET_BLOCKS[depth], **kwargs)


@register_model(**_entry("8.0M", "7.71%", torchvision="densenet121"))
def densenet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121 (BC, k=32): blocks of 6-12-24-16 layers."""
    return _imagenet(121, **kwargs)


@register_model(**_entry("14.1M", "6.85%", torchvision="densenet169"))
def densenet169(**kwargs: Any) -> DenseNet:
    """DenseNet-169 (BC, k=32): blocks of 6-12-32-32 layers."""
    return _imagenet(169, **kwargs)


@register_model(**_entry("20.0M", "6.34%", torchvision="densenet201"))
def densenet201(**kwargs: Any) -> DenseNet:
    """DenseNet-201 (BC, k=32): blocks of 6-12-48-32 layers."""
    return _imagenet(201, **kwargs)


# No source prints DenseNet-264's parameter count: the paper only plots it (Fig. 3) and
# torchvision publishes no such model. The tests hold it to torchvision's DenseNet class built
# with Table 1's blocks instead (33,337,704 parameters).
@register_model(**_entry(None, "6.12%"))
def densenet264(**kwargs: Any) -> DenseNet:
    """DenseNet-264 (BC, k=32): blocks of 6-12-64-48 layers."""
    return _imagenet(264, **kwargs)


@register_model(**_entry("1.0M", error="5.24%", cifar=True))
def densenet40_k12(growth_rate: int = 12, depth: int = 40, **kwargs: Any) -> DenseNet:
    """CIFAR DenseNet (L=40, k=12): three blocks of 12 layers, no bottleneck, no compression.

    The paper adds dropout 0.2 after each convolution when training without augmentation:
    pass ``drop_rate=0.2`` for that setting. ``growth_rate`` and ``depth`` (3n+4 layers) give
    the paper's other basic DenseNets: k=24 at L=100 and L=40, or smaller ones."""
    if depth < 7 or (depth - 4) % 3:
        raise ConfigError(f"a CIFAR DenseNet has 3n+4 layers (7, 10, ..., 40, 100), got {depth}")
    if growth_rate < 1:
        raise ConfigError(f"growth_rate k must be a positive number of maps, got {growth_rate}")
    n = (depth - 4) // 3
    return DenseNet(growth_rate, (n, n, n), stem="cifar", bn_size=None, compression=1.0, **kwargs)


@register_model(**_entry("0.8M", error="4.51%", cifar=True))
def densenet_bc100_k12(**kwargs: Any) -> DenseNet:
    """CIFAR DenseNet-BC (L=100, k=12): three blocks of 16 bottleneck layers, θ = 0.5."""
    return DenseNet(12, (16, 16, 16), stem="cifar", bn_size=4, compression=0.5, **kwargs)
