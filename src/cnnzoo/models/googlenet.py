"""GoogLeNet (Szegedy et al. 2014) and torchvision's batch-norm variant.

Table 1 of the paper, from a 224x224x3 input:
conv 7x7/2 112x112x64 → max pool 3x3/2 56x56x64 → conv 1x1 + 3x3 56x56x192 → max pool 28x28x192
→ 3a 28x28x256 → 3b 28x28x480 → max pool 14x14x480 → 4a 512 → 4b 512 → 4c 512 → 4d 528 → 4e 832
→ max pool 7x7x832 → 5a 7x7x832 → 5b 7x7x1024 → avg pool 1x1x1024 → dropout 40% → linear 1000.
Auxiliary classifiers on 4a and 4d add 0.3 × their loss in training (§5) and are dropped at
inference: ``forward`` returns the logits, ``training_loss`` adds the auxiliary losses.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.layers import BasicConv2d, LocalResponseNorm
from cnnzoo.models._base import (
    Criterion,
    FeatureInfo,
    PooledLinearNet,
    linear_or_identity,
    on_meta,
)
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "googlenet", "googlenet_tv"]

PAPER = Paper(
    title="Going Deeper with Convolutions",
    authors="C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, "
    "V. Vanhoucke, A. Rabinovich",
    year=2014,
    url="https://arxiv.org/abs/1409.4842",
)

# §5: "their loss is added to the total loss of the network with a discount weight"
AUX_WEIGHT = 0.3

# torchvision's name and field order, so code written for either model works with both
GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


def paper_lrn() -> LocalResponseNorm:
    """The paper names local response normalisation but gives no constants. The public
    reference, BVLC's bvlc_googlenet, uses Caffe's LRN: local_size 5, alpha 1e-4 averaged over
    the window (1e-4 / 5 summed, as our layer takes it), beta 0.75 and Caffe's k = 1."""
    return LocalResponseNorm(size=5, alpha=1e-4 / 5, beta=0.75, k=1.0)


# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
INCEPTION: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


class Inception(nn.Module):
    """Four branches concatenated (Fig. 2b): 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max pooling
    then 1x1. The 1x1 reductions in front of the 3x3 and 5x5 keep the cost in bounds."""

    def __init__(
        self,
        in_channels: int,
        widths: tuple[int, int, int, int, int, int],
        norm: bool,
        large_kernel: int,
        reduce: bool = True,
    ) -> None:
        super().__init__()
        ch1, red3, ch3, red5, ch5, proj = widths
        if not reduce:  # Fig. 2a, the "naive" module: no 1x1 in front, pooled input passed on
            red3 = red5 = 0
        self.branch1 = BasicConv2d(in_channels, ch1, 1, norm=norm)
        self.branch2 = self._branch(in_channels, red3, ch3, 3, norm)
        self.branch3 = self._branch(in_channels, red5, ch5, large_kernel, norm)
        pool = nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
        self.branch4 = (
            nn.Sequential(pool, BasicConv2d(in_channels, proj, 1, norm=norm)) if reduce else pool
        )
        self.out_channels = ch1 + ch3 + ch5 + (proj if reduce else in_channels)

    @staticmethod
    def _branch(in_channels: int, reduced: int, out: int, kernel: int, norm: bool) -> nn.Module:
        """A ``kernel``x``kernel`` convolution, after a 1x1 reduction to ``reduced`` maps if any."""
        layers = [BasicConv2d(in_channels, reduced, 1, norm=norm)] if reduced else []
        channels = reduced or in_channels
        layers.append(BasicConv2d(channels, out, kernel, padding=kernel // 2, norm=norm))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], 1)


class InceptionAux(nn.Module):
    """§5: 5x5/3 average pooling (4x4 maps from 4a's 14x14), 1x1 conv with 128 filters, FC 1024
    with ReLU, 70% dropout, linear classifier."""

    def __init__(self, in_channels: int, num_classes: int, norm: bool, paper_pool: bool) -> None:
        super().__init__()
        # The paper's 5x5/3 pooling gives 4x4 only from 14x14 maps; adaptive pooling to 4x4
        # after it keeps the FC layer's input fixed for other input sizes (the identity at 224).
        self.pool = nn.Sequential(
            *([nn.AvgPool2d(5, stride=3, ceil_mode=True)] if paper_pool else []),
            nn.AdaptiveAvgPool2d((4, 4)),
        )
        self.conv = BasicConv2d(in_channels, 128, 1, norm=norm)
        self.fc1 = nn.Linear(2048, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = linear_or_identity(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.conv(self.pool(x)), 1)  # (B, 128·4·4)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


class GoogLeNet(PooledLinearNet):
    """GoogLeNet; ``paper=False`` gives torchvision's layout and keys (BN, 3x3 for 5x5, no LRN,
    2x2 pooling before 5a, 20% dropout)."""

    inception3a: Inception
    inception3b: Inception
    inception4a: Inception
    inception4b: Inception
    inception4c: Inception
    inception4d: Inception
    inception4e: Inception
    inception5a: Inception
    inception5b: Inception

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        aux_logits: bool = True,
        paper: bool = True,
        transform_input: bool = False,
        dropout: float | None = None,
        dropout_aux: float = 0.7,
        reductions: bool = True,
    ) -> None:
        super().__init__(num_classes, in_chans)
        norm = not paper
        if transform_input and in_chans != 3:
            raise ConfigError(
                "transform_input re-normalises RGB for torchvision's weights: "
                f"it needs in_chans=3, got {in_chans}"
            )
        self.transform_input = transform_input
        self.conv1 = BasicConv2d(in_chans, 64, 7, stride=2, padding=3, norm=norm)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1: nn.Module = paper_lrn() if paper else nn.Identity()
        self.conv2 = BasicConv2d(64, 64, 1, norm=norm)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1, norm=norm)
        self.lrn2: nn.Module = paper_lrn() if paper else nn.Identity()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        large = 5 if paper else 3  # torchvision's long-standing 3x3 in the "5x5" branch
        channels = 192
        widths_out: dict[str, int] = {}
        for name, widths in INCEPTION.items():
            module = Inception(channels, widths, norm, large, reduce=reductions)
            self.add_module(f"inception{name}", module)
            channels = widths_out[name] = module.out_channels
            if name == "3b":
                self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            if name == "4e":
                self.maxpool4 = (
                    nn.MaxPool2d(3, stride=2, ceil_mode=True)
                    if paper
                    else nn.MaxPool2d(2, stride=2, ceil_mode=True)
                )
        self.aux1: InceptionAux | None = None
        self.aux2: InceptionAux | None = None
        if aux_logits:
            self.aux1 = InceptionAux(widths_out["4a"], num_classes, norm, paper_pool=paper)
            self.aux2 = InceptionAux(widths_out["4d"], num_classes, norm, paper_pool=paper)
            self.aux1.dropout.p = self.aux2.dropout.p = dropout_aux
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout if dropout is not None else (0.4 if paper else 0.2))
        self.num_features = channels
        self.fc = linear_or_identity(channels, num_classes)
        self.feature_info = [
            FeatureInfo("conv1", 64, 2),
            FeatureInfo("conv3", 192, 4),
            FeatureInfo("inception3b", widths_out["3b"], 8),
            FeatureInfo("inception4e", widths_out["4e"], 16),
            FeatureInfo("inception5b", channels, 32),
        ]
        self._init_weights(paper)

    def _init_weights(self, paper: bool) -> None:
        """The paper gives no initialisation. As published (no batch norm), BVLC's reference:
        Caffe's "xavier" filler, uniform in ±√(3 / fan_in), biases 0.2 but the classifiers'
        0; without it, std-0.01 weights shrink the signal until 4b-5b get no gradient at all.
        torchvision's batch-norm build keeps its truncated normal (std 0.01)."""
        if on_meta(self):
            return
        classifiers = {self.fc} | {aux.fc2 for aux in (self.aux1, self.aux2) if aux is not None}
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                if paper:
                    bound = math.sqrt(3 / m.weight[0].numel())
                    nn.init.uniform_(m.weight, -bound, bound)
                else:
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.2 if paper and m not in classifiers else 0.0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        # torchvision's pretrained weights expect inputs scaled to [-1, 1] channel by channel
        channels = [
            x[:, i : i + 1] * (std / 0.5) + (mean - 0.5) / 0.5
            for i, (mean, std) in enumerate(
                zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), strict=True)
            )
        ]
        return torch.cat(channels, 1)

    def _stem_to_4a(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:
            x = self._transform_input(x)
        x = self.lrn1(self.maxpool1(self.conv1(x)))  # (B, 64, 56, 56)
        x = self.maxpool2(self.lrn2(self.conv3(self.conv2(x))))  # (B, 192, 28, 28)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (B, 480, 14, 14)
        return self.inception4a(x)  # (B, 512, 14, 14)

    def _4a_to_4d(self, x: torch.Tensor) -> torch.Tensor:
        return self.inception4d(self.inception4c(self.inception4b(x)))  # (B, 528, 14, 14)

    def _4d_to_5b(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool4(self.inception4e(x))  # (B, 832, 7, 7)
        return self.inception5b(self.inception5a(x))  # (B, 1024, 7, 7)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self._4d_to_5b(self._4a_to_4d(self._stem_to_4a(x)))

    def forward_aux(self, x: torch.Tensor) -> GoogLeNetOutputs:
        """The logits and both auxiliary heads' logits, as torchvision's GoogLeNet returns them
        in training mode: ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``."""
        if self.aux1 is None or self.aux2 is None:
            raise ConfigError(
                f"{self.model_name or 'GoogLeNet'} was built with aux_logits=False: "
                "it has no auxiliary heads"
            )
        self.check_input(x)
        x = self._stem_to_4a(x)
        aux1 = self.aux1(x)
        x = self._4a_to_4d(x)
        aux2 = self.aux2(x)
        return GoogLeNetOutputs(self.forward_head(self._4d_to_5b(x)), aux2, aux1)

    def training_loss(
        self, x: torch.Tensor, target: torch.Tensor, criterion: Criterion
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """§5: the main loss plus 0.3 × each auxiliary head's loss."""
        if self.aux1 is None:
            return super().training_loss(x, target, criterion)
        out = self.forward_aux(x)
        aux = criterion(out.aux_logits1, target) + criterion(out.aux_logits2, target)
        return criterion(out.logits, target) + AUX_WEIGHT * aux, out.logits

    def training_only(self) -> list[str]:
        return [name for name in ("aux1", "aux2") if getattr(self, name) is not None]

    def reset_classifier(self, num_classes: int) -> None:
        super().reset_classifier(num_classes)
        device = self.conv1.conv.weight.device
        for aux in (self.aux1, self.aux2):
            if aux is not None:
                aux.fc2 = linear_or_identity(1024, num_classes).to(device)


@register_model(
    family="GoogLeNet",
    paper=PAPER,
    input_size=(3, 224, 224),
    min_input_size=47,  # the auxiliary heads' 5x5/3 pooling needs 4a maps of 3x3
    top5_error=reported("6.67%", "Table 2: ILSVRC-2014 test, 7 models, 144 crops (one: 10.07%)"),
    assumptions=(
        "LRN constants, which the paper does not give: BVLC's bvlc_googlenet (Caffe's size 5, "
        "α = 1e-4 averaged over the window, β = 0.75, k = 1)",
        "initialisation, which the paper does not give: BVLC's (Caffe's Xavier filler, "
        "uniform in ±√(3/fan_in); biases 0.2, the classifiers' 0)",
    ),
)
def googlenet(**kwargs: Any) -> GoogLeNet:
    """GoogLeNet as published: Table 1's widths, LRN, true 5x5 branches, two auxiliary heads.

    ``reductions=False`` builds every module in Fig. 2a's naive form, the cost the 1x1
    reductions exist to avoid."""
    return GoogLeNet(paper=True, **kwargs)


@register_model(
    family="GoogLeNet",
    paper=PAPER,
    input_size=(3, 224, 224),
    min_input_size=15,
    deviations=(
        "batch normalisation after every convolution",
        "3x3 convolutions in the branch the paper gives 5x5",
        "no local response normalisation",
        "2x2/2 max pooling before 5a in place of 3x3/2",
        "20% dropout before the classifier in place of 40%",
        "auxiliary heads pool adaptively to 4x4 in place of 5x5/3 average pooling",
    ),
    torchvision="googlenet",
    torchvision_equal=True,
    # its weights were trained on inputs scaled to [-1, 1]: torchvision re-normalises with them
    weights_args={"transform_input": True},
)
def googlenet_tv(**kwargs: Any) -> GoogLeNet:
    """torchvision's GoogLeNet: batch norm, 3x3 in place of 5x5, no LRN."""
    return GoogLeNet(paper=False, **kwargs)
