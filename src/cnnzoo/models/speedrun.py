"""A small modern net for the speed route: Fashion-MNIST to 93% in minutes on two CPU cores.

Not a paper's model. It follows the CIFAR-10 speedruns, airbench above all (Jordan 2024):
a narrow stem, then three groups of two 3x3 convolutions, each group halving the maps with a
max pooling placed right after its first convolution (so the second convolution and both batch
norms run on a quarter of the pixels), batch norm with no learned scale, a global max pooling
and one linear layer whose logits are scaled down. It is shallow and wide enough for 28x28
grey images, and cheap: 4.0M multiply-accumulates per image, a tenth of ResNet-20's.

28x28 → stem 24 → pool 14x14 → group 32: conv, pool 7x7, conv → group 64: conv, pool 3x3,
conv → group 128: conv, pool 1x1, conv → global max → linear 10.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.models._base import FeatureInfo, LinearHeadNet, linear_or_identity, on_meta
from cnnzoo.models._registry import Paper, register_model

__all__ = ["SpeedNet", "speedrun"]

PAPER = Paper(
    title="94% on CIFAR-10 in 3.29 Seconds on a Single GPU",
    authors="K. Jordan",
    year=2024,
    url="https://arxiv.org/abs/2404.00498",
)

STEM = 24  # airbench's first layer width (its 2x2 whitening filters and their negatives)
# The three groups: (width, whether it halves its maps); airbench94 has 64, 256, 256 for
# CIFAR-10's colour, each halving.
GROUPS: tuple[tuple[int, bool], ...] = ((32, True), (64, True), (128, True))
# airbench divides the logits by 9: with label smoothing, a small start for the linear layer
LOGIT_SCALE = 1 / 9


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """Batch norm that learns a shift only (airbench's ``BatchNorm(weight=False)``): with ReLU
    after it and weight decay, a learned scale only slows the first epochs."""
    norm = nn.BatchNorm2d(channels)
    norm.weight.requires_grad_(False)
    return norm


def conv_group(in_channels: int, width: int, pool: bool = True) -> nn.Sequential:
    """conv → pool → BN → ReLU → conv → BN → ReLU: airbench's ``ConvGroup``."""
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            pool=nn.MaxPool2d(2) if pool else nn.Identity(),
            norm1=batch_norm(width),
            relu1=nn.ReLU(inplace=True),
            conv2=nn.Conv2d(width, width, 3, padding=1, bias=False),
            norm2=batch_norm(width),
            relu2=nn.ReLU(inplace=True),
        )
    )


class SpeedNet(LinearHeadNet):
    """The speed route's net: a stem and three convolution groups, each halving the maps."""

    def __init__(
        self,
        num_classes: int = 10,
        in_chans: int = 1,
        stem: int = STEM,
        groups: Sequence[tuple[int, bool]] = GROUPS,
    ) -> None:
        super().__init__(num_classes, in_chans)
        groups = tuple((int(width), bool(pool)) for width, pool in groups)
        if stem < 1 or not groups or min(width for width, _ in groups) < 1:
            raise ConfigError(f"stem {stem}, groups {groups}: expected positive channel counts")
        # The stem pools before its norm, as the groups do: its BN and ReLU run on 14x14.
        layers: list[tuple[str, nn.Module]] = [
            ("stem", nn.Conv2d(in_chans, stem, 3, padding=1, bias=False)),
            ("pool", nn.MaxPool2d(2)),
            ("norm", batch_norm(stem)),
            ("relu", nn.ReLU(inplace=True)),
        ]
        self.feature_info = [FeatureInfo("features.relu", stem, 2)]
        channels, reduction = stem, 2
        for i, (width, pool) in enumerate(groups, 1):
            layers.append((f"group{i}", conv_group(channels, width, pool)))
            reduction *= 2 if pool else 1
            self.feature_info.append(FeatureInfo(f"features.group{i}", width, reduction))
            channels = width
        self.features = nn.Sequential(OrderedDict(layers))
        self.num_features = channels
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.fc = linear_or_identity(channels, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """PyTorch's default uniform start for the convolutions and the linear layer, as
        airbench keeps it (the logit scale does the rest); BN starts as the identity."""
        if on_meta(self):
            return
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (B, 128, H/16, W/16)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.pool(x), 1)  # (B, num_features)
        if pre_logits or self.num_classes == 0:  # no classifier: the pooled features
            return x
        return self.fc(x) * LOGIT_SCALE


@register_model(
    family="Speedrun",
    paper=PAPER,
    input_size=(1, 28, 28),
    min_input_size=16,
    num_classes=10,
    deviations=(
        "not a paper's model: a Fashion-MNIST net built from airbench94's parts (Jordan 2024, "
        "CIFAR-10), registered so the speed route trains through the zoo",
        "a learned 3x3 stem of 24 filters in place of airbench's fixed 2x2 patch-whitening "
        "convolution, whose filters come from the training data before training starts",
        "the stem pools right after its convolution (airbench's does not pool): the first "
        "group then runs at 14x14, which keeps the net at 4.0M MACs per image",
        "groups of 32, 64 and 128 channels for 28x28 grey images, in place of 64, 256 and 256 "
        "for CIFAR-10's 32x32 colour ones",
        "ReLU in place of GELU (as fast as it gets on a CPU); PyTorch's batch-norm momentum "
        "and eps in place of airbench's 0.6 and 1e-12",
        "the linear layer has a bias (airbench's has none)",
    ),
    assumptions=("the logits are divided by 9, as airbench divides them",),
)
def speedrun(**kwargs: Any) -> SpeedNet:
    """The speed route's net (not a paper's): airbench's groups sized for Fashion-MNIST."""
    return SpeedNet(**kwargs)
