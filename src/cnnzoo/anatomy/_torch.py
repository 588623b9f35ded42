"""Every private or undocumented PyTorch interface the anatomy engine leans on, in one place.

The meta-device analysis reads ATen operations as the dispatcher sees them, so it depends on
details PyTorch may move in any release. Each one is named here once; ``tests/anatomy/
test_torch_internals.py`` checks all of them against the installed torch and says which moved.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakTensorKeyDictionary

__all__ = [
    "ATEN_ARGUMENTS",
    "NORM_MODULES",
    "POOL_MODULES",
    "DispatchMode",
    "WeakTensorKeyDictionary",
    "is_view",
    "op_name",
    "storage_key",
]

_MAX_POOL = ("self", "kernel_size", "stride", "padding", "dilation", "ceil_mode")
# The leading positional arguments of the ATen ops (``name`` or ``name.overload``, default
# ``.default``) whose arguments are read by position.
ATEN_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "convolution": (
        "input",
        "weight",
        "bias",
        "stride",
        "padding",
        "dilation",
        "transposed",
        "output_padding",
        "groups",
    ),
    "max_pool2d_with_indices": _MAX_POOL,
    "max_pool2d": _MAX_POOL,
    "avg_pool2d": ("self", "kernel_size", "stride", "padding", "ceil_mode"),
    "addmm": ("self", "mat1", "mat2"),
    "constant_pad_nd": ("self", "pad"),
    "mean.dim": ("self", "dim", "keepdim"),
}

# Module base classes torch keeps private; isinstance against them covers every subclass.
NORM_MODULES: tuple[type[nn.Module], ...] = (nn.modules.batchnorm._NormBase,)
POOL_MODULES: tuple[type[nn.Module], ...] = (
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
)


class DispatchMode(TorchDispatchMode):
    """A dispatch mode that sees every ATen operation of a forward pass."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Never run under torch.compile: skip the wrapper that imports Dynamo on first use
        # (seconds) and adds a frame to every operation.
        return False


def op_name(func: Any) -> str:
    """The ATen op's name without its overload: ``aten.convolution.default`` -> ``convolution``."""
    return str(func.overloadpacket.__name__)


def is_view(func: Any) -> bool:
    """The op returns a view of its input: no new memory, no cost."""
    return bool(func.is_view)


def storage_key(t: torch.Tensor) -> int:
    """One number per storage, the same for a tensor and every view or in-place result of it."""
    return int(t.untyped_storage()._cdata)
