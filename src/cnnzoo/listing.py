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
    macs: int  # multiply-accumulates per image at ``input_size``, as cnnzoo counts them
    depth: int  # weight layers on the longest path
    receptive_field: int | None  # of the last feature map, in input pixels


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
    "lenet5": Listed("LeNet", 1998, (1, 32, 32), "60,000", 0, 60000, 0, (), 325680, 4, 16),
    "lenet5_modern": Listed("LeNet", 1998, (1, 32, 32), "", 5, 61706, 0, (), 416520, 5, 16),
    "mlp": Listed("MLP", 1998, (1, 28, 28), "", 1, 266610, 0, (), 266200, 3, None),
    "alexnet": Listed("AlexNet", 2012, (3, 227, 227), "60M", 0, 60965224, 0, (), 724406816, 8, 195),
    "alexnet_owt": Listed(
        "AlexNet", 2014, (3, 224, 224), "", 5, 61100840, 0, (), 714188480, 8, 195
    ),
    "convnet4": Listed("ConvNet-4", 2012, (3, 32, 32), "", 2, 89578, 0, (), 12298240, 4, 43),
    "nin": Listed("NiN", 2013, (3, 32, 32), "", 0, 966986, 0, (), 222486528, 9, 27),
    "zfnet": Listed("ZFNet", 2013, (3, 224, 224), "", 0, 62357608, 0, (), 1168032896, 8, 171),
    "googlenet": Listed(
        "GoogLeNet",
        2014,
        (3, 224, 224),
        "",
        0,
        6998552,
        6379728,
        ("aux1", "aux2"),
        1582671872,
        22,
        715,
    ),
    "googlenet_tv": Listed(
        "GoogLeNet",
        2014,
        (3, 224, 224),
        "",
        6,
        6624904,
        6379984,
        ("aux1", "aux2"),
        1498376192,
        22,
        379,
    ),
    "vgg11": Listed("VGG", 2014, (3, 224, 224), "133M", 0, 132863336, 0, (), 7609090048, 11, 150),
    "vgg11_lrn": Listed(
        "VGG", 2014, (3, 224, 224), "133M", 0, 132863336, 0, (), 7609090048, 11, 150
    ),
    "vgg13": Listed("VGG", 2014, (3, 224, 224), "133M", 0, 133047848, 0, (), 11308466176, 13, 156),
    "vgg16_c": Listed(
        "VGG", 2014, (3, 224, 224), "134M", 0, 133638952, 0, (), 11770888192, 16, 156
    ),
    "vgg16": Listed("VGG", 2014, (3, 224, 224), "138M", 0, 138357544, 0, (), 15470264320, 16, 212),
    "vgg19": Listed("VGG", 2014, (3, 224, 224), "144M", 0, 143667240, 0, (), 19632062464, 19, 268),
    "vgg11_bn": Listed(
        "VGG", 2014, (3, 224, 224), "133M", 1, 132868840, 0, (), 7609090048, 11, 150
    ),
    "vgg13_bn": Listed(
        "VGG", 2014, (3, 224, 224), "133M", 1, 133053736, 0, (), 11308466176, 13, 156
    ),
    "vgg16_c_bn": Listed(
        "VGG", 2014, (3, 224, 224), "134M", 1, 133647400, 0, (), 11770888192, 16, 156
    ),
    "vgg16_bn": Listed(
        "VGG", 2014, (3, 224, 224), "138M", 1, 138365992, 0, (), 15470264320, 16, 212
    ),
    "vgg19_bn": Listed(
        "VGG", 2014, (3, 224, 224), "144M", 1, 143678248, 0, (), 19632062464, 19, 268
    ),
    "resnet18": Listed(
        "ResNet", 2015, (3, 224, 224), "11.7M", 0, 11689512, 0, (), 1814073344, 18, 435
    ),
    "resnet34": Listed(
        "ResNet", 2015, (3, 224, 224), "21.8M", 0, 21797672, 0, (), 3663761408, 34, 899
    ),
    "resnet50": Listed(
        "ResNet", 2015, (3, 224, 224), "25.6M", 0, 25557032, 0, (), 3857973248, 50, 483
    ),
    "resnet101": Listed(
        "ResNet", 2015, (3, 224, 224), "44.5M", 0, 44549160, 0, (), 7570194432, 101, 1027
    ),
    "resnet152": Listed(
        "ResNet", 2015, (3, 224, 224), "60.2M", 0, 60192808, 0, (), 11282415616, 152, 1507
    ),
    "resnet50_tv": Listed(
        "ResNet", 2015, (3, 224, 224), "25.6M", 1, 25557032, 0, (), 4089184256, 50, 427
    ),
    "resnet101_tv": Listed(
        "ResNet", 2015, (3, 224, 224), "44.5M", 1, 44549160, 0, (), 7801405440, 101, 971
    ),
    "resnet152_tv": Listed(
        "ResNet", 2015, (3, 224, 224), "60.2M", 1, 60192808, 0, (), 11513626624, 152, 1451
    ),
    "plain18": Listed("ResNet", 2015, (3, 224, 224), "", 0, 11515688, 0, (), 1794805760, 18, 435),
    "plain34": Listed("ResNet", 2015, (3, 224, 224), "", 0, 21623848, 0, (), 3644493824, 34, 899),
    "resnet20": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "0.27M", 0, 269722, 0, (), 40551040, 20, 81
    ),
    "resnet32": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "0.46M", 0, 464154, 0, (), 68862592, 32, 137
    ),
    "resnet44": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "0.66M", 0, 658586, 0, (), 97174144, 44, 193
    ),
    "resnet56": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "0.85M", 0, 853018, 0, (), 125485696, 56, 249
    ),
    "resnet110": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "1.7M", 0, 1727962, 0, (), 252887680, 110, 501
    ),
    "resnet1202": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "19.4M", 0, 19421274, 0, (), 2829238912, 1202, 5597
    ),
    "plain20": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 269722, 0, (), 40551040, 20, 81),
    "plain32": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 464154, 0, (), 68862592, 32, 137),
    "plain44": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 658586, 0, (), 97174144, 44, 193),
    "plain56": Listed("ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 853018, 0, (), 125485696, 56, 249),
    "plain110": Listed(
        "ResNet-CIFAR", 2015, (3, 32, 32), "", 0, 1727962, 0, (), 252887680, 110, 501
    ),
    "inception_v4": Listed(
        "Inception", 2016, (3, 299, 299), "42.7M", 0, 42679816, 0, (), 12253974624, 76, 2007
    ),
    "preact_resnet164": Listed(
        "PreAct-ResNet", 2016, (3, 32, 32), "1.7M", 0, 1703258, 0, (), 244500992, 164, 255
    ),
    "preact_resnet1001": Listed(
        "PreAct-ResNet", 2016, (3, 32, 32), "10.2M", 0, 10327706, 0, (), 1487849984, 1001, 1557
    ),
    "densenet121": Listed(
        "DenseNet", 2017, (3, 224, 224), "8.0M", 0, 7978856, 0, (), 2834161664, 121, 2071
    ),
    "densenet169": Listed(
        "DenseNet", 2017, (3, 224, 224), "14.1M", 0, 14149480, 0, (), 3359843328, 169, 3351
    ),
    "densenet201": Listed(
        "DenseNet", 2017, (3, 224, 224), "20.0M", 0, 20013928, 0, (), 4291365888, 201, 3863
    ),
    "densenet264": Listed(
        "DenseNet", 2017, (3, 224, 224), "", 0, 33337704, 0, (), 5751653376, 265, 5399
    ),
    "densenet40_k12": Listed(
        "DenseNet-CIFAR", 2017, (3, 32, 32), "1.0M", 0, 1019722, 0, (), 264812928, 40, 174
    ),
    "densenet_bc100_k12": Listed(
        "DenseNet-CIFAR", 2017, (3, 32, 32), "0.8M", 0, 769162, 0, (), 287929692, 100, 230
    ),
    "speedrun": Listed("Speedrun", 2024, (1, 28, 28), "", 6, 294586, 0, (), 4022912, 8, 62),
}
