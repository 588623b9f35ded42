"""The zoo: each family in its own module, registered by name on import, in historical order."""

from cnnzoo.models import (
    alexnet,
    convnet,
    densenet,
    googlenet,
    inception_v4,
    lenet,
    nin,
    preact_resnet,
    resnet,
    vgg,
    zfnet,
)
from cnnzoo.models._base import FeatureInfo, FeatureNet, InputSizeError, ZooModel
from cnnzoo.models._registry import (
    ModelInfo,
    Paper,
    Reported,
    UnknownModelError,
    list_models,
    model_info,
)

__all__ = [
    "FeatureInfo",
    "FeatureNet",
    "InputSizeError",
    "ModelInfo",
    "Paper",
    "Reported",
    "UnknownModelError",
    "ZooModel",
    "alexnet",
    "convnet",
    "densenet",
    "googlenet",
    "inception_v4",
    "lenet",
    "list_models",
    "model_info",
    "nin",
    "preact_resnet",
    "resnet",
    "vgg",
    "zfnet",
]
