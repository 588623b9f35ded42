"""ResNet (He, Zhang, Ren & Sun 2015): learn residuals ``F(x) = H(x) - x`` through shortcuts.

ImageNet nets (Table 1) and the CIFAR-10 nets of §4.2 (6n+2 layers, option A shortcuts), with
the same stacks without shortcuts ("plain") for the degradation experiments of Fig. 4 (ImageNet)
and Fig. 6 (CIFAR-10).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.layers import Activation, PadShortcut, activation
from cnnzoo.models._base import (
    FeatureInfo,
    PooledLinearNet,
    he_init,
    linear_or_identity,
    on_meta,
)
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "plain18",
    "plain20",
    "plain32",
    "plain34",
    "plain44",
    "plain56",
    "plain110",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet44",
    "resnet50",
    "resnet50_tv",
    "resnet56",
    "resnet101",
    "resnet101_tv",
    "resnet110",
    "resnet152",
    "resnet152_tv",
    "resnet1202",
]

PAPER = Paper(
    title="Deep Residual Learning for Image Recognition",
    authors="K. He, X. Zhang, S. Ren, J. Sun",
    year=2015,
    url="https://arxiv.org/abs/1512.03385",
)

Shortcut = Literal["A", "B", "none"]  # §3.3: A zero-pads, B projects where shapes change


def _shortcut(in_channels: int, out_channels: int, stride: int, kind: Shortcut) -> nn.Module | None:
    """The shortcut's module where the identity does not fit; None where it does (or for plain)."""
    if kind == "none" or (stride == 1 and in_channels == out_channels):
        return None
    if kind == "A":
        return PadShortcut(in_channels, out_channels, stride)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


def _norm(channels: int, batch_norm: bool) -> nn.Module:
    """Batch norm after a convolution, or nothing: the plain nets of the gradient experiments
    (the convolutions keep no bias either way)."""
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (Fig. 5 left); the ResNet-18/34 and CIFAR block."""

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int,
        shortcut: Shortcut,
        stride_in_1x1: bool = False,
        act: Activation = "relu",
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = _norm(planes, batch_norm)
        self.relu = activation(act, inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = _norm(planes, batch_norm)
        self.downsample = _shortcut(in_channels, planes, stride, shortcut)
        self.residual = shortcut != "none"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 restore (Fig. 5 right); ResNet-50/101/152.

    The paper strides the first 1x1 convolution; torchvision ("v1.5") strides the 3x3, which
    costs more (4.1 against 3.8 GMACs for ResNet-50) and is a little more accurate.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int,
        shortcut: Shortcut,
        stride_in_1x1: bool = True,
        act: Activation = "relu",
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, planes, 1, stride=s1, bias=False)
        self.bn1 = _norm(planes, batch_norm)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=s3, padding=1, bias=False)
        self.bn2 = _norm(planes, batch_norm)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = _norm(out_channels, batch_norm)
        self.relu = activation(act, inplace=True)
        self.downsample = _shortcut(in_channels, out_channels, stride, shortcut)
        self.residual = shortcut != "none"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ResNet(PooledLinearNet):
    """A stem, stages of residual blocks (the first block of a stage strides by 2), global
    average pooling and one fully-connected layer. Keys follow torchvision's ResNet.

    ``act`` and ``batch_norm`` are not the paper's: they make the sigmoid, tanh and
    un-normalised plain nets whose gradients the notes' argument is about. The activation
    modules keep torchvision's name ``relu`` whatever they compute (they hold no weights).
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        depths: Sequence[int],
        widths: Sequence[int] = (64, 128, 256, 512),
        stem: Literal["imagenet", "cifar"] = "imagenet",
        shortcut: Shortcut = "B",
        stride_in_1x1: bool = True,
        num_classes: int = 1000,
        in_chans: int = 3,
        zero_init_residual: bool = False,
        drop_rate: float = 0.0,
        act: Activation = "relu",
        batch_norm: bool = True,
    ) -> None:
        super().__init__(num_classes, in_chans)
        if zero_init_residual and not batch_norm:
            raise ConfigError(
                "zero_init_residual zeroes each block's last batch norm: it needs batch_norm=True"
            )
        stem_width = widths[0]
        if stem == "imagenet":  # 7x7/2 conv and 3x3/2 max pooling: 224 -> 56
            self.conv1 = nn.Conv2d(in_chans, stem_width, 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
        else:  # §4.2: one 3x3 conv, no pooling: 32 -> 32
            self.conv1 = nn.Conv2d(in_chans, stem_width, 3, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = _norm(stem_width, batch_norm)
        self.relu = activation(act, inplace=True)
        stem_stride, reduction = (2, 4) if stem == "imagenet" else (1, 1)
        self.feature_info = [FeatureInfo("relu", stem_width, stem_stride)]
        self.stage_names: list[str] = []
        channels = stem_width
        for i, (depth, width) in enumerate(zip(depths, widths, strict=True)):
            stride = 1 if i == 0 else 2
            blocks = []
            for j in range(depth):
                step = stride if j == 0 else 1
                blocks.append(
                    block(channels, width, step, shortcut, stride_in_1x1, act, batch_norm)
                )
                channels = width * block.expansion
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*blocks))
            self.stage_names.append(name)
            reduction *= stride
            self.feature_info.append(FeatureInfo(name, channels, reduction))
        self.num_features = channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.fc = linear_or_identity(channels, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        """He et al. (2015, "Delving deep into rectifiers") for convolutions, as §3.4 says;
        ``zero_init_residual`` starts each block as the identity (Goyal et al. 2017)."""
        if on_meta(self):
            return
        he_init(self)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock | Bottleneck):
                    last = m.bn3 if isinstance(m, Bottleneck) else m.bn2
                    assert isinstance(last, nn.BatchNorm2d)  # refused without batch norm
                    nn.init.zeros_(last.weight)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x


# Table 1: the block and the number of blocks in conv2_x .. conv5_x
IMAGENET_DEPTHS: dict[int, tuple[type[BasicBlock | Bottleneck], tuple[int, ...]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}

V15 = "stride 2 in the bottleneck's 3x3 convolution, not its first 1x1 (torchvision's 'v1.5')"
TV_PARAMS = "torchvision model card (the paper gives FLOPs, not parameters)"


def _imagenet(depth: int, v15: bool = False, **kwargs: Any) -> ResNet:
    block, depths = IMAGENET_DEPTHS[depth]
    return ResNet(block, depths, stride_in_1x1=not v15, **kwargs)


def _entry(
    depth: int,
    params: str,
    macs: str,
    top5: str | None,
    v15: bool = False,
    macs_source: str = "Table 1",
) -> dict[str, Any]:
    basic = IMAGENET_DEPTHS[depth][0] is BasicBlock
    return {
        "family": "ResNet",
        "paper": PAPER,
        "input_size": (3, 224, 224),
        "min_input_size": 1,
        "params": reported(params, TV_PARAMS),
        # Table 1 neither rounds nor truncates throughout: 3.66G and 3.86G are printed 3.6 and
        # 3.8 (truncated), 7.57G and 11.28G 7.6 and 11.3 (rounded): ±0.1G holds all five
        "macs": reported(macs, macs_source, tolerance=0.1e9),
        "top5_error": reported(top5, "Table 3: val, 10-crop") if top5 else None,
        "deviations": (V15,) if v15 else (),
        "torchvision": f"resnet{depth}",
        "torchvision_equal": basic or v15,
    }


@register_model(**_entry(18, "11.7M", "1.8G", None))
def resnet18(**kwargs: Any) -> ResNet:
    """ResNet-18: basic blocks, 2-2-2-2."""
    return _imagenet(18, **kwargs)


@register_model(**_entry(34, "21.8M", "3.6G", "7.46%"))
def resnet34(**kwargs: Any) -> ResNet:
    """ResNet-34: basic blocks, 3-4-6-3, projection shortcuts where shapes change (option B)."""
    return _imagenet(34, **kwargs)


@register_model(**_entry(50, "25.6M", "3.8G", "6.71%"))
def resnet50(**kwargs: Any) -> ResNet:
    """ResNet-50 as published: bottlenecks 3-4-6-3, stride in the first 1x1."""
    return _imagenet(50, **kwargs)


@register_model(**_entry(101, "44.5M", "7.6G", "6.05%"))
def resnet101(**kwargs: Any) -> ResNet:
    """ResNet-101 as published: bottlenecks 3-4-23-3, stride in the first 1x1."""
    return _imagenet(101, **kwargs)


@register_model(**_entry(152, "60.2M", "11.3G", "5.71%"))
def resnet152(**kwargs: Any) -> ResNet:
    """ResNet-152 as published: bottlenecks 3-8-36-3, stride in the first 1x1."""
    return _imagenet(152, **kwargs)


@register_model(**_entry(50, "25.6M", "4.1G", None, True, "torchvision model card"))
def resnet50_tv(**kwargs: Any) -> ResNet:
    """torchvision's ResNet-50 ('v1.5'): the stride moved to the 3x3 convolution."""
    return _imagenet(50, v15=True, **kwargs)


@register_model(**_entry(101, "44.5M", "7.8G", None, True, "torchvision model card"))
def resnet101_tv(**kwargs: Any) -> ResNet:
    """torchvision's ResNet-101 ('v1.5'): the stride moved to the 3x3 convolution."""
    return _imagenet(101, v15=True, **kwargs)


@register_model(**_entry(152, "60.2M", "11.5G", None, True, "torchvision model card"))
def resnet152_tv(**kwargs: Any) -> ResNet:
    """torchvision's ResNet-152 ('v1.5'): the stride moved to the 3x3 convolution."""
    return _imagenet(152, v15=True, **kwargs)


def _plain_entry(depth: int) -> dict[str, Any]:
    return {
        "family": "ResNet",
        "paper": PAPER,
        "input_size": (3, 224, 224),
        "min_input_size": 1,
        # §3.3: "Our 34-layer baseline has 3.6 billion FLOPs (multiply-adds)"; Table 1 for 18
        "macs": reported("3.6G" if depth == 34 else "1.8G", "Table 1, §3.3", tolerance=0.1e9),
        "deviations": (),
        "torchvision": None,
    }


@register_model(**_plain_entry(18))
def plain18(**kwargs: Any) -> ResNet:
    """ImageNet plain-18: ResNet-18 without shortcuts (Table 2: 27.94% top-1, 10-crop)."""
    return _imagenet(18, shortcut="none", **kwargs)


@register_model(**_plain_entry(34))
def plain34(**kwargs: Any) -> ResNet:
    """ImageNet plain-34: ResNet-34 without shortcuts, Fig. 3 middle; trains worse than
    plain-18 (Table 2: 28.54% top-1, 10-crop; Fig. 4 left)."""
    return _imagenet(34, shortcut="none", **kwargs)


def _cifar(depth: int, shortcut: Shortcut, block: str = "basic", **kwargs: Any) -> ResNet:
    """§4.2: 6n+2 layers; three stages of 2n 3x3 layers with 16, 32 and 64 filters on 32x32,
    16x16 and 8x8 maps; option A shortcuts, so no shortcut has parameters.

    ``block="bottleneck"`` keeps the n blocks per stage but makes each this paper's
    post-activation 1x1-3x3-1x1 bottleneck with 4x wider outputs (64, 128, 256) and the same
    parameter-free zero-padding shortcuts: 9n+2 layers, so resnet20's n=3 gives 29. The stage
    widths are those of the CIFAR bottleneck nets of He et al. (2016, "Identity mappings"), but
    their blocks are pre-activation with projection shortcuts: that is ``preact_resnet164``."""
    if (depth - 2) % 6:
        raise ConfigError(f"CIFAR ResNets have 6n+2 layers (20, 32, 44, 56, 110, ...), got {depth}")
    blocks: dict[str, type[BasicBlock | Bottleneck]] = {
        "basic": BasicBlock,
        "bottleneck": Bottleneck,
    }
    if block not in blocks:
        raise ConfigError(f"block {block!r}: expected 'basic' or 'bottleneck'")
    n = (depth - 2) // 6
    return ResNet(blocks[block], (n, n, n), (16, 32, 64), stem="cifar", shortcut=shortcut, **kwargs)


def _cifar_entry(params: str | None, error: str | None) -> dict[str, Any]:
    return {
        "family": "ResNet-CIFAR",
        "paper": PAPER,
        "input_size": (3, 32, 32),
        "min_input_size": 1,
        "num_classes": 10,
        "params": reported(params, "Table 6") if params else None,
        "cifar10_error": reported(error, "Table 6 (best of 5 runs for 110)") if error else None,
        "deviations": (),
    }


@register_model(**_cifar_entry("0.27M", "8.75%"))
def resnet20(**kwargs: Any) -> ResNet:
    """CIFAR ResNet-20 (n=3)."""
    return _cifar(20, "A", **kwargs)


@register_model(**_cifar_entry("0.46M", "7.51%"))
def resnet32(**kwargs: Any) -> ResNet:
    """CIFAR ResNet-32 (n=5)."""
    return _cifar(32, "A", **kwargs)


@register_model(**_cifar_entry("0.66M", "7.17%"))
def resnet44(**kwargs: Any) -> ResNet:
    """CIFAR ResNet-44 (n=7)."""
    return _cifar(44, "A", **kwargs)


@register_model(**_cifar_entry("0.85M", "6.97%"))
def resnet56(**kwargs: Any) -> ResNet:
    """CIFAR ResNet-56 (n=9)."""
    return _cifar(56, "A", **kwargs)


@register_model(**_cifar_entry("1.7M", "6.43%"))
def resnet110(**kwargs: Any) -> ResNet:
    """CIFAR ResNet-110 (n=18)."""
    return _cifar(110, "A", **kwargs)


@register_model(**_cifar_entry("19.4M", "7.93%"))
def resnet1202(**kwargs: Any) -> ResNet:
    """CIFAR ResNet-1202 (n=200): deeper, and worse than ResNet-110 (§4.2, over-fitting)."""
    return _cifar(1202, "A", **kwargs)


@register_model(**_cifar_entry(None, None))
def plain20(**kwargs: Any) -> ResNet:
    """CIFAR plain-20: ResNet-20 without shortcuts (Fig. 6 left)."""
    return _cifar(20, "none", **kwargs)


@register_model(**_cifar_entry(None, None))
def plain32(**kwargs: Any) -> ResNet:
    """CIFAR plain-32: ResNet-32 without shortcuts (Fig. 6 left)."""
    return _cifar(32, "none", **kwargs)


@register_model(**_cifar_entry(None, None))
def plain44(**kwargs: Any) -> ResNet:
    """CIFAR plain-44: ResNet-44 without shortcuts (Fig. 6 left)."""
    return _cifar(44, "none", **kwargs)


@register_model(**_cifar_entry(None, None))
def plain56(**kwargs: Any) -> ResNet:
    """CIFAR plain-56: ResNet-56 without shortcuts; trains worse than plain-20 (Fig. 6 left)."""
    return _cifar(56, "none", **kwargs)


@register_model(**_cifar_entry(None, None))
def plain110(**kwargs: Any) -> ResNet:
    """CIFAR plain-110: ResNet-110 without shortcuts. §4.2 trains plain nets up to 56 layers
    only; this one is for the gradient-flow experiment's 110-layer pair."""
    return _cifar(110, "none", **kwargs)
