"""The forward pass the anatomy engine watches: a fast meta dispatch mode and the recorder.

:class:`FastMeta` makes meta tensors without PyTorch's slow Python decompositions;
:class:`Recorder` charges every ATen op to the module calls open around it and carries each
tensor's receptive field and depth along; :func:`module_calls` opens and closes those calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from cnnzoo.anatomy import ops
from cnnzoo.anatomy._torch import (
    DispatchMode,
    WeakTensorKeyDictionary,
    is_view,
    op_name,
    storage_key,
)
from cnnzoo.anatomy.geometry import ConvArithmetic, Field, describe_misfit, pool_formula
from cnnzoo.anatomy.stats import LayerStats

__all__ = ["FastMeta", "Recorder", "module_calls"]


class FastMeta(DispatchMode):
    """Meta tensors without the slow part. The meta kernels of batch norm and of element-wise ops
    are Python decompositions (0.2 to 4 ms a call: seconds for ResNet-1001), yet their outputs
    only take the input's shape, which is made here directly."""

    @classmethod
    def call(cls, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and x.is_meta:
            name = op_name(func)
            if name in ops.BATCH_NORMS:
                stats = x.new_empty(x.shape[1], dtype=torch.float32)
                return x.new_empty(x.shape), stats, x.new_empty(stats.shape)
            others = [a for a in args[1:] if isinstance(a, torch.Tensor)]
            if (
                name in ops.SAME_SHAPE
                and not kwargs.get("out")
                and all(o.shape == x.shape and o.dtype == x.dtype for o in others)
            ):
                return x if name.endswith("_") else x.new_empty(x.shape)
            if name == "convolution" and (axes := ops.windows(name, args)) and x.dim() == 4:
                oh, ow = axes[0].output, axes[1].output
                if x.shape[1] == args[1].shape[1] * args[8] and oh > 0 and ow > 0:
                    return x.new_empty((x.shape[0], args[1].shape[0], oh, ow))
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


class Recorder(FastMeta):
    """Charges each ATen op to the open module calls and carries receptive fields along tensors."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.layers: list[LayerStats] = []
        self.stack: list[tuple[int, nn.Module]] = []  # open module calls: (layer index, module)
        self.fields = WeakTensorKeyDictionary()  # tensor -> receptive field (H, W)
        self.depths = WeakTensorKeyDictionary()  # tensor -> weight layers on its longest path
        self.producers = WeakTensorKeyDictionary()  # tensor -> index of the row that made it
        self.misfits: list[str] = []
        self.counts: dict[int, dict[str, int]] = {}  # functional ops seen per open call
        self.leaves = {m for m in model.modules() if next(m.children(), None) is None}
        self.params = _param_counts(model)

    # -- module calls -----------------------------------------------------------------------
    def open(self, name: str, module: nn.Module, inputs: tuple[Any, ...]) -> None:
        shapes = [tuple(t.shape) for t in ops.tensors(inputs)]
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
                sources=self._sources(inputs),
            )
        )
        self.stack.append((len(self.layers) - 1, module))

    def _sources(self, inputs: Any) -> list[int]:
        """The rows whose outputs are among ``inputs``, in order, each once."""
        found = [self.producers[t] for t in ops.tensors(inputs) if t in self.producers]
        return list(dict.fromkeys(found))

    def close(self, inputs: tuple[Any, ...], output: Any) -> None:
        index, _ = self.stack.pop()
        self._set_output(self.layers[index], inputs, output)

    def _charge_memory(self, layer: LayerStats) -> None:
        layer.memory = layer.new_bytes
        for i, _ in self.stack:
            if self.layers[i] is not layer:
                self.layers[i].memory += layer.new_bytes

    def _set_output(self, layer: LayerStats, inputs: Any, output: Any) -> None:
        outs = ops.tensors(output)
        if not outs:
            return
        out = outs[0]
        layer.output_shape = tuple(out.shape)
        layer.output_bytes = out.numel() * out.element_size()
        shared = {storage_key(t) for t in ops.tensors(inputs)}
        layer.new_bytes = 0 if storage_key(out) in shared else layer.output_bytes
        layer.rf = self.fields.get(out)
        if layer.leaf:
            self._charge_memory(layer)

    # -- operations -------------------------------------------------------------------------
    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        out = self.call(func, args, kwargs)
        op = op_name(func)
        if op in ops.FREE or is_view(func):
            self._carry_field(op, args, out)
            source = next((t for t in ops.tensors(args) if t in self.depths), None)
            if source is not None:
                for t in ops.tensors(out):
                    self.depths[t] = self.depths[source]
            made_by = next((t for t in ops.tensors(args) if t in self.producers), None)
            if made_by is not None:  # a view or a copy: the same data, from the same row
                for t in ops.tensors(out):
                    self.producers[t] = self.producers[made_by]
            return out
        index, layer = self._layer_for(op, args, kwargs)
        inputs = ops.tensors((args, kwargs))
        outs = ops.tensors(out)
        macs, elementwise = ops.cost(op, args, inputs, outs)
        module = (
            self.stack[-1][1] if self.stack and layer is self.layers[self.stack[-1][0]] else None
        )
        kind = ops.kind(op, module)
        targets = {id(t): t for t in [layer] + [self.layers[i] for i, _ in self.stack]}
        for target in targets.values():
            target.macs += macs
            if elementwise:
                target.ops[kind] = target.ops.get(kind, 0) + elementwise
        self._carry_field(op, args, out)
        depth = max((self.depths[t] for t in inputs if t in self.depths), default=0)
        for t in outs:
            self.depths[t] = depth + (op == "convolution" or op in ops.MATMUL)
            self.producers[t] = index
        self._explain(op, args, layer)
        if layer not in (self.layers[i] for i, _ in self.stack):  # a functional op's own row
            self._set_output(layer, inputs, out)
        return out

    def _layer_for(
        self, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[int, LayerStats]:
        """The open leaf module, or a new row for a functional op outside any leaf (reading
        the rows its inputs came from), with its index."""
        if self.stack and self.layers[self.stack[-1][0]].leaf:
            return self.stack[-1][0], self.layers[self.stack[-1][0]]
        parent = self.layers[self.stack[-1][0]] if self.stack else None
        key = self.stack[-1][0] if self.stack else -1
        counts = self.counts.setdefault(key, {})
        label = op.strip("_")
        seen = counts.get(label, 0)
        counts[label] = seen + 1
        suffix = f"_{seen}" if seen else ""
        name = f"{parent.name}.{label}{suffix}" if parent else f"{label}{suffix}"
        depth = (parent.depth if parent else 0) + 1
        layer = LayerStats(name, label, depth, True, [], sources=self._sources((args, kwargs)))
        self.layers.append(layer)
        return len(self.layers) - 1, layer

    def _carry_field(self, op: str, args: tuple[Any, ...], out: Any) -> None:
        """The receptive field of ``out``, from the widest field among the inputs."""
        sources = [t for t in ops.tensors(args) if t in self.fields]
        outs = ops.tensors(out)
        if not sources or not outs:
            return
        src = max(sources, key=lambda t: self.fields[t][0].size * self.fields[t][1].size)
        fh, fw = self.fields[src]
        result: tuple[Field, Field] | None
        windows = ops.windows(op, args)
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
        axes = ops.windows(op, args)
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
def module_calls(model: nn.Module, recorder: Recorder) -> Iterator[None]:
    """Report each named module call to ``recorder`` as it opens and closes."""
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
