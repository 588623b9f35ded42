"""Inception-v4 (Szegedy, Ioffe, Vanhoucke & Alemi 2016).

299x299x3 → stem 35x35x384 → 4 × Inception-A → Reduction-A 17x17x1024 → 7 × Inception-B
→ Reduction-B 8x8x1536 → 3 × Inception-C → average pooling 1536 → dropout (keep 0.8) → softmax.
Every convolution is followed by batch norm and ReLU. n x n convolutions are factorised into
1 x n and n x 1 pairs (7x7 in Inception-B, 3x3 in Inception-C's split branches).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from cnnzoo.layers import BasicConv2d
from cnnzoo.models._base import FeatureInfo, PooledLinearNet, linear_or_identity, on_meta
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = ["InceptionV4", "inception_v4"]

PAPER = Paper(
    title="Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
    authors="C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi",
    year=2016,
    url="https://arxiv.org/abs/1602.07261",
)


def conv(
    in_ch: int,
    out_ch: int,
    kernel: int | tuple[int, int],
    stride: int = 1,
    padding: int | tuple[int, int] | None = None,
) -> BasicConv2d:
    """Conv-BN-ReLU; ``padding=None`` is 'same' for stride 1; pass 0 for the paper's 'V'."""
    if padding is None:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        padding = (kh // 2, kw // 2)
    return BasicConv2d(in_ch, out_ch, kernel, stride=stride, padding=padding)


def chain(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(*layers)


class Concat(nn.Module):
    """Branches run side by side on one input, joined along channels ("Filter concat")."""

    def __init__(self, **branches: nn.Module) -> None:
        super().__init__()
        for name, branch in branches.items():
            self.add_module(name, branch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], 1)


def stem(in_chans: int) -> nn.Sequential:
    """Fig. 3: 299x299x3 → 35x35x384."""
    return nn.Sequential(
        OrderedDict(
            conv1=conv(in_chans, 32, 3, stride=2, padding=0),  # 149x149x32
            conv2=conv(32, 32, 3, padding=0),  # 147x147x32
            conv3=conv(32, 64, 3),  # 147x147x64
            mixed1=Concat(  # 73x73x160
                pool=nn.MaxPool2d(3, stride=2), conv=conv(64, 96, 3, stride=2, padding=0)
            ),
            mixed2=Concat(  # 71x71x192
                branch1=chain(conv(160, 64, 1), conv(64, 96, 3, padding=0)),
                branch2=chain(
                    conv(160, 64, 1),
                    conv(64, 64, (7, 1)),
                    conv(64, 64, (1, 7)),
                    conv(64, 96, 3, padding=0),
                ),
            ),
            mixed3=Concat(  # 35x35x384
                conv=conv(192, 192, 3, stride=2, padding=0), pool=nn.MaxPool2d(3, stride=2)
            ),
        )
    )


def inception_a(in_ch: int = 384) -> Concat:
    """Fig. 4: 35x35 grid, 384 maps out."""
    return Concat(
        branch1=chain(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(in_ch, 96, 1)),
        branch2=conv(in_ch, 96, 1),
        branch3=chain(conv(in_ch, 64, 1), conv(64, 96, 3)),
        branch4=chain(conv(in_ch, 64, 1), conv(64, 96, 3), conv(96, 96, 3)),
    )


def reduction_a(
    in_ch: int = 384,
    k: int = 192,
    l: int = 224,  # noqa: E741 (the paper names it l)
    m: int = 256,
    n: int = 384,
) -> Concat:
    """Fig. 7 with Table 1's k, l, m, n for Inception-v4: 35x35 → 17x17, 1024 maps."""
    return Concat(
        pool=nn.MaxPool2d(3, stride=2),
        branch2=conv(in_ch, n, 3, stride=2, padding=0),
        branch3=chain(conv(in_ch, k, 1), conv(k, l, 3), conv(l, m, 3, stride=2, padding=0)),
    )


def inception_b(in_ch: int = 1024) -> Concat:
    """Fig. 5: 17x17 grid, 7x7 convolutions factorised into 1x7 and 7x1; 1024 maps out."""
    return Concat(
        branch1=chain(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(in_ch, 128, 1)),
        branch2=conv(in_ch, 384, 1),
        branch3=chain(conv(in_ch, 192, 1), conv(192, 224, (1, 7)), conv(224, 256, (7, 1))),
        branch4=chain(
            conv(in_ch, 192, 1),
            conv(192, 192, (1, 7)),
            conv(192, 224, (7, 1)),
            conv(224, 224, (1, 7)),
            conv(224, 256, (7, 1)),
        ),
    )


def reduction_b(in_ch: int = 1024) -> Concat:
    """Fig. 8: 17x17 → 8x8, 1536 maps."""
    return Concat(
        pool=nn.MaxPool2d(3, stride=2),
        branch2=chain(conv(in_ch, 192, 1), conv(192, 192, 3, stride=2, padding=0)),
        branch3=chain(
            conv(in_ch, 256, 1),
            conv(256, 256, (1, 7)),
            conv(256, 320, (7, 1)),
            conv(320, 320, 3, stride=2, padding=0),
        ),
    )


class InceptionC(nn.Module):
    """Fig. 6: 8x8 grid; two branches split into parallel 1x3 and 3x1 convolutions; 1536 out."""

    def __init__(self, in_ch: int = 1536) -> None:
        super().__init__()
        self.branch1 = chain(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(in_ch, 256, 1))
        self.branch2 = conv(in_ch, 256, 1)
        self.branch3 = conv(in_ch, 384, 1)
        self.branch3_1x3 = conv(384, 256, (1, 3))
        self.branch3_3x1 = conv(384, 256, (3, 1))
        self.branch4 = chain(conv(in_ch, 384, 1), conv(384, 448, (1, 3)), conv(448, 512, (3, 1)))
        self.branch4_1x3 = conv(512, 256, (1, 3))
        self.branch4_3x1 = conv(512, 256, (3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3(x)
        b4 = self.branch4(x)
        return torch.cat(
            [
                self.branch1(x),
                self.branch2(x),
                self.branch3_1x3(b3),
                self.branch3_3x1(b3),
                self.branch4_1x3(b4),
                self.branch4_3x1(b4),
            ],
            1,
        )


class InceptionV4(PooledLinearNet):
    """Fig. 9: stem, 4 × A, Reduction-A, 7 × B, Reduction-B, 3 × C, pooling, dropout, FC."""

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.2) -> None:
        super().__init__(num_classes, in_chans)
        self.features = nn.Sequential(
            OrderedDict(
                stem=stem(in_chans),
                **{f"inception_a{i + 1}": inception_a() for i in range(4)},
                reduction_a=reduction_a(),
                **{f"inception_b{i + 1}": inception_b() for i in range(7)},
                reduction_b=reduction_b(),
                **{f"inception_c{i + 1}": InceptionC() for i in range(3)},
            )
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)  # "Dropout (keep 0.8)"
        self.num_features = 1536
        self.fc = linear_or_identity(1536, num_classes)
        self.feature_info = [
            FeatureInfo("features.stem.conv3", 64, 2),
            FeatureInfo("features.stem.mixed1", 160, 4),
            FeatureInfo("features.inception_a4", 384, 8),
            FeatureInfo("features.inception_b7", 1024, 16),
            FeatureInfo("features.inception_c3", 1536, 32),
        ]
        if not on_meta(self):
            for m in self.modules():
                if isinstance(m, nn.Conv2d | nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.1 if isinstance(m, nn.Conv2d) else 0.01)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


@register_model(
    family="Inception",
    paper=PAPER,
    input_size=(3, 299, 299),
    min_input_size=75,
    params=reported("42.7M", "timm's count; the paper gives none", 0.05e6),
    top5_error=reported("5.0%", "Table 2: val, single model, single crop"),
)
def inception_v4(**kwargs: Any) -> InceptionV4:
    """Inception-v4: the 2016 pure Inception network, 299x299 input."""
    return InceptionV4(**kwargs)
