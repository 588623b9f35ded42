"""Each layer as the papers label it: ``3x3 conv, 64``, ``3x3 conv, 128, /2``, ``max pool, /2``,
``fc 4096``, ``LRN``, ``avg pool`` — and the kind it is coloured by."""

from __future__ import annotations

from torch import nn

__all__ = ["KINDS", "MAX_TOWERS", "conv_like", "kind_of", "label_of", "towers_of"]

# The kinds a diagram colours and its legend names, in the legend's order.
KINDS = ("conv", "pool", "norm", "activation", "fc", "merge", "other")
MAX_TOWERS = 4  # a grouped convolution of more groups is one box, its groups named


def conv_like(module: nn.Module | None) -> bool:
    """A module of its own that is one convolution as a paper draws it (LeNet-5's partly
    connected C3, built of grouped convolutions): it has a kernel size and output channels."""
    return (
        module is not None
        and not isinstance(module, nn.Conv2d)
        and isinstance(getattr(module, "kernel_size", None), tuple)
        and isinstance(getattr(module, "out_channels", None), int)
    )


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return (value[0], value[-1]) if value else (1, 1)


def _stride(stride: int | tuple[int, ...]) -> str:
    sh, sw = _pair(stride)
    if (sh, sw) == (1, 1):
        return ""
    return f", /{sh}" if sh == sw else f", /{sh}x{sw}"


def label_of(module: nn.Module | None, op: str = "") -> str:
    """The label of one layer: a module, or a functional ``op`` ("add", "cat") outside any."""
    if module is None:
        return {"add": "+", "cat": "concat", "mean": "avg pool", "flatten": "flatten"}.get(op, op)
    if isinstance(module, nn.Conv2d):
        kh, kw = _pair(module.kernel_size)
        groups = f", {module.groups} groups" if module.groups > 1 else ""
        return f"{kh}x{kw} conv, {module.out_channels}{_stride(module.stride)}{groups}"
    kernel = getattr(module, "kernel_size", None)  # a layer of a model's own that has one
    if conv_like(module) and isinstance(kernel, tuple):
        kh, kw = _pair(kernel)
        return f"{kh}x{kw} conv, {module.out_channels} ({type(module).__name__})"
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        kh, kw = _pair(module.kernel_size)
        stride = module.stride if module.stride is not None else module.kernel_size
        name = "max pool" if isinstance(module, nn.MaxPool2d) else "avg pool"
        return f"{kh}x{kw} {name}{_stride(stride)}"
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        out = module.output_size
        sizes = (out, out) if isinstance(out, int) or out is None else tuple(out)
        name = "avg pool" if isinstance(module, nn.AdaptiveAvgPool2d) else "max pool"
        return name if sizes == (1, 1) else f"{name} to {'x'.join(map(str, sizes))}"
    if "subsampling" in type(module).__name__.lower() and isinstance(kernel, int | tuple):
        kh, kw = _pair(kernel)  # LeNet-5's S2 and S4: 2x2 sums, weighted, /2
        return f"{kh}x{kw} subsampling{_stride(kernel)}"
    if isinstance(module, nn.Linear):
        return f"fc {module.out_features}"
    if isinstance(module, nn.LocalResponseNorm):
        return "LRN"
    if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d | nn.SyncBatchNorm):
        return "BN"
    if isinstance(module, nn.Dropout):
        return f"dropout {module.p:g}"
    if isinstance(module, nn.Softmax | nn.LogSoftmax):
        return "softmax"
    return type(module).__name__


def towers_of(module: nn.Module | None) -> tuple[int, str]:
    """A grouped convolution as the towers it is (AlexNet's two GPUs, §3.2): how many, and
    each tower's label; (1, "") for any other layer, and beyond ``MAX_TOWERS`` groups (too
    narrow to label: one box says how many)."""
    if not isinstance(module, nn.Conv2d) or not 1 < module.groups <= MAX_TOWERS:
        return 1, ""
    kh, kw = _pair(module.kernel_size)
    filters = module.out_channels // module.groups
    return module.groups, f"{kh}x{kw} conv, {filters}{_stride(module.stride)}"


def kind_of(module: nn.Module | None, op: str = "") -> str:
    """What a layer is, of :data:`KINDS`."""
    if module is None:
        return "merge" if op in ("add", "cat") else "pool" if op == "mean" else "other"
    if isinstance(module, nn.Conv2d) or conv_like(module):
        return "conv"
    if isinstance(module, nn.Linear):
        return "fc"
    name = type(module).__name__.lower()
    if "pool" in name or "subsampling" in name:
        return "pool"
    if "norm" in name:
        return "norm"
    if isinstance(module, nn.ReLU | nn.Tanh | nn.Sigmoid | nn.GELU | nn.SiLU | nn.Softmax):
        return "activation"
    if "tanh" in name or "relu" in name:
        return "activation"
    return "other"
