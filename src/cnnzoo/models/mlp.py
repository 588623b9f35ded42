"""The fully-connected baseline convolutions are measured against (LeCun et al. 1998, §III.C).

The paper's comparison of classifiers on MNIST (Fig. 9) includes multi-layer networks on the
28x28 pixels flattened into one vector: "2-layer NN, 300 hidden units" at 4.7% test error,
"3-layer NN, 300+100 hidden units" at 3.05%, against LeNet-5's 0.95%. The notes make the same
case: flattening loses where each pixel is, and every pixel gets its own weights, so an MLP
needs many more parameters and does not carry a pattern learned in one place to another.

784 → fc1 300 → fc2 100 → fc 10: 266,610 parameters, 4.3 times LeNet-5's.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ConfigError
from cnnzoo.layers import Activation, activation
from cnnzoo.models._base import LinearHeadNet, linear_or_identity
from cnnzoo.models._registry import register_model
from cnnzoo.models.lenet import PAPER

__all__ = ["MLP", "mlp"]

IMAGE_SIZE = 28  # MNIST's digits as stored, the paper's input to its fully-connected nets


class MLP(LinearHeadNet):
    """The image flattened, then fully-connected hidden layers with an activation, then the
    classifier. ``hidden=()`` is the paper's linear classifier (12.0% on MNIST, Fig. 9)."""

    def __init__(
        self,
        hidden: Sequence[int] = (300, 100),
        act: Activation = "relu",
        num_classes: int = 10,
        in_chans: int = 1,
    ) -> None:
        super().__init__(num_classes, in_chans)
        if any(width < 1 for width in hidden):
            raise ConfigError(f"hidden {list(hidden)}: every layer needs 1 or more units")
        layers: list[tuple[str, nn.Module]] = []
        width = in_chans * IMAGE_SIZE * IMAGE_SIZE
        for i, out in enumerate(hidden, start=1):
            layers += [(f"fc{i}", nn.Linear(width, out)), (f"act{i}", activation(act))]
            width = out
        self.hidden = nn.Sequential(OrderedDict(layers))
        self.num_features = width
        self.fc = linear_or_identity(width, num_classes)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return x  # no feature maps: the pixels themselves are what the layers read

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.hidden(torch.flatten(x, 1))
        return x if pre_logits else self.fc(x)


@register_model(
    family="MLP",
    paper=PAPER,
    input_size=(1, IMAGE_SIZE, IMAGE_SIZE),
    min_input_size=IMAGE_SIZE,
    fixed_input_size=True,
    num_classes=10,
    deviations=(
        "ReLU units and a cross-entropy loss, as the zoo trains every network; the paper does "
        "not print its fully-connected nets' units, and trained them on mean squared error",
    ),
)
def mlp(**kwargs: Any) -> MLP:
    """The paper's 3-layer net of 300 and 100 hidden units on flattened pixels; ``hidden``
    gives other widths (``hidden=[78]`` has LeNet-5's budget)."""
    return MLP(**kwargs)
