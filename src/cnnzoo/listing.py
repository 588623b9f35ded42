"""The built-in zoo as a table: what ``cnnzoo list`` shows, without importing PyTorch.

The table is written from the registry and the builders by ``make listing``;
``tests/models/test_zoo.py`` fails when a model, its paper's figures or its parameter count no
longer match it.
"""

from __future__ import annotations

import fnmatch
from typing import NamedTuple

__all__ = ["LISTING", "Listed", "matching"]


class Listed(NamedTuple):
    family: str
    year: int
    input_size: tuple[int, int, int]
    paper_params: str  # as the paper prints it; "" when it reports none
    deviations: int  # 0: a faithful build
    params: int  # of the network inference runs, at the paper's classes and channels
    training_params: int  # in modules only training runs (GoogLeNet's auxiliary heads)
    training_only: tuple[str, ...]  # those modules' names


def matching(pattern: str = "*", family: str | None = None) -> list[str]:
    """The built-in models matching a shell wildcard (and a family), case-insensitive, in the
    registry's order: ``list_models``'s answer for the zoo as it ships."""
    return [
        name
        for name, row in LISTING.items()
        if fnmatch.fnmatch(name, pattern.lower())
        and (family is None or row.family.lower() == family.lower())
    ]


# In the registry's order: historical, by the year each family first appeared.
LISTING: dict[str, Listed] = {
    "lenet5": Listed("LeNet", 1998, (1, 32, 32), "60,000", 0, 60000, 0, ()),
    "lenet5_modern": Listed("LeNet", 1998, (1, 32, 32), "", 5, 61706, 0, ()),
    "alexnet": Listed("AlexNet", 2012, (3, 227, 227), "60M", 0, 60965224, 0, ()),
    "alexnet_owt": Listed("AlexNet", 2014, (3, 224, 224), "", 5, 61100840, 0, ()),
    "convnet4": Listed("ConvNet-4", 2012, (3, 32, 32), "", 2, 89578, 0, ()),
    "nin": Listed("NiN", 2013, (3, 32, 32), "", 0, 966986, 0, ()),
    "zfnet": Listed("ZFNet", 2013, (3, 224, 224), "", 0, 62357608, 0, ()),
    "googlenet": Listed(
        "GoogLeNet", 2014, (3, 224, 224), "", 0, 6998552, 6379728, ("aux1", "aux2")
    ),
    "googlenet_tv": Listed(
        "GoogLeNet", 2014, (3, 224, 224), "", 6, 6624904, 6379984, ("aux1", "aux2")
    ),
    "vgg11": Listed("VGG", 2014, (3, 224, 224), "133M", 0, 132863336, 0, ()),
    "vgg11_lrn": Listed("VGG", 2014, (3, 224, 224), "133M", 0, 132863336, 0, ()),
    "vgg13": Listed("VGG", 2014, (3, 224, 224), "133M", 0, 133047848, 0, ()),
    "vgg16_c": Listed("VGG", 2014, (3, 224, 224), "134M", 0, 133638952, 0, ()),
    "vgg16": Listed("VGG", 2014, (3, 224, 224), "138M", 0, 138357544, 0, ()),
    "vgg19": Listed("VGG", 2014, (3, 224, 224), "144M", 0, 143667240, 0, ()),
    "vgg11_bn": Listed("VGG", 2014, (3, 224, 224), "133M", 1, 132868840, 0, ()),
    "vgg13_bn": Listed("VGG", 2014, (3, 224, 224), "133M", 1, 133053736, 0, ()),
    "vgg16_c_bn": Listed("VGG", 2014, (3, 224, 224), "134M", 1, 133647400, 0, ()),
    "vgg16_bn": Listed("VGG", 2014, (3, 224, 224), "138M", 1, 138365992, 0, ()),
    "vgg19_bn": Listed("VGG", 2014, (3, 224, 224), "144M", 1, 143678248, 0, ()),
    "resnet18": Listed("ResNet", 2015, (3, 224, 224), "11.7M", 0, 11689512, 0, ()),
    "resnet34": Listed("ResNet", 2015, (3, 224, 224), "21.8M", 0, 21797672, 0, ()),
    "resnet50": Listed("ResNet", 2015, (3, 224, 224), "25.6M", 0, 25557032, 0, ()),
    "resnet101": Listed("ResNet", 2015, (3, 224, 224), "44.5M", 0, 44549160, 0, ()),
    "resnet152": Listed("ResNet", 2015, (3, 224, 224), "60.2M", 0, 60192808, 0, ()),
    "resnet50_tv": Listed("ResNet", 2015, (3, 224, 224), "25.6M", 1, 25557032, 0, ()),
    "resnet101_tv": Listed("ResNet", 2015, (3, 224, 224), "44.5M", 1, 44549160, 0, ()),
    "resnet152_tv": Listed("ResNet", 2015, (3, 224, 224), "60.2M", 1, 60192808, 0, ()),
    "plain18": Listed("ResNet", 2015, (3, 224, 224), "", 0, 11515688, 0, ()),
    "plain34": Listed("ResNet", 2015, (3, 224, 224), "", 0, 21623848, 0, ()),
    "resnet20": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "0.27M", 0, 269722, 0, ()),
    "resnet32": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "0.46M", 0, 464154, 0, ()),
    "resnet44": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "0.66M", 0, 658586, 0, ()),
    "resnet56": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "0.85M", 0, 853018, 0, ()),
    "resnet110": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "1.7M", 0, 1727962, 0, ()),
    "resnet1202": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "19.4M", 0, 19421274, 0, ()),
    "plain20": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 269722, 0, ()),
    "plain32": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 464154, 0, ()),
    "plain44": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 658586, 0, ()),
    "plain56": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 853018, 0, ()),
    "inception_v4": Listed("Inception", 2016, (3, 299, 299), "42.7M", 0, 42679816, 0, ()),
    "preact_resnet164": Listed("PreAct-ResNet", 2016, (3, 32, 32), "1.7M", 0, 1703258, 0, ()),
    "preact_resnet1001": Listed("PreAct-ResNet", 2016, (3, 32, 32), "10.2M", 0, 10327706, 0, ()),
    "densenet121": Listed("DenseNet", 2017, (3, 224, 224), "8.0M", 0, 7978856, 0, ()),
    "densenet169": Listed("DenseNet", 2017, (3, 224, 224), "14.1M", 0, 14149480, 0, ()),
    "densenet201": Listed("DenseNet", 2017, (3, 224, 224), "20.0M", 0, 20013928, 0, ()),
    "densenet264": Listed("DenseNet", 2017, (3, 224, 224), "", 0, 33337704, 0, ()),
    "densenet40_k12": Listed("DenseNet-CIFAR", 2017, (3, 32, 32), "1.0M", 0, 1019722, 0, ()),
    "densenet_bc100_k12": Listed("DenseNet-CIFAR", 2017, (3, 32, 32), "0.8M", 0, 769162, 0, ()),
}
