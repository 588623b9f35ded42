"""The four-layer CIFAR-10 network of AlexNet's Fig. 1, with the knobs the papers' claims turn.

Krizhevsky et al. (2012, Fig. 1) show "a four-layer convolutional neural network with ReLUs"
reaching 25% training error on CIFAR-10 six times faster than the same network with tanh units.
The paper does not print that network. Its authors' cuda-convnet shipped one of this shape,
``layers-18pct.cfg``: three 5x5 convolutions of 32, 32 and 64 filters, each followed by 3x3/2
pooling (max, then average, average), within-map response normalisation (3x3 windows) after
the first two poolings, then one fully-connected layer of 10. Ours keeps its convolutions and
classifier and departs as the registry entry lists (max pooling throughout, no within-map
normalisation). (``layers-80sec.cfg``, sometimes cited for it, has fc64 before fc10.) The
experiments change one thing at a time: the activation (§3.1), overlapping pooling (§3.4),
AlexNet's across-map LRN or batch normalisation (§3.3), dropout (§4.2) and, after VGG §2.3,
each 5x5 convolution as two stacked 3x3 ones.

32x32x3 → conv1 32x32x32 → pool 16x16 → conv2 16x16x32 → pool 8x8 → conv3 8x8x64 → pool 4x4
→ fc 10 (pooling rounds up, as cuda-convnet's does, so 3x3/2 and 2x2/2 give the same maps).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.layers import Activation, LocalResponseNorm, activation
from cnnzoo.models._base import ConvFCNet, linear_or_identity, on_meta, pooling_stages
from cnnzoo.models._registry import register_model
from cnnzoo.models.alexnet import PAPER

__all__ = ["ConvNet", "convnet4"]

Norm = Literal["none", "lrn", "bn"]
Init = Literal["pytorch", "glorot"]
INITS = ("pytorch", "glorot")

NORMS = ("none", "lrn", "bn")


class ConvNet(ConvFCNet):
    """Conv stages (convolution, [BN], activation, [LRN], pooling), then fully-connected layers.

    ``pool`` is the max-pooling window with stride 2: 3 overlaps (AlexNet §3.4), 2 does not.
    LRN follows the first two stages' activations, as in AlexNet (its constants; ``lrn_alpha``
    another α, for inputs on another scale than the paper's 0-255 pixels); batch norm follows
    every convolution. ``stack`` replaces each ``kernel``x``kernel`` convolution by stacked 3x3 ones
    with the same receptive field (VGG §2.3: two for 5x5, three for 7x7). Dropout acts on the
    input of every fully-connected layer after the first (AlexNet's fc6 and fc7 outputs), or on
    the classifier's input when there is no hidden layer. ``init="glorot"`` draws the weights
    as Glorot & Bengio (2010) do, with which VGG §3.1 found its deeper nets train without
    pre-training; the default is PyTorch's.
    """

    def __init__(
        self,
        widths: Sequence[int] = (32, 32, 64),
        kernel: int = 5,
        act: Activation = "relu",
        pool: int = 3,
        norm: Norm = "none",
        lrn_alpha: float = 1e-4,
        stack: bool = False,
        hidden: Sequence[int] = (),
        dropout: float = 0.0,
        init: Init = "pytorch",
        num_classes: int = 10,
        in_chans: int = 3,
    ) -> None:
        activation(act)  # an unknown name is refused before anything is built
        if init not in INITS:
            raise ConfigError(f"init {init!r}: expected one of {', '.join(INITS)}")
        if norm not in NORMS:
            raise ConfigError(f"norm {norm!r}: expected one of {', '.join(NORMS)}")
        if pool not in (2, 3):
            raise ConfigError(f"pool {pool}: the window of 2-strided max pooling, 2 or 3")
        if kernel % 2 == 0 or kernel < 3:
            raise ConfigError(f"kernel {kernel}: an odd size of at least 3 keeps the map size")
        if lrn_alpha <= 0:
            raise ConfigError(f"lrn_alpha {lrn_alpha}: LRN's α, expected a positive number")
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout {dropout}: a probability, expected 0 <= p < 1")
        layers: list[tuple[str, nn.Module]] = []
        channels = in_chans
        for i, width in enumerate(widths, start=1):
            # (kernel - 1) / 2 stacked 3x3 layers see as far as one kernel x kernel layer
            convs = [(3, f"{i}{chr(97 + j)}") for j in range((kernel - 1) // 2)] if stack else []
            for size, tag in convs or [(kernel, str(i))]:
                layers.append((f"conv{tag}", nn.Conv2d(channels, width, size, padding=size // 2)))
                if norm == "bn":
                    layers.append((f"bn{tag}", nn.BatchNorm2d(width)))
                layers.append((f"act{tag}", activation(act)))
                channels = width
            if norm == "lrn" and i <= 2:
                lrn = LocalResponseNorm(size=5, alpha=lrn_alpha, beta=0.75, k=2)
                layers.append((f"norm{i}", lrn))
            layers.append((f"pool{i}", nn.MaxPool2d(pool, stride=2, ceil_mode=True)))
        features = nn.Sequential(OrderedDict(layers))
        head: list[tuple[str, nn.Module]] = []
        width = channels * 4 * 4
        for i, out in enumerate([*hidden, num_classes], start=1):
            if dropout and (i > 1 or not hidden):
                head.append((f"drop{i}", nn.Dropout(dropout)))
            if i <= len(hidden):
                head += [(f"fc{i}", nn.Linear(width, out)), (f"act_fc{i}", activation(act))]
                width = out
            else:
                head.append((f"fc{i}", linear_or_identity(width, out)))
        self.num_features = width
        super().__init__(
            features,
            nn.Sequential(OrderedDict(head)),
            4,
            num_classes,
            in_chans,
            pooling_stages(features, in_chans),
        )
        if init == "glorot" and not on_meta(self):
            for m in self.modules():
                if isinstance(m, nn.Conv2d | nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def reset_classifier(self, num_classes: int) -> None:
        self.num_classes = num_classes
        device = next(self.parameters()).device
        self.classifier[-1] = linear_or_identity(self.num_features, num_classes).to(device)


@register_model(
    family="ConvNet-4",
    paper=PAPER,
    input_size=(3, 32, 32),
    min_input_size=8,  # three 3x3/2 poolings need a map of 2 before the last
    num_classes=10,
    deviations=(
        "max pooling after every stage, where cuda-convnet's layers-18pct (the 3 conv + fc10 net "
        "of this shape; the paper does not print Fig. 1's network) averages in pool2 and pool3",
        "no within-map response normalisation after pool1 and pool2 (layers-18pct's rnorm1/2); "
        "norm='lrn' adds AlexNet's across-map LRN after the first two stages instead",
    ),
    assumptions=(
        "Fig. 1's network is layers-18pct's shape: the paper says only 'a four-layer "
        "convolutional neural network'",
    ),
)
def convnet4(**kwargs: Any) -> ConvNet:
    """Fig. 1's four-layer CIFAR-10 network; ``act``, ``pool``, ``norm``, ``stack``, ``hidden``
    and ``dropout`` select the variants the experiments compare."""
    return ConvNet(**kwargs)
