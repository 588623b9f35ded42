"""Activation functions: the ones the experiments swap by name, and the ones papers define
with their own constants."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from cnnzoo.errors import ConfigError

Activation = Literal["relu", "tanh", "sigmoid"]
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def activation(name: str, inplace: bool = False) -> nn.Module:
    """A new activation module by name; ``inplace`` applies to ReLU, the only one that has it."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"act {name!r}: expected one of {', '.join(ACTIVATIONS)}")
    return nn.ReLU(inplace=inplace) if name == "relu" else ACTIVATIONS[name]()


class ScaledTanh(nn.Module):
    """LeNet-5's squashing function ``f(a) = A·tanh(S·a)``, A = 1.7159, S = 2/3
    (LeCun et al. 1998, Appendix A).

    The constants make ``f(±1) = ±1`` and put the maximum of the second derivative at ±1,
    so targets of ±1 sit where the gain is highest.
    """

    def __init__(self, amplitude: float = 1.7159, slope: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.amplitude = amplitude
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * x)

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4f}"
