"""VGG (Simonyan & Zisserman 2014): depth from stacks of 3x3 convolutions.

Two stacked 3x3 layers see a 5x5 window and three see 7x7, with fewer parameters and more
non-linearities than one large kernel (§2.3). Table 2's parameter counts: A 133M, A-LRN 133M,
B 133M, C 134M, D 138M, E 144M.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from cnnzoo.layers import LocalResponseNorm
from cnnzoo.models._base import ConvFCNet, fc_head, on_meta, pooling_stages
from cnnzoo.models._registry import Paper, register_model, reported

__all__ = [
    "CONFIGS",
    "vgg11",
    "vgg11_bn",
    "vgg11_lrn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg16_c",
    "vgg16_c_bn",
    "vgg19",
    "vgg19_bn",
]

PAPER = Paper(
    title="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    authors="K. Simonyan, A. Zisserman",
    year=2014,
    url="https://arxiv.org/abs/1409.1556",
)

# Table 1. An int is a 3x3 convolution (stride 1, padding 1) of that width, (1, w) a 1x1
# convolution of width w (config C), "M" 2x2/2 max pooling, "LRN" local response normalisation.
Layer = int | str | tuple[int, int]
CONFIGS: dict[str, list[Layer]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (1, 256), "M",
          512, 512, (1, 512), "M", 512, 512, (1, 512), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
          512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip

BN_DEVIATION = "batch normalisation after every convolution (Ioffe & Szegedy 2015), as torchvision"


def make_layers(config: list[Layer], in_chans: int, batch_norm: bool) -> nn.Sequential:
    """torchvision's numbering: conv, [bn], relu per convolution; pool and LRN as listed."""
    layers: list[nn.Module] = []
    channels = in_chans
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif item == "LRN":
            # A-LRN (§4.1): "the normalisation ... parameters are those of Krizhevsky et al."
            layers.append(LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2))
        else:
            kernel, width = item if isinstance(item, tuple) else (3, int(item))
            layers.append(nn.Conv2d(channels, width, kernel, padding=kernel // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
            channels = width
    return nn.Sequential(*layers)


def _init_weights(model: nn.Module, std: float | None) -> None:
    """§3.1: net A from a zero-mean normal of "10⁻² variance", read as σ = 0.01 (as He et al.
    2015 and torchvision read it; σ = 0.1 as written). The deeper nets were initialised from A
    in the paper, and the authors add that Glorot & Bengio's initialisation works without that
    pre-training: they get it here."""
    if on_meta(model):
        return
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            if std is None:
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def _vgg(
    config: str, batch_norm: bool, num_classes: int, in_chans: int, dropout: float, hidden: int
) -> ConvFCNet:
    features = make_layers(CONFIGS[config], in_chans, batch_norm)
    classifier = fc_head(512 * 7 * 7, hidden, num_classes, dropout, named=False)
    model = ConvFCNet(
        features, classifier, 7, num_classes, in_chans, pooling_stages(features, in_chans)
    )
    _init_weights(model, 0.01 if config.startswith("A") else None)
    return model


# §3.1's initialisation, as each net gets it: net A from random weights, B-E from net A.
INIT_ASSUMPTIONS = {
    True: "§3.1's 'zero mean and 10^-2 variance' for net A read as σ = 0.01, as He et al. "
    "(2015) and torchvision read it (as written, σ = 0.1)",
    False: "Glorot & Bengio's initialisation, which §3.1 says works without the paper's "
    "pre-training from net A",
}


def _entry(
    params: str,
    top5: str | None,
    batch_norm: bool = False,
    torchvision: str | None = None,
    net_a: bool = False,
) -> dict[str, Any]:
    """The registry metadata VGG variants share; the figures are the paper's for the net."""
    source = "Table 2" + (" (the net without BN; BN adds <0.01%)" if batch_norm else "")
    return {
        "family": "VGG",
        "paper": PAPER,
        "input_size": (3, 224, 224),
        "min_input_size": 32,
        "params": reported(params, source),
        "top5_error": reported(top5, "Table 3: val, single scale, S=256") if top5 else None,
        "deviations": (BN_DEVIATION,) if batch_norm else (),
        "assumptions": (INIT_ASSUMPTIONS[net_a],),
        "torchvision": torchvision,
        "torchvision_equal": torchvision is not None,
    }


@register_model(**_entry("133M", "10.4%", torchvision="vgg11", net_a=True))
def vgg11(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-11, configuration A: 8 conv + 3 FC layers."""
    return _vgg("A", False, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("133M", "10.5%", net_a=True))
def vgg11_lrn(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-11 with LRN after conv1 (A-LRN), which the paper found does not help (Table 3)."""
    return _vgg("A-LRN", False, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("133M", "9.9%", torchvision="vgg13"))
def vgg13(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-13, configuration B: 10 conv + 3 FC layers."""
    return _vgg("B", False, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("134M", "9.4%"))
def vgg16_c(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-16, configuration C: stages 3-5 end in a 1x1 convolution."""
    return _vgg("C", False, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("138M", "8.8%", torchvision="vgg16"))
def vgg16(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-16, configuration D: 13 conv + 3 FC layers."""
    return _vgg("D", False, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("144M", "9.0%", torchvision="vgg19"))
def vgg19(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-19, configuration E: 16 conv + 3 FC layers."""
    return _vgg("E", False, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("133M", None, batch_norm=True, torchvision="vgg11_bn", net_a=True))
def vgg11_bn(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-11 (A) with batch norm after every convolution."""
    return _vgg("A", True, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("133M", None, batch_norm=True, torchvision="vgg13_bn"))
def vgg13_bn(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-13 (B) with batch norm after every convolution."""
    return _vgg("B", True, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("134M", None, batch_norm=True))
def vgg16_c_bn(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-16 (C, with 1x1 convolutions) with batch norm after every convolution."""
    return _vgg("C", True, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("138M", None, batch_norm=True, torchvision="vgg16_bn"))
def vgg16_bn(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-16 (D) with batch norm after every convolution."""
    return _vgg("D", True, num_classes, in_chans, dropout, hidden)


@register_model(**_entry("144M", None, batch_norm=True, torchvision="vgg19_bn"))
def vgg19_bn(
    num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5, hidden: int = 4096
) -> ConvFCNet:
    """VGG-19 (E) with batch norm after every convolution."""
    return _vgg("E", True, num_classes, in_chans, dropout, hidden)
