"""cnnzoo: the landmark convolutional networks, faithful to their papers.

>>> import cnnzoo
>>> model = cnnzoo.create_model("resnet20", num_classes=10, in_chans=1)
>>> cnnzoo.list_models("vgg1[19]*")
['vgg11', 'vgg11_lrn', 'vgg19', 'vgg11_bn', 'vgg19_bn']
"""

from cnnzoo.factory import create_model
from cnnzoo.models import (
    FeatureInfo,
    FeatureNet,
    InputSizeError,
    ModelInfo,
    UnknownModelError,
    ZooModel,
    list_models,
    model_info,
)

__version__ = "0.1.0"

__all__ = [
    "FeatureInfo",
    "FeatureNet",
    "InputSizeError",
    "ModelInfo",
    "UnknownModelError",
    "ZooModel",
    "__version__",
    "create_model",
    "list_models",
    "model_info",
]
