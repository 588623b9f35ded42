"""Network in Network (Lin, Chen & Yan 2013): mlpconv layers and global average pooling.

An mlpconv layer is a convolution followed by 1x1 convolutions — a small MLP slid over the
image (§3.1). The last one outputs one map per class, which global average pooling turns into
the class scores: no fully-connected layer, so nothing there to over-fit (§3.2).
The paper's networks stack three mlpconv layers; the widths are those of the CIFAR-10 model
the authors released with it, on 32x32 input.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from cnnzoo.models._base import FeatureInfo, ZooModel, on_meta
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = ["NiN", "nin"]

PAPER = Paper(
    title="Network In Network",
    authors="M. Lin, Q. Chen, S. Yan",
    year=2013,
    url="https://arxiv.org/abs/1312.4400",
)

# (kernel, padding, widths): the first width is the spatial convolution's, the rest are 1x1.
# The last block's final width is the number of classes.
MLPCONV = (
    (5, 2, (192, 160, 96)),
    (5, 2, (192, 192, 192)),
    (3, 1, (192, 192)),
)


def mlpconv(in_channels: int, kernel: int, padding: int, widths: tuple[int, ...]) -> nn.Sequential:
    """A convolution and its 1x1 'micro network', each followed by ReLU."""
    layers: list[tuple[str, nn.Module]] = []
    channels = in_channels
    for i, width in enumerate(widths):
        k, p = (kernel, padding) if i == 0 else (1, 0)
        layers += [
            (f"conv{i}", nn.Conv2d(channels, width, k, padding=p)),
            (f"relu{i}", nn.ReLU(inplace=True)),
        ]
        channels = width
    return nn.Sequential(OrderedDict(layers))


class NiN(ZooModel):
    """Three mlpconv blocks with 3x3/2 max pooling and dropout 0.5 between them (§4.1:
    "dropout is applied on the outputs of all but the last mlpconv layers")."""

    def __init__(self, num_classes: int = 10, in_chans: int = 3, dropout: float = 0.5) -> None:
        super().__init__(num_classes, in_chans)
        (k1, p1, w1), (k2, p2, w2), (k3, p3, w3) = MLPCONV
        self.features = nn.Sequential(
            OrderedDict(
                block1=mlpconv(in_chans, k1, p1, w1),  # (B, 96, 32, 32)
                pool1=nn.MaxPool2d(3, stride=2, ceil_mode=True),  # (B, 96, 16, 16)
                drop1=nn.Dropout(dropout),
                block2=mlpconv(w1[-1], k2, p2, w2),  # (B, 192, 16, 16)
                pool2=nn.MaxPool2d(3, stride=2, ceil_mode=True),  # (B, 192, 8, 8)
                drop2=nn.Dropout(dropout),
                block3=mlpconv(w2[-1], k3, p3, w3),  # (B, 192, 8, 8)
            )
        )
        self.num_features = w3[-1]
        self.classifier = self._make_classifier(num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.feature_info = [
            FeatureInfo("features.block1", w1[-1], 1),
            FeatureInfo("features.block2", w2[-1], 2),
            FeatureInfo("features.block3", w3[-1], 4),
        ]
        if not on_meta(self):
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    # the released model: Gaussian weights (std 0.05), zero biases
                    nn.init.normal_(m.weight, 0.0, 0.05)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def _make_classifier(self, num_classes: int) -> nn.Module:
        """The last mlpconv's final 1x1 layer: one map per class."""
        if num_classes == 0:
            return nn.Identity()
        return nn.Sequential(
            OrderedDict(conv=nn.Conv2d(self.num_features, num_classes, 1), relu=nn.ReLU())
        )

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if pre_logits:
            return torch.flatten(self.avgpool(x), 1)
        return torch.flatten(self.avgpool(self.classifier(x)), 1)  # (B, classes)

    def get_classifier(self) -> nn.Module:
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        device = next(self.parameters()).device
        self.classifier = self._make_classifier(num_classes).to(device)


@register_model(
    family="NiN",
    paper=PAPER,
    input_size=(3, 32, 32),
    min_input_size=4,
    num_classes=10,
    cifar10_error=reported("8.81%", "Table 1: with data augmentation (10.41% without)"),
)
def nin(**kwargs: Any) -> NiN:
    """Network in Network for CIFAR-10: three mlpconv layers and global average pooling."""
    return NiN(**kwargs)
