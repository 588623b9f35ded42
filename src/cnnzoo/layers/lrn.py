"""Local response normalisation with the constants as the papers print them."""

from __future__ import annotations

from torch import nn

from cnnzoo.errors import ConfigError


class LocalResponseNorm(nn.LocalResponseNorm):
    """LRN as AlexNet §3.3 defines it: ``b = a / (k + α·Σ a²)^β`` over ``n`` adjacent maps.

    The paper sums the squares; PyTorch's ``nn.LocalResponseNorm`` (like Caffe) averages them,
    dividing α by ``n``. Passing ``α·n`` on keeps the papers' constants meaning what they say:
    AlexNet's ``k=2, n=5, α=1e-4, β=0.75``.
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
