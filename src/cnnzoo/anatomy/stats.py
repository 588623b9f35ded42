"""What an analysis finds: one row per module call, the network's totals, its training memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from html import escape
from typing import Any

from cnnzoo.anatomy.geometry import Field
from cnnzoo.errors import ConfigError

__all__ = [
    "COLUMNS",
    "CONVENTION",
    "OPTIMIZER_STATES",
    "Analysis",
    "LayerStats",
    "Totals",
    "TrainingMemory",
    "auto_depth",
    "field_text",
    "human_bytes",
]

CONVENTION = (
    "MACs = multiply-accumulates of convolutions and fully-connected layers (bias excluded), the "
    "figure papers and torchvision quote as 'GFLOPS'; FLOPs = 2 x MACs. Normalisation, "
    "activations, pooling, additions and concatenations are counted apart as element-wise ops "
    "(one per output element; pooling one per window tap)."
)

# Optimizer state kept per trainable parameter, in parameter-sized tensors.
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 2, "adamw": 2}


COLUMNS = ("layer", "type", "output", "params", "MACs", "elementwise", "memory", "RF / jump")


def human_bytes(size: float) -> str:
    """Binary units, as memory is allocated: 1 MiB = 2^20 bytes."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(size) >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:,.0f} B"


def field_text(rf: tuple[Field, Field] | None) -> str:
    """A receptive field as the tables print it: ``size / jump`` (``HxW`` when not square)."""
    if rf is None:
        return ""
    h, w = rf
    size = str(h.size) if h.size == w.size else f"{h.size}x{w.size}"
    jump = str(h.jump) if h.jump == w.jump else f"{h.jump}x{w.jump}"
    return f"{size} / {jump}"


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
    sources: list[int] = field(default_factory=list)  # rows whose outputs it reads (the graph)

    @property
    def chw(self) -> tuple[int, ...]:
        """The output shape without the batch dimension."""
        return self.output_shape[1:]

    @property
    def receptive_field(self) -> int | None:
        """The side of the (square, or larger) receptive field of one output unit."""
        return None if self.rf is None else max(self.rf[0].size, self.rf[1].size)

    def cells(self) -> list[str]:
        """The row as the tables print it, under :data:`COLUMNS`."""
        return [
            self.name,
            self.type,
            "x".join(map(str, self.chw)),
            f"{self.params:,}" if self.params else "",
            f"{self.macs:,}" if self.macs else "",
            f"{self.elementwise:,}" if self.elementwise else "",
            human_bytes(self.memory) if self.memory else "",
            field_text(self.rf),
        ]


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

    def to_html(self, depth: int | None = None, explain: bool = False) -> str:
        """The layer table as HTML (Jupyter shows an analysis so); ``explain`` adds each
        convolution's and pooling's arithmetic under its row."""
        rows = []
        for layer in self.at_depth(depth or auto_depth(self)):
            cells = "".join(f"<td>{escape(cell)}</td>" for cell in layer.cells())
            rows.append(f"<tr>{cells}</tr>")
            if explain and layer.explain:
                worked = "<br>".join(escape(line) for line in layer.explain)
                rows.append(
                    f"<tr><td></td><td colspan='{len(COLUMNS) - 1}'><code>{worked}</code></td></tr>"
                )
        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
        t = self.totals
        summary = (
            f"{escape(self.model)} at {'x'.join(map(str, self.input_size))}: {t.params:,} "
            f"parameters, {t.macs:,} MACs per image, depth {t.depth}, receptive field "
            f"{escape(field_text(t.receptive_field))}"
        )
        return (
            f"<div class='cnnzoo-analysis'><p><b>{summary}</b></p><table><thead><tr>{head}"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table><p><small>"
            f"{escape(self.convention)}</small></p></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_dict(self, training: bool = True) -> dict[str, Any]:
        """Plain data for JSON: every layer, the totals and the counting convention, and with
        ``training`` the training-memory estimate (a second pass, in training mode)."""
        layers = []
        for layer in self.layers:
            # Shallow: asdict's deep copy of 4,800 rows (ResNet-1202) took most of the time.
            row = {f.name: getattr(layer, f.name) for f in fields(layer) if f.name != "rf"}
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
        figures = {
            "model": self.model,
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "dtype": self.dtype,
            "convention": self.convention,
            "totals": totals,
            "misfits": self.misfits,
            "layers": layers,
        }
        if training:
            memory = self.training_memory()
            figures["training"] = asdict(memory) | {"total": memory.total}
        return figures


def auto_depth(analysis: Analysis, max_rows: int = 60) -> int:
    """The deepest module depth (up to 3) whose listing stays readable."""
    return next(d for d in (3, 2, 1) if len(analysis.at_depth(d)) <= max_rows or d == 1)
