"""cnnzoo: the landmark convolutional networks, faithful to their papers.

>>> import cnnzoo
>>> model = cnnzoo.create_model("resnet20", num_classes=10, in_chans=1)
>>> cnnzoo.list_models("vgg1[19]*")
['vgg11', 'vgg11_lrn', 'vgg19', 'vgg11_bn', 'vgg19_bn']
>>> cnnzoo.draw("resnet34").save("resnet34.svg")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnnzoo._lazy import lazy_attributes
from cnnzoo.errors import CnnzooError

if TYPE_CHECKING:
    from cnnzoo.diagram import Diagram, draw, draw_side_by_side
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
    "CnnzooError",
    "Diagram",
    "FeatureInfo",
    "FeatureNet",
    "InputSizeError",
    "ModelInfo",
    "UnknownModelError",
    "ZooModel",
    "__version__",
    "create_model",
    "draw",
    "draw_side_by_side",
    "list_models",
    "model_info",
]

# Loaded on first use, so `import cnnzoo` (and the command line's start) is quick and a Ctrl-C
# while PyTorch loads is the command's to report.
_HERE = {"CnnzooError", "__version__", "create_model"}
_HOMES = {name: "cnnzoo.models" for name in __all__ if name not in _HERE}
_HOMES["create_model"] = "cnnzoo.factory"
_HOMES.update(dict.fromkeys(("Diagram", "draw", "draw_side_by_side"), "cnnzoo.diagram"))


__getattr__ = lazy_attributes(__name__, _HOMES)
