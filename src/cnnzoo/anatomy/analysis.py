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
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from cnnzoo.anatomy import ops
from cnnzoo.anatomy._torch import storage_key
from cnnzoo.anatomy.geometry import Field, GeometryError, GeometryWarning
from cnnzoo.anatomy.recorder import FastMeta, Recorder, module_calls
from cnnzoo.anatomy.stats import Analysis, Totals
from cnnzoo.errors import ConfigError
from cnnzoo.factory import create_model
from cnnzoo.models import TrainingStep, ZooModel, model_info

__all__ = ["TraceError", "analyze", "network_at"]


class TraceError(ConfigError):
    """A network the meta-device trace cannot run: the message names the layer where it stopped."""


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
    if not isinstance(model, ZooModel):
        return _run(model, state, (x,), train=True)
    labels = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
    step = TrainingStep(model, nn.functional.cross_entropy)
    return _run(step, {f"model.{k}": v for k, v in state.items()}, (x, labels), train=True)


def _saved_bytes(model: nn.Module, state: dict[str, torch.Tensor], x: torch.Tensor) -> int:
    """Bytes autograd keeps for backward in one training step's forward (weights excluded)."""
    weights = {storage_key(t) for t in state.values()}
    seen: set[int] = set()
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        key = storage_key(t)
        if key not in weights and key not in seen:
            seen.add(key)
            total += t.untyped_storage().nbytes()
        return t

    hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t)
    with hooks, torch.enable_grad(), FastMeta():
        _training_pass(model, state, x.requires_grad_(False))
    return total


def network_at(
    model: nn.Module | str, input_size: tuple[int, ...] | None
) -> tuple[nn.Module, str, tuple[int, ...]]:
    """The module to trace (a zoo name is built on the meta device), its name, and the input
    size: the one given, else a zoo model's own."""
    if isinstance(model, str):
        size = tuple(input_size or model_info(model).input_size)
        return create_model(model, in_chans=size[0], device="meta"), model, size
    name = getattr(model, "model_name", "") or type(model).__name__
    if input_size is None:
        if not isinstance(model, ZooModel):
            raise ConfigError("give input_size=(C, H, W) for a model that is not from the zoo")
        input_size = (model.in_chans, *model.default_input_size)
    return model, name, tuple(input_size)


def _stopped(name: str, recorder: Recorder, error: Exception) -> TraceError:
    """Where and why the trace stopped, in one line."""
    where = recorder.layers[recorder.stack[-1][0]] if recorder.stack else None
    place = f"in {where.name} ({where.type})" if where else "outside any module"
    reason = " ".join(str(error).split()).split(". ")[0].rstrip(".")
    return TraceError(
        f"{name}: tracing stopped {place}: {reason}. The trace runs the network on the meta "
        "device, shapes without values: a forward that reads values (if x.sum() > 0, .item(), "
        ".tolist()) cannot be traced, and an error of shapes means the input does not fit"
    )


def analyze(
    model: nn.Module | str,
    input_size: tuple[int, ...] | None = None,
    batch_size: int = 1,
    dtype: torch.dtype = torch.float32,
    strict: bool = False,
    training: bool = False,
) -> Analysis:
    """Analyse any ``nn.Module`` (or a registered name) layer by layer at ``input_size`` (C, H, W).

    Runs on the meta device, so VGG-19 or ResNet-1001 take a fraction of a second and no memory.
    Windows that do not fit their input exactly (PyTorch floors them silently) are reported: a
    :class:`GeometryWarning` by default, a :class:`GeometryError` with ``strict=True``.
    The training-memory estimate is :meth:`Analysis.training_memory`. With ``training`` the
    trace is of the pass training makes, loss included: a zoo model's modules that only
    training runs (GoogLeNet's auxiliary classifiers) appear, and the totals count them.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if training and batch_size < 2:
        raise ConfigError(
            "training=True runs batch norm as training does, which needs batch_size >= 2"
        )
    net, name, size = network_at(model, input_size)
    state = _meta_state(net, dtype)
    x = torch.zeros(batch_size, *size, dtype=dtype, device="meta")

    recorder = Recorder(net)
    recorder.fields[x] = (Field(), Field())
    try:
        with torch.no_grad(), module_calls(net, recorder), recorder:
            output = _training_pass(net, state, x) if training else _run(net, state, (x,), False)
    except (RuntimeError, NotImplementedError) as error:
        raise _stopped(name, recorder, error) from error
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
    op_counts: dict[str, int] = {}
    for layer in top:
        for kind, count in layer.ops.items():
            op_counts[kind] = op_counts.get(kind, 0) + count // batch_size
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
        ops={k: op_counts[k] for k in ops.OP_KINDS if k in op_counts},
        input_bytes=x[0].numel() * x.element_size(),
        forward_bytes=sum(r.new_bytes for r in layers if r.leaf) // batch_size,
        receptive_field=(maps or [r.rf for r in spatial] or [None])[-1],
        depth=max((recorder.depths.get(t, 0) for t in ops.tensors(output)), default=0),
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
