"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) and torchvision's single-tower variant.

227x227x3 → conv1 55x55x96 → pool 27x27x96 → conv2 27x27x256 → pool 13x13x256 → conv3 13x13x384
→ conv4 13x13x384 → conv5 13x13x256 → pool 6x6x256 → fc6 4096 → fc7 4096 → fc8 1000.
The paper's Fig. 2 says 224, but ``(224 - 11)/4 + 1`` is not whole; 227 makes the arithmetic work.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from cnnzoo.layers import LocalResponseNorm
from cnnzoo.models._base import ConvFCNet, fc_head, on_meta, pooling_stages
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = ["ConvLayer", "alexnet", "alexnet_owt", "make_features"]

PAPER = Paper(
    title="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="A. Krizhevsky, I. Sutskever, G. E. Hinton",
    year=2012,
    url="https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html",
)
OWT_PAPER = Paper(
    title="One weird trick for parallelizing convolutional neural networks",
    authors="A. Krizhevsky",
    year=2014,
    url="https://arxiv.org/abs/1404.5997",
)


@dataclass(frozen=True)
class ConvLayer:
    """One row of a conv table: a convolution and ReLU, then ``after`` in order."""

    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1  # 2 where a layer sees only the maps on its own GPU
    after: tuple[str, ...] = ()  # "lrn" and/or "pool", in the order they follow the ReLU


# §3.5 and Fig. 2. Layers 2, 4 and 5 connect only to the maps on their own GPU (groups=2);
# layer 3 connects across both. Response normalisation follows the ReLU of layers 1 and 2,
# and overlapping 3x3/2 max pooling (§3.4) follows the normalisation and layer 5.
PAPER_LAYERS = (
    ConvLayer(96, 11, stride=4, after=("lrn", "pool")),
    ConvLayer(256, 5, padding=2, groups=2, after=("lrn", "pool")),
    ConvLayer(384, 3, padding=1),
    ConvLayer(384, 3, padding=1, groups=2),
    ConvLayer(256, 3, padding=1, groups=2, after=("pool",)),
)

# torchvision's AlexNet: the one-tower widths of Krizhevsky (2014), no LRN.
OWT_LAYERS = (
    ConvLayer(64, 11, stride=4, padding=2, after=("pool",)),
    ConvLayer(192, 5, padding=2, after=("pool",)),
    ConvLayer(384, 3, padding=1),
    ConvLayer(256, 3, padding=1),
    ConvLayer(256, 3, padding=1, after=("pool",)),
)


def make_features(
    layers: Sequence[ConvLayer], in_chans: int, named: bool, ceil_mode: bool = False
) -> nn.Sequential:
    """Build a conv table; ``named`` gives conv1, relu1, norm1, pool1, ... instead of indices."""
    modules: list[tuple[str, nn.Module]] = []
    channels = in_chans
    for i, layer in enumerate(layers, 1):
        conv = nn.Conv2d(
            channels,
            layer.out_channels,
            layer.kernel,
            layer.stride,
            layer.padding,
            groups=layer.groups,
        )
        modules += [(f"conv{i}", conv), (f"relu{i}", nn.ReLU(inplace=True))]
        for op in layer.after:
            if op == "lrn":
                modules.append((f"norm{i}", LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2)))
            else:
                modules.append((f"pool{i}", nn.MaxPool2d(3, 2, ceil_mode=ceil_mode)))
        channels = layer.out_channels
    if named:
        return nn.Sequential(OrderedDict(modules))
    return nn.Sequential(*(module for _, module in modules))


def init_gaussian(model: nn.Module, std: float, bias_one: Sequence[str] = ()) -> None:
    """Zero-mean Gaussian weights; biases 0, or 1 for the named layers (AlexNet §5: "to
    accelerate the early stages of learning by providing the ReLUs with positive inputs")."""
    if on_meta(model):
        return
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.constant_(module.bias, 1.0 if name.split(".")[-1] in bias_one else 0.0)


def _alexnet(
    layers: Sequence[ConvLayer],
    paper: bool,
    num_classes: int,
    in_chans: int,
    dropout: float,
    hidden: int,
) -> ConvFCNet:
    features = make_features(layers, in_chans, named=paper)
    classifier = fc_head(
        256 * 6 * 6, hidden, num_classes, dropout, named=paper, dropout_first=not paper
    )
    return ConvFCNet(
        features, classifier, 6, num_classes, in_chans, pooling_stages(features, in_chans)
    )


@register_model(
    family="AlexNet",
    paper=PAPER,
    input_size=(3, 227, 227),
    min_input_size=67,
    params=reported("60M", "§1: 'The neural network ... has 60 million parameters'", 1e6),
    top5_error=reported("15.3%", "Table 2: ILSVRC-2012 test, 7 CNNs (one CNN: 18.2% val)"),
)
def alexnet(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """AlexNet as published: two GPU towers as grouped convolutions, LRN, overlapping pooling."""
    model = _alexnet(PAPER_LAYERS, True, num_classes, in_chans, dropout, hidden)
    init_gaussian(model, 0.01, bias_one=("conv2", "conv4", "conv5", "fc6", "fc7"))
    return model


@register_model(
    family="AlexNet",
    paper=OWT_PAPER,
    input_size=(3, 224, 224),
    min_input_size=63,
    deviations=(
        "one tower, 64-192-384-256-256 filters (Krizhevsky 2014) instead of 96-256-384-384-256",
        "no local response normalisation",
        "conv1 padded by 2, for 224x224 input",
        "dropout before fc6 and fc7 rather than after them",
        "PyTorch's default initialisation",
    ),
    torchvision="alexnet",
    torchvision_equal=True,
)
def alexnet_owt(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """torchvision's AlexNet: the single-tower 'one weird trick' widths, no LRN."""
    return _alexnet(OWT_LAYERS, False, num_classes, in_chans, dropout, hidden)
