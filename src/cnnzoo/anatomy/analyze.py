"""The anatomy engine: every layer's shapes, parameters, cost, memory and receptive field.

The network runs once on the meta device: tensors carry shapes and dtypes but no data, so nothing
is allocated and nothing is computed. A dispatch mode sees every ATen operation the forward pass
makes, including the functional ones that module hooks miss (a residual ``+``, an inception
``torch.cat``), and charges each to the module call it happens in.

Counting convention (stated in every report, see :data:`CONVENTION`): MACs are the
multiply-accumulates of convolutions and matrix products (bias additions not included), the figure
papers and torchvision's "GFLOPS" use; FLOPs = 2 × MACs. Every other operation is counted apart as
element-wise operations, one per output element (pooling: one per window tap; global reductions: one
per input element), grouped by kind: norm, activation, pool, add, concat, other.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakTensorKeyDictionary

from cnnzoo.anatomy.geometry import (
    ConvArithmetic,
    Field,
    GeometryError,
    GeometryWarning,
    WindowAxis,
    describe_misfit,
    pool_formula,
)
from cnnzoo.errors import ConfigError

__all__ = ["CONVENTION", "OPTIMIZER_STATES", "Analysis", "LayerStats", "Totals", "analyze"]

CONVENTION = (
    "MACs = multiply-accumulates of convolutions and fully-connected layers (bias excluded), the "
    "figure papers and torchvision quote as 'GFLOPS'; FLOPs = 2 x MACs. Normalisation, "
    "activations, pooling, additions and concatenations are counted apart as element-wise ops "
    "(one per output element; pooling one per window tap)."
)

# Optimizer state kept per trainable parameter, in parameter-sized tensors.
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2, "adamw": 2}

_MATMUL = {"mm", "addmm", "bmm", "baddbmm"}
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
_FREE = {
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
_OP_KINDS = {
    "norm": {
        "native_batch_norm",
        "_native_batch_norm_legit_no_training",
        "batch_norm",
        "_native_batch_norm_legit",
        "native_layer_norm",
        "native_group_norm",
    },
    "activation": {
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
        "softmax",
        "_softmax",
        "log_softmax",
        "_log_softmax",
    },
    "pool": _WINDOW_POOLS | {"_adaptive_avg_pool2d", "adaptive_max_pool2d", "_adaptive_avg_pool3d"},
    "add": {"add", "add_", "sub", "sub_"},
    "concat": {"cat", "stack"},
}
_MODULE_KINDS: dict[str, tuple[type[nn.Module], ...]] = {
    "norm": (nn.modules.batchnorm._NormBase, nn.LocalResponseNorm, nn.GroupNorm, nn.LayerNorm),
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
    "pool": (
        nn.modules.pooling._MaxPoolNd,
        nn.modules.pooling._AvgPoolNd,
        nn.modules.pooling._AdaptiveAvgPoolNd,
        nn.modules.pooling._AdaptiveMaxPoolNd,
    ),
}
OP_KINDS = ("norm", "activation", "pool", "add", "concat", "other")


class _Cost:
    """The two derived counts every row and the totals report."""

    macs: int
    ops: dict[str, int]

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def elementwise(self) -> int:
        return sum(self.ops.values())


@dataclass
class LayerStats(_Cost):
    """One module call (or one functional operation outside any leaf module) in a forward pass."""

    name: str  # qualified name, e.g. "layer1.0.conv2"; a functional op: "layer1.0.add"
    type: str  # class name ("Conv2d") or the op ("add", "cat")
    depth: int  # 1 for the model's direct children
    leaf: bool  # no child module calls below it
    input_shapes: list[tuple[int, ...]]  # (B, C, H, W) of each tensor input
    output_shape: tuple[int, ...] = ()  # (B, C, H, W) or (B, F)
    params: int = 0  # trainable parameters of the module and its children
    frozen_params: int = 0  # parameters with requires_grad=False
    macs: int = 0  # multiply-accumulates, the whole batch
    ops: dict[str, int] = field(default_factory=dict)  # element-wise ops by kind, the whole batch
    output_bytes: int = 0  # the output tensor's size, the whole batch
    new_bytes: int = 0  # memory the output adds: 0 when it is an input's storage (in-place, view)
    memory: int = 0  # activation memory written in this call: new_bytes summed over its leaves
    rf: tuple[Field, Field] | None = None  # receptive field (H, W) of an output unit
    explain: list[str] = field(default_factory=list)  # the arithmetic, for conv and pooling
    misfit: str | None = None  # the window does not fit its input exactly

    @property
    def chw(self) -> tuple[int, ...]:
        """The output shape without the batch dimension."""
        return self.output_shape[1:]

    @property
    def receptive_field(self) -> int | None:
        """The side of the (square, or larger) receptive field of one output unit."""
        return None if self.rf is None else max(self.rf[0].size, self.rf[1].size)


@dataclass(frozen=True)
class Totals(_Cost):
    """Whole-network figures, per image; memory in bytes."""

    params: int  # trainable, of the network inference runs
    frozen_params: int
    training_params: int  # trainable, in modules only training runs (auxiliary heads)
    param_bytes: int  # all parameters and buffers, the training-only modules' too
    trainable_bytes: int  # the parameters that get gradients
    macs: int  # per image
    ops: dict[str, int]  # element-wise ops per image, by kind
    input_bytes: int  # per image
    forward_bytes: int  # per image: every new tensor the forward pass writes, input excluded
    receptive_field: tuple[Field, Field] | None  # of the last spatial feature map
    depth: int  # weight layers (conv, fully-connected) on the longest input-to-output path


@dataclass(frozen=True)
class TrainingMemory:
    """An estimate of the memory one training step holds at its peak, in bytes."""

    batch_size: int
    optimizer: str
    params: int  # weights and buffers
    grads: int  # one gradient per trainable parameter
    optimizer_state: int  # momentum, Adam's two moments, ...
    activations: int  # tensors autograd saves for the backward pass, the whole batch

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer_state + self.activations


@dataclass
class Analysis:
    """The layers of one network at one input size, and its totals."""

    model: str
    input_size: tuple[int, ...]  # (C, H, W)
    batch_size: int
    dtype: str
    layers: list[LayerStats]
    totals: Totals
    misfits: list[str]  # windows PyTorch floors silently, with what would fit
    saved_per_image: Callable[[], int] = field(repr=False, compare=False)
    convention: str = CONVENTION

    def at_depth(self, depth: int) -> list[LayerStats]:
        """The layers seen at ``depth``: modules that deep, and shallower leaves."""
        return [r for r in self.layers if r.depth == depth or (r.leaf and r.depth < depth)]

    def training_memory(
        self, batch_size: int | None = None, optimizer: str = "momentum"
    ) -> TrainingMemory:
        """Weights, gradients, optimizer state and the activations autograd keeps for backward,
        measured by one training-mode pass on the meta device (made on first use)."""
        if optimizer not in OPTIMIZER_STATES:
            raise ConfigError(
                f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZER_STATES)}"
            )
        batch = batch_size or self.batch_size
        if batch < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch}")
        grads = self.totals.trainable_bytes
        return TrainingMemory(
            batch_size=batch,
            optimizer=optimizer,
            params=self.totals.param_bytes,
            grads=grads,
            optimizer_state=OPTIMIZER_STATES[optimizer] * grads,
            activations=self.saved_per_image() * batch,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: every layer, the totals and the counting convention."""
        layers = []
        for layer in self.layers:
            row = {k: v for k, v in asdict(layer).items() if k != "rf"}
            row.update(flops=layer.flops, elementwise=layer.elementwise, explain=layer.explain)
            row["receptive_field"] = (
                None
                if layer.rf is None
                else {
                    "size": [f.size for f in layer.rf],
                    "jump": [f.jump for f in layer.rf],
                    "padding": [f.padding for f in layer.rf],
                }
            )
            layers.append(row)
        totals = asdict(self.totals)
        totals.update(flops=self.totals.flops, elementwise=self.totals.elementwise)
        memory = self.training_memory()
        return {
            "model": self.model,
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "dtype": self.dtype,
            "convention": self.convention,
            "totals": totals,
            "training": asdict(memory) | {"total": memory.total},
            "misfits": self.misfits,
            "layers": layers,
        }


def _kind(op: str, module: nn.Module | None) -> str:
    if module is not None:
        for kind, classes in _MODULE_KINDS.items():
            if isinstance(module, classes):
                return kind
    for kind, names in _OP_KINDS.items():
        if op in names:
            return kind
    return "other"


def _tensors(obj: Any) -> list[torch.Tensor]:
    """The tensors in nested tuples, lists and dicts, in order."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


def _param_counts(model: nn.Module) -> dict[nn.Module, tuple[int, int]]:
    """(trainable, frozen) parameters under each module, in one pass over the tree."""
    counts: dict[nn.Module, tuple[int, int]] = {}

    def visit(module: nn.Module) -> tuple[int, int]:
        if module in counts:
            return counts[module]
        own = list(module.parameters(recurse=False))
        trainable = sum(p.numel() for p in own if p.requires_grad)
        frozen = sum(p.numel() for p in own if not p.requires_grad)
        for child in module.children():
            t, f = visit(child)
            trainable, frozen = trainable + t, frozen + f
        counts[module] = (trainable, frozen)
        return trainable, frozen

    visit(model)
    return counts


def _storage(t: torch.Tensor) -> int:
    return int(t.untyped_storage()._cdata)


def _last2(value: Any, default: list[int]) -> list[int]:
    if isinstance(value, int):
        return [value, value]
    if not value:
        return default
    values = list(value)
    return values[-2:] if len(values) >= 2 else values * 2


def _windows(op: str, args: tuple[Any, ...]) -> tuple[WindowAxis, WindowAxis] | None:
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


class _FastMeta(TorchDispatchMode):
    """Meta tensors without the slow part. The meta kernels of batch norm and of element-wise ops
    are Python decompositions (0.2 to 4 ms a call: seconds for ResNet-1001), yet their outputs
    only take the input's shape, which is made here directly."""

    _BATCH_NORMS = (
        "native_batch_norm",
        "_native_batch_norm_legit",
        "_native_batch_norm_legit_no_training",
    )
    _SAME_SHAPE = frozenset(
        {
            "relu",
            "relu_",
            "tanh",
            "tanh_",
            "sigmoid",
            "sigmoid_",
            "hardtanh",
            "hardtanh_",
            "silu",
            "silu_",
            "gelu",
            "leaky_relu",
            "leaky_relu_",
            "elu",
            "elu_",
            "add",
            "add_",
            "mul",
            "mul_",
            "sub",
            "sub_",
            "div",
            "div_",
            "pow",
            "neg",
        }
    )

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Never run under torch.compile: skip the wrapper that imports Dynamo on first use
        # (seconds) and adds a frame to every operation.
        return False

    @classmethod
    def call(cls, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and x.is_meta:
            name = func.overloadpacket.__name__
            if name in cls._BATCH_NORMS:
                stats = x.new_empty(x.shape[1], dtype=torch.float32)
                return x.new_empty(x.shape), stats, x.new_empty(stats.shape)
            others = [a for a in args[1:] if isinstance(a, torch.Tensor)]
            if (
                name in cls._SAME_SHAPE
                and not kwargs.get("out")
                and all(o.shape == x.shape and o.dtype == x.dtype for o in others)
            ):
                return x if name.endswith("_") else x.new_empty(x.shape)
            if name == "convolution" and not args[6] and x.dim() == 4:
                weight, (sh, sw), (ph, pw), (dh, dw) = args[1], args[3], args[4], args[5]
                h, w = x.shape[-2:]
                kh, kw = weight.shape[-2:]
                oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
                ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
                if x.shape[1] == weight.shape[1] * args[8] and oh > 0 and ow > 0:
                    return x.new_empty((x.shape[0], weight.shape[0], oh, ow))
            if name == "_adaptive_avg_pool2d":
                return x.new_empty((*x.shape[:-2], *args[1]))
            if name == "mean" and len(args) > 1 and not kwargs and x.is_floating_point():
                dims = {d % x.dim() for d in args[1]}
                keep = len(args) > 2 and args[2]
                shape = [
                    1 if i in dims else n for i, n in enumerate(x.shape) if keep or i not in dims
                ]
                return x.new_empty(shape)
        return func(*args, **kwargs)

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        return self.call(func, args, kwargs or {})


class _Recorder(_FastMeta):
    """Charges each ATen op to the open module calls and carries receptive fields along tensors."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.layers: list[LayerStats] = []
        self.stack: list[tuple[int, nn.Module]] = []  # open module calls: (layer index, module)
        self.fields = WeakTensorKeyDictionary()  # tensor -> receptive field (H, W)
        self.depths = WeakTensorKeyDictionary()  # tensor -> weight layers on its longest path
        self.misfits: list[str] = []
        self.counts: dict[int, dict[str, int]] = {}  # functional ops seen per open call
        self.leaves = {m for m in model.modules() if next(m.children(), None) is None}
        self.params = _param_counts(model)

    # -- module calls -----------------------------------------------------------------------
    def open(self, name: str, module: nn.Module, inputs: tuple[Any, ...]) -> None:
        shapes = [tuple(t.shape) for t in _tensors(inputs)]
        trainable, frozen = self.params[module]
        self.layers.append(
            LayerStats(
                name,
                type(module).__name__,
                name.count(".") + 1,
                module in self.leaves,
                shapes,
                params=trainable,
                frozen_params=frozen,
            )
        )
        self.stack.append((len(self.layers) - 1, module))

    def close(self, inputs: tuple[Any, ...], output: Any) -> None:
        index, _ = self.stack.pop()
        self._set_output(self.layers[index], inputs, output)

    def _charge_memory(self, layer: LayerStats) -> None:
        layer.memory = layer.new_bytes
        for i, _ in self.stack:
            if self.layers[i] is not layer:
                self.layers[i].memory += layer.new_bytes

    def _set_output(self, layer: LayerStats, inputs: Any, output: Any) -> None:
        outs = _tensors(output)
        if not outs:
            return
        out = outs[0]
        layer.output_shape = tuple(out.shape)
        layer.output_bytes = out.numel() * out.element_size()
        shared = {_storage(t) for t in _tensors(inputs)}
        layer.new_bytes = 0 if _storage(out) in shared else layer.output_bytes
        layer.rf = self.fields.get(out)
        if layer.leaf:
            self._charge_memory(layer)

    # -- operations -------------------------------------------------------------------------
    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        out = self.call(func, args, kwargs)
        op = func.overloadpacket.__name__
        if op in _FREE or func.is_view:
            self._carry_field(op, args, out)
            source = next((t for t in _tensors(args) if t in self.depths), None)
            if source is not None:
                for t in _tensors(out):
                    self.depths[t] = self.depths[source]
            return out
        layer = self._layer_for(op)
        inputs = _tensors((args, kwargs))
        outs = _tensors(out)
        macs, elementwise = self._cost(op, args, inputs, outs)
        module = (
            self.stack[-1][1] if self.stack and layer is self.layers[self.stack[-1][0]] else None
        )
        kind = _kind(op, module)
        targets = {id(t): t for t in [layer] + [self.layers[i] for i, _ in self.stack]}
        for target in targets.values():
            target.macs += macs
            if elementwise:
                target.ops[kind] = target.ops.get(kind, 0) + elementwise
        self._carry_field(op, args, out)
        depth = max((self.depths[t] for t in inputs if t in self.depths), default=0)
        for t in outs:
            self.depths[t] = depth + (op == "convolution" or op in _MATMUL)
        self._explain(op, args, layer)
        if layer not in (self.layers[i] for i, _ in self.stack):  # a functional op's own row
            self._set_output(layer, inputs, out)
        return out

    def _layer_for(self, op: str) -> LayerStats:
        """The open leaf module, or a new row for a functional op outside any leaf."""
        if self.stack and self.layers[self.stack[-1][0]].leaf:
            return self.layers[self.stack[-1][0]]
        parent = self.layers[self.stack[-1][0]] if self.stack else None
        key = self.stack[-1][0] if self.stack else -1
        counts = self.counts.setdefault(key, {})
        label = op.strip("_")
        seen = counts.get(label, 0)
        counts[label] = seen + 1
        suffix = f"_{seen}" if seen else ""
        name = f"{parent.name}.{label}{suffix}" if parent else f"{label}{suffix}"
        layer = LayerStats(name, label, (parent.depth if parent else 0) + 1, True, [])
        self.layers.append(layer)
        return layer

    @staticmethod
    def _cost(
        op: str, args: tuple[Any, ...], inputs: list[torch.Tensor], outs: list[torch.Tensor]
    ) -> tuple[int, int]:
        """(MACs, element-wise ops) of one operation, for the whole batch."""
        if op == "convolution":
            x, weight, transposed = args[0], args[1], args[6]
            if transposed:
                return x.numel() * weight[0].numel(), 0
            return outs[0].numel() * weight[0].numel(), 0
        if op in _MATMUL:
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

    def _carry_field(self, op: str, args: tuple[Any, ...], out: Any) -> None:
        """The receptive field of ``out``, from the widest field among the inputs."""
        sources = [t for t in _tensors(args) if t in self.fields]
        outs = _tensors(out)
        if not sources or not outs:
            return
        src = max(sources, key=lambda t: self.fields[t][0].size * self.fields[t][1].size)
        fh, fw = self.fields[src]
        result: tuple[Field, Field] | None
        windows = _windows(op, args)
        if windows is not None:
            ah, aw = windows
            result = (
                fh.through(ah.kernel, ah.stride, ah.padding, ah.dilation),
                fw.through(aw.kernel, aw.stride, aw.padding, aw.dilation),
            )
        elif op == "convolution":  # transposed: the field no longer follows this recurrence
            return
        elif op == "constant_pad_nd":
            pad = [*list(args[1]), 0, 0, 0, 0]
            result = (
                Field(fh.size, fh.jump, fh.padding + pad[2] * fh.jump),
                Field(fw.size, fw.jump, fw.padding + pad[0] * fw.jump),
            )
        else:
            result = self._generic_field(src, outs[0], fh, fw)
        if result is not None:
            for t in outs:
                self.fields[t] = result

    @staticmethod
    def _generic_field(
        src: torch.Tensor, out: torch.Tensor, fh: Field, fw: Field
    ) -> tuple[Field, Field] | None:
        if src.dim() < 4:  # already a global feature: a linear layer or an activation on it
            return (fh, fw) if out.dim() <= 2 or tuple(out.shape) == tuple(src.shape) else None
        h, w = src.shape[-2:]
        if out.dim() >= 4 and out.shape[-2:] == src.shape[-2:]:
            return fh, fw
        if out.dim() <= 2 or tuple(out.shape[-2:]) == (1, 1):  # global pooling, flatten
            return fh.union(h), fw.union(w)
        oh, ow = out.shape[-2:]
        if h % oh == 0 and w % ow == 0:  # adaptive pooling with whole windows
            return fh.through(h // oh, h // oh), fw.through(w // ow, w // ow)
        return None

    def _explain(self, op: str, args: tuple[Any, ...], layer: LayerStats) -> None:
        axes = _windows(op, args)
        if axes is None:
            return
        if op == "convolution":
            x, weight, bias = args[0], args[1], args[2]
            conv = ConvArithmetic(x.shape[1], weight.shape[0], *axes, args[8], bias is not None)
            layer.explain = conv.explain()
        else:
            layer.explain = [pool_formula(*axes), "params  none: pooling has no parameters"]
        if misfit := describe_misfit(*axes):
            layer.misfit = misfit
            self.misfits.append(f"{layer.name}: {misfit}")
            if op != "convolution":
                layer.explain.append(f"misfit  {misfit}")


@contextmanager
def _hooks(model: nn.Module, recorder: _Recorder) -> Iterator[None]:
    # Two global hooks filtered by module, rather than two hooks per module: registering
    # thousands of handles costs more than the whole analysis of ResNet-1001.
    names = {module: name for name, module in model.named_modules() if name}

    def pre(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        if module in names:
            recorder.open(names[module], module, inputs)

    def post(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if module in names:
            recorder.close(inputs, output)

    handles = [
        nn.modules.module.register_module_forward_pre_hook(pre),
        nn.modules.module.register_module_forward_hook(post),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _meta_state(model: nn.Module, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Stand-ins on the meta device for every parameter and buffer: same shapes, no memory."""
    state: dict[str, torch.Tensor] = {}
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if is_lazy(tensor):
            raise ConfigError(
                f"{name} is a lazy parameter with no shape yet: run one forward pass on a real "
                "input first, or build the model without lazy layers"
            )
        kind = dtype if tensor.is_floating_point() else tensor.dtype
        stand_in = torch.empty(tensor.shape, dtype=kind, device="meta")
        state[name] = stand_in.requires_grad_(tensor.requires_grad)
    return state


def _run(
    model: nn.Module, state: dict[str, torch.Tensor], args: tuple[torch.Tensor, ...], train: bool
) -> Any:
    was_training = model.training
    model.train(train)
    try:
        return torch.func.functional_call(model, state, args, strict=False)
    finally:
        model.train(was_training)


def _training_pass(model: nn.Module, state: dict[str, torch.Tensor], x: torch.Tensor) -> Any:
    """One training-mode forward as a trainer makes it: a zoo model's training loss, so the
    modules only training runs (GoogLeNet's auxiliary heads) are measured too."""
    from cnnzoo.models import TrainingStep, ZooModel

    if not isinstance(model, ZooModel):
        return _run(model, state, (x,), train=True)
    labels = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
    step = TrainingStep(model, nn.functional.cross_entropy)
    return _run(step, {f"model.{k}": v for k, v in state.items()}, (x, labels), train=True)


def _saved_bytes(model: nn.Module, state: dict[str, torch.Tensor], x: torch.Tensor) -> int:
    """Bytes autograd keeps for backward in one training step's forward (weights excluded)."""
    weights = {_storage(t) for t in state.values()}
    seen: set[int] = set()
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        key = _storage(t)
        if key not in weights and key not in seen:
            seen.add(key)
            total += t.untyped_storage().nbytes()
        return t

    hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t)
    with hooks, torch.enable_grad(), _FastMeta():
        _training_pass(model, state, x.requires_grad_(False))
    return total


def analyze(
    model: nn.Module | str,
    input_size: tuple[int, ...] | None = None,
    batch_size: int = 1,
    dtype: torch.dtype = torch.float32,
    strict: bool = False,
) -> Analysis:
    """Analyse any ``nn.Module`` (or a registered name) layer by layer at ``input_size`` (C, H, W).

    Runs on the meta device, so VGG-19 or ResNet-1001 take a fraction of a second and no memory.
    Windows that do not fit their input exactly (PyTorch floors them silently) are reported: a
    :class:`GeometryWarning` by default, a :class:`GeometryError` with ``strict=True``.
    The training-memory estimate is :meth:`Analysis.training_memory`.
    """
    from cnnzoo.factory import create_model
    from cnnzoo.models import ZooModel, model_info

    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(model, str):
        info = model_info(model)
        size = tuple(input_size or info.input_size)
        net: nn.Module = create_model(model, in_chans=size[0], device="meta")
        name = model
    else:
        net = model
        name = getattr(model, "model_name", "") or type(model).__name__
        if input_size is None:
            if not isinstance(model, ZooModel):
                raise ConfigError("give input_size=(C, H, W) for a model that is not from the zoo")
            input_size = (model.in_chans, *model.default_input_size)
        size = tuple(input_size)
    state = _meta_state(net, dtype)
    x = torch.zeros(batch_size, *size, dtype=dtype, device="meta")

    recorder = _Recorder(net)
    recorder.fields[x] = (Field(), Field())
    with torch.no_grad(), _hooks(net, recorder), recorder:
        output = _run(net, state, (x,), train=False)
    layers = recorder.layers
    if recorder.misfits:
        message = (
            f"{name}: {len(recorder.misfits)} window(s) do not fit their input and PyTorch "
            "silently floors them: " + " || ".join(recorder.misfits)
        )
        if strict:
            raise GeometryError(message)
        warnings.warn(message, GeometryWarning, stacklevel=2)

    top = [r for r in layers if r.depth == 1]
    ops: dict[str, int] = {}
    for layer in top:
        for kind, count in layer.ops.items():
            ops[kind] = ops.get(kind, 0) + count // batch_size
    # The field of the last feature map: global pooling's 1x1 output sees the whole input.
    spatial = [r for r in layers if r.leaf and r.rf is not None and len(r.output_shape) >= 4]
    maps = [r.rf for r in spatial if r.output_shape[-1] * r.output_shape[-2] > 1]
    trainable = {k: t for k, t in state.items() if t.requires_grad}
    extras = tuple(f"{m}." for m in net.training_only()) if isinstance(net, ZooModel) else ()
    training_params = sum(
        t.numel() for k, t in trainable.items() if extras and k.startswith(extras)
    )
    totals = Totals(
        params=sum(t.numel() for t in trainable.values()) - training_params,
        frozen_params=sum(p.numel() for p in net.parameters() if not p.requires_grad),
        training_params=training_params,
        param_bytes=sum(t.numel() * t.element_size() for t in state.values()),
        trainable_bytes=sum(t.numel() * t.element_size() for t in trainable.values()),
        macs=sum(r.macs for r in top) // batch_size,
        ops={k: ops[k] for k in OP_KINDS if k in ops},
        input_bytes=x[0].numel() * x.element_size(),
        forward_bytes=sum(r.new_bytes for r in layers if r.leaf) // batch_size,
        receptive_field=(maps or [r.rf for r in spatial] or [None])[-1],
        depth=max((recorder.depths.get(t, 0) for t in _tensors(output)), default=0),
    )

    @functools.cache
    def saved_per_image() -> int:
        probe = 2  # batch norm refuses a single value per channel in training mode
        x = torch.zeros(probe, *size, dtype=dtype, device="meta")
        return _saved_bytes(net, state, x) // probe

    return Analysis(
        name,
        size,
        batch_size,
        str(dtype).removeprefix("torch."),
        layers,
        totals,
        recorder.misfits,
        saved_per_image,
    )
