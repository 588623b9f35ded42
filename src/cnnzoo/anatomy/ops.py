"""What the anatomy engine knows about ATen operations: their kinds, windows and cost.

Tables of op names, and small functions that read an op's arguments: the (H, W) windows of a
convolution or spatial pooling, and the MACs and element-wise ops one call costs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnzoo.anatomy._torch import NORM_MODULES, POOL_MODULES
from cnnzoo.anatomy.geometry import WindowAxis

__all__ = [
    "ACTIVATIONS",
    "BATCH_NORMS",
    "FREE",
    "MATMUL",
    "OP_KINDS",
    "SAME_SHAPE",
    "cost",
    "kind",
    "tensors",
    "windows",
]

MATMUL = {"mm", "addmm", "bmm", "baddbmm"}
_WINDOW_POOLS = {
    "max_pool2d_with_indices",
    "max_pool2d",
    "avg_pool2d",
    "max_pool3d_with_indices",
    "avg_pool3d",
    "max_pool1d",
    "avg_pool1d",
}
_REDUCTIONS = {
    "_adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "_adaptive_avg_pool3d",
    "mean",
    "sum",
    "amax",
    "max",
    "logsumexp",
}
FREE = {
    "view",
    "_unsafe_view",
    "reshape",
    "t",
    "transpose",
    "permute",
    "expand",
    "unsqueeze",
    "squeeze",
    "flatten",
    "detach",
    "alias",
    "slice",
    "select",
    "split",
    "split_with_sizes",
    "unbind",
    "as_strided",
    "empty",
    "empty_like",
    "empty_strided",
    "zeros",
    "zeros_like",
    "ones",
    "ones_like",
    "full",
    "full_like",
    "new_zeros",
    "new_empty",
    "new_ones",
    "new_full",
    "clone",
    "contiguous",
    "_to_copy",
    "lift_fresh",
    "lift_fresh_copy",
    "copy_",
    "fill_",
    "zero_",
    "_reshape_alias",
    "scalar_tensor",
    "arange",
}
# Element-wise activations: the output has the input's shape (the fast meta path relies on it).
ACTIVATIONS = frozenset(
    {
        "relu",
        "relu_",
        "tanh",
        "tanh_",
        "sigmoid",
        "sigmoid_",
        "gelu",
        "silu",
        "silu_",
        "hardtanh",
        "hardtanh_",
        "leaky_relu",
        "leaky_relu_",
        "elu",
        "elu_",
    }
)
_ADDS = frozenset({"add", "add_", "sub", "sub_"})
# Ops whose output takes the shape of inputs of one shape.
SAME_SHAPE = ACTIVATIONS | _ADDS | {"mul", "mul_", "div", "div_", "pow", "neg"}
BATCH_NORMS = frozenset(
    {"native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training"}
)
_OP_KINDS = {
    "norm": BATCH_NORMS | {"batch_norm", "native_layer_norm", "native_group_norm"},
    "activation": ACTIVATIONS | {"softmax", "_softmax", "log_softmax", "_log_softmax"},
    "pool": _WINDOW_POOLS | {"_adaptive_avg_pool2d", "adaptive_max_pool2d", "_adaptive_avg_pool3d"},
    "add": _ADDS,
    "concat": {"cat", "stack"},
}
_MODULE_KINDS: dict[str, tuple[type[nn.Module], ...]] = {
    "norm": (*NORM_MODULES, nn.LocalResponseNorm, nn.GroupNorm, nn.LayerNorm),
    "activation": (
        nn.ReLU,
        nn.Tanh,
        nn.Sigmoid,
        nn.GELU,
        nn.SiLU,
        nn.Hardtanh,
        nn.LeakyReLU,
        nn.ELU,
        nn.Softmax,
    ),
    "pool": POOL_MODULES,
}
OP_KINDS = ("norm", "activation", "pool", "add", "concat", "other")


def kind(op: str, module: nn.Module | None) -> str:
    """The kind an op's element-wise work is counted under: its module's, else its own."""
    if module is not None:
        for name, classes in _MODULE_KINDS.items():
            if isinstance(module, classes):
                return name
    for name, ops in _OP_KINDS.items():
        if op in ops:
            return name
    return "other"


def tensors(obj: Any) -> list[torch.Tensor]:
    """The tensors in nested tuples, lists and dicts, in order."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in tensors(item)]
    return []


def _last2(value: Any, default: list[int]) -> list[int]:
    if isinstance(value, int):
        return [value, value]
    if not value:
        return default
    values = list(value)
    return values[-2:] if len(values) >= 2 else values * 2


def windows(op: str, args: tuple[Any, ...]) -> tuple[WindowAxis, WindowAxis] | None:
    """The (H, W) windows of a convolution or spatial pooling op, read from its ATen arguments;
    None for anything else (a transposed convolution, LRN's pooling over channels)."""
    x = args[0]
    if not isinstance(x, torch.Tensor) or x.dim() < 4:
        return None
    h, w = x.shape[-2:]
    if op == "convolution":
        if args[6]:  # transposed: neither the size formula nor the field recurrence applies
            return None
        (kh, kw), (sh, sw) = args[1].shape[-2:], _last2(args[3], [1, 1])
        (ph, pw), (dh, dw) = _last2(args[4], [0, 0]), _last2(args[5], [1, 1])
        return WindowAxis(h, kh, sh, ph, dh), WindowAxis(w, kw, sw, pw, dw)
    if op not in _WINDOW_POOLS:
        return None
    kh, kw = _last2(args[1], [1, 1])
    if (kh, kw) == (1, 1):  # a pooling over channels (LRN's window), not space
        return None
    sh, sw = _last2(args[2] if len(args) > 2 else None, [kh, kw])
    ph, pw = _last2(args[3] if len(args) > 3 else 0, [0, 0])
    is_max = "max" in op
    dh, dw = _last2(args[4] if is_max and len(args) > 4 else 1, [1, 1])
    ceil_at = 5 if is_max else 4  # max: (x, k, s, p, dilation, ceil); avg: (x, k, s, p, ceil)
    ceil = bool(args[ceil_at]) if len(args) > ceil_at else False
    return WindowAxis(h, kh, sh, ph, dh, ceil), WindowAxis(w, kw, sw, pw, dw, ceil)


def cost(
    op: str, args: tuple[Any, ...], inputs: list[torch.Tensor], outs: list[torch.Tensor]
) -> tuple[int, int]:
    """(MACs, element-wise ops) of one operation, for the whole batch."""
    if op == "convolution":
        x, weight, transposed = args[0], args[1], args[6]
        if transposed:
            return x.numel() * weight[0].numel(), 0
        return outs[0].numel() * weight[0].numel(), 0
    if op in MATMUL:
        a, b = (args[1], args[2]) if op in ("addmm", "baddbmm") else (args[0], args[1])
        return a.numel() * b.shape[-1], 0
    if not outs:
        return 0, 0
    if op in _WINDOW_POOLS:
        taps = 1
        for k in _last2(args[1], [1, 1]) if "3d" not in op else list(args[1]):
            taps *= k
        return 0, outs[0].numel() * taps
    if op in _REDUCTIONS:
        return 0, inputs[0].numel()
    return 0, outs[0].numel()
