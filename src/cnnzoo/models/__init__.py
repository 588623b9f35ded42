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
    speedrun,
    vgg,
    zfnet,
)
from cnnzoo.models._base import (
    Criterion,
    FeatureInfo,
    FeatureNet,
    InputSizeError,
    TrainingStep,
    ZooModel,
)
from cnnzoo.models._registry import (
    ModelInfo,
    Paper,
    Reported,
    UnknownModelError,
    list_models,
    model_info,
)

__all__ = [
    "Criterion",
    "FeatureInfo",
    "FeatureNet",
    "InputSizeError",
    "ModelInfo",
    "Paper",
    "Reported",
    "TrainingStep",
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
    "speedrun",
    "vgg",
    "zfnet",
]
