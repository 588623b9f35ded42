"""Design arithmetic from the papers: why 3x3 stacks, 1x1 bottlenecks and pooled heads won.

Each function compares two ways of building the same thing and returns rows a table can print:
parameters (weights, and biases where a layer has them), multiply-accumulates per image, receptive
field and non-linearities. Convolutions keep the spatial size ("same" padding) unless stated.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from cnnzoo.anatomy.geometry import GeometryError

__all__ = [
    "Design",
    "break_even_filters",
    "fc_vs_pooled_head",
    "inception_reductions",
    "kernel_stack",
    "residual_blocks",
]


@dataclass(frozen=True)
class Design:
    """One way to build a block, with its cost and the formula that gives its parameters."""

    name: str
    params: int  # weights (biases left out unless ``bias`` says so)
    macs: int  # per image
    receptive_field: int  # input pixels one output unit sees, along one axis
    nonlinearities: int  # ReLUs between input and output
    formula: str  # the parameter count written out, e.g. "9·D·N + 36·N²"
    output: tuple[int, int, int]  # (C, H, W)


def _positive(**values: int) -> None:
    bad = [f"{k}={v}" for k, v in values.items() if v < 1]
    if bad:
        raise GeometryError(f"{', '.join(bad)}: sizes, channels and filters must be >= 1")


def kernel_stack(kernel: int, in_chans: int, filters: int, size: int) -> list[Design]:
    """One ``kernel``x``kernel`` convolution against the stack of 3x3 convolutions that sees as
    much (VGG §2.3): n = (kernel - 1)/2 layers, the first D→N, the others N→N.

    Parameters: ``F²·D·N`` against ``9·D·N + 9·(n-1)·N²``; the stack is smaller while
    N < (F² - 9)·D / (9·(n - 1)) (3.1·D for 11x11 against five 3x3).
    """
    _positive(kernel=kernel, in_chans=in_chans, filters=filters, size=size)
    if kernel < 5 or kernel % 2 == 0:
        raise GeometryError(
            f"kernel {kernel}: give an odd kernel of 5 or more (5, 7, 11), which a stack of "
            "3x3 convolutions can match"
        )
    d, n_out, layers = in_chans, filters, (kernel - 1) // 2
    positions = size * size
    single = Design(
        f"one {kernel}x{kernel}",
        kernel * kernel * d * n_out,
        positions * kernel * kernel * d * n_out,
        kernel,
        1,
        f"{kernel}·{kernel}·D·N = {kernel * kernel}·{d}·{n_out}",
        (n_out, size, size),
    )
    stacked_params = 9 * d * n_out + 9 * (layers - 1) * n_out * n_out
    stack = Design(
        f"{layers} stacked 3x3",
        stacked_params,
        positions * stacked_params,
        1 + 2 * layers,
        layers,
        f"9·D·N + {9 * (layers - 1)}·N² = 9·{d}·{n_out} + {9 * (layers - 1)}·{n_out}²",
        (n_out, size, size),
    )
    return [single, stack]


def break_even_filters(kernel: int, in_chans: int) -> float:
    """The filter count N below which the 3x3 stack has fewer parameters than one FxF layer."""
    layers = (kernel - 1) // 2
    return (kernel * kernel - 9) * in_chans / (9 * (layers - 1))


def _conv(cin: int, cout: int, k: int, positions: int) -> tuple[int, int]:
    params = k * k * cin * cout
    return params, params * positions


def inception_reductions(
    in_chans: int,
    size: int,
    b1: int,
    b3: int,
    b5: int,
    pool_proj: int,
    reduce3: int,
    reduce5: int,
) -> list[Design]:
    """An inception module without and with its 1x1 reductions (GoogLeNet §4, Fig. 2).

    The naive module convolves the full input with 1x1, 3x3 and 5x5 filters and passes the pooled
    input through; the real one first reduces to ``reduce3``/``reduce5`` channels and projects
    the pooled branch to ``pool_proj``. CS231n's example: 28x28x256 in, 1x1 128, 3x3 192, 5x5 96:
    854M MACs naive against 271M with reductions of 64 and a projection of 64.
    """
    _positive(
        in_chans=in_chans,
        size=size,
        b1=b1,
        b3=b3,
        b5=b5,
        pool_proj=pool_proj,
        reduce3=reduce3,
        reduce5=reduce5,
    )
    pos = size * size
    parts = [_conv(in_chans, b1, 1, pos), _conv(in_chans, b3, 3, pos), _conv(in_chans, b5, 5, pos)]
    naive = Design(
        "naive (no 1x1 reductions)",
        sum(p for p, _ in parts),
        sum(m for _, m in parts),
        5,
        1,
        f"1·1·{in_chans}·{b1} + 3·3·{in_chans}·{b3} + 5·5·{in_chans}·{b5}",
        (b1 + b3 + b5 + in_chans, size, size),
    )
    parts = [
        _conv(in_chans, b1, 1, pos),
        _conv(in_chans, reduce3, 1, pos),
        _conv(reduce3, b3, 3, pos),
        _conv(in_chans, reduce5, 1, pos),
        _conv(reduce5, b5, 5, pos),
        _conv(in_chans, pool_proj, 1, pos),
    ]
    reduced = Design(
        "with 1x1 reductions",
        sum(p for p, _ in parts),
        sum(m for _, m in parts),
        5,
        2,
        f"1·1·{in_chans}·{b1} + 1·1·{in_chans}·{reduce3} + 3·3·{reduce3}·{b3} + "
        f"1·1·{in_chans}·{reduce5} + 5·5·{reduce5}·{b5} + 1·1·{in_chans}·{pool_proj}",
        (b1 + b3 + b5 + pool_proj, size, size),
    )
    return [naive, reduced]


def residual_blocks(width: int, size: int, expansion: int = 4) -> list[Design]:
    """ResNet's basic block at ``width`` channels against the bottleneck block that carries
    ``expansion × width`` channels for about the same cost (ResNet §4.1, Fig. 5: 64-d against
    256-d)."""
    _positive(width=width, size=size, expansion=expansion)
    pos = size * size
    wide = width * expansion
    basic = 2 * 9 * width * width
    bottleneck = wide * width + 9 * width * width + width * wide
    return [
        Design(
            f"basic, {width}-d",
            basic,
            basic * pos,
            5,
            2,
            f"2·(3·3·{width}·{width})",
            (width, size, size),
        ),
        Design(
            f"bottleneck, {wide}-d",
            bottleneck,
            bottleneck * pos,
            3,
            3,
            f"1·1·{wide}·{width} + 3·3·{width}·{width} + 1·1·{width}·{wide}",
            (wide, size, size),
        ),
    ]


def fc_vs_pooled_head(
    in_chans: int, size: int, hidden: int, num_classes: int, layers: int = 2
) -> list[Design]:
    """VGG's fully-connected head against global average pooling and one linear layer
    (NiN, GoogLeNet, ResNet). Biases included, as the heads' parameter counts usually are."""
    _positive(in_chans=in_chans, size=size, hidden=hidden, num_classes=num_classes)
    flat = in_chans * size * size
    widths = [flat] + [hidden] * layers + [num_classes]
    fc = sum(a * b + b for a, b in itertools.pairwise(widths))
    terms = " + ".join(f"{a}·{b} + {b}" for a, b in itertools.pairwise(widths))
    pooled = in_chans * num_classes + num_classes
    return [
        Design(
            f"flatten + {layers + 1} FC",
            fc,
            fc - sum(widths[1:]),
            size,
            layers,
            f"{terms}  ({in_chans}·{size}·{size} = {flat:,} inputs)",
            (num_classes, 1, 1),
        ),
        Design(
            "global avg pool + 1 FC",
            pooled,
            in_chans * num_classes,
            size,
            0,
            f"{in_chans}·{num_classes} + {num_classes}",
            (num_classes, 1, 1),
        ),
    ]
