"""Local response normalisation with the constants as the papers print them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.errors import ConfigError


class LocalResponseNorm(nn.LocalResponseNorm):
    """LRN as AlexNet §3.3 defines it: ``b = a / (k + α·Σ a²)^β`` over ``n`` adjacent maps.

    The paper sums the squares; PyTorch's ``nn.LocalResponseNorm`` (like Caffe) averages them,
    dividing α by ``n``. Passing ``α·n`` on keeps the papers' constants meaning what they say:
    AlexNet's ``k=2, n=5, α=1e-4, β=0.75``.

    The window's sum is ``n`` shifted slices added, not PyTorch's 3-D average pooling: the same
    figures (to rounding), several times faster on a CPU, where LRN otherwise costs more than
    the convolutions around it.
    """

    def __init__(
        self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
    ) -> None:
        if size < 1:
            raise ConfigError(f"LRN window size must be a positive number of maps, got {size}")
        super().__init__(size=size, alpha=alpha * size, beta=beta, k=k)
        self.paper_alpha = alpha

    def extra_repr(self) -> str:
        return f"n={self.size}, alpha={self.paper_alpha} (summed), beta={self.beta}, k={self.k}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3:  # no maps to sum across: PyTorch's own error message
            return super().forward(x)
        maps = x.size(1)
        before, after = self.size // 2, (self.size - 1) // 2
        squares = F.pad(x.square(), (0, 0) * (x.dim() - 2) + (before, after))
        total = squares.narrow(1, 0, maps)
        for shift in range(1, self.size):
            total = total + squares.narrow(1, shift, maps)
        return x / (self.k + self.paper_alpha * total).pow(self.beta)
